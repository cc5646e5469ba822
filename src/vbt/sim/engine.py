"""`simulate(scenario, seed)`: athlete -> bar kinematics -> IMU -> Bluetooth link -> host.

Pipeline of one simulation (each stage has its own seeded random stream, so changing e.g.
the link never changes the reps):

1. ``day``: the athlete's readiness today (`vbt.sim.athlete.DayState`);
2. ``reps``: per set, `plan_set` decides every rep's true MCV, ROM, pauses and RIR;
3. ``kinematics``: `build_set` makes the 1 kHz bar motion and labels of each set (a *block*);
   between blocks the bar rests, so nothing is stored for rests;
4. ``sensor``/``noise``: the sensor's sample clock, ideal signals at the sensor point
   (interpolated from the blocks, after the chip's anti-alias filter), then the error model;
5. ``link``: notifications (from a protocol encoder, or packed decoded samples), connection
   events, drops, jitter, stalls, reconnect gaps -> host arrival times.

The result (`SimResult`) holds labels, the header, what a host receives (``packets`` or
``batches``) and link events, and can render the sensor at any other rate
(`SimResult.sensor_samples`) or give the dense truth (`SimResult.truth`).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from firmware_protocols import ImuBatch, StreamConfig
from vbt.recording.format import BODY_PACKETS, BODY_SAMPLES, RecordingHeader
from vbt.sim.athlete import DayState, SetOutcome, plan_set, round_load
from vbt.sim.labels import Labels, SetLabels, labels_path_for
from vbt.sim.lift import PHYSICS_RATE_HZ, SetBlock, build_set
from vbt.sim.link import LinkSpec, deliver, in_gap
from vbt.sim.scenario import SAMPLES, Scenario
from vbt.sim.sensor import (
    SensorSpec,
    apply_lowpass,
    lowpass_sos,
    matrix_to_quat,
    measure,
    sample_times,
    sensor_kinematics,
)
from vbt.sources._base import LINK_CONFIG, LINK_CONNECTED, LINK_DISCONNECTED, LINK_RECONNECTED, LinkEvent

#: Version of the simulator's models; bump when output for the same scenario and seed changes.
SIM_VERSION = "1.0"

#: Protocol aliases accepted by the simulator (CLI ``--sensor polar``...).
SENSOR_ALIASES = {"polar": "polar_h10", "h10": "polar_h10", "verity": "polar_verity_sense",
                  "metamotion": "metawear", "mbient": "metawear", "thingy": "thingy52"}

#: Chip class per protocol (error model), see vbt.sim.sensor [D: typical parts in those products].
PROTOCOL_CHIPS = {"witmotion": "mpu6050", "polar_h10": "bma280", "polar_verity_sense": "bmi270",
                  "metawear": "bmi270", "movesense": "icm42605", "thingy52": "mpu6050"}


def _stream(seed: int, name: str) -> np.random.Generator:
    """Independent random stream ``name`` of a simulation seed."""
    return np.random.default_rng([int(seed) & 0xFFFFFFFFFFFF, zlib.crc32(name.encode())])


def resolve_sensor(name: str) -> str:
    """Canonical protocol name (aliases resolved), or ``"samples"``."""
    key = name.strip().lower().replace("-", "_")
    if key in (SAMPLES, "none", ""):
        return SAMPLES
    return SENSOR_ALIASES.get(key, key)


# --------------------------------------------------------------------------- truth


@dataclass(slots=True)
class Truth:
    """Dense true signals of the whole session (physics grid inside sets, end points in rests).

    ``t_s`` is not uniform: 1 kHz while a set's block lasts, and only the two end points of each
    rest (the bar does not move there, so linear interpolation is exact). All vectors are
    ``(n, 3)`` in the world frame (x forward, y along the bar, z up) unless stated otherwise.

    Attributes:
        t_s: Times (s, host/true axis).
        bar_position_m, bar_velocity_mps, bar_accel_mps2: Bar centre motion.
        sensor_position_m, sensor_velocity_mps, sensor_accel_mps2: Sensor point motion.
        sensor_quat_wxyz: ``(n, 4)`` orientation of the sensor (rotates sensor -> world).
        angular_velocity_world_rads: Bar angular velocity, world frame.
        gyro_rads: Angular velocity in the sensor frame (what an ideal gyro reads).
        specific_force_world_mps2: ``a - g`` at the sensor point, world frame.
        accel_mps2: Specific force in the sensor frame (what an ideal accelerometer reads).
        in_set: ``(n,)`` set index (1-based) of samples inside a set's block, 0 in rests.
    """

    t_s: np.ndarray
    bar_position_m: np.ndarray
    bar_velocity_mps: np.ndarray
    bar_accel_mps2: np.ndarray
    sensor_position_m: np.ndarray
    sensor_velocity_mps: np.ndarray
    sensor_accel_mps2: np.ndarray
    sensor_quat_wxyz: np.ndarray
    angular_velocity_world_rads: np.ndarray
    gyro_rads: np.ndarray
    specific_force_world_mps2: np.ndarray
    accel_mps2: np.ndarray
    in_set: np.ndarray

    def at(self, t_s: np.ndarray | float) -> dict[str, np.ndarray]:
        """Linear interpolation of every vector signal at ``t_s`` (quaternions renormalised)."""
        t = np.atleast_1d(np.asarray(t_s, dtype=float))
        out: dict[str, np.ndarray] = {}
        for name in ("bar_position_m", "bar_velocity_mps", "bar_accel_mps2", "sensor_position_m",
                     "sensor_velocity_mps", "sensor_accel_mps2", "sensor_quat_wxyz", "angular_velocity_world_rads",
                     "gyro_rads", "specific_force_world_mps2", "accel_mps2"):
            arr = getattr(self, name)
            out[name] = np.stack([np.interp(t, self.t_s, arr[:, j]) for j in range(arr.shape[1])], -1)
        q = out["sensor_quat_wxyz"]
        out["sensor_quat_wxyz"] = q / np.linalg.norm(q, axis=1, keepdims=True)
        return out


# --------------------------------------------------------------------------- result


@dataclass(slots=True)
class _SensorStream:
    """Samples as the sensor produced them (before the link)."""

    t_true_s: np.ndarray
    sensor_time_s: np.ndarray
    accel_mps2: np.ndarray
    gyro_rads: np.ndarray | None


@dataclass
class SimResult:
    """Everything one simulation produced.

    Attributes:
        scenario: The plan that was simulated.
        seed: The seed.
        labels: Ground truth (`vbt.sim.labels.Labels`).
        header: The recording header (``synthetic: true``; ``extra`` holds seed and version).
        packets: ``[(host_time_s, char_uuid, payload)]`` in arrival order when a sensor
            protocol was chosen, else None.
        link_events: Connection, configuration and disconnect/reconnect events.
        sensor_spec: The realised sensor (errors, mounting, clock).
        link_spec: The realised link.
        stream_config: The stream configuration (rate, ranges, protocol options).
        outcomes: The athlete's per-set plans (`SetOutcome`), for inspection.
    """

    scenario: Scenario
    seed: int
    labels: Labels
    header: RecordingHeader
    packets: list[tuple[float, str, bytes]] | None
    link_events: list[LinkEvent]
    sensor_spec: SensorSpec
    link_spec: LinkSpec
    stream_config: StreamConfig
    outcomes: list[SetOutcome]
    session_end_s: float = 0.0
    _blocks: list[SetBlock] | None = field(default=None, repr=False)
    _samples: _SensorStream | None = field(default=None, repr=False)
    _batches: list[ImuBatch] | None = field(default=None, repr=False)

    @property
    def blocks(self) -> list[SetBlock]:
        """Dense 1 kHz kinematics of each set (rebuilt from scenario and seed when dropped)."""
        if self._blocks is None:
            blocks = _build_session(self.scenario, self.seed)[0]
            _label_sensor_point(blocks, self.sensor_spec)
            self._blocks = blocks
        return self._blocks

    @property
    def sensor(self) -> str:
        """Protocol name, or ``"samples"``."""
        return self.header.sensor if self.packets is not None else SAMPLES

    @property
    def duration_s(self) -> float:
        """Length of the simulated recording (s)."""
        return self.session_end_s

    @property
    def batches(self) -> list[ImuBatch]:
        """What a host decoder outputs: one `ImuBatch` per delivered notification.

        In samples mode these are the simulated notifications themselves; with a protocol they
        come from running that protocol's decoder over `packets` (reset at every reconnect).
        """
        if self._batches is None:
            self._batches = self._decode_packets()
        return self._batches

    def _decode_packets(self) -> list[ImuBatch]:
        from firmware_protocols import get_protocol

        assert self.packets is not None
        proto = get_protocol(self.header.sensor)
        dec = proto.decoder(self.stream_config)
        out: list[ImuBatch] = []
        reconnects = sorted(e.host_time_s for e in self.link_events if e.kind == LINK_RECONNECTED)
        ri = 0
        for t, uuid, payload in self.packets:
            while ri < len(reconnects) and t >= reconnects[ri]:
                dec.reset()
                ri += 1
            out.extend(dec.feed(uuid, payload, t))
        return out

    def sensor_samples(
        self, rate_hz: float | None = None, gyro: bool = True, *, errors: bool = True
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The sensor's samples over the whole session, without any link effects.

        Args:
            rate_hz: Output rate (None: the scenario's). Other rates re-render from the truth
                with the same sensor (same errors, same clock drift).
            gyro: Include gyro (None is returned when False or the sensor has none).
            errors: Apply the sensor's error model (False: ideal readings at the same times).

        Returns:
            ``(sensor_time_s, accel_mps2, gyro_rads | None)``; sensor time is the sensor's own
            clock (drifting against the host's).
        """
        rate = float(rate_hz or self.scenario.rate_hz)
        if rate == self.scenario.rate_hz and errors and self._samples is not None:
            s = self._samples
            return s.sensor_time_s, s.accel_mps2, (s.gyro_rads if gyro else None)
        stream = _render(self.blocks, self.sensor_spec, rate, self.session_end_s, self.seed,
                         errors=errors, gyro=gyro and self.sensor_spec.has_gyro)
        return stream.sensor_time_s, stream.accel_mps2, stream.gyro_rads

    def sensor_true_times(self) -> np.ndarray:
        """True (host-axis) times of the samples of `sensor_samples` at the scenario rate."""
        assert self._samples is not None
        return self._samples.t_true_s

    @cached_property
    def truth(self) -> Truth:
        """Dense true signals (built on first access; about 0.2 kB per ms of set time)."""
        return _build_truth(self.blocks, self.sensor_spec, self.session_end_s)

    def write(self, path: str | Path, labels_path: str | Path | None = None, *,
              names: tuple[str, str] | None = None) -> tuple[Path, Path]:
        """Write the recording (``.jsonl`` or ``.jsonl.gz``) and its ``.labels.json``.

        Packets bodies hold the raw notifications at their host arrival times; samples bodies
        the delivered samples. Link events are written in time order between them.

        Args:
            path: Recording file.
            labels_path: Labels file (default: `labels_path_for` ``path``).
            names: (recording, labels) file names to cross-reference inside the files, when
                they are written under temporary names and renamed afterwards.

        Returns:
            ``(recording_path, labels_path)``.
        """
        from vbt.recording.writer import RecordingWriter

        rec_path = Path(path)
        lab_path = Path(labels_path) if labels_path is not None else labels_path_for(rec_path)
        rec_name, lab_name = names or (rec_path.name, lab_path.name)
        header = self.header
        header.extra = {**header.extra, "labels_file": lab_name}
        items: list[tuple[float, int, Any]] = [(e.host_time_s, 0, e) for e in self.link_events]
        if self.packets is not None:
            items += [(t, 1, (t, u, p)) for t, u, p in self.packets]
        else:
            items += [(b.host_time_s, 1, b) for b in self.batches]
        items.sort(key=lambda x: (x[0], x[1]))
        with RecordingWriter(rec_path, header, origin_s=0.0, line_flush=False) as w:
            for _, kind, item in items:
                if kind == 0:
                    w.write_event(item.host_time_s, item.kind, **dict(item.detail))
                elif self.packets is not None:
                    w.write_packet(*item)
                else:
                    w.write_samples(item)
        self.labels.recording = {**self.labels.recording, "file": rec_name}
        if self.packets is None and self.batches:
            # The writer puts samples on the sensor's clock, anchored so that the first batch's
            # last sample sits at its arrival time: record that anchor for `Labels.file_time`.
            b0 = self.batches[0]
            self.labels.clock = {**self.labels.clock, "file_time": "sensor clock",
                                 "file_time_offset_s": float(b0.host_time_s - b0.sensor_time_s[-1])}
        else:
            self.labels.clock = {**self.labels.clock, "file_time": "host arrival"}
        self.labels.write(lab_path)
        return rec_path, lab_path


# --------------------------------------------------------------------------- simulate


def simulate(scenario: Scenario, seed: int = 0, *, keep_kinematics: bool = False) -> SimResult:
    """Simulate a session: deterministic for a given scenario and seed.

    Args:
        scenario: What to simulate (`vbt.sim.scenario.Scenario`).
        seed: Any integer; every random choice the scenario leaves open is drawn from it.
        keep_kinematics: Keep the dense 1 kHz set kinematics in memory (~6 MB per minute of
            set). By default they are dropped and rebuilt exactly on demand (`SimResult.truth`,
            `SimResult.sensor_samples` at another rate), so corpora of hundreds of sets stay small.

    Returns:
        A `SimResult` with labels, header, packets or batches, link events and truth access.
    """
    seed = int(seed)
    sc = scenario
    exercises = {s.exercise for s in sc.sets}
    if len(exercises) > 1:
        raise ValueError(
            f"one exercise per simulated session (the sensor stays on one bar); got {sorted(exercises)}: "
            "simulate each exercise separately"
        )
    ath = sc.athlete
    blocks, outcomes, set_labels, session_end = _build_session(sc, seed)

    # ---------------------------------------------------------------- sensor and stream configuration
    proto_name = resolve_sensor(sc.sensor)
    proto = None
    if proto_name != SAMPLES:
        from firmware_protocols import get_protocol
        from vbt.errors import UnsupportedSensorError

        try:
            proto = get_protocol(proto_name)
        except KeyError:
            from firmware_protocols import PROTOCOLS

            raise UnsupportedSensorError(sc.sensor, list(PROTOCOLS) + [SAMPLES]) from None
        wants_gyro = sc.gyro and bool(proto.gyro_ranges_dps)
        accel_range = sc.accel_range_g
        if accel_range is None and proto.accel_ranges_g:
            # As `vbt record` configures real sensors: the largest range up to 8 g, never below
            # the sensor's default (some cannot change it).
            accel_range = max([proto.default_accel_range_g, *[g for g in proto.accel_ranges_g if g <= 8.0]])
        try:
            config = proto.make_config(sc.rate_hz, accel_range, gyro_range_dps=bool(wants_gyro))
        except ValueError as err:
            from vbt.errors import UsageError

            raise UsageError("--rate" if "rate" in str(err) else "--range", sc.rate_hz, str(err)) from None
    else:
        config = None
    spec = sc.sensor_spec
    if spec is None:
        r_sensor = _stream(seed, "sensor")
        chip = sc.chip or (PROTOCOL_CHIPS.get(proto_name) if proto is not None else None)
        drift = None
        if proto_name == "witmotion" and sc.faults != "none":
            # WitMotion modules run ~1 % slow (197.8 Hz at "200 Hz", sensors.md §2).
            drift = float(np.clip(r_sensor.normal(0.011, 0.002), 0.005, 0.016))
        elif proto is not None and proto.has_sensor_clock and sc.faults != "none":
            drift = float(r_sensor.uniform(-5e-5, 5e-5))  # crystal-clocked sensors
        spec = SensorSpec.random(
            r_sensor, faults=sc.faults, chip=chip, gyro=sc.gyro if config is None else config.gyro_range_dps is not None,
            accel_range_g=config.accel_range_g if config is not None else sc.accel_range_g,
            gyro_range_dps=config.gyro_range_dps if config is not None else None, clock_drift=drift,
        )
    _label_sensor_point(blocks, spec)
    if config is None:
        config = StreamConfig(sc.rate_hz, spec.accel_range_g, spec.gyro_range_dps if (sc.gyro and spec.has_gyro) else None)
    has_gyro = config.gyro_range_dps is not None and spec.has_gyro

    stream = _render(blocks, spec, sc.rate_hz, session_end, seed, errors=True, gyro=has_gyro)
    for arr in (stream.t_true_s, stream.sensor_time_s, stream.accel_mps2, stream.gyro_rads):
        if arr is not None:
            arr.flags.writeable = False  # batches are views into these

    # ---------------------------------------------------------------- link
    r_link = _stream(seed, "link")
    if sc.link is not None:
        link = sc.link
    else:
        spn = max(1, int(sc.rate_hz // 50))
        link = LinkSpec.random(r_link, faults=sc.faults, session_s=session_end,
                               notifications_per_s=sc.rate_hz / spn if proto is None else sc.rate_hz,
                               samples_per_notification=spn)
    runs = _contiguous_runs(stream.t_true_s, link.gaps)
    packets: list[tuple[float, str, bytes]] | None = None
    batches: list[ImuBatch] | None = None
    if proto is not None:
        sends: list[float] = []
        notes: list[tuple[str, bytes]] = []
        for a, b in runs:
            enc = proto.encoder(config)
            gy = stream.gyro_rads[a:b] if stream.gyro_rads is not None else None
            out = enc.encode(stream.accel_mps2[a:b], gy, stream.sensor_time_s[a:b]) + enc.flush()
            for en in out:
                k = min(a + en.last_sample_index, b - 1)
                sends.append(float(stream.t_true_s[k]) + 0.0005)
                notes.append((en.char_uuid, en.payload))
        send_arr = np.asarray(sends)
        order = np.argsort(send_arr, kind="stable")
        send_arr = send_arr[order]
        notes = [notes[i] for i in order]
        arrival, ok = deliver(send_arr, link, r_link)
        packets = [(float(arrival[i]), notes[i][0], notes[i][1]) for i in np.nonzero(ok)[0]]
    else:
        spn = link.samples_per_notification
        groups: list[tuple[int, int]] = []
        for a, b in runs:
            for s in range(a, b - spn + 1, spn):
                groups.append((s, s + spn))
        send_arr = np.asarray([float(stream.t_true_s[e - 1]) + 0.0005 for _, e in groups])
        arrival, ok = deliver(send_arr, link, r_link)
        batches = []
        for i in np.nonzero(ok)[0]:
            s, e = groups[i]
            # Views into the session's sample arrays (read-only): no copy per notification.
            batches.append(ImuBatch(
                host_time_s=float(arrival[i]), accel_mps2=stream.accel_mps2[s:e],
                gyro_rads=None if stream.gyro_rads is None else stream.gyro_rads[s:e],
                sensor_time_s=stream.sensor_time_s[s:e], rate_hz=sc.rate_hz,
            ))

    # ---------------------------------------------------------------- events, header, labels
    events = [LinkEvent(0.0, LINK_CONNECTED, {"simulated": True}), LinkEvent(0.0, LINK_CONFIG, config.to_dict())]
    link_events_lab: list[dict[str, Any]] = []
    for g0, dur in link.gaps:
        t_disc = g0 + min(link.supervision_timeout_s, dur)
        events.append(LinkEvent(t_disc, LINK_DISCONNECTED, {"reason": "simulated link loss"}))
        events.append(LinkEvent(g0 + dur, LINK_RECONNECTED, {}))
        events.append(LinkEvent(g0 + dur, LINK_CONFIG, config.to_dict()))
        link_events_lab += [{"kind": LINK_DISCONNECTED, "t_s": round(t_disc, 4), "link_lost_s": round(g0, 4)},
                            {"kind": LINK_RECONNECTED, "t_s": round(g0 + dur, 4)}]
    events.sort(key=lambda e: e.host_time_s)

    ex = sc.sets[0].exercise
    started = datetime(2025, 1, 6, 17, 0, tzinfo=UTC) + timedelta(minutes=seed % 100_000)
    extra = {
        "simulator_version": SIM_VERSION,
        "seed": seed,
        "command": sc.options.get("command", ""),
        "scenario_label": sc.label,
        "sensor_chip": spec.chip,
        "faults": sc.faults,
    }
    if proto is not None:
        dec = proto.decoder(config)
        header = RecordingHeader(
            body=BODY_PACKETS, sensor=proto.name, sensor_model=f"{proto.display_name} (simulated)",
            decoder={"name": proto.name, "version": dec.version}, stream=config.to_dict(), rate_hz=sc.rate_hz,
            exercise=ex, load_kg=set_labels[0].load_kg, athlete=ath.athlete_id,
            started_at=started.isoformat(), notes=f"synthetic: made by vbt simulate. {sc.label}".strip(),
            synthetic=True, extra=extra,
        )
    else:
        header = RecordingHeader(
            body=BODY_SAMPLES, sensor="simulated", sensor_model=f"simulated {spec.chip} IMU",
            decoder={}, stream=config.to_dict(), rate_hz=sc.rate_hz, exercise=ex, load_kg=set_labels[0].load_kg,
            athlete=ath.athlete_id, started_at=started.isoformat(),
            notes=f"synthetic: made by vbt simulate. {sc.label}".strip(), synthetic=True, extra=extra,
        )
    labels = Labels(
        seed=seed, simulator_version=SIM_VERSION, sets=set_labels,
        recording={"body": header.body, "sensor": header.sensor, "rate_hz": sc.rate_hz, "gyro": has_gyro,
                   "duration_s": round(session_end, 3)},
        athlete=ath.to_dict(), sensor=spec.to_dict(), link=link.to_dict(),
        clock={
            "first_sample_true_s": round(float(stream.t_true_s[0]), 6),
            "first_sample_sensor_s": round(float(stream.sensor_time_s[0]), 6),
            "clock_drift": spec.clock_drift,
            "clock_warmup_drift": spec.clock_warmup_drift,
            "warmup_tau_s": spec.bias_warmup_tau_s,
            "note": "true sample period = (1 + drift) / rate; sensor_time advances exactly 1 / rate per sample",
        },
        scenario=sc.to_dict(), link_events=link_events_lab,
    )
    return SimResult(
        scenario=sc, seed=seed, labels=labels, header=header, packets=packets, link_events=events,
        sensor_spec=spec, link_spec=link, stream_config=config, outcomes=outcomes,
        session_end_s=session_end, _blocks=blocks if keep_kinematics else None, _samples=stream, _batches=batches,
    )


def _build_session(sc: Scenario, seed: int) -> tuple[list[SetBlock], list[SetOutcome], list[SetLabels], float]:
    """Stages 1-3 (day, reps, kinematics): deterministic from the scenario and seed, so the dense
    blocks can be dropped after a simulation and rebuilt exactly when truth is asked for."""
    ath = sc.athlete
    day = DayState.random(_stream(seed, "day"))
    r_plan = _stream(seed, "reps")
    r_kin = _stream(seed, "kinematics")
    blocks: list[SetBlock] = []
    outcomes: list[SetOutcome] = []
    set_labels: list[SetLabels] = []
    prev_block: SetBlock | None = None
    for i, sp in enumerate(sc.sets):
        prof = ath.profiles[sp.exercise]
        rest_s = sp.rest_before_s if sp.rest_before_s is not None else (0.0 if prev_block is None else 180.0)
        if prev_block is not None:
            day.rest(ath, rest_s)
        load = sp.load_kg if sp.load_kg is not None else round_load(float(sp.load_pct) / 100.0 * prof.one_rm_kg)  # type: ignore[arg-type]
        failed = sp.failed_attempt if sp.failed_attempt is not None else bool(r_plan.random() < 0.5)
        outcome = plan_set(
            ath, day, sp.exercise, load, r_plan, target_reps=sp.reps, to_failure=sp.to_failure,
            stop_rir=sp.stop_rir, failed_attempt=failed if sp.to_failure else False, paused=sp.paused,
            touch_and_go=sp.touch_and_go,
        )
        plate_change = None
        if prev_block is not None and rest_s >= 60.0 and r_kin.random() < sc.plate_change_prob:
            plate_change = float(r_kin.uniform(15.0, rest_s - 30.0))
        block = build_set(
            outcome, ath, r_kin,
            start_pose=None if prev_block is None else prev_block.end_pose,
            start_location=None if prev_block is None else prev_block.rest_location,
            ending=sp.ending, plate_change_before_s=plate_change,
        )
        if prev_block is None:
            t0 = sc.lead_in_s + rest_s
        else:
            t0 = prev_block.set_end_s + rest_s - block.set_start_s
            t0 = max(t0, prev_block.t_end_s + block.dt_s)
        block.t0_s = t0
        block.set_start_s += t0
        block.set_end_s += t0
        block.shifted(t0)
        blocks.append(block)
        outcomes.append(outcome)
        set_labels.append(SetLabels(
            index=i + 1, exercise=sp.exercise, athlete_id=ath.athlete_id, load_kg=float(load),
            load_pct_1rm=outcome.load_pct_1rm, load_pct_day=100.0 * outcome.load_fraction_day,
            to_failure=outcome.stop_reason == "failure", stop_rule=outcome.stop_reason, stop_rir=sp.stop_rir,
            target_reps=sp.reps, reps_possible=outcome.reps_possible, mvt_day_mps=outcome.mvt_day_mps,
            start_s=block.set_start_s, end_s=block.set_end_s, end_location=block.rest_location,
            reps=block.reps, failed_attempts=[block.failed] if block.failed is not None else [],
            events=block.events,
        ))
        prev_block = block
    session_end = blocks[-1].t_end_s + sc.tail_s
    return blocks, outcomes, set_labels, session_end


def _label_sensor_point(blocks: list[SetBlock], spec: SensorSpec) -> None:
    """Add each rep's MCV and ROM *at the sensor point* (bar roll x lever arm, tilt x axial offset).

    The labels' main values are the bar centre's (an LPT's view); the difference is what no
    single sleeve-mounted IMU can observe, so benchmarks can separate it from algorithm error.
    """
    from vbt.sim.sensor import bar_rotation

    lever = np.asarray(spec.mounting.lever_arm_m)
    for blk in blocks:
        for rep in blk.reps:
            i0 = int(round((rep.concentric_start_s - blk.t0_s) / blk.dt_s))
            i1 = int(round((rep.concentric_end_s - blk.t0_s) / blk.dt_s))
            R = bar_rotation(blk.angles_rad[[i0, i1]])
            z = blk.pos_m[[i0, i1], 2] + (R @ lever)[:, 2]
            rep.sensor_rom_m = float(z[1] - z[0])
            rep.sensor_mean_velocity_mps = rep.sensor_rom_m / ((i1 - i0) * blk.dt_s)


def _contiguous_runs(t_s: np.ndarray, gaps: tuple[tuple[float, float], ...]) -> list[tuple[int, int]]:
    """Index ranges ``[a, b)`` of samples outside reconnect gaps."""
    bad = in_gap(t_s, gaps)
    runs: list[tuple[int, int]] = []
    n = len(t_s)
    i = 0
    while i < n:
        if bad[i]:
            i += 1
            continue
        j = i
        while j < n and not bad[j]:
            j += 1
        runs.append((i, j))
        i = j
    return runs


def _render(blocks: list[SetBlock], spec: SensorSpec, rate_hz: float, session_end_s: float, seed: int, *,
            errors: bool, gyro: bool) -> _SensorStream:
    """Sample the sensor over the session (ideal signals from the blocks, then the error model)."""
    r_clock = _stream(seed, f"clock-{rate_hz}")
    t_first = float(r_clock.uniform(0.05, 0.3))
    t = sample_times(spec, rate_hz, t_first, session_end_s)
    acc = np.empty((len(t), 3))
    gyr = np.zeros((len(t), 3))
    sos = (lowpass_sos(spec.lowpass_fraction * rate_hz, PHYSICS_RATE_HZ, spec.lowpass_order)
           if spec.lowpass_fraction else None)
    prev_end_idx = 0
    last_acc = None
    for bi, blk in enumerate(blocks):
        kin = sensor_kinematics(blk.pos_m, blk.vel_mps, blk.acc_mps2, blk.angles_rad, blk.dt_s, spec.mounting,
                                spec.g_local_mps2)
        f = kin.accel_mps2
        w = kin.gyro_rads
        if sos is not None:
            f = apply_lowpass(f, sos)
            w = apply_lowpass(w, sos)
        a = int(np.searchsorted(t, blk.t0_s, side="left"))
        b = int(np.searchsorted(t, blk.t_end_s, side="right"))
        # rest before this block: the bar sits still (value of the previous block's end / this start)
        rest_val = f[0] if bi == 0 else last_acc
        acc[prev_end_idx:a] = rest_val
        gyr[prev_end_idx:a] = 0.0
        tb = blk.t_s
        for j in range(3):
            acc[a:b, j] = np.interp(t[a:b], tb, f[:, j])
            gyr[a:b, j] = np.interp(t[a:b], tb, w[:, j])
        prev_end_idx = b
        last_acc = f[-1]
    acc[prev_end_idx:] = last_acc
    gyr[prev_end_idx:] = 0.0
    k = np.arange(len(t), dtype=float)
    if spec.chip == "ideal":
        sensor_time = t.copy()  # an ideal clock reads true time
    else:
        offset = float(r_clock.uniform(10.0, 3000.0))  # the sensor has been on for a while
        sensor_time = offset + k / rate_hz
    if errors:
        acc_m, gyr_m = measure(spec, t, acc, gyr if gyro else None, rate_hz, _stream(seed, f"noise-{rate_hz}"))
    else:
        acc_m, gyr_m = acc, (gyr if gyro else None)
    return _SensorStream(t, sensor_time, acc_m, gyr_m)


def _build_truth(blocks: list[SetBlock], spec: SensorSpec, session_end_s: float) -> Truth:
    parts: dict[str, list[np.ndarray]] = {k: [] for k in (
        "t", "bp", "bv", "ba", "sp", "sv", "sa", "q", "ow", "g", "fw", "f", "set")}

    def add(t: np.ndarray, kin: Any, blk: SetBlock, idx: np.ndarray | slice, set_no: int) -> None:
        parts["t"].append(t)
        parts["bp"].append(blk.pos_m[idx])
        parts["bv"].append(blk.vel_mps[idx])
        parts["ba"].append(blk.acc_mps2[idx])
        parts["sp"].append(kin.pos_m[idx])
        parts["sv"].append(kin.vel_mps[idx])
        parts["sa"].append(kin.acc_mps2[idx])
        parts["q"].append(matrix_to_quat(kin.R_ws[idx]))
        parts["ow"].append(kin.omega_world_rads[idx])
        parts["g"].append(kin.gyro_rads[idx])
        parts["fw"].append(kin.specific_force_world_mps2[idx])
        parts["f"].append(kin.accel_mps2[idx])
        parts["set"].append(np.full(len(t), set_no, dtype=np.int32))

    for bi, blk in enumerate(blocks):
        kin = sensor_kinematics(blk.pos_m, blk.vel_mps, blk.acc_mps2, blk.angles_rad, blk.dt_s, spec.mounting,
                                spec.g_local_mps2)
        if bi == 0 and blk.t0_s > 0:
            add(np.array([0.0]), kin, blk, slice(0, 1), 0)
        add(blk.t_s, kin, blk, slice(None), bi + 1)
        if bi == len(blocks) - 1 and session_end_s > blk.t_end_s:
            add(np.array([session_end_s]), kin, blk, slice(-1, None), 0)
    cat = {k: np.concatenate(v) for k, v in parts.items()}
    # Block end points are rest: mark them as such.
    return Truth(
        t_s=cat["t"], bar_position_m=cat["bp"], bar_velocity_mps=cat["bv"], bar_accel_mps2=cat["ba"],
        sensor_position_m=cat["sp"], sensor_velocity_mps=cat["sv"], sensor_accel_mps2=cat["sa"],
        sensor_quat_wxyz=cat["q"], angular_velocity_world_rads=cat["ow"], gyro_rads=cat["g"],
        specific_force_world_mps2=cat["fw"], accel_mps2=cat["f"], in_set=cat["set"],
    )


def describe(result: SimResult) -> str:
    """One line summarising a simulation (what `vbt simulate` prints)."""
    parts = []
    for s in result.labels.sets:
        fail = " + failed attempt" if s.failed_attempts else ""
        rirs = f", RIR {s.reps[-1].rir}" if s.reps else ""
        parts.append(f"set {s.index}: {s.exercise} {s.load_kg:g} kg ({s.load_pct_1rm:.0f} %1RM) x {len(s.reps)}{fail}{rirs}")
    sensor = result.header.sensor
    gyro = "gyro" if result.labels.recording.get("gyro") else "no gyro"
    n_items = len(result.packets) if result.packets is not None else len(result.batches)
    kind = "packets" if result.packets is not None else "batches"
    return (f"{'; '.join(parts)} | {sensor} {result.scenario.rate_hz:g} Hz {gyro}, faults {result.scenario.faults}, "
            f"{result.duration_s:.1f} s, {n_items} {kind}, seed {result.seed}")


__all__ = ["SIM_VERSION", "SimResult", "Truth", "describe", "resolve_sensor", "simulate"]

