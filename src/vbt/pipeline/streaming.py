"""`StreamingPipeline`: decoded samples in, rep/set events out -- the one analysis path.

Live, replay and offline analysis all feed `ImuBatch` objects to the same pipeline (offline
is "feed everything, then `finish`"), so their results are identical. Stages:

1. `vbt.pipeline.timebase.Timebase` -- measured sample times on the input's axis, drops
   filled, breaks marked.
2. `vbt.pipeline.stationary.StillnessDetector` -- quiet windows.
3. A segment state machine (this module): *waiting* for the first still period, *still*
   (an anchor: velocity is zero, bias/up-vector/gyro bias are measured), *moving* (an open
   motion segment, integrated causally for the live trace and provisional reps). A quiet window
   becomes the next anchor only if its mean specific force matches gravity and the causally
   integrated velocity there is small (a slow grind is not a stop). When the next anchor is
   confirmed the segment is closed: orientation smoothed between the two anchors
   (`vbt.pipeline.orientation`), ZUPT + linear detrend (`vbt.pipeline.velocity`), and the
   piece goes to `vbt.pipeline.reps.RepFinder`.
4. Events (`vbt.pipeline.events`) as decisions are made.

Cost: each sample is handled a bounded number of times (causal pass, final pass), with
vectorised NumPy per chunk and per segment; Python loops run only per state change. Memory is
bounded: the still state keeps only the last half second, a motion segment is closed (without
drift correction) after `PipelineSettings.max_segment_s`, and the rep finder drops history it
can no longer need. Decisions depend only on the sample sequence, never on chunking.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import signal

from firmware_protocols import ImuBatch
from vbt.pipeline import orientation as ori
from vbt.pipeline.calibration import AccelCalibration
from vbt.pipeline.events import (
    PipelineEvent,
    PipelineWarning,
    RepProvisional,
    TimingStatus,
    TraceEvent,
)
from vbt.pipeline.metrics import concentric_bounds, concentric_metrics
from vbt.pipeline.reps import MotionPiece, RepFinder
from vbt.pipeline.results import AnalysisResult, RepResult, SetResult
from vbt.pipeline.settings import ALGORITHM_VERSION, DEFAULT_SETTINGS, PipelineSettings
from vbt.pipeline.stationary import StillnessDetector
from vbt.pipeline.timebase import SampleChunk, Timebase
from vbt.pipeline.velocity import CausalIntegrator, integrate_segment

_WAIT, _STILL, _MOVING = "waiting", "still", "moving"
#: Seconds of an anchor used to measure up-vector, gravity and gyro bias.
_ANCHOR_STATS_S = 0.5
#: Exit hysteresis: leaving an anchor needs this multiple of the entry thresholds.
_EXIT_FACTOR = 1.5
#: A quiet run this long anchors even when the causal velocity check fails (drifted estimate).
_LONG_QUIET_S = 0.3
#: ...but 0.6 s while the causal velocity reads >= 0.2 m/s upwards (a possible slow grind;
#: on the simulator corpus the causal velocity at true holds is off by 0.26 m/s median, at
#: grinds it is close to the true 0.25-0.5 m/s, so neither threshold alone separates them).
_LONG_QUIET_UP_S = 0.6
_GRIND_MIN_MPS = 0.2
#: Below lockout height (this share of the set's median ROM above the segment's lowest point),
#: an upward causal velocity over `_GRIND_MIN_UP_MPS` makes a quiet window a possible grind: it
#: anchors only with the causal velocity under `_GRIND_STOP_MPS` (no quiet-run fallback).
_GRIND_MAX_RISE = 0.9
#: ...once the set's last rep was this slow (m/s): fast sets do not grind, and their reps'
#: tops (a row's brief squeeze) must keep the quiet-run fallback.
_GRIND_SET_MCV_MPS = 0.4
_GRIND_MIN_UP_MPS = 0.03
_GRIND_STOP_MPS = 0.03
#: How much a brief stop's gravity direction corrects the gyro-carried orientation, and how
#: much each second of a quiet rest does.
_ENTRY_TRUST = 0.2
_REST_TRUST = 0.5
#: Still periods shorter than this use the running gravity estimate (s).
_LONG_STILL_S = 1.0
#: Segments between these durations (s) teach the accelerometer calibration.
_DRIFT_LEARN_S = 0.5
_DRIFT_LEARN_MAX_S = 20.0
#: The fixed-axis projection (no gyro) is only considered when the specific force stays within
#: 15 deg of the opening stop's up vector (more means the sensor turned, not just accelerated).
_PROJECTION_MAX_COS = math.cos(math.radians(15.0))
#: After a link break: a looser still test (tremor allowed) that must last this long (s).
_WAIT_SUSTAIN_S = 0.4
_WAIT_LOOSE_SD_MPS2 = 0.25
_WAIT_LOOSE_GYRO_RADS = 0.1
#: After this long without an anchor the variance-only fallback may anchor (s).
_FALLBACK_AFTER_S = 4.0
#: Growth of the velocity-check allowance with time since the last anchor (m/s per s).
_DRIFT_ALLOWANCE = 0.015
#: A still block is a rest (no one holding the bar) when its window SDs are within this
#: factor of the sensor's noise floor.
_REST_NOISE_FACTOR = 2.0
#: ...and when its gravity direction stays within this angle (deg).
_REST_MAX_TURN_DEG = 0.3
#: Still for a block, an up estimate this far (deg) from the measured gravity is restarted.
_SNAP_DEG = 10.0
#: ...and at the first samples of a still period (a pause may still be turning: only gross errors).
_SNAP_ENTRY_DEG = 30.0
#: Length of a still-state block (s): gravity and up re-measured, rest tested, once per block.
_STILL_BLOCK_S = 4.0
#: A rest this long measures the gyro bias (s).
_BIAS_REST_S = 2.0
#: Shorter quietness window (s) that confirms a stop right after a rise of at least
#: `_BIAS_RISE_FRACTION` of the exercise's minimum ROM (a lockout): the final rep result waits
#: for it, so it is most of the live latency. Elsewhere (handling, bottoms) `still_window_s`
#: applies. Below `_CONFIRM_MIN_SAMPLES` samples (25 Hz) the short window is too noisy.
_CONFIRM_S = 0.10
_CONFIRM_MIN_SAMPLES = 5
#: ...where the bar may still sway (postural sway, about a degree at under 1 Hz, peaks at
#: ~3 deg/s): the gyro-rate test allows this multiple of `still_gyro_rate_rads`.
_CONFIRM_GYRO_FACTOR = 2.0
#: The bias-corrected velocity check at a stop after a descent and a rise of at least
#: `_BIAS_RISE_FRACTION` of the exercise's minimum ROM each (see `_back_at_top`) is used from
#: `_BIAS_MIN_S` after the opening anchor, while the acceleration error it implies stays below
#: `_BIAS_MAX_MPS2`.
_BIAS_RISE_FRACTION = 0.5
_BIAS_MIN_S = 0.5
_BIAS_MAX_MPS2 = 0.5
#: Warn when no still period has been seen for this long since the start or a break.
_NO_STILL_WARN_S = 20.0
#: Floor contacts (`ExerciseProfile.floor_contacts`, see `_floor_contacts`): plates landing on
#: the floor stop the bar in 10-25 ms -- 0.1 m/s stopped in 25 ms is 4 m/s^2 on average -- an
#: upward spike of at least `_CONTACT_MIN_MPS2` that is over (back under half its peak) within
#: `_CONTACT_MAX_S` (an impact, with the sensor's anti-alias filter spreading it over a few
#: samples at low rates; a pull's acceleration builds and lasts for tenths of a second)...
_CONTACT_MIN_MPS2 = 4.0
_CONTACT_MAX_S = 0.12
#: ...after the bar was lowered: in the `_CONTACT_WINDOW_S` before it (since the last zero-
#: velocity instant) the velocity fell by at least `_CONTACT_MIN_DROP_MPS`...
_CONTACT_WINDOW_S = 2.0
_CONTACT_MIN_DROP_MPS = 0.1
#: ...and the impact took less than this off the velocity (m/s): a bar lowered under control
#: lands at well under 1 m/s; a faster landing is a drop from lockout, and dropped bumper
#: plates rebound: after that impact the velocity is not zero.
_CONTACT_MAX_DV_MPS = 1.0
#: ...and a new contact needs the bar lifted and lowered again: none this soon after the last (s).
_CONTACT_REFRACTORY_S = 0.5
#: The live velocity is re-zeroed at a contact only when it reads further from zero than how
#: well the contact's zero instant is known: `_CONTACT_RESET_MPS`, or what the next pull
#: (up to `_CONTACT_PULL_MPS2`) adds in one sample step, which is more below 50 Hz (the
#: first sample after the impact may already be a sample into the pull). Closer, the running
#: estimate is the better one.
_CONTACT_RESET_MPS = 0.1
_CONTACT_PULL_MPS2 = 5.0


@dataclass(slots=True)
class _Anchor:
    """What a still period tells us: up direction, gravity reading, gyro bias."""

    up: np.ndarray
    g_mps2: float
    gyro_bias: np.ndarray
    start_s: float


class _Buffer:
    """Samples the state machine may still need, with a global index base."""

    COLS = ("t", "dt", "arrival", "filled", "clipped", "mean_n", "sd_n", "sd_g", "thr_a", "thr_g", "vc", "pc", "ac", "lv", "noise_a", "noise_g")

    def __init__(self) -> None:
        self.base = 0
        self.acc = np.empty((0, 3))
        self.gyro: np.ndarray | None = None
        self.up = np.empty((0, 3))
        for c in self.COLS:
            setattr(self, c, np.empty(0, dtype=bool if c in ("filled", "clipped") else float))

    @property
    def end(self) -> int:
        return self.base + len(self.t)

    def append(self, chunk: SampleChunk, stats: tuple[np.ndarray, ...]) -> None:
        n = len(chunk)
        self.acc = np.concatenate((self.acc, chunk.accel_mps2))
        self.up = np.concatenate((self.up, np.zeros((n, 3))))
        if chunk.gyro_rads is not None:
            self.gyro = chunk.gyro_rads.copy() if self.gyro is None else np.concatenate((self.gyro, chunk.gyro_rads))
        cols = dict(
            t=chunk.t_s, dt=chunk.dt_s, arrival=chunk.arrival_s, filled=chunk.filled, clipped=chunk.clipped,
            mean_n=stats[0], sd_n=stats[1], sd_g=stats[2], thr_a=stats[3], thr_g=stats[4],
            noise_a=stats[5], noise_g=stats[6],
            vc=np.zeros(n), pc=np.zeros(n), ac=np.zeros(n), lv=np.zeros(n),
        )
        for c, val in cols.items():
            setattr(self, c, np.concatenate((getattr(self, c), val)))

    def trim(self, keep_from: int) -> None:
        cut = min(max(0, keep_from - self.base), len(self.t))
        if cut == 0:
            return
        self.acc = self.acc[cut:]
        self.up = self.up[cut:]
        if self.gyro is not None:
            self.gyro = self.gyro[cut:]
        for c in self.COLS:
            setattr(self, c, getattr(self, c)[cut:])
        self.base += cut

    def sl(self, g0: int, g1: int) -> slice:
        """Local slice for global ``[g0, g1)``."""
        return slice(g0 - self.base, g1 - self.base)


class StreamingPipeline:
    """Incremental rep analysis of one IMU stream.

    Args:
        settings: Analysis settings (exercise profile, load, thresholds).
        nominal_rate_hz: Configured sample rate, if known (from the recording header).
        sensor_axis: The batches' ``sensor_time_s`` *is* the output time axis (decoded-sample
            recordings, CSV); otherwise times are mapped onto the host arrival axis.

    Use ``events = pipeline.feed(batch)`` for every batch, `link_break` when the link drops
    or the decoder is reset, and `finish` at the end; `result` gives the `AnalysisResult`.
    """

    def __init__(
        self,
        settings: PipelineSettings = DEFAULT_SETTINGS,
        *,
        nominal_rate_hz: float | None = None,
        sensor_axis: bool = False,
    ) -> None:
        self.settings = settings
        self.timebase = Timebase(settings, nominal_rate_hz=nominal_rate_hz, sensor_axis=sensor_axis)
        self.finder = RepFinder(settings)
        self._det: StillnessDetector | None = None
        self._w = 3
        self._wf = 3
        self._buf = _Buffer()
        self._state = _WAIT
        self._next = 0  # next global sample index the state machine has not processed
        self._seg_start = -1
        self._anchor: _Anchor | None = None  # opening anchor of the current segment
        self._still_start = -1  # global index where the current still period began
        self._still_g_ref = 9.80665
        self._still_up = np.array([0.0, 0.0, 1.0])
        self._leak_zi = np.zeros(1)
        self._gyro_bias = np.zeros(3)
        self._bias_known = False
        self._g_est: float | None = None
        self._rest_blocks = 0
        self._calib: AccelCalibration | None = None
        self._wait_since_s: float | None = None
        self._p = 0.0  # final position at the current anchor
        self._orient: ori.ForwardUp | None = None
        self._orient_next = 0
        self._seg_floor = -1
        self._su0 = np.array([0.0, 0.0, 1.0])
        self._sr = np.zeros(3)
        self._slast = np.zeros(3)
        self._integ: CausalIntegrator | None = None
        self._prov_min = math.inf
        self._prov_top: float | None = None
        self._trace_step = 1
        self._next_tick_s: float | None = None
        self._warned: dict[str, None] = {}  # insertion-ordered: warnings in the order they arose
        self._tb_warn_seen = 0
        self._finished = False
        self._last_at_s = 0.0
        self._clip_warned = False
        self._no_still_warned = False
        self._qrun = 0
        self._seg_pmin = 0.0  # lowest causal position of the open segment so far
        self._seg_p0 = 0.0  # causal position at the open segment's first sample
        self._zeros: list[int] = []  # floor contacts of the open segment (global sample indices)
        self._resets: list[int] = []  # ...those where the live velocity was re-zeroed
        self._contact_done = 0  # floor-contact candidates before this sample are decided
        self._crun = 0
        self._wrun = 0
        self._g_break: float | None = None
        self._still_start_s = 0.0
        self._rate = 100.0
        self._samples_seen = 0
        self._filled_seen = 0
        self._lost_seen = 0

    # ------------------------------------------------------------------ public

    def feed(self, batch: ImuBatch) -> list[PipelineEvent]:
        """Process one batch of decoded samples; returns the events it triggered, in order."""
        if self._finished:
            raise RuntimeError("feed() after finish(): make a new StreamingPipeline")
        out: list[PipelineEvent] = []
        for chunk in self.timebase.push(batch):
            self._process_chunk(chunk, out)
        self._timebase_warnings(out)
        return out

    def link_break(self) -> list[PipelineEvent]:
        """The link dropped (or the decoder was reset): never integrate across this point."""
        self.timebase.link_break()
        return []

    def stream_configured(self, rate_hz: float | None = None) -> list[PipelineEvent]:
        """The sensor was (re)configured (a ``config`` link event); see `Timebase.stream_configured`."""
        self.timebase.stream_configured(rate_hz)
        return []

    def finish(self) -> list[PipelineEvent]:
        """End of input: close the open segment, settle pending decisions, end the open set."""
        if self._finished:
            return []
        out: list[PipelineEvent] = []
        for chunk in self.timebase.flush():
            self._process_chunk(chunk, out)
        at = self._last_at_s
        if self._state == _MOVING:
            self._close_segment(self._buf.end - 1, None, at, out, anchored=False)
        out.extend(self.finder.finish(at))
        self._timebase_warnings(out)
        self._finished = True
        return out

    @property
    def sets(self) -> list[SetResult]:
        """Sets found so far (the last may still be open)."""
        return self.finder.sets

    def warnings(self) -> list[str]:
        """Warnings for the result, including the missing-sample summary."""
        notes = list(dict.fromkeys(self.timebase.warnings + [w for w in self._warned if " " in w]))
        missing = self.timebase.missing_pct
        if missing >= 0.05:
            notes.insert(0, f"{missing:.1f} % of samples missing; gaps bridged by interpolation where short")
        return notes

    def result(self, source: str = "", *, exercise: str | None = None) -> AnalysisResult:
        """The analysis so far in the `vbt analyze` contract."""
        tb = self.timebase
        duration = 0.0 if tb.first_t_s is None or tb.last_t_s is None else tb.last_t_s - tb.first_t_s
        return AnalysisResult(
            source=source,
            exercise=exercise or self.settings.exercise.name,
            sample_rate_hz=tb.rate_hz,
            duration_s=duration,
            warnings=self.warnings(),
            sets=list(self.finder.sets),
            load_kg=self.settings.load_kg,
            algorithm_version=ALGORITHM_VERSION,
        )

    # ------------------------------------------------------------------ chunks

    def _process_chunk(self, chunk: SampleChunk, out: list[PipelineEvent]) -> None:
        if self._det is None:
            # Window sizes come from the configured rate, never from the running estimate, so
            # they cannot depend on how much input the time base had seen (chunking).
            rate = 1.0 / self.timebase.nominal_period_s
            self._rate = rate
            self._det = StillnessDetector(self.settings, rate, bool(self.timebase.has_gyro))
            self._w = self._det.width
            # Below `_CONFIRM_MIN_SAMPLES` samples the short window is too noisy (25 Hz): no shortcut.
            wf = int(round(_CONFIRM_S * rate))
            self._wf = min(self._w, wf) if wf >= _CONFIRM_MIN_SAMPLES else self._w
            self._trace_step = max(1, int(round(rate / self.settings.trace_rate_hz)))
        if chunk.break_before and self._buf.end > 0:
            self._on_break(out)
        stats = self._det.update(chunk.accel_mps2, chunk.gyro_rads)
        self._buf.append(chunk, stats)
        self._buf.pc[len(self._buf.pc) - len(chunk) :] = self._p
        self._samples_seen += len(chunk)
        self._filled_seen += int(chunk.filled.sum())
        self._lost_seen += chunk.lost_before
        g_chunk0 = self._buf.end - len(chunk)
        self._run(out)
        self._emit_trace(g_chunk0, out)
        if chunk.clipped.any() and not self._clip_warned:
            self._clip_warned = True
            k = int(np.flatnonzero(chunk.clipped)[0])
            self._warn(out, float(chunk.arrival_s[k]), "clipping",
                       f"accelerometer at full scale at t={chunk.t_s[k]:.2f} s: reps with clipped samples get low quality; "
                       "use a larger range (e.g. 16 g)")
        self._last_at_s = float(chunk.arrival_s[-1])
        self._trim()

    def _on_break(self, out: list[PipelineEvent]) -> None:
        """Stream discontinuity: close what is open without drift correction, start over."""
        at = self._last_at_s
        if self._state == _MOVING:
            self._close_segment(self._buf.end - 1, None, at, out, anchored=False)
        out.extend(self.finder.on_break(at))
        # The sensor may have turned during the gap: orientation and gravity reading restart
        # from the next still period (the gyro bias is the sensor's and stays).
        self._orient = None
        self._g_break = self._g_est
        self._wrun = 0
        self._g_est = None
        self._state = _WAIT
        self._wait_since_s = None
        self._anchor = None
        self._next = self._buf.end
        self._buf.trim(self._buf.end)
        # Windows must not span the break.
        assert self._det is not None
        self._det = StillnessDetector(self.settings, self._rate, bool(self.timebase.has_gyro))

    # ------------------------------------------------------------------ state machine

    def _quiet(self, g0: int, g1: int, g_ref: float | None) -> np.ndarray:
        b = self._buf
        sl = b.sl(g0, g1)
        q = (b.sd_n[sl] < b.thr_a[sl]) & (b.sd_g[sl] <= b.thr_g[sl])
        if g_ref is not None:
            q &= np.abs(b.mean_n[sl] - g_ref) < np.maximum(b.thr_a[sl], 0.1)
        return q

    def _run(self, out: list[PipelineEvent]) -> None:
        """Advance the state machine over the buffered samples, ticking at fixed sample times."""
        b = self._buf
        while self._next < b.end:
            if self._next_tick_s is None:
                self._next_tick_s = float(b.t[self._next - b.base]) + self.settings.status_interval_s
            lt = self._next - b.base
            g_tick = self._next + int(np.searchsorted(b.t[lt:], self._next_tick_s, side="left"))
            g_end = min(b.end, g_tick)
            while self._next < g_end:
                if self._state == _WAIT:
                    self._run_wait(out, g_end)
                elif self._state == _STILL:
                    self._run_still(out, g_end)
                else:
                    self._run_moving(out, g_end)
            if g_tick < b.end and self._next >= g_tick:
                self._tick(g_tick, out)

    def _tick(self, g: int, out: list[PipelineEvent]) -> None:
        """Periodic status and rest check at sample ``g`` (times depend only on the samples)."""
        b = self._buf
        t = float(b.t[g - b.base])
        at = float(b.arrival[g - b.base])
        while self._next_tick_s is not None and self._next_tick_s <= t:
            self._next_tick_s += self.settings.status_interval_s
        # Rate and missing share from the samples up to g only (chunking-independent).
        lo = max(b.base, g - int(self._rate))
        span = float(b.t[g - b.base] - b.t[lo - b.base])
        rate = (g - lo) / span if span > 0 else self._rate
        filled_after = int(b.filled[g - b.base + 1 :].sum())
        lost = self._lost_seen
        expected = self._samples_seen - (b.end - 1 - g) + lost
        missing = 100.0 * (self._filled_seen - filled_after + lost) / expected if expected > 0 else 0.0
        out.append(TimingStatus(at, rate, missing, expected - lost))
        out.extend(self.finder.on_tick(t, at))

    def _run_wait(self, out: list[PipelineEvent], g_end: int) -> None:
        b = self._buf
        g0, g1 = self._next, g_end
        if self._wait_since_s is None:
            self._wait_since_s = float(b.t[g0 - b.base])
        q = self._quiet(g0, g1, self._g_break)
        if self._g_break is not None:
            # After a link break the bar may be mid-set, held and trembling: accept a looser
            # quietness if it lasts `_WAIT_SUSTAIN_S` at the gravity reading known from before.
            sl = b.sl(g0, g1)
            loose = (
                (b.sd_n[sl] < np.maximum(b.thr_a[sl], _WAIT_LOOSE_SD_MPS2))
                & (b.sd_g[sl] <= np.maximum(b.thr_g[sl], _WAIT_LOOSE_GYRO_RADS))
                & (np.abs(b.mean_n[sl] - self._g_break) < 0.15)
            )
            run = _run_lengths(loose, self._wrun)
            self._wrun = int(run[-1]) if len(run) else 0
            q = q | (run >= _WAIT_SUSTAIN_S * self._rate)
        idx = np.flatnonzero(q)
        if not idx.size:
            self._next = g1
            late = np.flatnonzero(b.t[b.sl(g0, g1)] - self._wait_since_s > _NO_STILL_WARN_S)
            if late.size and not self._no_still_warned:
                self._no_still_warned = True
                g = g0 + int(late[0])
                self._warn(out, float(b.arrival[g - b.base]), "no-still",
                           f"no still period for {_NO_STILL_WARN_S:.0f} s from t={self._wait_since_s:.1f} s: velocity "
                           "cannot be anchored until the bar rests (is the sensor on the bar?)")
            return
        k = g0 + int(idx[0])
        start = max(k - self._w + 1, b.base)
        self._enter_still(start, k)

    def _enter_still(self, start_g: int, k: int, *, short: bool = False) -> None:
        """Enter the still state; the stop's window is ``start_g..k``.

        ``short``: confirmed by the short lockout window (`_CONFIRM_S`), too few samples of a
        swaying bar to read gravity from (0.05-0.1 m/s^2 off at 5 samples, enough for the still
        state's leaky velocity to leave the stop at once): the running estimate from rests is
        the still period's reference until its first block re-measures it.
        """
        b = self._buf
        self._state = _STILL
        self._still_start = start_g
        self._still_start_s = float(b.t[start_g - b.base])
        if b.gyro is not None:
            acc = b.acc[b.sl(max(start_g, b.base), k + 1)]
            u_meas = ori.unit(np.median(acc, axis=0))
            if self._orient is None:
                self._start_orientation(k, u_meas)
            elif (float(u_meas @ ori.unit(b.up[k - b.base])) < math.cos(math.radians(_SNAP_ENTRY_DEG))
                  and self._g_est is not None
                  and abs(float(np.median(np.linalg.norm(acc, axis=1))) - self._g_est) < 0.15):
                # The gyro-carried up is nowhere near where a still bar's gravity points: it was
                # carried wrong (see `_snap_if_lost`); start it over from gravity.
                self._correct_orientation(k, u_meas, 1.0)
            elif self._g_est is not None and abs(float(np.median(np.linalg.norm(acc, axis=1))) - self._g_est) < 0.15:
                # A brief stop: the gyro-carried orientation is better than a few samples of a
                # swaying bar, so gravity only nudges it (acceleration rejection as in Fusion).
                self._correct_orientation(k, u_meas, _ENTRY_TRUST)
        self._still_up, self._still_g_ref = self._gravity(start_g, k + 1)
        if short and self._g_est is not None:
            self._still_g_ref = self._g_est
        self._rest_blocks = 0
        self._leak_zi = np.zeros(1)
        if self._g_est is None:
            self._g_est = self._still_g_ref
        self._g_break = None
        if self._calib is None:
            self._calib = AccelCalibration(self._still_g_ref)
        if not self._bias_known and b.gyro is not None:
            # First still period of the stream: the best guess until a long rest measures it.
            self._gyro_bias = np.median(b.gyro[b.sl(max(start_g, b.base), k + 1)], axis=0)
            self._bias_known = True
        rest = b.sl(start_g, b.end)
        b.vc[rest] = 0.0
        b.pc[rest] = self._p
        if b.gyro is not None and self._orient is not None:
            self._propagate(k + 1)
            self._still_orientation(k)
        self._next = k + 1
        self._no_still_warned = False
        self._wait_since_s = None

    def _run_still(self, out: list[PipelineEvent], g_end: int) -> None:
        """Still: leave when a leaky integral of vertical acceleration shows real velocity.

        Tremor and sway integrate to a few mm/s, motion to tens of cm/s within a tenth of a
        second; the leak (`still_exit_tau_s`) keeps slow bias drift from ever ending a long rest.
        """
        b = self._buf
        st = self.settings
        g0 = self._next
        # Gravity and up are re-measured once per block (blocks start where the still period
        # did, so their edges do not depend on chunking).
        blk = self._still_block()
        g1 = min(g_end, g0 + blk - ((g0 - self._still_start) % blk))
        sl = b.sl(g0, g1)
        self._still_propagate(g0, g1)
        a = self._vertical(b.acc[sl], b.up[sl], self._still_g_ref)
        lam = math.exp(-1.0 / (st.still_exit_tau_s * self._rate))
        v, self._leak_zi = signal.lfilter([1.0 / self._rate], [1.0, -lam], a, zi=self._leak_zi)
        b.ac[sl] = a
        b.vc[sl] = 0.0
        hit = np.flatnonzero(np.abs(v) > st.still_exit_velocity_mps)
        b.lv[sl] = v
        if not hit.size:
            self._next = g1
            if (g1 - self._still_start) % blk == 0:
                lo = max(self._still_start, g1 - blk, b.base)
                self._still_up, self._still_g_ref = self._gravity(lo, g1, robust=False)
                if b.gyro is not None and self._orient is not None and float(np.linalg.norm(self._sr)) > 0.05:
                    self._still_orientation(g1 - 1)  # re-base the small-angle propagation
                if b.gyro is not None and self._orient is not None:
                    self._snap_if_lost(lo, g1)
                if self._is_rest(lo, g1):
                    # Nobody is holding the bar (no tremor): gravity and gyro bias can be read.
                    if b.gyro is not None and self._orient is not None:
                        acc = b.acc[b.sl(lo, g1)]
                        self._correct_orientation(g1 - 1, ori.unit(acc.mean(axis=0)), _REST_TRUST)
                        self._still_orientation(g1 - 1)
                        self._still_up, self._still_g_ref = self._gravity(lo, g1, robust=False)
                    self._g_est = self._still_g_ref
                    self._rest_blocks += 1
                    self._update_gyro_bias(g1)
                else:
                    self._rest_blocks = 0
            return
        k = g0 + int(hit[0])
        # Motion began where the leaky velocity last left zero.
        lo = max(self._still_start, k - self._stats_n(), b.base)
        lv = b.lv[b.sl(lo, k + 1)]
        calm = np.flatnonzero(np.abs(lv) <= 0.25 * st.still_exit_velocity_mps)
        s = lo + int(calm[-1]) if calm.size else max(self._still_start, k - self._w)
        s = max(self._still_start, self._seg_floor, s - 1)
        if b.gyro is not None and self._orient is not None:
            # Leave the small-angle still propagation: exact propagation from the segment start.
            self._orient = ori.ForwardUp(ori.unit(b.up[s - b.base]), self._gyro_bias)
            self._orient.last = b.gyro[s - b.base].copy()
            self._orient_next = s + 1
        self._anchor = self._measure_anchor(max(self._still_start, s - self._stats_n()), s + 1, self._still_start_s)
        if s - self._still_start < int(_LONG_STILL_S * self._rate) and self._g_est is not None:
            # A short hold (bar in the hands, swaying) reads gravity worse than the running
            # estimate from rests and from the drift of past segments.
            self._anchor.g_mps2 = self._g_est
        self._start_segment(s)
        self._next = s + 1

    def _snap_if_lost(self, lo: int, g1: int) -> None:
        """Still for a whole block, yet the gyro-carried up is far from gravity: start it over.

        While the bar does not move, the mean specific force over a block points up to within
        a degree or so, held or racked. An up estimate `_SNAP_DEG` away from it was carried
        wrong (a gyro sample the spike filter could not prove corrupt, 30 s of motion with no
        stop to correct it); gently nudged at rests only, it would stay wrong -- and every
        gravity reading and velocity after it -- for the rest of the session.
        """
        b = self._buf
        acc = b.acc[b.sl(lo, g1)]
        meas = ori.unit(acc.mean(axis=0))
        if float(meas @ ori.unit(b.up[g1 - 1 - b.base])) >= math.cos(math.radians(_SNAP_DEG)):
            return
        self._correct_orientation(g1 - 1, meas, 1.0)
        self._still_orientation(g1 - 1)
        self._still_up = meas
        self._still_g_ref = float(np.mean(acc @ meas))
        self._g_est = self._still_g_ref

    def _is_rest(self, g0: int, g1: int) -> bool:
        """A block of a still period with no tremor: variability at the sensor's noise floor.

        A held bar trembles and sways (the accelerometer and gyro SDs rise well above their
        floors); a bar in the rack or on the floor does not.
        """
        b = self._buf
        sl = b.sl(max(g0, b.base), g1)
        sd_a = b.sd_n[sl]
        ok = bool(np.all(np.isfinite(sd_a))) and float(sd_a.mean()) < _REST_NOISE_FACTOR * float(b.noise_a[sl][-1]) + 0.005
        if ok and b.gyro is not None:
            ok = float(b.sd_g[sl].mean()) < _REST_NOISE_FACTOR * float(b.noise_g[sl][-1]) + 0.002
        acc = b.acc[sl]
        if ok and len(acc) >= 2 * self._w:
            # Slow postural sway (< 1 Hz, about a degree) hides from short-window SDs but turns
            # the gravity direction: window means must all point the same way.
            c = np.cumsum(np.concatenate((np.zeros((1, 3)), acc)), axis=0)
            win = (c[self._w :] - c[: -self._w]) / self._w
            dirs = win / np.linalg.norm(win, axis=1, keepdims=True)
            ref = ori.unit(np.median(dirs, axis=0))
            # ...to within the turn a resting sensor's own noise makes of a window mean.
            noise_rad = float(b.noise_a[sl][-1]) / (max(float(np.linalg.norm(win.mean(axis=0))), 1.0)
                                                    * math.sqrt(self._w))
            limit = max(math.radians(_REST_MAX_TURN_DEG), 5.0 * noise_rad)
            ok = float(np.min(dirs @ ref)) > math.cos(limit)
        return bool(ok)

    def _still_block(self) -> int:
        """Samples per still-state block (gravity and up re-measured once per block)."""
        return max(self._w, int(round(_STILL_BLOCK_S * self._rate)))

    def _update_gyro_bias(self, g1: int) -> None:
        """Re-measure the gyro's zero-rate bias over a long rest (the bar in the rack).

        A held bar sways by about a degree at under 1 Hz, several deg/s of real rotation, so
        holds would give a wrong bias; only `_BIAS_REST_S` of rest blocks in a row count.
        """
        b = self._buf
        n = int(round(_BIAS_REST_S * self._rate))
        if b.gyro is None or self._rest_blocks * self._still_block() < n:
            return
        lo = max(b.base, g1 - n)
        self._gyro_bias = b.gyro[b.sl(lo, g1)].mean(axis=0)
        self._bias_known = True

    def _model(self, g_anchor: float) -> tuple[float, np.ndarray]:
        """Gravity reading and accelerometer bias to use (calibrated once it has data)."""
        if self._calib is not None and self._calib.ready:
            return self._calib.g, self._calib.bias
        return g_anchor, np.zeros(3)

    def _vertical(self, acc: np.ndarray, up: np.ndarray, g: float) -> np.ndarray:
        """Vertical acceleration while still, against the still period's own gravity reading.

        That reading already contains the bias projected at this orientation, so no calibrated
        bias is applied (a mismatch would show as velocity creeping up through a long rest).
        """
        up_arg = up if self._buf.gyro is not None and self._orient is not None else None
        a, _ = ori.vertical_accel(acc, up_arg, self._still_up, g, np.zeros(3))
        return a

    def _gravity(self, g0: int, g1: int, *, robust: bool = True) -> tuple[np.ndarray, float]:
        """Up vector and gravity reading over samples ``g0..g1-1`` of a still period.

        ``robust``: medians (the first samples of a stop may carry the end of a deceleration);
        block updates inside a long still period use plain means.
        """
        b = self._buf
        sl = b.sl(max(g0, b.base), g1)
        acc = b.acc[sl]
        agg = np.median if robust else np.mean
        if b.gyro is not None and self._orient is not None:
            up = b.up[sl]
            return ori.unit(agg(up, axis=0)), float(agg(np.einsum("ij,ij->i", acc, up)))
        if robust:
            return self._robust_gravity(acc)
        return ori.unit(acc.mean(axis=0)), float(np.mean(np.linalg.norm(acc, axis=1)))

    def _still_orientation(self, k: int) -> None:
        """(Re)start the small-angle propagation used while still, from the up at sample ``k``."""
        b = self._buf
        assert b.gyro is not None
        self._su0 = ori.unit(b.up[k - b.base])
        self._sr = np.zeros(3)
        self._slast = b.gyro[k - b.base].copy()
        self._orient_next = k + 1

    def _still_propagate(self, g0: int, g1: int) -> None:
        """Carry the up vector through a still period: second-order small-angle rotation.

        While still the bar turns by a degree or so; the accumulated rotation vector is a
        running sum (bit-identical however chunked), re-based when it exceeds 0.05 rad.
        """
        b = self._buf
        if b.gyro is None or self._orient is None:
            return
        g0 = max(g0, self._orient_next)
        if g1 <= g0:
            return
        sl = b.sl(g0, g1)
        gy = b.gyro[sl]
        prev = np.concatenate((self._slast[None], gy[:-1]))
        w = 0.5 * (gy + prev) - self._gyro_bias
        r = np.cumsum(np.concatenate((self._sr[None], w * b.dt[sl][:, None])), axis=0)[1:]
        # r x u0 and r x (r x u0) with a fixed u0: plain column arithmetic (no temporaries).
        ux, uy, uz = self._su0
        rx, ry, rz = r[:, 0], r[:, 1], r[:, 2]
        c1x, c1y, c1z = ry * uz - rz * uy, rz * ux - rx * uz, rx * uy - ry * ux
        u = np.empty_like(r)
        u[:, 0] = ux - c1x + 0.5 * (ry * c1z - rz * c1y)
        u[:, 1] = uy - c1y + 0.5 * (rz * c1x - rx * c1z)
        u[:, 2] = uz - c1z + 0.5 * (rx * c1y - ry * c1x)
        b.up[sl] = u / np.linalg.norm(u, axis=1, keepdims=True)
        self._sr = r[-1].copy()
        self._slast = gy[-1].copy()
        self._orient_next = g1

    # ------------------------------------------------------------------ orientation (gyro)

    def _start_orientation(self, k: int, up: np.ndarray) -> None:
        """First still period: orientation from gravity alone; propagated by the gyro after."""
        b = self._buf
        assert b.gyro is not None
        self._orient = ori.ForwardUp(up, self._gyro_bias)
        self._orient.last = b.gyro[k - b.base].copy()
        b.up[b.sl(max(b.base, self._still_start), k + 1)] = up
        self._orient_next = k + 1

    def _correct_orientation(self, k: int, target: np.ndarray, weight: float) -> None:
        """Pull the up estimate at sample ``k`` towards ``target``; re-propagate what follows."""
        b = self._buf
        assert b.gyro is not None and self._orient is not None
        if k < b.base or k >= self._orient_next:
            return
        new = ori.unit((1.0 - weight) * b.up[k - b.base] + weight * target)
        b.up[k - b.base] = new
        self._orient = ori.ForwardUp(new, self._gyro_bias)
        self._orient.last = b.gyro[k - b.base].copy()
        self._orient_next = k + 1

    def _propagate(self, upto: int) -> None:
        """Carry the up estimate through samples up to ``upto - 1`` with the gyro."""
        b = self._buf
        if b.gyro is None or self._orient is None:
            return
        g0 = max(self._orient_next, b.base)
        if upto <= g0:
            return
        sl = b.sl(g0, upto)
        self._orient.bias = self._gyro_bias
        b.up[sl] = self._orient.update(b.gyro[sl], b.dt[sl])
        self._orient_next = upto

    def _stats_n(self) -> int:
        return max(self._w, int(round(_ANCHOR_STATS_S * self._rate)))

    def _measure_anchor(self, g0: int, g1: int, start_s: float) -> _Anchor:
        """Up vector, gravity reading and gyro bias of a still period (samples ``g0..g1-1``).

        Medians, not means: the first samples of a still period may still carry the end of a
        deceleration, and a few of them must not tilt the gravity reading.
        """
        b = self._buf
        lo = max(g0, b.base, g1 - self._stats_n())
        if b.gyro is not None and self._orient is not None:
            up = ori.unit(b.up[g1 - 1 - b.base])
            g = float(np.median(np.einsum("ij,ij->i", b.acc[b.sl(lo, g1)], b.up[b.sl(lo, g1)])))
            return _Anchor(up, g, self._gyro_bias.copy(), start_s)
        up, g = self._robust_gravity(b.acc[b.sl(lo, g1)])
        return _Anchor(up, g, self._gyro_bias.copy(), start_s)

    def _robust_gravity(self, acc: np.ndarray) -> tuple[np.ndarray, float]:
        up = ori.unit(np.median(acc, axis=0))
        if self._buf.gyro is not None:
            return up, float(np.median(acc @ up))
        return up, float(np.median(np.linalg.norm(acc, axis=1)))

    def _start_segment(self, s: int) -> None:
        b = self._buf
        assert self._anchor is not None
        self._state = _MOVING
        self._seg_start = s
        self._integ = CausalIntegrator(self._p)
        self._prov_min = self._p
        self._seg_pmin = self._p
        self._seg_p0 = self._p
        self._zeros = []
        self._resets = []
        self._contact_done = s + 1
        self._prov_top = None
        ls = s - b.base
        b.vc[ls] = 0.0
        b.pc[ls] = self._p
        # Prime the causal state with the segment's first (still) sample.
        self._causal(s, s + 1)

    def _causal(self, g0: int, g1: int) -> tuple[np.ndarray, np.ndarray]:
        """Causal vertical velocity/position for samples ``g0..g1-1`` of the open segment."""
        b = self._buf
        assert self._anchor is not None and self._integ is not None
        sl = b.sl(g0, g1)
        acc = b.acc[sl]
        dt = b.dt[sl].copy()
        if g0 == self._seg_start:
            dt[0] = 0.0
        g_hat, b_hat = self._model(self._anchor.g_mps2)
        if b.gyro is not None and self._orient is not None:
            self._propagate(g1)
            a, _ = ori.vertical_accel(acc, b.up[sl], self._anchor.up, g_hat, b_hat)
        else:
            a, _ = ori.vertical_accel(acc, None, self._anchor.up, g_hat, b_hat)
        v, p = self._integ.update(a, dt)
        b.vc[sl] = v
        b.pc[sl] = p
        b.ac[sl] = a
        return v, p

    def _run_moving(self, out: list[PipelineEvent], g_end: int) -> None:
        b = self._buf
        st = self.settings
        g0, g1 = self._next, g_end
        v, p = self._causal(g0, g1)
        assert self._anchor is not None
        if st.exercise.floor_contacts:
            v, p = self._floor_contacts(g0, g1, v, p)
        t = b.t[b.sl(g0, g1)]
        elapsed = t - float(b.t[self._seg_start - b.base])
        # Time since the causal velocity was last zeroed: the opening anchor or a floor contact.
        since = elapsed
        after_contact = np.zeros(len(t), dtype=bool)
        if self._resets:
            tz = b.t[np.array(self._resets) - b.base]
            j = np.searchsorted(tz, t, side="right")
            since = np.where(j > 0, t - tz[np.maximum(j - 1, 0)], elapsed)
            after_contact = t >= tz[0]
        q = self._flat(g0, g1, self._w)
        # Length of the quiet run ending at each sample (for the long-quiet fallback).
        run = _run_lengths(q, self._quiet_run_before(g0))
        # The causal velocity drifts with any gravity-reading error (~0.05 m/s^2), so the
        # allowed velocity grows with time since the last anchor (or floor contact).
        vmax = st.still_max_velocity_mps + _DRIFT_ALLOWANCE * since
        # A quiet run while the causal velocity says the bar is rising may be a slow grind at
        # constant velocity -- the accelerometer cannot tell it from a hold -- so it must last
        # longer before the fallback anchors it.
        need = np.where(v > _GRIND_MIN_MPS, _LONG_QUIET_UP_S, _LONG_QUIET_S) * self._rate
        # Lowest causal position of the segment so far, at each sample.
        pmin = np.minimum.accumulate(np.concatenate(([self._seg_pmin], p)))[1:]
        self._seg_pmin = float(pmin[-1]) if len(pmin) else self._seg_pmin
        grind = self._possible_grind(p, pmin, v)
        vmax = np.where(grind, _GRIND_STOP_MPS, vmax)
        need = np.where(grind, np.inf, need)
        # (The bias-corrected check models the error as a ramp since the opening anchor: not
        # after the velocity was re-zeroed at a floor contact.)
        vok = (np.abs(v) < vmax) | (self._back_at_top(v, p, pmin, elapsed, vmax) & ~after_contact)
        ok = q & (vok | (elapsed > st.still_velocity_check_s) | (run >= need))
        # Right after a rise (a lockout), a shorter window confirms the stop.
        short = np.zeros(len(v), dtype=bool)
        if self._wf < self._w:
            rose = p - pmin >= _BIAS_RISE_FRACTION * st.exercise.min_rom_m
            if rose.any():
                short = rose & vok & self._flat(g0, g1, self._wf, _CONFIRM_GYRO_FACTOR)
                ok |= short
        # Fallback: long without an anchor, the velocity tests may be failing because the
        # gravity reading went wrong; a window quiet by accelerometer/gyro variance alone,
        # lasting `_LONG_QUIET_S`, then anchors (and re-reads gravity).
        classic = self._quiet(g0, g1, float(self._still_g_ref))
        if self._g_est is not None and abs(self._g_est - float(self._still_g_ref)) > 0.05:
            # The last stop's reading may be the one that went wrong (a bar clanging into the
            # hooks while it was taken): the gravity read at rests is a second opinion.
            classic |= self._quiet(g0, g1, float(self._g_est))
        classic &= elapsed > _FALLBACK_AFTER_S
        crun = _run_lengths(classic, self._crun_before(g0))
        ok |= classic & ~grind & (crun >= _LONG_QUIET_S * self._rate)
        hit = np.flatnonzero(ok)
        over = np.flatnonzero(elapsed > st.max_segment_s)
        if over.size and (not hit.size or over[0] < hit[0]):
            # Too long without a still period: close here, without drift correction. The cut
            # is at the first sample past the limit, however the input was chunked.
            j = int(over[0])
            g = g0 + j
            self._provisional(g0, g + 1, out)
            at = float(b.arrival[g - b.base])
            self._warn(out, at, "long-motion", f"{elapsed[j]:.0f} s of motion without a still period at "
                       f"t={t[j]:.1f} s: reps there are not drift-corrected (low quality)")
            self._close_segment(g, None, at, out, anchored=False)
            self._state = _WAIT
            self._wait_since_s = None
            self._next = g + 1
            return
        self._qrun = int(run[-1]) if len(run) else 0
        self._crun = int(crun[-1]) if len(crun) else 0
        if hit.size:
            k = g0 + int(hit[0])
            by_short = bool(short[k - g0]) and not q[k - g0]
            if not q[k - g0] and not by_short and self._calib is not None:
                # Anchored only by the fallback: the calibration had gone wrong; start it over.
                self._calib = AccelCalibration(float(np.median(b.mean_n[b.sl(max(k - self._w + 1, b.base), k + 1)])))
            self._provisional(g0, k + 1, out)
            e = k - (self._wf if by_short else self._w) + 1
            at = float(b.arrival[k - b.base])
            self._close_segment(k, e, at, out, anchored=True)
            self._enter_still(e, k, short=by_short)
            self._seg_floor = k
            return
        self._provisional(g0, g1, out)
        self._next = g1

    def _floor_contacts(self, g0: int, g1: int, v: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Re-zero the causal velocity where the plates land on the floor; returns the new v, p.

        In a touch-and-go deadlift set the bar never rests: it is lowered, the plates hit the
        floor and the next pull starts at once. With no still period the causal velocity drifts
        (over a metre per second within ten seconds), so neither the brief lockouts nor later
        rests on the floor pass the stop test, and the reps are lost or reported as failed
        attempts. Yet the landing itself stops the bar: once the impact is over the plates are
        on the floor and the bar's vertical velocity is zero -- for an instant when the pull
        follows at once, longer on a touch. An impact is an upward acceleration spike (see
        `_CONTACT_MIN_MPS2`) that ends within `_CONTACT_MAX_S`, after the bar was lowered (the
        velocity fell by `_CONTACT_MIN_DROP_MPS` over the last `_CONTACT_WINDOW_S`): a pull
        accelerates the bar for tenths of a second, not in a spike that ends a descent. (The
        bar's position is not checked: it drifts with the velocity, and the contacts are needed
        most where the drift is largest.) The velocity is zeroed at the first sample after the
        spike's peak back under half of it (where the impact force has ended; on the simulator
        corpus the true velocity there is within ~0.05 m/s of zero at every rate, ringing of
        the bar included; a refractory `_CONTACT_REFRACTORY_S` keeps the ringing from counting
        again). That is good enough for the stop tests; the final drift correction uses the
        contacts only where the segment's own ends do not suffice (`integrate_segment`'s
        ``zeros``). Decisions use only samples up to the contact's end, and a spike still open
        at the chunk's end is decided with the next chunk (chunking-invariant).
        """
        b = self._buf
        rate = self._rate
        lo = max(g0 - int(math.ceil(_CONTACT_MAX_S * rate)) - 2, self._seg_start + 1, b.base + 1)
        if g1 <= lo:
            return v, p
        a = b.ac[b.sl(lo, g1)]
        cand = np.flatnonzero((a[1:] >= _CONTACT_MIN_MPS2) & (a[:-1] < _CONTACT_MIN_MPS2)) + 1
        win = int(round(_CONTACT_WINDOW_S * rate))
        for c in cand.tolist():
            k = lo + c
            if k < self._contact_done:
                continue
            # The pulse: follow the peak until the acceleration is back under half of it, for
            # at most `_CONTACT_MAX_S`.
            tk = float(b.t[k - b.base])
            m = k
            z = -1
            j = k + 1
            while j < g1:
                aj = float(b.ac[j - b.base])
                if float(b.t[j - b.base]) - tk > _CONTACT_MAX_S:
                    break
                if aj > float(b.ac[m - b.base]):
                    m = j
                elif aj < 0.5 * float(b.ac[m - b.base]):
                    z = j
                    break
                j += 1
            if j >= g1:
                break  # still inside the spike: decided with the next chunk
            self._contact_done = j + 1
            if z < 0 or z < g0:
                continue  # too long for an impact, or decided with the previous chunk
            last = self._zeros[-1] if self._zeros else None
            if last is not None and tk - float(b.t[last - b.base]) < _CONTACT_REFRACTORY_S:
                continue
            w0 = max(self._seg_start, k - win, b.base, -1 if last is None else last)
            if k - 1 <= w0:
                continue
            vv = b.vc[b.sl(w0, k)]
            drop = float(vv.max()) - float(vv[-1])
            if drop < _CONTACT_MIN_DROP_MPS or float(b.vc[z - b.base]) - float(vv[-1]) > _CONTACT_MAX_DV_MPS:
                continue
            # Zero velocity at z; integrate on from there (if the live velocity is off by more
            # than the instant is known).
            lz = z - b.base
            self._zeros.append(z)
            if abs(float(b.vc[lz])) <= self._contact_tol():
                continue
            self._resets.append(z)
            b.vc[lz] = 0.0
            self._integ = CausalIntegrator(float(b.pc[lz]), a_prev=float(b.ac[lz]))
            if z + 1 < g1:
                self._causal(z + 1, g1)
        sl = b.sl(g0, g1)
        return b.vc[sl].copy(), b.pc[sl].copy()

    def _contact_tol(self) -> float:
        """How well a floor contact's zero-velocity instant is known (m/s)."""
        return max(_CONTACT_RESET_MPS, _CONTACT_PULL_MPS2 / self._rate)

    def _back_at_top(
        self, v: np.ndarray, p: np.ndarray, pmin: np.ndarray, elapsed: np.ndarray, vmax: np.ndarray
    ) -> np.ndarray:
        """Samples where the bar went down, came back up and the bias-corrected velocity is small.

        A gravity-reading or orientation error adds a ramp ``d t`` to the causal velocity and
        ``d t^2 / 2`` to the position since the opening anchor. An eccentric-first rep starts and
        ends at lockout, so back at the top the position error alone measures ``d``:
        ``v - 2 (p - p0) / t`` is the velocity with that ramp removed. Below the top (a grind,
        a sticking point) the position is lower than where the segment started, which makes
        this estimate larger, not smaller. Used only after a descent and a rise of at least
        `_BIAS_RISE_FRACTION` of the exercise's minimum ROM each (not for a segment that starts
        at the bottom: a deadlift from the floor, a paused rep), from `_BIAS_MIN_S` after the
        opening anchor and while the implied error is under `_BIAS_MAX_MPS2`.
        """
        half = _BIAS_RISE_FRACTION * self.settings.exercise.min_rom_m
        dp = p - self._seg_p0
        tt = np.maximum(elapsed, 1e-3)
        vhat = v - 2.0 * dp / tt
        return ((self._seg_p0 - pmin >= half) & (p - pmin >= half) & (elapsed >= _BIAS_MIN_S)
                & (2.0 * np.abs(dp) / (tt * tt) < _BIAS_MAX_MPS2) & (np.abs(vhat) < vmax))

    def _flat(self, g0: int, g1: int, w: int, gyro_factor: float = 1.0) -> np.ndarray:
        """Quiet windows of the open segment: flat causal velocity, near-zero mean acceleration.

        A held bar trembles (6-12 Hz) and sways (< 1 Hz), but both integrate to a few mm/s;
        motion, even a slow grind, changes velocity or has a mean acceleration. Windows of ``w``
        samples ending at each sample, entirely inside the segment after its first sample;
        ``gyro_factor`` scales the allowed mean gyro rate.
        """
        b = self._buf
        st = self.settings
        lo = max(g0 - w + 1, self._seg_start + 1)
        n = g1 - g0
        q = np.zeros(n, dtype=bool)
        if g1 - lo < w:
            return q
        vc = b.vc[b.sl(lo, g1)]
        ac = b.ac[b.sl(lo, g1)]
        win_v = np.lib.stride_tricks.sliding_window_view(vc, w)
        win_a = np.lib.stride_tricks.sliding_window_view(ac, w)
        flat = (win_v.max(axis=1) - win_v.min(axis=1) < st.still_flat_mps) & (
            np.abs(win_a.mean(axis=1)) < st.still_mean_accel_mps2
        )
        flat &= b.sd_g[b.sl(g1 - len(flat), g1)] <= st.still_gyro_max_rads
        if b.gyro is not None and self._anchor is not None:
            # A bar turning steadily has a small gyro SD but is not at rest: its rate must be
            # back at the opening anchor's bias.
            win_g = np.lib.stride_tricks.sliding_window_view(b.gyro[b.sl(lo, g1)], w, axis=0)
            rate = np.linalg.norm(win_g.mean(axis=2) - self._anchor.gyro_bias, axis=1)
            flat &= rate < gyro_factor * st.still_gyro_rate_rads
        q[n - len(flat) :] = flat
        return q

    def _possible_grind(self, p: np.ndarray, pmin: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Samples where a quiet window may be a slow grind rather than a stop.

        A bar rising at a constant few centimetres per second has no acceleration: to the
        accelerometer it is still. The causal velocity tells the two apart only as far as it
        can be trusted; its drift allowance is as large as the slowest deadlift's speed
        (0.1 m/s), and the quiet-run fallbacks anchored grinds that simply lasted (slow deadlift
        lockouts run at a steady 0.1-0.3 m/s for a second or more). So while the causal
        velocity is upward and the bar is below lockout height -- it has risen less than
        `_GRIND_MAX_RISE` of the set's median ROM from the segment's lowest point -- a quiet
        window anchors only with the causal velocity within `_GRIND_STOP_MPS` of zero. A stop
        whose causal velocity reads wrong still anchors by the fallbacks once that velocity has
        carried the (causal) bar past lockout height. Only once the set's last rep was slower than
        `_GRIND_SET_MCV_MPS` (sets grind near failure, not while fast); before the set has a rep
        nothing is known of its ROM: no change.
        """
        median = self.finder.median_rom()
        st = self.finder.open_set
        if median is None or st is None or not st.reps or st.reps[-1].mean_velocity_mps > _GRIND_SET_MCV_MPS:
            return np.zeros(len(p), dtype=bool)
        rise = p - pmin
        return (v > _GRIND_MIN_UP_MPS) & (rise >= self.settings.turn_hysteresis_m) & (rise < _GRIND_MAX_RISE * median)

    def _crun_before(self, g0: int) -> int:
        return self._crun if g0 > self._seg_start + 1 else 0

    def _quiet_run_before(self, g0: int) -> int:
        """Quiet-run length carried into ``g0`` (0 at a segment's first samples)."""
        return self._qrun if g0 > self._seg_start + 1 else 0

    # ------------------------------------------------------------------ segments

    def _close_segment(self, e: int, w0: int | None, at_s: float, out: list[PipelineEvent], *, anchored: bool) -> None:
        """Final processing of the open segment ``[seg_start, e]``.

        ``w0``: first sample of the closing still window (``w0..e`` are still), or None.
        """
        b = self._buf
        s = self._seg_start
        assert self._anchor is not None
        A = self._anchor
        if e <= s:
            self._state = _WAIT if not anchored else self._state
            return
        sl = b.sl(s, e + 1)
        t = b.t[sl]
        dt = b.dt[sl].copy()
        dt[0] = 0.0
        acc = b.acc[sl]
        # One gravity reading for the whole segment: a constant bias is what the linear detrend
        # removes exactly, while the closing anchor's reading comes from its first samples only.
        g_hat, b_hat = self._model(A.g_mps2)
        up = None
        if b.gyro is not None and self._orient is not None:
            self._propagate(e + 1)
            up = b.up[sl]
            if anchored and w0 is not None:
                # Two-sided: blend towards the closing stop's gravity direction as much as the
                # running orientation would be corrected there, spread linearly over the segment.
                acc_b = b.acc[b.sl(w0, e + 1)]
                if self._g_est is None or abs(float(np.median(np.linalg.norm(acc_b, axis=1))) - self._g_est) < 0.15:
                    target = ori.unit((1.0 - _ENTRY_TRUST) * up[-1] + _ENTRY_TRUST * ori.unit(np.median(acc_b, axis=0)))
                    up = ori.smoothed_up(b.gyro[sl], dt, up[0], target, A.gyro_bias, A.gyro_bias)
        a, x = ori.vertical_accel(acc, up, A.up, g_hat, b_hat)
        still_from = None if w0 is None else w0 - s
        calibrated = self._calib is not None and self._calib.ready
        clip = b.clipped[sl]
        # Floor contacts inside the segment are zero-velocity instants too (`_floor_contacts`).
        stop = e if w0 is None else w0
        zeros = [z - s for z in self._zeros if s < z < stop] or None
        kin = integrate_segment(
            a, dt, t, self._p, detrend=anchored, still_from=still_from, bias_known=calibrated, clipped=clip,
            zeros=zeros, zero_tol_mps=self._contact_tol(),
        )
        learn = True
        if up is None and anchored and float(np.min(x @ A.up)) > _PROJECTION_MAX_COS:
            # Accelerometer only: the norm method folds horizontal acceleration in, a fixed
            # projection on the opening stop's up vector folds bar roll in. When the force
            # direction never strays far from that up vector, keep whichever better satisfies
            # zero velocity at the closing stop (model selection by the ZUPT residual).
            a_p = acc @ A.up - float(np.median(acc[: max(1, min(len(acc), self._w))] @ A.up))
            kin_p = integrate_segment(
                a_p, dt, t, self._p, detrend=True, still_from=still_from, bias_known=calibrated, clipped=clip,
                zeros=zeros, zero_tol_mps=self._contact_tol(),
            )
            if abs(kin_p.drift_mps) < 0.5 * abs(kin.drift_mps):
                a, kin, learn = a_p, kin_p, False
        span = float(t[-1] - t[0])
        clean = not b.clipped[sl].any() and float(b.filled[sl].mean()) < 0.1
        if learn and anchored and clean and _DRIFT_LEARN_S <= span <= _DRIFT_LEARN_MAX_S and self._calib is not None:
            # Each closed segment is one equation for the accelerometer bias vector.
            c_vec = np.array([float(np.sum(0.5 * (x[1:, j] + x[:-1, j]) * dt[1:])) for j in range(3)])
            self._calib.add_segment(c_vec, span, kin.drift_mps, b_hat, g_hat)
        a_ev = self._event_filter(a, dt)
        piece = MotionPiece(
            t_s=t.copy(),
            velocity_mps=kin.velocity_mps,
            position_m=kin.position_m,
            accel_mps2=a,
            accel_event_mps2=a_ev,
            filled=b.filled[sl].copy(),
            clipped=b.clipped[sl].copy(),
            drift_mps=float(kin.local_drift_mps),
            anchored=anchored,
            anchor_before_s=max(0.0, float(t[0]) - A.start_s),
            segment_s=float(t[-1] - t[0]),
        )
        self._p = float(kin.position_m[-1])
        out.extend(self.finder.on_piece(piece, at_s))
        if not anchored:
            self._state = _WAIT

    def _event_filter(self, a: np.ndarray, dt: np.ndarray) -> np.ndarray:
        """Zero-phase 4th-order Butterworth low-pass (science.md §1.3) for event detection."""
        steps = dt[dt > 0]
        fs = 1.0 / float(np.median(steps)) if steps.size else self._rate
        fc = min(self.settings.event_cutoff_hz, 0.4 * fs)
        if len(a) < 16 or fc <= 0:
            return a.copy()
        sos = _butter_sos(round(fc / fs, 4))
        padlen = min(len(a) - 1, 3 * (2 * len(sos) + 1))
        return signal.sosfiltfilt(sos, a, padlen=padlen)

    # ------------------------------------------------------------------ live extras

    def _provisional(self, g0: int, g1: int, out: list[PipelineEvent]) -> None:
        """Provisional reps from the causal stream: a big enough rise whose velocity hit zero."""
        b = self._buf
        st = self.settings
        if g1 <= g0:
            return
        sl = b.sl(g0, g1)
        v, p = b.vc[sl], b.pc[sl]
        h = st.turn_hysteresis_m
        median = self.finder.median_rom()
        need = max(st.exercise.min_rom_m, st.rel_rom_fraction * median if median else 0.0)
        vprev = np.concatenate(([b.vc[g0 - 1 - b.base] if g0 - 1 >= max(self._seg_start, b.base) else 0.0], v[:-1]))
        down = np.flatnonzero((vprev > 0) & (v <= 0))
        last = 0
        for j in down.tolist():
            seg_p = p[last : j + 1]
            if self._prov_top is not None:
                below = np.flatnonzero(seg_p < self._prov_top - h)
                if not below.size:
                    last = j + 1
                    continue
                self._prov_top = None
                self._prov_min = float(seg_p[int(below[0]) :].min())
            else:
                self._prov_min = min(self._prov_min, float(seg_p.min()))
            if p[j] - self._prov_min < need:
                last = j + 1
                continue
            self._emit_provisional(g0 + j, out)
            self._prov_top = float(p[j])
            self._prov_min = math.inf
            last = j + 1
        if last < len(p):
            tail = p[last:]
            if self._prov_top is not None:
                below = np.flatnonzero(tail < self._prov_top - h)
                if below.size:
                    self._prov_top = None
                    self._prov_min = float(tail[int(below[0]) :].min())
            else:
                self._prov_min = min(self._prov_min, float(tail.min()))

    def _emit_provisional(self, gk: int, out: list[PipelineEvent]) -> None:
        b = self._buf
        st = self.settings
        lo = self._seg_start - b.base
        hi = gk - b.base
        t = b.t[lo : hi + 1]
        v = b.vc[lo : hi + 1]
        if len(t) < 3:
            return
        ipk = int(np.argmax(v))
        if v[ipk] < st.min_peak_velocity_mps:
            return
        # Search for the start only after the lowest point before the peak.
        pp = b.pc[lo : hi + 1]
        ib = int(np.argmin(pp[: ipk + 1]))
        t0, t1 = concentric_bounds(t, v, ipk, ib, len(t) - 1)
        if t1 - t0 < st.min_concentric_s:
            return
        m = concentric_metrics(t, v, v * 0.0, v * 0.0, t0, t1, gravity_mps2=st.local_gravity_mps2, load_kg=None)
        set_index, rep_index = self.finder.next_slot(t0)
        inside = (t >= t0) & (t <= t1)
        rep = RepResult(
            index=rep_index, start_s=t0, end_s=t1, mean_velocity_mps=m.mean_velocity_mps,
            mean_propulsive_velocity_mps=m.mean_velocity_mps, peak_velocity_mps=m.peak_velocity_mps,
            rom_m=m.rom_m, duration_s=m.duration_s, time_to_peak_s=m.peak_time_s - t0,
            quality=1.0, provisional=True, t_s=t[inside].copy(), velocity_mps=v[inside].copy(),
        )
        self.finder.add_provisional(set_index, rep_index, t0, t1)
        out.append(RepProvisional(float(b.arrival[hi]), set_index, rep))

    def _emit_trace(self, g_chunk0: int, out: list[PipelineEvent]) -> None:
        b = self._buf
        g0 = max(g_chunk0, b.base)
        g1 = min(self._next, b.end)
        if g1 <= g0:
            return
        idx = np.arange(g0, g1)
        pick = idx[idx % self._trace_step == 0]
        if not pick.size:
            return
        loc = pick - b.base
        still = b.vc[loc] == 0.0
        out.append(TraceEvent(float(b.arrival[loc[-1]]), b.t[loc].copy(), b.vc[loc].copy(), b.pc[loc].copy(), still))

    def _warn(self, out: list[PipelineEvent], at_s: float, code: str, message: str) -> None:
        if message in self._warned:
            return
        self._warned[message] = None
        out.append(PipelineWarning(at_s, code, message))

    def _timebase_warnings(self, out: list[PipelineEvent]) -> None:
        tb = self.timebase
        for w, at in zip(tb.warnings[self._tb_warn_seen :], tb.warning_times[self._tb_warn_seen :], strict=True):
            out.append(PipelineWarning(at, "gap" if "gap" in w else "input", w))
        self._tb_warn_seen = len(tb.warnings)

    def _trim(self) -> None:
        """Keep only samples the state machine may still need."""
        b = self._buf
        if self._state == _MOVING:
            keep = self._seg_start
        elif self._state == _STILL:
            need = max(2 * self._stats_n(), int(_BIAS_REST_S * self._rate), self._still_block())
            keep = max(self._still_start, self._next - need - self._w)
        else:
            keep = self._next - self._w
        b.trim(min(keep, self._next))


def _run_lengths(q: np.ndarray, carry: int) -> np.ndarray:
    """Length of the run of True ending at each element (``carry`` continues a previous run)."""
    n = len(q)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    idx = np.arange(1, n + 1)
    last_false = np.maximum.accumulate(np.where(~q, idx, 0))
    run = idx - last_false
    first_false = np.flatnonzero(~q)
    head = n if not first_false.size else int(first_false[0])
    run[:head] += carry
    return run


_SOS_CACHE: dict[float, np.ndarray] = {}


def _butter_sos(wn_half: float) -> np.ndarray:
    """4th-order Butterworth low-pass SOS at ``fc / fs`` (cached)."""
    sos = _SOS_CACHE.get(wn_half)
    if sos is None:
        sos = signal.butter(4, 2.0 * wn_half, output="sos")
        _SOS_CACHE[wn_half] = sos
    return sos


__all__ = ["StreamingPipeline"]
