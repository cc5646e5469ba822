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
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine
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
        return self._thread is not None and self._thread.is_alive() and not self._stopping

    @property
    def thread(self) -> threading.Thread | None:
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


__all__ = ["AsyncWorker", "WorkerNotRunningError", "cancel_and_wait", "maybe_await"]
