"""A simulated set through a virtual Bluetooth sensor, the emulated link and the live `Session`.

What a lifter's sensor and the dashboard do, on simulated time: the simulator's set (with its
ground-truth labels) is measured by a virtual sensor of a real protocol family, streamed over the
emulated radio with the faults under test, received by `BleSource` and analysed by `Session`
exactly as live data is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from firmware_protocols import get_protocol
from vbt.ble import FaultPlan, RadioModel, VirtualSensorSpec, virtual_environment
from vbt.ble.feeds import SimulatedFeed
from vbt.clock import FakeClock
from vbt.pipeline.results import AnalysisResult
from vbt.session import Session
from vbt.sources import LinkEvent
from vbt.sources.ble import BleSource, ReconnectPolicy, recommended_config, scan

#: Real-time bound on one run; never reached when things work (a hang becomes a failure).
HANG_GUARD_S = 120.0
#: The set every run streams: 4 squat reps after 8 s of rest (room for a mid-rest fault).
SET = {"exercise": "squat", "seed": 11, "reps": 4, "lead_in_s": 8.0, "tail_s": 3.0}
#: Rates that keep the runs quick (one notification per sample costs the most).
RATES = {"witmotion": 50.0, "movesense": 52.0, "polar_h10": 50.0}


@dataclass
class LiveRun:
    """What one run produced: the session's result, the truth and what the link did."""

    result: AnalysisResult
    feed: SimulatedFeed
    peripheral: Any
    source: BleSource
    events: list[LinkEvent] = field(default_factory=list)

    @property
    def truth(self) -> list:
        return self.feed.result.labels.reps

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events if e.kind != "status"]


def live_run(
    name: str,
    *,
    faults: FaultPlan | None = None,
    radio: RadioModel | None = None,
    clock_error: float | None = None,
    reconnect_s: float = 30.0,
    during: Callable[[Any, FakeClock], Awaitable[None]] | None = None,
    **set_options: Any,
) -> LiveRun:
    """Stream one simulated set through a virtual ``name`` sensor into a live `Session`.

    Args:
        name: Protocol family.
        faults, radio: The virtual link's faults and timing.
        clock_error: The sensor's sample-clock error (None: the simulated sensor's own drift).
        reconnect_s: BleSource's reconnect budget.
        during: ``async (env, clock)`` run alongside (e.g. unplug the adapter).
        **set_options: Override `SET`.
    """
    protocol = get_protocol(name)
    config = recommended_config(protocol, rate_hz=RATES.get(name))
    feed = SimulatedFeed.for_stream(config, **{**SET, **set_options})
    clock = FakeClock(until_idle=True)
    events: list[LinkEvent] = []

    async def main() -> LiveRun:
        error = -feed.clock_drift if clock_error is None else clock_error
        spec = VirtualSensorSpec(protocol, feed=feed, clock_error=error, faults=faults or FaultPlan(),
                                 radio=radio or RadioModel())
        async with virtual_environment(spec, clock=clock) as env:
            found = await scan(1.0, backend=env.scanner_backend, clock=clock)
            source = BleSource(found[0], protocol=protocol, config=config, clock=clock,
                               client_backend=env.client_backend, exercise="squat",
                               reconnect=ReconnectPolicy(budget_s=reconnect_s))
            session = Session(source)
            end_s = feed.duration_s + 3.0

            def sink(item: object) -> None:
                if isinstance(item, LinkEvent):
                    events.append(item)
                if clock.monotonic() > end_s:  # the set is over: stop as the user would
                    session.stop()

            session.add_sink(sink)
            side = asyncio.ensure_future(during(env, clock)) if during is not None else None
            try:
                result = await session.run()
            finally:
                if side is not None:
                    side.cancel()
                    await asyncio.gather(side, return_exceptions=True)
            return LiveRun(result, feed, env.peripherals[0], source, events)

    return asyncio.run(asyncio.wait_for(main(), HANG_GUARD_S))
