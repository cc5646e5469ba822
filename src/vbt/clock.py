"""Injected time: every piece of code that waits or reads the time takes a `Clock`.

Replay pacing, reconnect backoff, virtual-sensor pacing and the dashboard all wait through a
clock object, so tests run them on a `FakeClock` that never sleeps for real (the lesson of
python-can's ``MessageSync`` tests, see ../shared/reference/style.md).
"""

from __future__ import annotations

import asyncio
import heapq
import time
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """A monotonic time source that can also wait."""

    def monotonic(self) -> float:
        """Seconds on a monotonic scale (arbitrary origin)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (no wait for ``seconds <= 0``, but still yield to the loop)."""
        ...

    async def sleep_until(self, deadline_s: float) -> None:
        """Wait until ``monotonic() >= deadline_s``; deadline scheduling avoids cumulative lag."""
        ...


class MonotonicClock:
    """The real clock: ``time.perf_counter`` (fine-grained on every OS) and ``asyncio.sleep``.

    ``time.monotonic`` has ~15.6 ms resolution on Windows with Python <= 3.12, too coarse for
    timestamping notifications at 200 Hz (sensors.md, WitMotion field reports).
    """

    def monotonic(self) -> float:
        return time.perf_counter()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    async def sleep_until(self, deadline_s: float) -> None:
        await asyncio.sleep(max(0.0, deadline_s - self.monotonic()))


class FakeClock:
    """A clock for tests and instant replay: time jumps to the next deadline instead of waiting.

    Args:
        start_s: Initial reading of ``monotonic()``.
        settle_rounds: Event-loop turns to let ready tasks run before jumping time forward.
        until_idle: Also wait until the loop has nothing else ready to run before jumping
            (checked through the loop's ready queue where the loop exposes one). Use it when
            tasks exchange many call_soon hops that must finish "instantly" in clock time,
            e.g. the in-process bumble Bluetooth stack (vbt.ble): with a fixed number of
            settle rounds, time would jump in the middle of a GATT exchange.

    Concurrent sleepers wake in deadline order, as they would in real time, only without
    waiting: when every task is blocked, time jumps to the earliest deadline (the "autojump"
    clock of trio's test tools). Work that is ready to run goes first, because the jump is
    scheduled behind ``settle_rounds`` turns of the loop. Timeouts made with
    ``asyncio.wait_for`` still use the loop's real time.
    """

    def __init__(self, start_s: float = 0.0, settle_rounds: int = 8, *, until_idle: bool = False) -> None:
        self._now_s = float(start_s)
        self._settle_rounds = settle_rounds
        self._until_idle = until_idle
        self._waiters: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = 0
        self._jump_scheduled = False
        #: Total seconds time has jumped forward through sleeping; tests use it to check pacing.
        self.slept_s = 0.0

    def monotonic(self) -> float:
        return self._now_s

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` (must not be negative) without waking anyone early."""
        if seconds < 0:
            raise ValueError(f"cannot move a clock backwards by {seconds} s")
        self._now_s += seconds

    async def sleep(self, seconds: float) -> None:
        await self.sleep_until(self._now_s + max(0.0, seconds))

    async def sleep_until(self, deadline_s: float) -> None:
        if deadline_s <= self._now_s:
            await asyncio.sleep(0)
            return
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        self._seq += 1
        heapq.heappush(self._waiters, (deadline_s, self._seq, fut))
        self._schedule_jump(loop)
        await fut

    def _schedule_jump(self, loop: asyncio.AbstractEventLoop) -> None:
        if not self._jump_scheduled:
            self._jump_scheduled = True
            loop.call_soon(self._jump, loop, self._settle_rounds)

    def _jump(self, loop: asyncio.AbstractEventLoop, rounds_left: int) -> None:
        if rounds_left > 0:
            loop.call_soon(self._jump, loop, rounds_left - 1)
            return
        if self._until_idle and getattr(loop, "_ready", None):  # others still runnable: not idle
            loop.call_soon(self._jump, loop, 0)
            return
        self._jump_scheduled = False
        while self._waiters and self._waiters[0][2].done():  # cancelled sleepers
            heapq.heappop(self._waiters)
        if not self._waiters:
            return
        deadline_s = self._waiters[0][0]
        if deadline_s > self._now_s:
            self.slept_s += deadline_s - self._now_s
            self._now_s = deadline_s
        while self._waiters and self._waiters[0][0] <= self._now_s:
            _, _, fut = heapq.heappop(self._waiters)
            if not fut.done():
                fut.set_result(None)
        if self._waiters:
            self._schedule_jump(loop)


__all__ = ["Clock", "FakeClock", "MonotonicClock"]
