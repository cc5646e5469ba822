"""FakeClock(until_idle=True): time only jumps once the loop has nothing else to run.

The bumble stack exchanges many call_soon hops per GATT operation; a plain FakeClock jumps
after a fixed number of loop turns and would move time in the middle of such an exchange.
"""

from __future__ import annotations

import asyncio

from vbt.clock import FakeClock


async def _hops(n: int, log: list[str]) -> None:
    for _ in range(n):
        await asyncio.sleep(0)
    log.append("chain done")


def _race(clock: FakeClock, hops: int) -> list[str]:
    log: list[str] = []

    async def sleeper() -> None:
        await clock.sleep(1.0)
        log.append("slept")

    async def main() -> None:
        await asyncio.gather(sleeper(), _hops(hops, log))

    asyncio.run(main())
    return log


def test_plain_fake_clock_jumps_before_a_long_call_soon_chain_finishes():
    # The behaviour until_idle exists to avoid: 200 hops outlast the 8 settle rounds.
    assert _race(FakeClock(), 200) == ["slept", "chain done"]


def test_until_idle_waits_for_the_chain_then_jumps():
    clock = FakeClock(until_idle=True)
    assert _race(clock, 200) == ["chain done", "slept"]
    assert clock.monotonic() == 1.0


def test_until_idle_still_orders_concurrent_sleepers_by_deadline():
    clock = FakeClock(until_idle=True)
    log: list[tuple[float, str]] = []

    async def worker(name: str, period_s: float, n: int) -> None:
        for _ in range(n):
            await clock.sleep(period_s)
            log.append((round(clock.monotonic(), 6), name))

    async def main() -> None:
        await asyncio.gather(worker("a", 0.3, 3), worker("b", 0.5, 2))

    asyncio.run(main())
    assert log == [(0.3, "a"), (0.5, "b"), (0.6, "a"), (0.9, "a"), (1.0, "b")]
