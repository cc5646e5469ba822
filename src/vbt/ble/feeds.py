"""What a virtual sensor measures: `SampleFeed` and its implementations.

A feed answers one question for a `VirtualSensorPeripheral`: "what do the accelerometer and
gyro read at these instants, sampled at this rate?". Times are *feed time*: physical seconds
since the sensor first started streaming (the lifter starts when the app is ready). The
peripheral asks for the instants its own sample clock produces, so a feed never needs to
know about packets, rates changing mid-stream or link gaps.

Implementations:

* `AnalyticRepsFeed` -- a closed-form vertical "rep" motion (cosine position profile) with a
  fixed mounting tilt and a small roll; exact truth for tests, not a realistic lift;
* `SimulatedFeed` -- a `vbt.sim` session (realistic lifts, sensor errors, clock drift);
* `RecordingFeed` -- the decoded samples of a recording, interpolated at the requested times.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from firmware_protocols import STANDARD_GRAVITY_MPS2, StreamConfig

if TYPE_CHECKING:  # pragma: no cover - typing only
    from vbt.sim import SimResult


@runtime_checkable
class SampleFeed(Protocol):
    """Source of sensor readings for a virtual sensor.

    Attributes:
        has_gyro: Whether `render` can return angular rate.
        duration_s: Feed time after which nothing more happens (the sensor then reads a bar at
            rest); None for an endless feed.
    """

    has_gyro: bool
    duration_s: float | None

    def render(self, t_s: np.ndarray, rate_hz: float) -> tuple[np.ndarray, np.ndarray | None]:
        """Readings at feed times ``t_s`` for a sensor sampling at ``rate_hz``.

        Args:
            t_s: ``(n,)`` increasing feed times (s).
            rate_hz: The sensor's output data rate (a realistic feed band-limits and adds noise
                for it).

        Returns:
            ``(accel_mps2 (n, 3), gyro_rads (n, 3) | None)`` in the sensor frame.
        """
        ...


def _rotation_x(angle_rad: np.ndarray) -> np.ndarray:
    """``(n, 3, 3)`` rotations about x."""
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    out = np.zeros((angle_rad.size, 3, 3))
    out[:, 0, 0] = 1.0
    out[:, 1, 1], out[:, 1, 2] = c, -s
    out[:, 2, 1], out[:, 2, 2] = s, c
    return out


def _mounting(tilt_deg: float, yaw_deg: float) -> np.ndarray:
    """Sensor-to-world rotation of a sensor tilted ``tilt_deg`` about y after ``yaw_deg`` about z."""
    t, y = math.radians(tilt_deg), math.radians(yaw_deg)
    ry = np.array([[math.cos(t), 0.0, math.sin(t)], [0.0, 1.0, 0.0], [-math.sin(t), 0.0, math.cos(t)]])
    rz = np.array([[math.cos(y), -math.sin(y), 0.0], [math.sin(y), math.cos(y), 0.0], [0.0, 0.0, 1.0]])
    return rz @ ry


@dataclass(frozen=True)
class AnalyticRep:
    """Truth for one rep of `AnalyticRepsFeed` (feed time axis)."""

    index: int
    start_s: float
    concentric_start_s: float
    concentric_end_s: float
    rom_m: float
    mean_concentric_velocity_mps: float
    peak_velocity_mps: float


@dataclass(frozen=True)
class AnalyticRepsFeed:
    """Closed-form squat-like reps: exact specific force and angular rate, for tests and demos.

    Each rep is one cosine cycle of the bar's height (eccentric down, concentric up):
    ``z(u) = -rom/2 * (1 - cos(2 pi u))`` for ``u`` in [0, 1] over ``rep_s`` seconds, so the
    concentric half has mean velocity ``2 rom / rep_s`` and peak ``pi rom / rep_s``. Reps are
    separated by ``rest_s`` of stillness and slow down by ``slowdown`` per rep (a plain
    velocity-loss pattern). The sensor is mounted tilted and rolls about its x axis by
    ``roll_deg * sin^2(pi u)`` during each rep, so gravity moves between axes and the gyro is
    exercised; the readings are exactly ``R(t)^T (a_world + g)`` and the body rate of ``R(t)``.

    Attributes:
        reps: Number of reps.
        rom_m: Range of motion (m).
        rep_s: Duration of the first rep (s).
        slowdown: Fractional lengthening of each successive rep.
        lead_in_s: Stillness before the first rep (s).
        rest_s: Stillness between reps (s).
        tail_s: Stillness after the last rep (s).
        tilt_deg, yaw_deg: Mounting orientation.
        roll_deg: Peak roll during a rep.
        has_gyro: Whether to report angular rate.
    """

    reps: int = 5
    rom_m: float = 0.5
    rep_s: float = 2.0
    slowdown: float = 0.08
    lead_in_s: float = 2.0
    rest_s: float = 1.0
    tail_s: float = 2.0
    tilt_deg: float = 20.0
    yaw_deg: float = 30.0
    roll_deg: float = 8.0
    has_gyro: bool = True

    @property
    def rep_truth(self) -> list[AnalyticRep]:
        """Start, concentric phase and velocities of every rep."""
        out = []
        t = self.lead_in_s
        for i in range(self.reps):
            dur = self.rep_s * (1.0 + self.slowdown) ** i
            out.append(AnalyticRep(
                index=i,
                start_s=t,
                concentric_start_s=t + dur / 2,
                concentric_end_s=t + dur,
                rom_m=self.rom_m,
                mean_concentric_velocity_mps=2 * self.rom_m / dur,
                peak_velocity_mps=math.pi * self.rom_m / dur,
            ))
            t += dur + self.rest_s
        return out

    @property
    def duration_s(self) -> float:
        reps = self.rep_truth
        end = reps[-1].concentric_end_s if reps else self.lead_in_s
        return end + self.tail_s

    def _phase(self, t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per sample: cycle phase u in [0, 1] (0 outside reps), rep duration, and an in-rep mask."""
        u = np.zeros_like(t_s)
        dur = np.ones_like(t_s)
        inside = np.zeros(t_s.shape, dtype=bool)
        for rep in self.rep_truth:
            d = rep.concentric_end_s - rep.start_s
            m = (t_s >= rep.start_s) & (t_s < rep.concentric_end_s)
            u[m] = (t_s[m] - rep.start_s) / d
            dur[m] = d
            inside |= m
        return u, dur, inside

    def position_m(self, t_s: np.ndarray) -> np.ndarray:
        """True bar height relative to the start (m), for test truth."""
        u, _, inside = self._phase(np.asarray(t_s, dtype=float))
        return np.where(inside, -self.rom_m / 2 * (1 - np.cos(2 * np.pi * u)), 0.0)

    def velocity_mps(self, t_s: np.ndarray) -> np.ndarray:
        """True vertical bar velocity (m/s), for test truth."""
        u, dur, inside = self._phase(np.asarray(t_s, dtype=float))
        return np.where(inside, -self.rom_m / 2 * (2 * np.pi / dur) * np.sin(2 * np.pi * u), 0.0)

    def render(self, t_s: np.ndarray, rate_hz: float) -> tuple[np.ndarray, np.ndarray | None]:
        """Exact readings at ``t_s`` (the analytic motion needs no band-limiting)."""
        t = np.asarray(t_s, dtype=float)
        u, dur, inside = self._phase(t)
        w = 2 * np.pi / dur
        acc_z = np.where(inside, -self.rom_m / 2 * w**2 * np.cos(2 * np.pi * u), 0.0)
        # Specific force in the world frame: what an accelerometer measures, pointing up at rest.
        f_world = np.zeros((t.size, 3))
        f_world[:, 2] = STANDARD_GRAVITY_MPS2 + acc_z
        roll_peak = math.radians(self.roll_deg)
        roll = np.where(inside, roll_peak * np.sin(np.pi * u) ** 2, 0.0)
        roll_rate = np.where(inside, roll_peak * np.pi / dur * np.sin(2 * np.pi * u), 0.0)
        # Sensor-to-world rotation: fixed mounting, then the roll about the sensor's own x axis.
        r = _mounting(self.tilt_deg, self.yaw_deg)[None, :, :] @ _rotation_x(roll)
        accel = np.einsum("nji,nj->ni", r, f_world)
        gyro = None
        if self.has_gyro:
            gyro = np.zeros((t.size, 3))
            gyro[:, 0] = roll_rate  # body rate of a rotation about the body x axis
        return accel, gyro


class _TabulatedFeed:
    """Readings known at discrete true times; looked up (nearest sample) or interpolated.

    At the table's own rate a request returns the table's samples themselves (nearest true
    time), so noise and quantisation are exactly the source's; at another rate the readings
    are interpolated linearly. Before the first sample the first reading holds, after the last
    the last one (the bar is at rest).
    """

    def __init__(self, t_s: np.ndarray, accel_mps2: np.ndarray, gyro_rads: np.ndarray | None,
                 rate_hz: float) -> None:
        if len(t_s) == 0:
            raise ValueError("a feed needs at least one sample")
        order = np.argsort(t_s, kind="stable")
        self._t = np.asarray(t_s, dtype=float)[order]
        self._acc = np.asarray(accel_mps2, dtype=float)[order]
        self._gyro = None if gyro_rads is None else np.asarray(gyro_rads, dtype=float)[order]
        self._rate = float(rate_hz)
        self.has_gyro = gyro_rads is not None
        self.duration_s: float | None = float(self._t[-1])

    def render(self, t_s: np.ndarray, rate_hz: float) -> tuple[np.ndarray, np.ndarray | None]:
        t = np.asarray(t_s, dtype=float)
        if abs(rate_hz - self._rate) < 1e-9:
            i = np.clip(np.searchsorted(self._t, t), 1, len(self._t) - 1)
            nearest = np.where(np.abs(self._t[i - 1] - t) <= np.abs(self._t[i] - t), i - 1, i)
            if len(self._t) == 1:
                nearest = np.zeros(t.size, dtype=int)
            acc = self._acc[nearest]
            gyro = None if self._gyro is None else self._gyro[nearest]
            return acc, gyro
        acc = np.column_stack([np.interp(t, self._t, self._acc[:, j]) for j in range(3)])
        gyro = None
        if self._gyro is not None:
            gyro = np.column_stack([np.interp(t, self._t, self._gyro[:, j]) for j in range(3)])
        return acc, gyro


#: vbt.sim lifts; the others map to the nearest simulated movement.
_SIM_EXERCISE = {"front-squat": "squat", "incline-bench": "bench", "generic": "squat"}


class SimulatedFeed(_TabulatedFeed):
    """A `vbt.sim` session as what a virtual sensor measures.

    Feed time is the simulation's true time (the session starts when the sensor starts
    streaming). The sensor's own error model, mounting and clock drift come from the
    simulation; the emulated link (batching, loss, gaps) is the virtual sensor's business, so
    the simulation's link model is not used.

    Args:
        result: A simulated session (`vbt.sim.simulate`).

    Attributes:
        result: The simulation (``result.labels`` is the ground truth, on feed time).
        clock_drift: The simulated sample clock's fractional error (positive = slow); pass
            ``-clock_drift`` as the virtual sensor's ``clock_error`` to sample on its grid.
    """

    def __init__(self, result: SimResult) -> None:
        _sensor_t, acc, gyro = result.sensor_samples()
        super().__init__(result.sensor_true_times(), acc, gyro, result.scenario.rate_hz)
        self.result = result
        self.duration_s = float(result.duration_s)
        self.clock_drift = float(result.sensor_spec.clock_drift)

    @classmethod
    def for_stream(
        cls,
        config: StreamConfig,
        *,
        exercise: str | None = "squat",
        seed: int = 0,
        load_pct: float = 75.0,
        stop_rir: int | None = 2,
        reps: int | None = None,
        faults: str = "typical",
        **scenario_options: Any,
    ) -> SimulatedFeed:
        """One simulated set sampled as ``config`` asks (rate, range, gyro or not).

        Args:
            config: The stream configuration the host will request.
            exercise: The lift (pipeline names are mapped to the simulated ones).
            seed: Athlete and session seed.
            load_pct: Load, % of the athlete's 1RM (75 % is a typical working set).
            stop_rir: The athlete stops with this many reps in reserve (2: where the fatigue
                flag should fire, the product's main use).
            reps: A rep target instead of ``stop_rir`` (short sets for tests).
            faults: The simulator's sensor-error level (``none``, ``typical``, ``harsh``);
                link faults are the virtual sensor's.
            **scenario_options: More `vbt.sim.Scenario` fields (``lead_in_s``, ``tail_s``...).
        """
        from vbt.sim import Athlete, Scenario, SetPlan, simulate

        lift = _SIM_EXERCISE.get(exercise or "squat", exercise or "squat")
        scenario = Scenario(
            Athlete.random(seed),
            [SetPlan(lift, load_pct=load_pct, reps=reps) if reps is not None
             else SetPlan(lift, load_pct=load_pct, stop_rir=stop_rir)],
            rate_hz=float(config.rate_hz),
            gyro=config.gyro_range_dps is not None,
            faults=faults,
            accel_range_g=float(config.accel_range_g),
            **scenario_options,
        )
        return cls(simulate(scenario, seed=seed))


class RecordingFeed(_TabulatedFeed):
    """A recording's decoded samples as what a virtual sensor measures (replay over the air).

    Feed time 0 is the recording's first sample. Samples are placed on the sensor's clock when
    the recording has one, else at their host arrival times (for sensors without a clock,
    e.g. WitMotion, that is what a host would see anyway).

    Args:
        path: A vbt recording (packets or samples body).

    Raises:
        InputFileError / RecordingFormatError: the file cannot be read, comes from a sensor no
            protocol decodes, or holds no samples.
    """

    def __init__(self, path: str | Any) -> None:
        from firmware_protocols import PROTOCOLS, get_protocol
        from vbt.errors import InputFileError
        from vbt.recording.reader import open_recording
        from vbt.sources import LINK_RECONNECTED, LinkEvent, RawPacket

        rec = open_recording(path)
        header = rec.header
        times: list[np.ndarray] = []
        accs: list[np.ndarray] = []
        gyros: list[np.ndarray | None] = []
        if header.body == "packets":
            try:
                protocol = get_protocol(header.sensor)
            except KeyError:
                raise InputFileError(path, f"comes from sensor {header.sensor!r}, which this vbt cannot decode",
                                     "upgrade vbt-monitor (this one decodes " + ", ".join(sorted(PROTOCOLS)) + ")"
                                     ) from None
            # as the Session decodes it: a header without a stream configuration means the defaults
            stream = header.stream if isinstance(header.stream, dict) else {}
            config = StreamConfig.from_dict(stream) if "rate_hz" in stream else protocol.default_config()
            decoder = protocol.decoder(config)
            sensor_offset: float | None = None
            for item in rec:
                if isinstance(item, LinkEvent) and item.kind == LINK_RECONNECTED:
                    decoder.reset()
                    sensor_offset = None
                elif isinstance(item, RawPacket):
                    for batch in decoder.feed(item.char_uuid, item.payload, item.host_time_s):
                        if batch.sensor_time_s is not None:
                            if sensor_offset is None:  # anchor the sensor clock to arrival time
                                sensor_offset = batch.arrival_times()[0] - batch.sensor_time_s[0]
                            times.append(batch.sensor_time_s + sensor_offset)
                        else:
                            times.append(_spread(batch, config.rate_hz))
                        accs.append(batch.accel_mps2)
                        gyros.append(batch.gyro_rads)
            rate = float(config.rate_hz)
        else:
            t, acc, gyro = rec.sample_columns()
            times, accs, gyros = [t], [acc], [gyro]
            rate = float(header.rate_hz or 100.0)
        if not sum(len(t) for t in times):
            raise InputFileError(path, "holds no samples to replay", "give a recording with data")
        t_all = np.concatenate(times)
        gyro_all = np.concatenate(gyros) if all(g is not None for g in gyros) else None  # type: ignore[arg-type]
        super().__init__(t_all - t_all[0], np.concatenate(accs), gyro_all, rate)
        self.header = header
        #: The recorded sensor's sample-clock error (positive = slow), measured; pass
        #: ``-clock_drift`` as the virtual sensor's ``clock_error`` to sample on its grid.
        self.clock_drift = _measured_drift(self._t, rate)


def _measured_drift(t_s: np.ndarray, rate_hz: float) -> float:
    """Fractional sample-period error over the longest run at ``rate_hz`` (0 if none is usable).

    A run is a stretch whose steps stay within 40 % of the nominal period once averaged over
    10 samples (batched arrivals average out); link gaps and other rates end a run.
    """
    if len(t_s) < 50:
        return 0.0
    period = 1.0 / rate_hz
    k = 10
    steps = (t_s[k:] - t_s[:-k]) / k
    ok = np.abs(steps - period) < 0.4 * period
    best, start = (0, 0), None
    for i, good in enumerate(np.append(ok, False)):
        if good and start is None:
            start = i
        elif not good and start is not None:
            if i - start > best[1] - best[0]:
                best = (start, i)
            start = None
    lo, hi = best
    if hi - lo < 40:
        return 0.0
    drift = (t_s[hi - 1 + k] - t_s[lo]) / ((hi - 1 + k - lo) * period) - 1.0
    return float(np.clip(drift, -0.05, 0.05))


def _spread(batch: Any, rate_hz: float) -> np.ndarray:
    """Per-sample times for a batch without sensor time: back from its arrival at the nominal rate."""
    n = len(batch)
    return batch.arrival_times() - (n - 1 - np.arange(n)) / rate_hz


__all__ = ["AnalyticRep", "AnalyticRepsFeed", "RecordingFeed", "SampleFeed", "SimulatedFeed"]
