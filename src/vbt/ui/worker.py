"""The dashboard's worker: a thread with its own asyncio loop that runs the `Session`.

Why a worker thread and not qasync (sensors.md section 9):

* It works with every bleak backend on every OS. A plain asyncio loop has the ``add_reader``
  and ``sock_*`` calls BlueZ's D-Bus client needs; a fresh Python thread is MTA on Windows, so
  WinRT callbacks work; qasync's Windows loop has known "timer handle allowance exhausted"
  crashes, and PySide6's QtAsyncio cannot run BlueZ at all.
* The UI never blocks. Under qasync the decoder, the pipeline (AHRS per sample, filters) and the
  recorder would all run on the UI thread between paints; here a burst of packets or a seek
  that re-analyses a minute of data costs the UI nothing.
* It is the same asyncio code the command line runs (``vbt record``, ``vbt replay
  --headless``), so the tests of those paths cover the worker's logic too.

Messages go to the UI through a thread-safe queue (`vbt.ui.bridge.Bridge` drains it on its
redraw timer); commands come back as coroutines submitted with
``asyncio.run_coroutine_threadsafe`` (`AsyncWorker.submit`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class WorkerNotRunningError(RuntimeError):
    """A command was submitted to a worker that is not (or no longer) running."""


class AsyncWorker:
    """A daemon thread running a private asyncio event loop.

    Args:
        name: Thread name (shows in debuggers and thread dumps).

    Use `start` once, `submit` coroutines from any thread, and `stop` at the end: stopping
    cancels every task still running on the loop and lets them clean up (close the BLE link,
    flush the recording) before the thread exits.
    """

    def __init__(self, name: str = "vbt-session-worker") -> None:
        self.name = name
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._stopping = False

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The worker's loop (raises if the worker is not running)."""
        if self._loop is None or not self.is_running:
            raise WorkerNotRunningError(f"worker {self.name!r} is not running; call start() first")
        return self._loop

    @property
    def is_running(self) -> bool:
        """True between `start` and `stop`."""
        return self._thread is not None and self._thread.is_alive() and not self._stopping

    @property
    def thread(self) -> threading.Thread | None:
        """The worker thread (None before `start`)."""
        return self._thread

    def start(self) -> None:
        """Start the thread and wait until its loop runs (idempotent)."""
        if self.is_running:
            return
        self._ready.clear()
        self._stopping = False
        self._thread = threading.Thread(target=self._main, name=self.name, daemon=True)
        self._thread.start()
        self._ready.wait()

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        loop.call_soon(self._ready.set)
        try:
            loop.run_forever()
        finally:
            try:
                pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
                for task in pending:
                    task.cancel()
                if pending:
                    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                asyncio.set_event_loop(None)
                loop.close()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run ``coro`` on the worker loop; returns a future usable from any thread."""
        try:
            loop = self.loop
        except WorkerNotRunningError:
            coro.close()  # never awaited: close it so Python does not warn
            raise
        return asyncio.run_coroutine_threadsafe(coro, loop)

    def call(self, fn: Callable[..., object], *args: object) -> None:
        """Call a plain function on the worker loop (fire and forget)."""
        self.loop.call_soon_threadsafe(fn, *args)

    def run(self, coro: Coroutine[Any, Any, T], timeout_s: float | None = None) -> T:
        """Submit ``coro`` and block until it finishes (for tests and shutdown, not the UI)."""
        return self.submit(coro).result(timeout_s)

    def stop(self, timeout_s: float = 10.0) -> bool:
        """Stop the loop (cancelling its tasks) and join the thread; True if it ended in time."""
        thread = self._thread
        if thread is None or not thread.is_alive():
            return True
        self._stopping = True
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        thread.join(timeout_s)
        if thread.is_alive():
            log.warning("worker thread %s did not stop within %.1f s", self.name, timeout_s)
            return False
        return True


async def cancel_and_wait(task: asyncio.Task[Any] | None) -> None:
    """Cancel ``task`` and wait until it has finished cleaning up (errors are logged)."""
    if task is None or task.done():
        return
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    except Exception:  # noqa: BLE001 - shutting down: report, do not propagate
        log.exception("task %s failed while being cancelled", task.get_name())


async def maybe_await(value: Awaitable[T] | T) -> T:
    """Await ``value`` if it is awaitable (APIs that may be sync or async)."""
    if asyncio.iscoroutine(value) or isinstance(value, asyncio.Future):
        return await value
    return value  # type: ignore[return-value]




class DashboardBackend:
    """The UI thread's handle on the worker: every call returns at once.

    Owns the `AsyncWorker` and the `vbt.ui.controller.SessionController` living on it.
    Each method submits the matching controller call to the worker loop; failures come back
    to the screen as error notices through ``emit`` rather than as exceptions in the UI.

    Args:
        controller_factory: Builds the controller; called on the worker thread (asyncio
            objects must be created on the loop that uses them).
        emit: The bridge's ``post`` (for reporting failed commands).
    """

    def __init__(self, controller_factory: Callable[[], Any], emit: Callable[[Any], None]) -> None:
        self.worker = AsyncWorker()
        self.emit = emit
        self.worker.start()

        async def build() -> Any:
            return controller_factory()

        self.controller = self.worker.run(build())
        #: Futures of submitted commands (tests wait on them instead of sleeping).
        self.pending: list[concurrent.futures.Future[Any]] = []

    def _submit(self, coro: Coroutine[Any, Any, Any]) -> concurrent.futures.Future[Any] | None:
        try:
            fut = self.worker.submit(coro)
        except WorkerNotRunningError:
            return None
        fut.add_done_callback(self._report)
        self.pending = [f for f in self.pending if not f.done()] + [fut]
        return fut

    def _call(self, fn: Callable[..., Any], *args: Any) -> concurrent.futures.Future[Any] | None:
        async def run() -> Any:
            return fn(*args)

        return self._submit(run())

    def _report(self, fut: concurrent.futures.Future[Any]) -> None:
        if fut.cancelled():
            return
        err = fut.exception()
        if err is not None:
            from vbt.errors import VbtError
            from vbt.ui.messages import Notice

            if not isinstance(err, VbtError):
                log.error("dashboard command failed", exc_info=err)
            self.emit(Notice("error", str(err) if isinstance(err, VbtError) else f"{type(err).__name__}: {err}"))

    def wait_idle(self, timeout_s: float = 30.0) -> None:
        """Block until every submitted command has finished (tests, shutdown)."""
        for fut in list(self.pending):
            with contextlib.suppress(Exception):  # failures were already reported by _report
                fut.result(timeout_s)

    # -- commands (see vbt.ui.main_window.Backend)
    def open_replay(self, path: Path, *, speed: float | None = 1.0, paused: bool = False) -> None:
        """Replay ``path`` from the start (see `SessionController.open_replay`)."""
        self._submit(self.controller.open_replay(Path(path), speed=speed, paused=paused))

    def scan(self) -> None:
        """Scan for real sensors; the picker is refreshed when done."""
        self._submit(self.controller.scan())

    def connect_sensor(self, choice: Any) -> None:
        """Connect to a real or virtual sensor (`SensorChoice`)."""
        self._submit(self.controller.connect(choice))

    def disconnect(self) -> None:
        """End the live session (or replay) cleanly."""
        self._submit(self.controller.disconnect())

    def pause(self, paused: bool) -> None:
        """Pause (True) or play (False); play at the end replays from the start."""
        self._submit(self.controller.set_paused(paused))

    def seek(self, position_s: float) -> None:
        """Show the replay as it was at ``position_s`` (re-runs the live path)."""
        self._submit(self.controller.seek(position_s))

    def set_speed(self, speed: float | None) -> None:
        """Replay speed factor, or None for as fast as possible."""
        self._call(self.controller.set_speed, speed)

    def start_set(self) -> None:
        """Manual override: mark a set start in the stream."""
        self._call(self.controller.mark_set, "start")

    def end_set(self) -> None:
        """Manual override: mark a set end in the stream."""
        self._call(self.controller.mark_set, "end")

    def set_recording(self, on: bool, folder: Path | None = None) -> None:
        """Start recording the live stream into ``folder``, or stop."""
        self._submit(self.controller.set_recording(on, folder))

    def set_lift(self, lift: Any) -> None:
        """Exercise / load / target RIR for the assessment."""
        self._call(self.controller.set_lift, lift)

    def load_history(self) -> None:
        """Reload previous sets of the current exercise from the history database."""
        self._submit(self.controller.load_history())

    def show_history_set(self, row: Any) -> None:
        """Load a previous set (a `HistoryRow`) for the set view."""
        self._submit(self.controller.show_history_set(row))

    def shutdown(self, timeout_s: float = 10.0) -> None:
        """Stop the session and the worker thread (idempotent)."""
        if not self.worker.is_running:
            return
        try:
            self.worker.run(self.controller.close(), timeout_s)
        except Exception:  # noqa: BLE001 - closing: log, then stop the thread anyway
            log.exception("closing the session failed")
        self.worker.stop(timeout_s)


__all__ = ["AsyncWorker", "DashboardBackend", "WorkerNotRunningError", "cancel_and_wait", "maybe_await"]
