"""SimulatedSource: yields the simulation's items in order, paced on an injected clock."""

from __future__ import annotations

import asyncio

import pytest

from firmware_protocols import ImuBatch
from vbt.clock import FakeClock
from vbt.errors import UsageError
from vbt.sim import Athlete, Scenario, SetPlan, simulate
from vbt.sources import LinkEvent, RawPacket
from vbt.sources.simulated import SimulatedSource


@pytest.fixture(scope="module")
def short_result():
    sc = Scenario(Athlete.random(1), [SetPlan("bench", load_pct=70, reps=2)], rate_hz=50, lead_in_s=1.0, tail_s=1.0)
    return simulate(sc, seed=3)


async def _collect(src):
    out = []
    async with src:
        async for item in src:
            out.append(item)
    return out


def test_real_time_pacing_on_a_fake_clock(short_result):
    clock = FakeClock()
    items = asyncio.run(_collect(SimulatedSource(short_result, speed=1.0, clock=clock)))
    batches = [i for i in items if isinstance(i, ImuBatch)]
    assert len(batches) == len(short_result.batches)
    assert isinstance(items[0], LinkEvent) and items[0].kind == "connected"
    # the clock advanced to the last item's host time, never slept for real
    assert clock.monotonic() == pytest.approx(batches[-1].host_time_s, abs=1e-9)


def test_speed_factor_and_instant(short_result):
    clock = FakeClock()
    asyncio.run(_collect(SimulatedSource(short_result, speed=10.0, clock=clock)))
    assert clock.monotonic() == pytest.approx(short_result.batches[-1].host_time_s / 10.0, abs=1e-9)
    clock2 = FakeClock()
    items = asyncio.run(_collect(SimulatedSource(short_result, speed=None, clock=clock2)))
    assert clock2.monotonic() == 0.0 and len(items) > 100


def test_simulates_a_scenario_in_open_and_yields_packets():
    pytest.importorskip("firmware_protocols.witmotion")
    sc = Scenario(Athlete.random(2), [SetPlan("squat", load_pct=70, reps=1)], rate_hz=50, sensor="witmotion",
                  lead_in_s=1.0, tail_s=1.0)
    src = SimulatedSource(scenario=sc, seed=4, speed=None)
    items = asyncio.run(_collect(src))
    packets = [i for i in items if isinstance(i, RawPacket)]
    assert packets and src.header.sensor == "witmotion" and src.header.synthetic
    assert [(p.host_time_s, p.payload) for p in packets] == [(t, p) for t, _, p in src.result.packets]
    again = asyncio.run(_collect(SimulatedSource(scenario=sc, seed=4, speed=None)))
    assert [getattr(i, "payload", None) for i in again] == [getattr(i, "payload", None) for i in items]


def test_bad_arguments():
    with pytest.raises(UsageError):
        SimulatedSource()
    with pytest.raises(UsageError):
        SimulatedSource(scenario=object(), speed=0)  # type: ignore[arg-type]
