import asyncio

import pytest

from vbt.clock import FakeClock, MonotonicClock


def test_fake_clock_wakes_concurrent_sleepers_in_deadline_order():
    clock = FakeClock()
    log: list[tuple[float, str]] = []

    async def worker(name: str, period_s: float, n: int) -> None:
        for _ in range(n):
            await clock.sleep(period_s)
            log.append((round(clock.monotonic(), 6), name))

    async def main() -> None:
        await asyncio.gather(worker("a", 0.3, 4), worker("b", 0.5, 3))

    asyncio.run(main())
    assert log == [(0.3, "a"), (0.5, "b"), (0.6, "a"), (0.9, "a"), (1.0, "b"), (1.2, "a"), (1.5, "b")]
    assert clock.slept_s == pytest.approx(1.5)


def test_fake_clock_sleep_until_past_deadline_does_not_move_time():
    clock = FakeClock(start_s=10.0)
    asyncio.run(clock.sleep_until(5.0))
    assert clock.monotonic() == 10.0


def test_fake_clock_refuses_to_go_backwards():
    with pytest.raises(ValueError, match="-1"):
        FakeClock().advance(-1)


def test_monotonic_clock_moves_forward():
    clock = MonotonicClock()
    t0 = clock.monotonic()
    asyncio.run(clock.sleep(0.001))
    assert clock.monotonic() > t0
