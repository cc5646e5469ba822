"""The live path without a window: what ``--headless``, ``--screenshot`` and no-display runs use.

`replay_headless` replays a recording through exactly the dashboard's path -- `ReplaySource`
-> `Session` (decoder, streaming pipeline, fatigue tracker) -> `EventTranslator` -> the
dashboard's `DashboardModel` -- as fast as possible, without Qt. It returns the live path's
final `AnalysisResult` (the ``vbt analyze`` contract, so the two can be compared by anyone)
and the model, from which `vbt.ui.screenshot.render_set_view` draws the very view the
dashboard would show at the end of the replay, stop-threshold line included.

Nothing here imports Qt: a server without a display, or without Qt at all, can still run it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vbt.clock import FakeClock
from vbt.pipeline.results import AnalysisResult
from vbt.sources import LINK_MARKER, LinkEvent, Source
from vbt.ui import messages as m
from vbt.ui.model import DashboardModel
from vbt.ui.translate import EventTranslator


@dataclass
class HeadlessRun:
    """Outcome of a windowless run.

    Attributes:
        result: The live path's final result (the analyze contract).
        model: The dashboard model after the run (what the window would show).
        lift: Exercise / load / target RIR that were used.
        warnings: Source warnings (e.g. a truncated last line) and session warnings.
    """

    result: AnalysisResult
    model: DashboardModel
    lift: m.LiftInfo
    warnings: list[str]


def lift_for(header, *, exercise: str | None, load_kg: float | None, target_rir: int) -> m.LiftInfo:  # noqa: ANN001
    """The lift to assess: command-line options first, then the recording's header, then generic."""
    from vbt.pipeline.settings import resolve_exercise

    name = exercise if exercise is not None else (getattr(header, "exercise", None) or None)
    profile = resolve_exercise(name)
    load = load_kg if load_kg is not None else getattr(header, "load_kg", None)
    return m.LiftInfo(profile.name, load, target_rir)


async def run_source_headless(
    source: Source,
    *,
    lift: m.LiftInfo | None = None,
    exercise: str | None = None,
    load_kg: float | None = None,
    target_rir: int = 2,
    vl_cutoff_pct: float | None = None,
    model: DashboardModel | None = None,
) -> HeadlessRun:
    """Run ``source`` through the live path into a dashboard model (no Qt).

    Args:
        source: Any source (replay, virtual BLE sensor, simulated).
        lift: What is lifted; None derives it from the options and the source's header.
        exercise, load_kg, target_rir: Options used when ``lift`` is None.
        vl_cutoff_pct: Optional fixed velocity-loss cut-off for the stop flag.
        model: Model to fill (a new one by default).

    The source paces itself on whatever clock it was given; the session never waits.
    """
    from vbt.fatigue.tracker import FatigueTracker
    from vbt.session import Session
    from vbt.ui.tap import TapSource

    model = model if model is not None else DashboardModel()
    translator = EventTranslator(model.apply)
    def on_item(item: object) -> None:
        if isinstance(item, LinkEvent) and item.kind != LINK_MARKER:
            translator.on_link(item)

    tap = TapSource(source, on_item)
    async with tap:
        if lift is None:
            lift = lift_for(tap.header, exercise=exercise, load_kg=load_kg, target_rir=target_rir)
        model.apply(lift)

        def tracker() -> FatigueTracker:
            return FatigueTracker(lift.exercise, load_kg=lift.load_kg, target_rir=lift.target_rir,
                                  vl_cutoff_pct=vl_cutoff_pct)

        translator.probe_tracker = tracker()
        session = Session(tap, tracker=tracker(), listeners=[translator], exercise=lift.exercise,
                          load_kg=lift.load_kg, target_rir=lift.target_rir)
        result = await session.run()
    model.apply(m.SessionFinished(result))
    warnings = list(getattr(source, "warnings", []) or [])
    return HeadlessRun(result=result, model=model, lift=lift, warnings=warnings)


async def replay_headless(
    path: str | Path,
    *,
    exercise: str | None = None,
    load_kg: float | None = None,
    target_rir: int = 2,
    vl_cutoff_pct: float | None = None,
    acc_unit: str = "g",
    gyro_unit: str = "dps",
) -> HeadlessRun:
    """Replay a recording (or CSV) through the live path as fast as possible.

    Raises:
        InputFileError, RecordingFormatError, UnsupportedFormatVersionError, CsvImportError:
            the file cannot be replayed.
        UnknownExerciseError: ``exercise`` is not in the catalogue.
    """
    from vbt.sources.replay import open_replay

    clock = FakeClock()
    source = open_replay(path, speed=None, clock=clock, acc_unit=acc_unit, gyro_unit=gyro_unit)
    return await run_source_headless(source, exercise=exercise, load_kg=load_kg, target_rir=target_rir,
                                     vl_cutoff_pct=vl_cutoff_pct)




async def virtual_headless(
    protocol: str,
    *,
    exercise: str = "squat",
    load_kg: float | None = None,
    target_rir: int = 2,
    vl_cutoff_pct: float | None = None,
    seed: int = 0,
    faults: str = "none",
    duration_s: float | None = None,
    feed=None,  # noqa: ANN001 - (protocol, seed) -> SampleFeed
) -> HeadlessRun:
    """A virtual sensor doing a simulated set, through the emulated BLE link and the live path.

    Runs on simulated time (`FakeClock`), so a minute of lifting takes a few seconds. This is
    ``vbt demo`` without a display: the same virtual sensor, the same `BleSource`, the same
    session, printed instead of drawn.

    Args:
        protocol: Sensor family (protocol registry name).
        exercise, load_kg, target_rir, vl_cutoff_pct: What is lifted and the stop rule.
        seed: Simulated lifter and set.
        faults: Link faults (``none``, ``typical``, ``harsh``).
        duration_s: Stop after this much simulated time (default: the simulated session).
        feed: ``(protocol, seed) -> SampleFeed`` (default: a simulated set of ``exercise``).
    """
    import asyncio

    from vbt.ble.environment import virtual_environment, virtual_specs
    from vbt.ble.feeds import SimulatedFeed
    from vbt.sources.ble import BleSource, find_sensor, recommended_config

    clock = FakeClock(until_idle=True)

    def simulated_set(proto, feed_seed: int):  # noqa: ANN001, ANN202
        return SimulatedFeed.for_stream(recommended_config(proto), exercise=exercise, seed=feed_seed)

    specs = virtual_specs([protocol], seed=seed, faults=faults, feed_factory=feed or simulated_set)
    duration = duration_s if duration_s is not None else (specs[0].feed.duration_s or 60.0)
    lift = m.LiftInfo(exercise, load_kg, target_rir)
    async with virtual_environment(*specs, clock=clock) as env:
        found = await find_sensor(env.peripherals[0].name, 5.0, backend=env.scanner_backend, clock=clock)
        source = BleSource(found, client_backend=env.client_backend, clock=clock, synthetic=True,
                           exercise=exercise, load_kg=load_kg)

        async def stop_later() -> None:
            await clock.sleep(duration)
            source.stop()

        stopper = asyncio.get_running_loop().create_task(stop_later())
        try:
            return await run_source_headless(source, lift=lift, vl_cutoff_pct=vl_cutoff_pct)
        finally:
            stopper.cancel()


__all__ = ["HeadlessRun", "lift_for", "replay_headless", "run_source_headless", "virtual_headless"]
