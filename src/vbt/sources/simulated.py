"""`SimulatedSource`: a simulated sensor session as a `Source`, paced by an injected clock.

It yields exactly what a host would receive from the simulated sensor (`vbt.sim.simulate`):
`RawPacket`s in the chosen protocol's wire format (which the Session decodes like live BLE
bytes) or, in samples mode, the decoded `ImuBatch` notifications -- plus the `LinkEvent`s of
the session (connected, config, disconnected/reconnected around simulated link gaps). So a
simulated lift runs through the same decoder -> pipeline -> listeners path as a real one.

Pacing is deadline-based on the injected `vbt.clock.Clock`: item *k* is due at
``start + t_k / speed``; ``speed=None`` hands items out as fast as they are consumed (yielding
to the event loop every `FAST_YIELD_EVERY` items). Tests use a `FakeClock` and never sleep.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from vbt.clock import Clock, MonotonicClock
from vbt.errors import UsageError
from vbt.sources._base import RawPacket, Source, SourceItem

if TYPE_CHECKING:
    from vbt.sim.engine import SimResult
    from vbt.sim.scenario import Scenario

#: With ``speed=None``, hand control back to the event loop after this many items.
FAST_YIELD_EVERY = 256


class SimulatedSource(Source):
    """Yields a simulated session's items in host-time order, paced by ``clock``.

    Args:
        result: An already simulated session (`vbt.sim.SimResult`); or give ``scenario``.
        scenario: A `vbt.sim.Scenario` to simulate in `open` (with ``seed``).
        seed: Seed for ``scenario``.
        speed: 1.0 = real time, 10.0 = ten times faster, None = as fast as consumed.
        clock: What to wait on (`MonotonicClock` by default; `FakeClock` in tests).

    Attributes:
        result: The simulation (available after `open`), with its ground-truth labels.

    Raises:
        UsageError: Neither or both of ``result`` and ``scenario``; a speed that is not > 0.
    """

    def __init__(
        self,
        result: SimResult | None = None,
        *,
        scenario: Scenario | None = None,
        seed: int = 0,
        speed: float | None = 1.0,
        clock: Clock | None = None,
    ) -> None:
        if (result is None) == (scenario is None):
            raise UsageError("SimulatedSource", "result/scenario", "give exactly one of a SimResult or a Scenario")
        if speed is not None and not speed > 0:
            raise UsageError("--speed", speed, "give a speed above 0 (1 = real time), or none for as fast as possible")
        self.result = result
        self._scenario = scenario
        self._seed = int(seed)
        self.speed = speed
        self.clock: Clock = clock or MonotonicClock()
        self._closed = False
        if result is not None:
            self.header = result.header

    async def open(self) -> None:
        if self.result is None:
            from vbt.sim.engine import simulate

            assert self._scenario is not None
            # Simulating a long session takes a moment: keep the event loop (and a UI) responsive.
            self.result = await asyncio.to_thread(simulate, self._scenario, self._seed)
        self.header = self.result.header

    async def close(self) -> None:
        self._closed = True

    def items(self) -> list[tuple[float, SourceItem]]:
        """Every item with its host time, in the order the source yields them."""
        r = self.result
        if r is None:
            raise RuntimeError("SimulatedSource: call open() (or use `async with`) before iterating")
        out: list[tuple[float, int, SourceItem]] = [(e.host_time_s, 0, e) for e in r.link_events]
        if r.packets is not None:
            out += [(t, 1, RawPacket(t, u, p)) for t, u, p in r.packets]
        else:
            out += [(b.host_time_s, 1, b) for b in r.batches]
        out.sort(key=lambda x: (x[0], x[1]))
        return [(t, item) for t, _, item in out]

    def __aiter__(self) -> AsyncIterator[SourceItem]:
        return self._run()

    async def _run(self) -> AsyncIterator[SourceItem]:
        if self.result is None:
            await self.open()
        items = self.items()
        start = self.clock.monotonic()
        for k, (t, item) in enumerate(items):
            if self._closed:
                return
            if self.speed is None:
                if k % FAST_YIELD_EVERY == FAST_YIELD_EVERY - 1:
                    await asyncio.sleep(0)
            else:
                await self.clock.sleep_until(start + t / self.speed)
            yield item


__all__ = ["FAST_YIELD_EVERY", "SimulatedSource"]
