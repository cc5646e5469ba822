"""`SessionController`: what the dashboard's worker thread does (Qt-free, asyncio only).

One controller lives on the worker loop (`vbt.ui.worker.AsyncWorker`) and runs at most one
`vbt.session.Session` at a time -- a replayed recording or a live sensor (real or virtual).
It wires the session's source through a `vbt.ui.tap.TapSource` (recorder, replay position,
link events, manual set markers) and listens to the session with a
`vbt.ui.translate.EventTranslator`, which posts `vbt.ui.messages` to the UI.

Replay seeking re-runs the live path instead of jumping: the results shown after a seek are
exactly what a lifter would have seen at that moment live (and what ``vbt analyze`` gives for
the part before it). A forward seek fast-forwards the running session (``speed=None``) up to
the target; a backward seek starts a fresh session from the top and fast-forwards. The
streaming pipeline runs far faster than real time, so even a few minutes of recording are
caught up in well under a second.

Every public method is a coroutine or a plain method meant to run *on the worker loop*;
`vbt.ui.worker.DashboardBackend` is the thread-safe front the UI calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from vbt.clock import Clock, MonotonicClock
from vbt.errors import RecordingWriteError, VbtError
from vbt.sources import LINK_MARKER, LinkEvent, RawPacket, Source, SourceItem
from vbt.ui import messages as m
from vbt.ui.tap import TapSource
from vbt.ui.translate import EventTranslator
from vbt.ui.worker import cancel_and_wait

log = logging.getLogger(__name__)

#: How often the replay position is reported (s of clock time).
PROGRESS_INTERVAL_S = 0.1
#: Decoded data gathered per pipeline call while fast-forwarding a replay (s of recording).
FAST_FORWARD_BATCH_S = 1.0
#: Seconds a virtual sensor's scan may take before we give up.
VIRTUAL_SCAN_TIMEOUT_S = 5.0


def recording_file_name(now: datetime | None = None, *, sensor: str = "sensor", exercise: str = "") -> str:
    """``2026-05-01_1432_witmotion_squat.jsonl.gz`` (recordings/ naming, style.md section 8)."""
    now = now or datetime.now(UTC)
    parts = [now.strftime("%Y-%m-%d_%H%M%S"), sensor or "sensor"]
    if exercise:
        parts.append(exercise)
    return "_".join(p.replace(" ", "-").lower() for p in parts) + ".jsonl.gz"


class SessionController:
    """Runs sessions on the worker loop and reports everything as UI messages.

    Args:
        emit: Thread-safe message sink (``Bridge.post``).
        clock: Clock for pacing, the virtual sensors and reconnect backoff (tests: FakeClock).
        perf_clock: Clock that stamps live packets for the latency figure (shared with the
            bridge; ``time.perf_counter`` in the app).
        lift: Initial exercise / load / target RIR.
        db_path: Athlete-history database (None: the standard per-user location; False: none).
        athlete: Athlete whose history is shown and whose profile personalises the tracker.
        virtual_feed: ``(protocol, seed) -> SampleFeed`` for virtual sensors; None simulates a
            set of the current exercise (`vbt.ble.feeds.SimulatedFeed`).
        seed: Seed of the simulated lifter and set of a virtual sensor.
        faults: Link faults of virtual sensors: a preset name (``none``, ``typical``, ``harsh``)
            or a `vbt.ble.faults.FaultPlan`.
        vl_cutoff_pct: Optional fixed velocity-loss cut-off for the stop flag.
        save_live_sets: Store a live session's sets in the history database when it ends
            (None: for real sensors only -- a simulated lifter is nobody's history).
        progress_interval_s: Replay-position reporting period.
    """

    def __init__(
        self,
        emit: Callable[[m.UiMessage], None],
        *,
        clock: Clock | None = None,
        perf_clock: Callable[[], float] = time.perf_counter,
        lift: m.LiftInfo | None = None,
        db_path: Path | None | bool = None,
        athlete: str | None = None,
        virtual_feed: Callable[[object, int], object] | None = None,
        seed: int = 0,
        faults: str | object = "none",
        vl_cutoff_pct: float | None = None,
        save_live_sets: bool | None = None,
        progress_interval_s: float = PROGRESS_INTERVAL_S,
    ) -> None:
        self.emit = emit
        self.clock = clock or MonotonicClock()
        self.perf_clock = perf_clock
        self.lift = lift or m.LiftInfo("generic")
        self._lift_given = lift is not None
        self.db_path = db_path
        self.athlete = athlete
        self.virtual_feed = virtual_feed
        self.seed = seed
        self.vl_cutoff_pct = vl_cutoff_pct
        self.save_live_sets = save_live_sets
        self.faults = faults
        #: Length of the virtual sensor's simulated session (s), once one is connected.
        self.virtual_duration_s: float | None = None
        self.progress_interval_s = progress_interval_s
        #: Final result of the last finished session (the analyze contract).
        self.result = None
        self.error = ""
        self._task: asyncio.Task[None] | None = None
        self._progress_task: asyncio.Task[None] | None = None
        self._source: Source | None = None
        self._tap: TapSource | None = None
        self._translator: EventTranslator | None = None
        self._session = None
        self._kind = ""  # "replay" | "live"
        self._live_kind = ""  # "ble" | "virtual"
        self._items_seen = 0
        self._replay_path: Path | None = None
        self._recording = None  # the parsed Recording, reused across seeks
        self._speed: float | None = 1.0
        self._paused = False
        self._seek_target: float | None = None
        self._recorder = None
        self._recorder_path: Path | None = None
        self._recorder_packets = 0
        self._env_cm = None
        self._finished = asyncio.Event()
        self._finished.set()

    # ------------------------------------------------------------------ state
    @property
    def running(self) -> bool:
        """True while a session runs."""
        return self._task is not None and not self._task.done()

    @property
    def source(self) -> Source | None:
        """The running (or last) session's source."""
        return self._source

    @property
    def translator_stats(self) -> dict[str, int]:
        """What the current (or last) session's translator forwarded to the UI."""
        tr = self._translator
        return {"trace_points": tr.trace_points if tr is not None else 0}

    async def wait_finished(self) -> None:
        """Wait until the current session (if any) has ended."""
        await self._finished.wait()

    # ------------------------------------------------------------------ replay
    async def open_replay(self, path: Path, *, speed: float | None = 1.0, paused: bool = False) -> None:
        """Replay ``path`` from the start at ``speed`` (None: as fast as possible)."""
        from vbt.sources.replay import open_replay

        await self.stop()
        self._replay_path = Path(path)
        self._speed, self._paused = speed, paused
        self._recording = None
        source = open_replay(path, speed=speed, clock=self.clock)
        await self._start(source, kind="replay", title=Path(path).name)

    async def seek(self, target_s: float) -> None:
        """Show the replay as it was at recording time ``target_s`` (see module docstring)."""
        if self._kind != "replay" or self._replay_path is None:
            return
        source = self._source
        position = getattr(source, "position_s", 0.0) if source is not None else 0.0
        if self.running and source is not None and target_s >= position:
            self._fast_forward(source, target_s)
            return
        from vbt.sources.replay import ReplaySource, open_replay

        await self.stop()
        rec = self._recording
        new = ReplaySource(rec, speed=None, clock=self.clock) if rec is not None else open_replay(
            self._replay_path, speed=None, clock=self.clock)
        await self._start(new, kind="replay", title=self._replay_path.name, fast_forward_to=target_s)

    def _fast_forward(self, source: Source, target_s: float) -> None:
        self._seek_target = target_s
        source.speed = None  # type: ignore[attr-defined]
        if self._paused:
            source.resume()  # type: ignore[attr-defined]

    def _seek_reached(self, source: Source) -> None:
        self._seek_target = None
        source.speed = self._speed  # type: ignore[attr-defined]
        if self._paused:
            source.pause()  # type: ignore[attr-defined]
        self._report_progress()

    async def set_paused(self, paused: bool) -> None:
        """Pause/resume; "play" after the replay reached its end plays it again from the start."""
        if not paused and self._kind == "replay" and not self.running and self._replay_path is not None:
            await self.open_replay(self._replay_path, speed=self._speed)
            return
        self.pause(paused)

    def pause(self, paused: bool) -> None:
        """Pause or resume the replay."""
        self._paused = paused
        source = self._source
        if self._kind == "replay" and source is not None and self._seek_target is None:
            (source.pause if paused else source.resume)()  # type: ignore[attr-defined]
        self._report_progress()

    def set_speed(self, speed: float | None) -> None:
        """Replay speed factor (0.5-10) or None for as fast as possible."""
        self._speed = speed
        source = self._source
        if self._kind == "replay" and source is not None and self._seek_target is None:
            source.speed = speed  # type: ignore[attr-defined]
        self._report_progress()

    def _report_progress(self) -> None:
        source = self._source
        if self._kind != "replay" or source is None:
            return
        try:
            duration = float(source.duration_s)  # type: ignore[attr-defined]
        except RuntimeError:  # not open yet
            return
        self.emit(m.ReplayProgress(position_s=float(source.position_s), duration_s=duration,  # type: ignore[attr-defined]
                                   paused=self._paused, speed=self._speed))

    async def _progress_loop(self) -> None:
        while True:
            self._report_progress()
            await self.clock.sleep(self.progress_interval_s)

    # ------------------------------------------------------------------ live sensors
    async def connect(self, choice: m.SensorChoice) -> None:
        """Connect to a real sensor (``kind="ble"``) or start a virtual one and connect to it."""
        from vbt.sources.ble import BleSource

        await self.stop()
        self._replay_path = None
        self.emit(m.ConnectionState(m.CONN_CONNECTING, "", choice.label))
        lift = self.lift
        meta = {"exercise": lift.exercise, "load_kg": lift.load_kg, "athlete": self.athlete}
        try:
            if choice.kind == "virtual":
                source = await self._virtual_source(choice, meta)
            else:
                source = BleSource(choice.identifier, protocol=choice.protocol or None, clock=self.clock, **meta)
        except VbtError as err:
            await self._close_environment()
            self.emit(m.ConnectionState(m.CONN_IDLE, str(err), choice.label))
            self.emit(m.Notice("error", str(err)))
            return
        self._live_kind = choice.kind
        await self._start(source, kind="live", title=choice.label)

    async def _virtual_source(self, choice: m.SensorChoice, meta: dict) -> Source:
        from vbt.ble.environment import virtual_environment, virtual_specs
        from vbt.sources.ble import BleSource, find_sensor, recommended_config

        def simulated_set(protocol, seed: int):  # noqa: ANN001, ANN202 - SensorProtocol -> SampleFeed
            if self.virtual_feed is not None:
                return self.virtual_feed(protocol, seed)
            from vbt.ble.feeds import SimulatedFeed

            # The set is simulated at the configuration BleSource will request.
            return SimulatedFeed.for_stream(recommended_config(protocol), exercise=self.lift.exercise,
                                            seed=seed)

        if isinstance(self.faults, str):
            specs = virtual_specs([choice.protocol], seed=self.seed, faults=self.faults, feed_factory=simulated_set)
        else:  # an explicit FaultPlan (tests: drop the link at a chosen moment)
            from firmware_protocols import get_protocol
            from vbt.ble.environment import VirtualSensorSpec

            protocol = get_protocol(choice.protocol)
            specs = [VirtualSensorSpec(protocol, feed=simulated_set(protocol, self.seed), faults=self.faults)]
        cm = virtual_environment(*specs, clock=self.clock)
        env = await cm.__aenter__()
        self._env_cm = cm
        # find_sensor returns as soon as the advertisement is heard (a full scan would wait).
        found = await find_sensor(env.peripherals[0].name, VIRTUAL_SCAN_TIMEOUT_S, backend=env.scanner_backend,
                                  clock=self.clock)
        self.virtual_duration_s = specs[0].feed.duration_s
        return BleSource(found, client_backend=env.client_backend, clock=self.clock, synthetic=True, **meta)

    async def _close_environment(self) -> None:
        cm, self._env_cm = self._env_cm, None
        if cm is not None:
            try:
                await cm.__aexit__(None, None, None)
            except Exception:  # noqa: BLE001 - shutting the virtual air down must not mask the real error
                log.exception("closing the virtual sensors failed")

    async def disconnect(self) -> None:
        """End the live session (or the replay) cleanly; the sets so far stay on screen."""
        source = self._source
        if source is not None and hasattr(source, "stop"):
            source.stop()  # BleSource: ends the stream after a clean disconnect
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._finished.wait()), timeout=10.0)
        await self.stop()

    async def scan(self, timeout_s: float = 5.0) -> None:
        """Scan for real sensors; the picker keeps the virtual ones too."""
        from vbt.sources.ble import scan

        choices = list(virtual_choices())
        try:
            found = await scan(timeout_s, clock=self.clock)
        except VbtError as err:
            self.emit(m.Notice("error", str(err)))
            found = []
        for f in found:
            if f.protocol is None:
                continue
            rssi = "" if f.rssi_dbm is None else f", {f.rssi_dbm} dBm"
            choices.insert(0, m.SensorChoice(f"{f.name} ({f.model}{rssi})", "ble", f.protocol.name, f.address,
                                             None if f.rssi_dbm is None else float(f.rssi_dbm)))
        self.emit(m.SensorList(tuple(choices)))
        self.emit(m.Notice("info", f"scan: {len(found)} sensor(s) found"))

    # ------------------------------------------------------------------ user markers, lift
    def mark_set(self, action: str) -> None:
        """Manual override: ``action`` is ``"start"`` or ``"end"`` (a marker in the stream)."""
        if self._tap is not None:
            self._tap.inject_marker(set=action)
            self.emit(m.Notice("info", f"set {action} marked by hand"))

    def set_lift(self, lift: m.LiftInfo) -> None:
        """Exercise / load / target RIR for the assessment (applies to the running session)."""
        self.lift = lift
        self._lift_given = True
        session = self._session
        if session is not None:
            tracker = self._make_tracker()
            if tracker is not None:
                # The session assesses every set with its current tracker: the next rep is judged
                # with the new target/load (the rep counts and velocities do not change).
                session.tracker = tracker
            if self._translator is not None:
                self._translator.probe_tracker = self._make_tracker()
        self.emit(lift)

    # ------------------------------------------------------------------ recording
    async def set_recording(self, on: bool, folder: Path | None = None) -> None:
        """Start (into ``folder``) or stop recording the live stream."""
        if not on:
            self._stop_recorder()
            return
        if self._kind != "live" or self._tap is None:
            self.emit(m.RecordingState(False, error="connect a sensor first: only live streams are recorded"))
            return
        from vbt.recording.writer import RecordingWriter

        header = replace(self._tap.header, exercise=self.lift.exercise, load_kg=self.lift.load_kg)
        folder = folder or Path.cwd()
        path = folder / recording_file_name(sensor=header.sensor, exercise=self.lift.exercise)
        try:
            self._recorder = RecordingWriter(path, header)
        except RecordingWriteError as err:
            self.emit(m.RecordingState(False, str(path), error=str(err)))
            return
        except OSError as err:
            self.emit(m.RecordingState(False, str(path), error=f"cannot record to {path}: {err}"))
            return
        self._recorder_path = path
        self._recorder_packets = 0
        self.emit(m.RecordingState(True, str(path)))

    def _record(self, item: SourceItem) -> None:
        rec = self._recorder
        if rec is None:
            return
        try:
            rec.write_item(item)
            if isinstance(item, RawPacket):
                self._recorder_packets += 1
        except RecordingWriteError as err:
            # Disk full or read-only: recording stops, the live view goes on (reliability issue).
            self._recorder = None
            self.emit(m.RecordingState(False, str(self._recorder_path), error=str(err),
                                       packets=self._recorder_packets))

    def _stop_recorder(self) -> None:
        rec, self._recorder = self._recorder, None
        if rec is not None:
            try:
                rec.close()
            except RecordingWriteError as err:
                self.emit(m.RecordingState(False, str(self._recorder_path), error=str(err)))
                return
            self.emit(m.RecordingState(False, str(self._recorder_path), packets=self._recorder_packets))

    # ------------------------------------------------------------------ history
    async def load_history(self, limit: int = 50) -> None:
        """Previous sets of the current exercise from the history database."""
        if self.db_path is False:
            self.emit(m.HistoryRows((), "history database disabled"))
            return
        try:
            rows = await asyncio.to_thread(self._read_history, limit)
        except VbtError as err:
            self.emit(m.HistoryRows((), str(err)))
            return
        self.emit(m.HistoryRows(tuple(rows), "" if rows else f"no {self.lift.exercise} sets in the history yet"))

    async def show_history_set(self, row: m.HistoryRow) -> None:
        """Load a previous set (its latest analysis) for the set view."""
        title = f"{row.date}  {row.exercise}" + ("" if row.load_kg is None else f" {row.load_kg:g} kg")
        lift = m.LiftInfo(row.exercise, row.load_kg, self.lift.target_rir)
        try:
            sr = await asyncio.to_thread(self._read_history_set, row.set_key)
        except VbtError as err:
            self.emit(m.ReviewSet(None, f"cannot show that set: {err}"))
            return
        if sr is None:
            self.emit(m.ReviewSet(None, f"set from {row.date} has no stored analysis"))
            return
        self.emit(m.ReviewSet(sr, title, lift))

    def _history_path(self) -> Path | None:
        return None if self.db_path in (None, True) else Path(self.db_path)  # type: ignore[arg-type]

    def _read_history_set(self, set_id: object):  # noqa: ANN202 - SetResult | None
        from vbt.fatigue.history import HistoryDb

        with HistoryDb(self._history_path(), create=False) as db:
            latest = db.latest_analysis(int(set_id))  # type: ignore[arg-type]
        return None if latest is None else latest.set_result

    def _save_to_history(self, result, recording_path: Path | None) -> None:  # noqa: ANN001 - AnalysisResult
        """Store a live session's sets (real sensors only: simulated lifts are not history)."""
        from vbt.fatigue.history import HistoryDb

        with HistoryDb(self._history_path()) as db:
            athlete = db.resolve_athlete(self.athlete)
            ids = db.save_analysis(result, athlete=athlete, recording_path=recording_path,
                                   settings={"target_rir": self.lift.target_rir, "vl_cutoff_pct": self.vl_cutoff_pct,
                                             "source": "vbt dashboard"})
        self.emit(m.Notice("info", f"{len(ids)} set(s) saved to the history database for {athlete}"))

    def _read_history(self, limit: int) -> list[m.HistoryRow]:
        from vbt.fatigue.history import HistoryDb

        path = self._history_path()
        if path is not None and not path.exists():
            return []
        with HistoryDb(path, create=False) as db:
            exercise = None if self.lift.exercise == "generic" else self.lift.exercise
            sets = db.sets(athlete=self.athlete, exercise=exercise, limit=limit)
        return [
            m.HistoryRow(date=s.performed_at[:16].replace("T", " "), exercise=s.exercise, load_kg=s.load_kg,
                         reps=s.n_reps, best_mps=s.best_velocity_mps, velocity_loss_pct=s.velocity_loss_pct,
                         rir=s.rir_estimate, set_key=s.id)
            for s in sets
        ]

    # ------------------------------------------------------------------ running a session
    def _make_tracker(self):  # noqa: ANN202 - FatigueTracker | None
        from vbt.fatigue.tracker import FatigueTracker

        lift = self.lift
        try:
            return FatigueTracker(lift.exercise, load_kg=lift.load_kg, target_rir=lift.target_rir,
                                  vl_cutoff_pct=self.vl_cutoff_pct)
        except VbtError as err:
            self.emit(m.Notice("error", str(err)))
            return None

    def _on_item(self, item: SourceItem) -> None:
        self._items_seen += 1
        if self._recorder is not None:
            self._record(item)
        if isinstance(item, LinkEvent):
            if item.kind != LINK_MARKER and self._translator is not None:
                self._translator.on_link(item)
        elif self._kind == "live" and self._translator is not None:
            # With the real clock the source stamped the notification when it arrived (on the
            # same perf_counter scale as the bridge), so latency counts the source's queue too.
            host = getattr(item, "host_time_s", None)
            real = isinstance(self.clock, MonotonicClock) and self.perf_clock is time.perf_counter
            self._translator.last_received_s = host if real and host is not None else self.perf_clock()
        target = self._seek_target
        if target is not None and self._source is not None and getattr(item, "host_time_s", -1.0) >= target:
            self._seek_reached(self._source)

    async def _start(self, source: Source, *, kind: str, title: str, fast_forward_to: float | None = None) -> None:
        self._kind = kind
        self._source = source
        self._recorder_path = None
        self._items_seen = 0
        self._finished.clear()
        self.result, self.error = None, ""
        self.emit(m.SessionStarted(kind, title))
        self.emit(m.ConnectionState(m.CONN_CONNECTING if kind == "live" else m.CONN_REPLAYING, "", title))
        self._task = asyncio.get_running_loop().create_task(self._run(source, kind, title, fast_forward_to),
                                                            name=f"vbt-session-{kind}")

    async def _run(self, source: Source, kind: str, title: str, fast_forward_to: float | None) -> None:
        from vbt.session import Session

        translator = EventTranslator(self.emit, perf_clock=self.perf_clock)
        self._translator = translator
        tap = TapSource(source, self._on_item, clock_now=self.clock.monotonic)
        self._tap = tap
        try:
            async with tap:
                header = tap.header
                if kind == "replay":
                    self._recording = getattr(source, "recording", None)
                    if not self._lift_given:
                        self.lift = m.LiftInfo(header.exercise or "generic", header.load_kg, self.lift.target_rir)
                    if fast_forward_to is not None and fast_forward_to > 0:
                        self._fast_forward(source, fast_forward_to)
                    elif self._paused:
                        source.pause()  # type: ignore[attr-defined]
                    self._progress_task = asyncio.get_running_loop().create_task(self._progress_loop())
                    self.emit(m.ConnectionState(m.CONN_REPLAYING, "", title))
                else:
                    rate = getattr(getattr(source, "config", None), "rate_hz", None) or header.rate_hz
                    translator.set_health(nominal_rate_hz=rate)
                self.emit(self.lift)
                tracker = self._make_tracker()
                translator.probe_tracker = self._make_tracker()
                session = Session(tap, tracker=tracker, listeners=[translator], exercise=self.lift.exercise,
                                  load_kg=self.lift.load_kg, target_rir=self.lift.target_rir)
                self._session = session
                self.result = await self._consume(session, tap, source)
                if kind == "replay":
                    self._paused = True  # at the end: the transport offers "Play" (from the start)
                lost = getattr(source, "lost", None)
                if lost is not None:
                    self.error = str(lost)
        except asyncio.CancelledError:
            raise
        except VbtError as err:
            self.error = str(err)
        except Exception as err:  # noqa: BLE001 - the UI must show it, not die
            log.exception("session failed")
            self.error = f"internal error: {type(err).__name__}: {err}"
        finally:
            await cancel_and_wait(self._progress_task)
            self._progress_task = None
            self._report_progress()
            recorded = self._recorder_path
            self._stop_recorder()
            save = self.save_live_sets if self.save_live_sets is not None else self._live_kind == "ble"
            if kind == "live" and save and self.db_path is not False and self.result is not None and self.result.reps:
                try:
                    await asyncio.to_thread(self._save_to_history, self.result, recorded)
                    await self.load_history()
                except VbtError as err:
                    self.emit(m.Notice("error", f"sets not saved to the history: {err}"))
            await self._close_environment()
            self.emit(m.SessionFinished(self.result, self.error))
            if self.error and kind == "live":
                # Never streamed: the connection failed (not found, refused) -- back to idle, with
                # the reason; streamed, then failed: the link was lost.
                state = m.CONN_LOST if self._items_seen else m.CONN_IDLE
            else:
                state = m.CONN_FINISHED
            self.emit(m.ConnectionState(state, self.error, title))
            self._session = None
            self._tap = None
            self._finished.set()

    async def _consume(self, session, tap: TapSource, source: Source):  # noqa: ANN001, ANN202 - Session -> result
        """`Session.run` for an already open source, plus bulk feeding while fast-forwarding.

        Item by item, exactly like `Session.run`, while the stream plays at a speed (live, or a
        paced replay). While a replay runs as fast as possible (a seek, or "max"), decoded
        samples are gathered into batches of up to `FAST_FORWARD_BATCH_S` before they go to
        the pipeline -- the bulk path of ``vbt analyze``, which the pipeline guarantees gives the
        same reps (its results do not depend on chunking) -- because feeding notifications one
        at a time costs far more than decoding them. The decoder is the session's own, so its
        state carries on seamlessly when normal speed resumes.
        """
        from firmware_protocols import ImuBatch, merge_batches

        session.source_name = str(getattr(tap, "path", "") or tap.header.sensor_model or tap.header.sensor)
        session.start(tap.header)
        pending: list[ImuBatch] = []

        def flush() -> None:
            merged = merge_batches(pending)
            pending.clear()
            if merged is not None:
                session.process_batches([merged])

        async for item in tap:
            fast = self._kind == "replay" and getattr(source, "speed", 1.0) is None
            if fast and isinstance(item, RawPacket) and session.decoder is not None:
                pending.extend(session.decoder.feed(item.char_uuid, item.payload, item.host_time_s))
            elif fast and isinstance(item, ImuBatch):
                pending.append(item)
            else:
                flush()
                session.process_item(item)
                continue
            if pending and pending[-1].host_time_s - pending[0].arrival_times()[0] >= FAST_FORWARD_BATCH_S:
                flush()
        flush()
        session.finish()
        return session.result()

    async def stop(self) -> None:
        """Stop the running session (if any) and wait until it has cleaned up."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            source = self._source
            if source is not None and hasattr(source, "stop"):
                source.stop()
            await cancel_and_wait(task)
        self._finished.set()
        self._seek_target = None

    async def close(self) -> None:
        """Stop everything (window closing)."""
        self._stop_recorder()
        await self.stop()
        await self._close_environment()


def virtual_choices() -> tuple[m.SensorChoice, ...]:
    """One picker entry per supported sensor family, as a virtual (simulated) sensor."""
    from firmware_protocols import PROTOCOLS

    # WitMotion first: the cheapest and most common barbell sensor, and the demo's default.
    names = sorted(PROTOCOLS, key=lambda n: (n != "witmotion", n))
    return tuple(m.SensorChoice(f"virtual {PROTOCOLS[n].display_name}", "virtual", n) for n in names)


__all__ = ["FAST_FORWARD_BATCH_S", "PROGRESS_INTERVAL_S", "SessionController", "recording_file_name", "virtual_choices"]
