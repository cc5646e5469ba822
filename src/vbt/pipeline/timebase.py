"""Sample timing: from decoded batches to a gap-aware sequence of timed samples.

A BLE IMU gives us samples in notifications that reach the host in bursts, one burst per
connection event, 7.5-50 ms apart, with jitter, and some notifications never arrive
(science.md §6.2). Some sensors stamp samples with their own clock or a counter (Polar,
Movesense); others send nothing (WitMotion, Thingy:52), and their real rate is not the
nominal one (WitMotion runs ~1 % slow, sensors.md §2). A rate error is a velocity-scale error
(science.md §6.1), so the time base is *measured*, never assumed:

* **Sensor clock** (``ImuBatch.sensor_time_s`` present): sample times come from the sensor;
  gaps show directly as jumps in sensor time. The host axis is reached by fitting
  ``host = c + b * sensor`` to the *lower envelope* of arrival delays (a notification can
  arrive late, never early), over blocks of `PipelineSettings.clock_block_s` and a window of
  `PipelineSettings.clock_window_s` (science.md §6.2: robust online fit over >= 30 s).
* **Sample count** (no sensor time): sample k was taken at ``c + b * (k + M_k) / rate``,
  where ``M_k`` counts samples inferred missing. The same lower-envelope fit gives the
  measured rate ``1 / (b * dt_nominal)``; a notification that arrives later than the jitter
  seen so far by more than a sample period reveals dropped samples, which are inserted.
* **Sensor axis** (recordings of decoded samples, CSV): the given times are the output axis.

Missing samples (drops, non-finite values) up to `PipelineSettings.max_bridge_gap_s` are
filled by linear interpolation and flagged ``filled`` (rep quality drops with them); longer
gaps and link losses *break* the stream: integration never runs across a break.

Every decision depends only on the sample sequence (block boundaries are defined on the
sensor-clock axis, fits are updated when a block completes), so the output does not depend on
how the input was chunked.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from firmware_protocols import STANDARD_GRAVITY_MPS2, ImuBatch
from vbt.pipeline.settings import PipelineSettings

#: Fallback nominal rate when neither the batch nor the caller knows one (Hz).
_FALLBACK_RATE_HZ = 100.0
#: Samples buffered before output in sensor mode when the nominal rate is unknown, to measure
#: the sample spacing from the data itself.
_WARMUP_SAMPLES = 16
#: A single sample standing out from its neighbours by more than this, and by `_SPIKE_RATIO`
#: times more than its neighbours change, is corrupt: no barbell makes it (`Timebase._despike`).
_SPIKE_ACCEL_MPS2 = 2.0 * STANDARD_GRAVITY_MPS2
_SPIKE_GYRO_RADS = 3.0
_SPIKE_RATIO = 4.0
#: An accelerometer spike within ~25 deg of the measured force, while the neighbours show the bar
#: moving (they differ by more than this), may be a real impact (see `_spikes`).
_IMPACT_COS = 0.9
_IMPACT_MOVING_MPS2 = 0.1 * STANDARD_GRAVITY_MPS2
#: Values no IMU can report (the largest accelerometer ranges are 200 g): input damage.
_ABSURD_ACCEL_MPS2 = 200.0 * STANDARD_GRAVITY_MPS2
_ABSURD_GYRO_RADS = 200.0
#: Share of full scale at which an accelerometer axis counts as clipped.
_CLIP_FRACTION = 0.995
#: Blocks of clock history needed before dropped samples are inferred from arrival delays
#: (before that the rate is not known well enough to tell a drop from a rate error).
_MIN_BLOCKS_FOR_DROPS = 2
#: Largest share of a sample period by which a clock-offset change is slewed in per sample.
_SLEW_FRACTION = 0.1
#: Clock-line refits: every block for the first blocks of a stream, then every few blocks.
_REFIT_EARLY = 8
_REFIT_EVERY = 4
#: How far back the step test looks for on-time bursts (s).
_STEP_WINDOW_S = 0.4
#: A read-only one-element +inf array (the sentinel `Timebase._recent_floors` appends).
_INF1 = np.array([np.inf])
_INF1.flags.writeable = False
#: ``a.min()`` without the method's Python-level wrapper (the hot loops call it on small arrays).
_amin = np.minimum.reduce


@dataclass(slots=True)
class SampleChunk:
    """Consecutive timed samples, contiguous (no break inside).

    Attributes:
        t_s: Sample times on the output (host) axis.
        dt_s: Integration step before each sample (``dt_s[0]`` links to the previous chunk's
            last sample; 0 after a break).
        accel_mps2: ``(n, 3)`` specific force, sensor frame.
        gyro_rads: ``(n, 3)`` angular rate, or None.
        arrival_s: When each sample became available (host axis): the event time base.
        filled: True for samples interpolated over a drop or a non-finite value.
        clipped: True where an accelerometer axis is at full scale.
        break_before: The stream is discontinuous before this chunk.
        lost_before: Samples estimated lost in the break before this chunk.
    """

    t_s: np.ndarray
    dt_s: np.ndarray
    accel_mps2: np.ndarray
    gyro_rads: np.ndarray | None
    arrival_s: np.ndarray
    filled: np.ndarray
    clipped: np.ndarray
    break_before: bool = False
    lost_before: int = 0

    def __len__(self) -> int:
        return int(self.t_s.shape[0])


def _median(a: np.ndarray) -> float:
    """Median of a small 1-D array (sort-based: far less overhead than ``np.median``)."""
    srt = np.sort(a)
    n = len(srt)
    return float(0.5 * (srt[(n - 1) // 2] + srt[n // 2]))


def _median_of_floats(values: list[float]) -> float:
    """`_median` of a short list of Python floats, none NaN (the same arithmetic, no NumPy)."""
    srt = sorted(values)
    n = len(srt)
    return 0.5 * (srt[(n - 1) // 2] + srt[n // 2])


def _variance(a: np.ndarray) -> float:
    """``a.var()`` of a 1-D float array: the same arithmetic (mean, squared deviations, their
    sum over the count), without the overhead of the generic method."""
    n = len(a)
    dev = a - float(a.sum()) / n
    return float((dev * dev).sum()) / n


def row_norms(v: np.ndarray) -> np.ndarray:
    """``np.linalg.norm(v, axis=1)`` of an ``(n, 3)`` float array, bit for bit: the same sum of
    squares in order (``(x^2 + y^2) + z^2``) and root, without NumPy's slow reduction over a
    length-3 axis (tests/pipeline/test_timebase_internals.py pins the equality)."""
    s = v * v
    return np.sqrt(s[:, 0] + s[:, 1] + s[:, 2])


def _all3(m: np.ndarray) -> np.ndarray:
    """``m.all(axis=1)`` of an ``(n, 3)`` boolean array (much faster than the reduction)."""
    return m[:, 0] & m[:, 1] & m[:, 2]


def _spikes(v: np.ndarray, limit: float, *, impacts: bool = False) -> np.ndarray:
    """Rows of ``v`` (n, 3) that are isolated spikes (see `Timebase._despike`); rows 0, 1, n-1 never.

    ``impacts``: ``v`` is specific force, where a real impact can be one sample wide at 100 Hz
    (plates landing on the floor or the safeties): a spike along the force the neighbours
    show, while the bar was moving, is kept as real.
    """
    bad = np.zeros(len(v), dtype=bool)
    if len(v) < 4:
        return bad
    prev2, prev, cur, nxt = v[:-3], v[1:-2], v[2:-1], v[3:]
    mid = 0.5 * (prev + nxt)
    d = cur - mid
    dev = row_norms(d)
    # Only rows beyond the limit can be spikes: the rest of the test runs on those alone.
    i = (dev > limit).nonzero()[0]
    if not i.size:
        return bad
    dev, mid = dev[i], mid[i]
    calm = np.maximum(row_norms(nxt[i] - prev[i]), row_norms(prev[i] - prev2[i]))
    hit = dev > _SPIKE_RATIO * calm
    if impacts and hit.any():
        along = np.abs(np.einsum("ij,ij->i", d[i], mid)) > _IMPACT_COS * dev * row_norms(mid)
        hit &= ~(along & (calm > _IMPACT_MOVING_MPS2))
    bad[2 + i[hit]] = True
    return bad


def _jumps_at_end(v: np.ndarray, limit: float) -> bool:
    """The last row jumps from the calm before it: it may be a spike (a necessary condition)."""
    if len(v) < 3:
        return False
    step = float(np.linalg.norm(v[-1] - v[-2]))
    return bool(step > (1.0 - 0.5 / _SPIKE_RATIO) * limit
                and step > (_SPIKE_RATIO - 0.5) * float(np.linalg.norm(v[-2] - v[-3])))


def _slice_batch(b: ImuBatch, i: int, j: int) -> ImuBatch:
    """Samples ``i..j-1`` of a batch, each keeping its own arrival time."""
    arrival = b.arrival_times()[i:j]
    return ImuBatch(float(arrival[-1]), b.accel_mps2[i:j], None if b.gyro_rads is None else b.gyro_rads[i:j],
                    None if b.sensor_time_s is None else np.asarray(b.sensor_time_s)[i:j], b.rate_hz, arrival)


def _join_batches(a: ImuBatch, b: ImuBatch) -> ImuBatch:
    """``a`` then ``b`` as one batch (per-sample arrival times kept)."""
    gyro = None if a.gyro_rads is None else np.vstack((a.gyro_rads, b.gyro_rads))
    st = None if a.sensor_time_s is None else np.concatenate((a.sensor_time_s, b.sensor_time_s))
    arrival = np.concatenate((a.arrival_times(), b.arrival_times()))
    return ImuBatch(b.host_time_s, np.vstack((a.accel_mps2, b.accel_mps2)), gyro, st, b.rate_hz or a.rate_hz, arrival)


class _Envelope:
    """The last ``maxlen`` envelope points ``(x, delay)``, in order, readable as one array.

    A ring buffer twice the window long, compacted when full: appending costs O(1) and the
    line fit reads the points as an ``(n, 2)`` view instead of converting a deque each time.
    """

    def __init__(self, maxlen: int) -> None:
        self.maxlen = maxlen
        self._buf = np.empty((2 * maxlen, 2))
        self._lo = 0
        self._hi = 0

    def append(self, point: tuple[float, float]) -> None:
        if self._hi == len(self._buf):  # full: move the window (at most maxlen rows) to the front
            keep = self._hi - self._lo
            self._buf[:keep] = self._buf[self._lo : self._hi]
            self._lo, self._hi = 0, keep
        self._buf[self._hi] = point
        self._hi += 1
        if self._hi - self._lo > self.maxlen:
            self._lo += 1

    def clear(self) -> None:
        self._lo = self._hi = 0

    def __len__(self) -> int:
        return self._hi - self._lo

    def array(self) -> np.ndarray:
        """The points, oldest first, as an ``(n, 2)`` view (valid until the next append)."""
        return self._buf[self._lo : self._hi]


class _ClockFit:
    """Lower-envelope line ``arrival = c + b * x`` over completed blocks (see module doc).

    Also keeps the distribution of the *group-last* excess: the arrival delay, over the line,
    of the last sample of each burst of samples that arrived together. That sample was taken
    at most one period (plus host jitter) before its burst was delivered, so its excess is
    tight, and dropped samples before a burst shift it by whole periods.
    """

    def __init__(self, settings: PipelineSettings) -> None:
        self.block_s = settings.clock_block_s
        self.max_blocks = max(2, int(round(settings.clock_window_s / settings.clock_block_s)))
        self.prior_var = (settings.clock_prior_ppm * 1e-6) ** 2
        self.points = _Envelope(self.max_blocks)
        self.b = 1.0
        self.c: float | None = None
        self.block_id: int | None = None
        self._bx: list[np.ndarray] = []
        self._ba: list[np.ndarray] = []
        self.excess_stats: deque[tuple[float, float]] = deque(maxlen=20)
        #: Non-finite excesses were seen (non-finite arrival times), so `excess_stats` may hold
        #: NaN: take medians the NumPy way, which orders NaN last (Python's sort cannot).
        self._stats_nan = False
        self._thr_cache: tuple[float, float] | None = None
        self._closed = 0

    def reset(self) -> None:
        """Forget the envelope history (after a break); keep the rate as the new prior."""
        self.points.clear()
        self.c = None
        self.block_id = None
        self._bx, self._ba = [], []
        self.excess_stats.clear()
        self._stats_nan = False
        self._thr_cache = None
        self._closed = 0

    def map(self, x: np.ndarray) -> np.ndarray:
        return self.c + self.b * x  # type: ignore[operator]

    def add(self, x: np.ndarray, arrival: np.ndarray) -> None:
        """Feed samples of the current block."""
        self._bx.append(x)
        self._ba.append(arrival)

    def close_block(self, next_arrival: float) -> None:
        """The current block is complete (``next_arrival``: the sample after it); refit."""
        if self._bx:
            x = self._bx[0] if len(self._bx) == 1 else np.concatenate(self._bx)
            ar = self._ba[0] if len(self._ba) == 1 else np.concatenate(self._ba)
            # The last sample of each notification: the next sample arrived later.
            last = np.empty(len(ar), dtype=bool)
            np.greater(ar[1:], ar[:-1], out=last[:-1])
            last[-1] = next_arrival > ar[-1]
            il = last.nonzero()[0]
            # The envelope point is the block's smallest delay among the *last* samples of
            # notifications (each was taken just before its notification left). A block that
            # holds only the early samples of a long frame (Polar: up to 1.5 s per notification)
            # says nothing tight about the line and adds no point.
            if il.size:
                xl, al = x[il], ar[il]
                dl = al - xl
                i = int(dl.argmin())
                # (If every delay is +inf: the block's first sample, as an argmin over the whole
                # block with the other samples masked by +inf would pick.)
                j = int(il[i]) if dl[i] != np.inf else 0
                self.points.append((float(x[j]), float(ar[j] - x[j])))
                if self.c is not None:
                    # Median and largest excess over the block's lowest, read off the sorted
                    # excesses (subtracting the lowest keeps their order); non-finite ones (NaN
                    # sorts last) the plain way.
                    e = np.sort(al - (self.c + self.b * xl))
                    low, high = float(e[0]), float(e[-1])
                    if math.isfinite(low) and math.isfinite(high):
                        k = len(e)
                        med = 0.5 * ((float(e[(k - 1) // 2]) - low) + (float(e[k // 2]) - low))
                        top = high - low
                    else:
                        u = e - _amin(e)
                        med, top = _median(u), float(u.max())
                        self._stats_nan = True
                    self.excess_stats.append((med, top))
        self._bx, self._ba = [], []
        self._thr_cache = None
        self._closed += 1
        # Refit every block while the line is young, then every `_REFIT_EVERY` blocks: the
        # window spans a minute, so the line hardly moves in between.
        if self._closed <= _REFIT_EARLY or self._closed % _REFIT_EVERY == 0:
            self._refit()

    def _refit(self) -> None:
        n = len(self.points)
        if n == 0:
            return
        pts = self.points.array()
        xs, ds = pts[:, 0], pts[:, 1]
        beta = 0.0
        if n >= 3:
            for _ in range(2):
                k = len(xs)
                xc = xs - float(xs.sum()) / k  # deviations from the means
                dc = ds - float(ds.sum()) / k
                sxx = float((xc * xc).sum())
                if sxx <= 0:
                    break
                beta_ls = float((xc * dc).sum()) / sxx
                resid = dc - beta_ls * xc
                s2 = max(_variance(resid), (0.5e-3) ** 2)
                var_ls = s2 / sxx
                # Shrink towards the nominal rate: with little history the slope of a few
                # block minima is dominated by jitter (prior: clock within clock_prior_ppm).
                beta = beta_ls * self.prior_var / (self.prior_var + var_ls)
                # A clock cannot be off by more than a few prior SDs; beyond that the line is
                # chasing undetected drops, not the rate.
                lim = 3.0 * math.sqrt(self.prior_var)
                beta = min(max(beta, -lim), lim)
                # Drop blocks whose minimum sits well above the line (a burst of late packets).
                med = _median(resid)
                mad = max(_median(np.abs(resid - med)), 0.5e-3)
                keep = resid <= med + 3.0 * mad
                kept = int(np.count_nonzero(keep))
                if kept == k or kept < 3:
                    break
                xs, ds = xs[keep], ds[keep]
        self.b = 1.0 + beta
        # Lower envelope: the line through the lowest residual (arrival never precedes sampling).
        self.c = float(_amin(pts[:, 1] - beta * pts[:, 0]))

    def excess_thresholds(self) -> tuple[float, float] | None:
        """(typical, high) group-last excess over its block's floor in recent blocks, or None."""
        if len(self.excess_stats) < 2:
            return None
        if self._thr_cache is None:
            if self._stats_nan:
                st = np.asarray(self.excess_stats)
                self._thr_cache = (_median(st[:, 0]), _median(st[:, 1]))
            else:
                self._thr_cache = (_median_of_floats([s[0] for s in self.excess_stats]),
                                   _median_of_floats([s[1] for s in self.excess_stats]))
        return self._thr_cache

    def recount_last_burst(self, arrival_s: float, dx: float) -> None:
        """Samples were found missing *before* the burst that arrived at ``arrival_s``.

        The step test finds a drop only when the burst after it arrives, so that burst's
        samples were added with a count short by the missing samples and would read as a
        burst a period or more late. Counted right here, they keep out of the jitter
        statistics; left in, every block with a drop would read as that much jitter, the limit
        for the next drop would rise with it, and drops of one sample would go unseen.
        """
        for i in range(len(self._bx) - 1, -1, -1):
            hit = self._ba[i] == arrival_s
            if not hit.any():
                break
            self._bx[i] = np.where(hit, self._bx[i] + dx, self._bx[i])  # a copy: the caller's x is output


class Timebase:
    """Turns `ImuBatch` objects into contiguous, timed `SampleChunk` objects.

    Args:
        settings: Pipeline settings (timing fields).
        nominal_rate_hz: Configured rate, if known (the batches' ``rate_hz`` wins when set).
        sensor_axis: Treat ``sensor_time_s`` as the output axis itself (decoded-sample
            recordings and CSV files, whose times *are* the input's time axis).

    Attributes:
        samples_in: Samples received.
        samples_filled: Samples inserted by interpolation (drops, non-finite values).
        samples_lost: Samples estimated lost in breaks (gaps too long to bridge).
        nonfinite: Received samples with NaN/inf values.
        breaks: Number of stream breaks.
        warnings: Human-readable notes on gaps and timing, in order of occurrence.
    """

    def __init__(
        self,
        settings: PipelineSettings,
        *,
        nominal_rate_hz: float | None = None,
        sensor_axis: bool = False,
    ) -> None:
        self.settings = settings
        self.nominal_rate_hz = nominal_rate_hz
        self.sensor_axis = sensor_axis
        self.fit = _ClockFit(settings)
        self.mode: str | None = None  # "sensor" or "count", fixed by the first batch
        self.dx_ref: float | None = None
        self.has_gyro: bool | None = None
        self.samples_in = 0
        self.samples_filled = 0
        self.samples_lost = 0
        self._lost_reported = 0
        self.nonfinite = 0
        self.duplicates = 0
        self.breaks = 0
        self.warnings: list[str] = []
        #: Arrival time (input axis) at which each warning arose, parallel to `warnings`.
        self.warning_times: list[float] = []
        self._pending_break = False
        self._pending_refit = False
        self._pending_restart = False
        self._count = 0  # sample-count clock position (k + M), count mode
        self._last_x: float | None = None
        self._last_t: float | None = None
        self._last_acc: np.ndarray | None = None
        self._last_gyro: np.ndarray | None = None
        self._warm: list[ImuBatch] = []
        self._last_arrival = -math.inf
        self._prev_real: tuple[float, float] | None = None
        self._slew_r = 0
        self._slew_cb: tuple[float, float] | None = None
        self._excess_hist: deque[tuple[np.ndarray, np.ndarray, float]] = deque()
        #: The clock line (c, b) the excesses in `_excess_hist` are measured against.
        self._excess_line: tuple[float, float] | None = None
        self.range_mps2 = (settings.accel_range_g or 16.0) * STANDARD_GRAVITY_MPS2
        #: Isolated impossible samples replaced (see `_despike`).
        self.spikes = 0
        self._held: ImuBatch | None = None
        self._pending_out: list[SampleChunk] = []
        #: The last (up to) two samples before the next one to judge, as received: acc, gyro.
        self._ctx: tuple[np.ndarray, np.ndarray | None] | None = None
        self.first_t_s: float | None = None
        self.last_t_s: float | None = None

    # ------------------------------------------------------------------ public

    @property
    def nominal_period_s(self) -> float:
        """Sample period the stream was configured for (or measured at warm-up); sizes windows."""
        if self.dx_ref is not None:
            return self.dx_ref
        return 1.0 / float(self.nominal_rate_hz or _FALLBACK_RATE_HZ)

    @property
    def rate_hz(self) -> float:
        """Measured sample rate (Hz) on the host clock (nominal until measured)."""
        if self.dx_ref is None:
            return float(self.nominal_rate_hz or _FALLBACK_RATE_HZ)
        return 1.0 / (self.dx_ref * (1.0 if self.mode == "sensor" and self.sensor_axis else self.fit.b))

    @property
    def missing_pct(self) -> float:
        """Share of samples missing (filled + lost), percent of the samples expected."""
        expected = self.samples_in - self.duplicates + (self.samples_filled - self.nonfinite) + self.samples_lost
        missing = self.samples_filled + self.samples_lost
        return 100.0 * missing / expected if expected > 0 else 0.0

    def link_break(self) -> None:
        """The link dropped or the decoder was reset: the next sample starts a new stream."""
        self._release_held()
        self._ctx = None
        self._pending_break = True

    def stream_configured(self, rate_hz: float | None = None) -> None:
        """The sensor was (re)configured: samples before this may have come at another rate.

        Matters for sample-count clocks only (a sensor clock stamps each sample, whatever the
        rate). A sensor streams at its power-on rate until the configuration takes hold (a
        WitMotion sends a 10 Hz sample or two before it streams at 200 Hz), so the sample count
        before and after the configuration disagree with the host clock by those samples' extra
        spacing: the clock line is fitted afresh from the next sample on (the measured clock
        rate is kept), so they cannot bend it. A configuration with another rate starts a new
        stream (its count clock has another period).
        """
        self._release_held()
        if self.mode == "sensor":
            return
        if rate_hz and self.nominal_rate_hz and abs(float(rate_hz) - float(self.nominal_rate_hz)) > 1e-6 * float(rate_hz):
            self.nominal_rate_hz = float(rate_hz)
            self._pending_restart = self.mode == "count"
        elif self.mode == "count":
            self._pending_refit = True

    def push(self, batch: ImuBatch) -> list[SampleChunk]:
        """Time the samples of one batch; returns zero or more contiguous chunks."""
        batch = self._despike(batch)
        out, self._pending_out = self._pending_out, []
        if batch is not None:
            out.extend(self._push(batch))
        return out

    def flush(self) -> list[SampleChunk]:
        """Emit samples held back (a possible spike, warm-up) at the end of input."""
        self._release_held()
        out, self._pending_out = self._pending_out, []
        out.extend(self._flush())
        return out

    def _push(self, batch: ImuBatch) -> list[SampleChunk]:
        n = len(batch)
        if n == 0:
            return []
        if self.mode is None:
            self.mode = "sensor" if batch.sensor_time_s is not None else "count"
            self.has_gyro = batch.gyro_rads is not None
            if self.nominal_rate_hz is None and batch.rate_hz:
                self.nominal_rate_hz = float(batch.rate_hz)
        if batch.rate_hz and self.nominal_rate_hz is None:
            self.nominal_rate_hz = float(batch.rate_hz)
        self.samples_in += n
        acc = np.asarray(batch.accel_mps2, dtype=np.float64)
        gyro = None if batch.gyro_rads is None else np.asarray(batch.gyro_rads, dtype=np.float64)
        if self.has_gyro and gyro is None:
            gyro = np.full((n, 3), np.nan)  # a stream that loses its gyro: treat as missing
        elif not self.has_gyro:
            gyro = None
        arrival = np.asarray(batch.arrival_times(), dtype=np.float64)
        if self.mode == "sensor":
            if batch.sensor_time_s is None:
                # Sensor time vanished mid-stream: fall back to the nominal spacing.
                dx = self.dx_ref or 1.0 / float(self.nominal_rate_hz or _FALLBACK_RATE_HZ)
                base = self._last_x if self._last_x is not None else 0.0
                x = base + dx * np.arange(1, n + 1)
            else:
                x = np.asarray(batch.sensor_time_s, dtype=np.float64)
            return self._push_sensor(x, acc, gyro, arrival)
        return self._push_count(acc, gyro, arrival)

    def _flush(self) -> list[SampleChunk]:
        if not self._warm:
            return []
        warm, self._warm = self._warm, []
        xs = np.concatenate([np.asarray(b.sensor_time_s) for b in warm])
        d = np.diff(xs)
        d = d[d > 0]
        self.dx_ref = float(np.median(d)) if d.size else 1.0 / _FALLBACK_RATE_HZ
        acc = np.concatenate([b.accel_mps2 for b in warm])
        gyro = np.concatenate([b.gyro_rads for b in warm]) if self.has_gyro else None  # type: ignore[misc]
        arrival = np.concatenate([b.arrival_times() for b in warm])
        return self._push_sensor(xs, acc, gyro, arrival)

    # ------------------------------------------------------------------ host mapping

    def _slewed(self, x: np.ndarray) -> np.ndarray:
        """Host times ``c + b x`` from the current fit, kept continuous across refits.

        A refit can move the line's offset by tens of milliseconds; applied at once, sample
        times would jump or even run backwards. The difference is slewed in at most
        `_SLEW_FRACTION` of a sample period per sample instead, counted in integer nanoseconds
        so the result is bit-identical however the input is chunked. (Integration uses the
        rate alone, never these offsets.)
        """
        c, b = self.fit.c, self.fit.b
        assert c is not None
        rk = self._slew_offsets(x)
        if rk is None:
            return c + b * x  # nothing being slewed in (the common case)
        return c + b * x + rk * 1e-9

    def _slew_offsets(self, x: np.ndarray) -> np.ndarray | None:
        """Integer-nanosecond offsets still to slew in at the samples ``x`` (see `_slewed`), or
        None when there are none; advances the slew state past ``x``."""
        c, b = self.fit.c, self.fit.b
        assert c is not None
        if self._slew_r == 0 and self._slew_cb == (c, b):
            return None
        if self._slew_cb is not None and self._slew_cb != (c, b):
            oc, ob = self._slew_cb
            self._slew_r += int(round(((oc + ob * float(x[0])) - (c + b * float(x[0]))) * 1e9))
        self._slew_cb = (c, b)
        step = max(1, int(round(_SLEW_FRACTION * self.nominal_period_s * 1e9)))
        r = self._slew_r
        rk = np.sign(r) * np.maximum(abs(r) - step * np.arange(1, len(x) + 1, dtype=np.int64), 0)
        self._slew_r = int(rk[-1]) if len(rk) else r
        return rk

    def _slew_reset(self) -> None:
        self._slew_r = 0
        self._slew_cb = None

    # ------------------------------------------------------------------ sensor clock

    def _push_sensor(
        self, x: np.ndarray, acc: np.ndarray, gyro: np.ndarray | None, arrival: np.ndarray
    ) -> list[SampleChunk]:
        if self.dx_ref is None:
            if self.nominal_rate_hz:
                self.dx_ref = 1.0 / float(self.nominal_rate_hz)
            else:
                # Unknown rate: measure the spacing on the first samples before emitting any.
                self._warm.append(ImuBatch(float(arrival[-1]), acc, gyro, x, None, arrival))
                if sum(len(b) for b in self._warm) < _WARMUP_SAMPLES:
                    return []
                warm, self._warm = self._warm, []
                xs = np.concatenate([np.asarray(b.sensor_time_s) for b in warm])
                d = np.diff(xs)
                d = d[d > 0]
                self.dx_ref = float(np.median(d)) if d.size else 1.0 / _FALLBACK_RATE_HZ
                acc = np.concatenate([b.accel_mps2 for b in warm])
                gyro = np.concatenate([b.gyro_rads for b in warm]) if self.has_gyro else None  # type: ignore[misc]
                arrival = np.concatenate([b.arrival_times() for b in warm])
                x = xs
        dx_ref = self.dx_ref
        out: list[SampleChunk] = []
        # Split at breaks: large jumps (forward beyond the bridge limit, or backwards).
        prev = self._last_x
        xprev = np.concatenate(([prev if prev is not None else x[0] - dx_ref], x[:-1]))
        dx = x - xprev
        dup = dx <= 0.25 * dx_ref
        back = dx < -self.settings.max_bridge_gap_s
        big = dx > self.settings.max_bridge_gap_s + dx_ref
        if prev is None or self._pending_break:
            big[0] = True
            dup[0] = False
            back[0] = False
        cut = np.flatnonzero(big | back)
        starts = [0, *cut.tolist()]
        ends = [*cut.tolist(), len(x)]
        for s, e in zip(starts, ends, strict=True):
            if e <= s:
                continue
            brk = bool(big[s] or back[s])
            if brk and self._last_x is not None:
                if big[s] and not self._pending_break:
                    lost = int(round(dx[s] / dx_ref)) - 1
                    self.samples_lost += max(0, lost)
                    self._warn_gap(float(arrival[s]), dx[s] * self.fit.b, bridged=False)
                self.breaks += 1
                self.fit.reset()
                self._slew_reset()
            keep = ~dup[s:e]
            if brk:
                keep[0] = True
            self.duplicates += int((~keep).sum())
            xs, a, g, ar = x[s:e][keep], acc[s:e][keep], None if gyro is None else gyro[s:e][keep], arrival[s:e][keep]
            if xs.size == 0:
                continue
            out.extend(self._emit_sensor(xs, a, g, ar, brk))
        self._pending_break = False
        return out

    def _emit_sensor(
        self, x: np.ndarray, acc: np.ndarray, gyro: np.ndarray | None, arrival: np.ndarray, brk: bool
    ) -> list[SampleChunk]:
        """Fill bridgeable gaps, map to the host axis block by block, build the chunk."""
        dx_ref = float(self.dx_ref)  # type: ignore[arg-type]
        prev_x = None if brk else self._last_x
        # Insert interpolated samples where sensor time jumps by more than 1.5 periods.
        xprev = np.concatenate(([prev_x if prev_x is not None else x[0] - dx_ref], x[:-1]))
        gaps = np.flatnonzero((x - xprev) > 1.5 * dx_ref)
        if brk:
            gaps = gaps[gaps > 0]
        filled = np.zeros(len(x), dtype=bool)
        if gaps.size:
            x, acc, gyro, arrival, filled = self._insert(x, acc, gyro, arrival, filled, gaps, xprev, dx_ref, prev_x)
        acc, gyro, filled = self._fix_nonfinite(acc, gyro, filled)
        dxs = np.diff(np.concatenate(([prev_x if prev_x is not None else x[0]], x)))
        if self.sensor_axis:
            t = x.copy()
            dt = dxs.copy()
        else:
            t, rate = self._map_blocks(x, arrival)
            dt = dxs * rate
        if brk or prev_x is None:
            dt[0] = 0.0
        return [self._finish_chunk(x, t, dt, acc, gyro, arrival, filled, brk)]

    def _insert(self, x, acc, gyro, arrival, filled, gaps, xprev, dx_ref, prev_x):  # noqa: ANN001, ANN202
        """Insert linearly interpolated samples into the gaps before indices ``gaps``."""
        xs, accs, gys, ars, fls = [], [], [], [], []
        last = 0
        for g in gaps.tolist():
            xs.append(x[last:g])
            accs.append(acc[last:g])
            gys.append(None if gyro is None else gyro[last:g])
            ars.append(arrival[last:g])
            fls.append(filled[last:g])
            x0 = xprev[g]
            m = int(round((x[g] - x0) / dx_ref)) - 1
            if m > 0:
                frac = np.arange(1, m + 1) / (m + 1)
                a0 = acc[g - 1] if g > 0 else self._last_acc
                g0 = (gyro[g - 1] if g > 0 else self._last_gyro) if gyro is not None else None
                if a0 is None:
                    a0 = acc[g]
                xs.append(x0 + (x[g] - x0) * frac)
                accs.append(a0 + np.outer(frac, acc[g] - a0))
                if gyro is not None:
                    g0 = gyro[g] if g0 is None else g0
                    gys.append(g0 + np.outer(frac, gyro[g] - g0))
                ars.append(np.full(m, arrival[g]))
                fls.append(np.ones(m, dtype=bool))
                self.samples_filled += m
                if m * dx_ref > 0.05:
                    self._warn_gap(float(arrival[g]), (m + 1) * dx_ref * self.fit.b, bridged=True)
            last = g
        xs.append(x[last:])
        accs.append(acc[last:])
        gys.append(None if gyro is None else gyro[last:])
        ars.append(arrival[last:])
        fls.append(filled[last:])
        return (
            np.concatenate(xs),
            np.concatenate(accs),
            None if gyro is None else np.concatenate(gys),
            np.concatenate(ars),
            np.concatenate(fls),
        )

    def _map_blocks(self, x: np.ndarray, arrival: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Host times and clock-rate factors for sensor-clock samples; the fit updates per block."""
        fit = self.fit
        bid = np.floor(x / fit.block_s).astype(np.int64)
        t = np.empty_like(x)
        rate = np.empty_like(x)
        start = 0
        n = len(x)
        while start < n:
            cur = int(bid[start])
            if fit.block_id is None:
                fit.block_id = cur
            if cur != fit.block_id:
                fit.close_block(float(arrival[start]))
                fit.block_id = cur
            end = start + int(np.searchsorted(bid[start:], cur, side="right"))
            if fit.c is None:
                # First samples of a stream: assume the first notification arrived with the
                # floor latency. Its *last* sample was taken just before it was sent; a Polar
                # frame holds up to ~1.5 s of samples, so anchoring on its first sample would
                # put every time that much late (and slewing that out takes many seconds).
                first = arrival[start:] != arrival[start]
                stop = start + (int(np.argmax(first)) if first.any() else n - start)
                d0 = arrival[start:stop] - x[start:stop]
                i0 = int(np.argmin(d0))
                fit.c = float(d0[i0] + (1.0 - fit.b) * x[start + i0])
                # ...and that point stays in the envelope (the first completed blocks may hold
                # only the notification's early samples, which arrived late).
                fit.points.append((float(x[start + i0]), float(d0[i0])))
            t[start:end] = self._slewed(x[start:end])
            rate[start:end] = fit.b
            fit.add(x[start:end], arrival[start:end])
            start = end
        return t, rate

    # ------------------------------------------------------------------ sample count

    def _push_count(self, acc: np.ndarray, gyro: np.ndarray | None, arrival: np.ndarray) -> list[SampleChunk]:
        fit = self.fit
        dt_nom = 1.0 / float(self.nominal_rate_hz or _FALLBACK_RATE_HZ)
        self.dx_ref = dt_nom
        out: list[SampleChunk] = []
        # Contiguous pieces (received or bridged samples) accumulated into one chunk. Each keeps
        # the fit (c, b) in force when it was added and the clock offsets then being slewed in;
        # times and steps are computed from those when the chunk is emitted (the same values as
        # mapping each piece on its own, so chunking-independent).
        pieces: list[tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray, bool, float, float,
                           np.ndarray | None]] = []
        state: dict[str, bool | float | None] = {"brk": False, "x_prev": self._last_x, "x_link": None}

        def add_piece(x, a, g, ar, filled: bool) -> None:  # noqa: ANN001
            if not pieces:  # the chunk's first step links to the sample before it (none after a break)
                state["x_link"] = None if state["brk"] else state["x_prev"]
            pieces.append((x, a, g, ar, filled, fit.c, fit.b, self._slew_offsets(x)))  # type: ignore[arg-type]
            state["x_prev"] = float(x[-1])

        def emit() -> None:
            if not pieces:
                return
            lens = [len(p[0]) for p in pieces]
            x = np.concatenate([p[0] for p in pieces])
            a = np.concatenate([p[1] for p in pieces])
            g = None if gyro is None else np.concatenate([p[2] for p in pieces])  # type: ignore[misc]
            ar = np.concatenate([p[3] for p in pieces])
            fl = np.repeat(np.array([p[4] for p in pieces], dtype=bool), lens)
            b = np.repeat(np.array([p[6] for p in pieces]), lens)
            t = np.repeat(np.array([p[5] for p in pieces]), lens) + b * x  # c + b x of each piece's fit
            off = 0
            for p, k in zip(pieces, lens, strict=True):
                if p[7] is not None:
                    t[off : off + k] += p[7] * 1e-9
                off += k
            dxs = np.empty(len(x))
            x_link = state["x_link"]
            dxs[0] = 0.0 if x_link is None else x[0] - x_link
            np.subtract(x[1:], x[:-1], out=dxs[1:])
            dt = dxs * b
            if x_link is None:
                dt[0] = 0.0
            a, g, fl = self._fix_nonfinite(a, g, fl)
            out.append(self._finish_chunk(x, t, dt, a, g, ar, fl, state["brk"]))
            pieces.clear()
            state["brk"] = False

        def last_values() -> tuple[np.ndarray | None, np.ndarray | None]:
            if pieces:
                return pieces[-1][1][-1], (None if gyro is None else pieces[-1][2][-1])  # type: ignore[index]
            return self._last_acc, self._last_gyro

        n = len(acc)
        # For the drop test, over the whole call: each sample's predecessor's arrival (the first
        # sample's is set per block from `_prev_real`), whether each sample starts a new burst,
        # and sample offsets for the clock positions.
        prev_arrival = np.empty(n)
        prev_arrival[1:] = arrival[:-1]
        starts_burst = np.empty(n, dtype=bool)
        np.greater(arrival[1:], arrival[:-1], out=starts_burst[1:])
        offsets = np.arange(n + 1)
        start = 0
        while start < n:
            x0 = self._count * dt_nom
            bid = math.floor(x0 / fit.block_s + 1e-9)
            if fit.block_id is None:
                fit.block_id = bid
            elif bid != fit.block_id:
                fit.close_block(float(arrival[start]))
                fit.block_id = bid
            if fit.c is None:
                # First sample ever: assume it arrived with the floor latency; the fit corrects.
                fit.c = float(arrival[start] - fit.b * x0)
            if self._last_x is None and not out and not pieces:
                state["brk"] = True
                self._pending_break = False
            elif self._pending_break:
                # Link lost: the count clock keeps running in real time; skip what was missed.
                self._pending_break = False
                emit()
                thr = fit.excess_thresholds()
                typical = thr[0] if thr else 0.0
                e = float(arrival[start] - fit.map(np.array([x0]))[0])
                m = max(0, int(round((e - typical) / (fit.b * dt_nom))))
                self.breaks += 1
                state["brk"] = True
                state["x_prev"] = None
                self._prev_real = None
                if m:
                    self._count += m
                    self.samples_lost += m
                    self._warn_gap(float(arrival[start]), (m + 1) * dt_nom * fit.b, bridged=False)
                    continue  # recompute the block for the new clock position
            if self._pending_refit or self._pending_restart:
                # (After a link break's skip: that needs the line from before.)
                restart = self._pending_restart
                self._pending_refit = self._pending_restart = False
                self._refit_count_clock(restart=restart)
                if restart:
                    emit()
                    state["brk"], state["x_prev"] = True, None
                    self.breaks += 1
                fit.block_id = bid
                fit.c = float(arrival[start] - fit.b * x0)
            # Samples of this call that fall in the current block.
            left = int(math.ceil(fit.block_s * (bid + 1) / dt_nom - 1e-9)) - self._count
            end = min(n, start + max(1, left))
            # Clock positions: xx[1:] of these samples, xx[:-1] of the sample before each.
            xx = (self._count - 1 + offsets[: end - start + 1]) * dt_nom
            x = xx[1:]
            cut, m = end, 0
            recount: tuple[float, float] | None = None
            thr = fit.excess_thresholds()
            if thr is not None:
                self._rebase_excess()
                typical, high = thr
                period = fit.b * dt_nom
                # A burst's first sample closes the previous burst; that burst's last sample
                # (taken at most a period before delivery) shows drops as extra delay.
                # The block's first sample follows the last one timed (`_prev_real`; none after
                # a drop: that burst was tested).
                first = starts_burst[start:end]
                if self._prev_real is None:
                    first[0] = False
                else:
                    xx[0], prev_arrival[start] = self._prev_real
                    first[0] = arrival[start] > prev_arrival[start]
                # Clock position and excess of the sample before each burst (the burst it closes).
                fi = first.nonzero()[0]
                xf = xx[fi]
                ef = prev_arrival[start:end][fi] - fit.map(xf)
                # Cheap pre-filter against the line's floor, then the step test per candidate.
                limit = high + 0.5 * period + self.settings.drop_margin_s
                cand = (ef > limit).nonzero()[0]
                if cand.size:
                    # Exact pre-filter: a candidate's window floor is at least the lowest excess
                    # anywhere in the history and this span, so a candidate that cannot clear the
                    # step limit even against that needs no range query.
                    low = min([h[2] for h in self._excess_hist], default=np.inf)
                    low = min(low, float(_amin(ef)))
                    cand = cand[ef[cand] - low >= limit]
                before = len(fi)  # bursts of this span before the cut
                if cand.size:
                    # A drop is a *step* in delay against bursts that arrived on time just
                    # before; a slowly rising delay is a rate error the line fit absorbs.
                    floors = self._recent_floors(xf, ef, cand)
                    step = ef[cand] - floors
                    good = np.isfinite(floors) & (step >= limit)
                    ms = np.rint((step - typical) / period)
                    good &= ms >= 1
                    hitc = good.nonzero()[0]
                    if hitc.size:
                        before = int(cand[hitc[0]])
                        m = int(ms[hitc[0]])
                        cut = start + int(fi[before])
                        recount = (float(prev_arrival[cut]), m * dt_nom)
                self._remember_excess(xf[:before], ef[:before])
            if cut > start:
                k = cut - start
                fit.add(x[:k], arrival[start:cut])
                add_piece(x[:k], acc[start:cut], None if gyro is None else gyro[start:cut], arrival[start:cut],
                          False)
                self._count += k
                self._prev_real = (float(x[k - 1]), float(arrival[cut - 1]))
            if recount is not None:
                fit.recount_last_burst(*recount)
            if cut < end:
                gap_s = (m + 1) * dt_nom * fit.b
                if m * dt_nom <= self.settings.max_bridge_gap_s:
                    # Bridge: m interpolated samples before sample `cut`.
                    a0, g0 = last_values()
                    a0 = acc[cut] if a0 is None else a0
                    frac = (np.arange(1, m + 1) / (m + 1))[:, None]
                    gi = None
                    if gyro is not None:
                        g0 = gyro[cut] if g0 is None else g0
                        gi = g0 + frac * (gyro[cut] - g0)
                    xs = (self._count + np.arange(m)) * dt_nom
                    add_piece(xs, a0 + frac * (acc[cut] - a0), gi, np.full(m, arrival[cut]), True)
                    self.samples_filled += m
                    if gap_s > 0.05:
                        self._warn_gap(float(arrival[cut]), gap_s, bridged=True)
                else:
                    emit()
                    self.samples_lost += m
                    self.breaks += 1
                    state["brk"] = True
                    state["x_prev"] = None
                    self._warn_gap(float(arrival[cut]), gap_s, bridged=False)
                self._count += m
                self._prev_real = None  # tested: do not test the same burst again
            start = cut
        emit()
        return out

    def _refit_count_clock(self, *, restart: bool) -> None:
        """Forget the clock line's history (see `stream_configured`); the next sample re-anchors it."""
        self.fit.reset()
        self._excess_hist.clear()
        self._excess_line = None
        self._prev_real = None
        if restart:
            self._last_x = None

    def _rebase_excess(self) -> None:
        """Re-measure the remembered excesses against the current clock line.

        A refit moves the line (its offset by tens of milliseconds when an early block turns out
        to be an outlier); excesses kept from before would then differ from new ones by that
        move, and the step test would take the move for dropped samples.
        """
        line = (float(self.fit.c), float(self.fit.b))  # type: ignore[arg-type]
        old, self._excess_line = self._excess_line, line
        if old is None or old == line or not self._excess_hist:
            return
        (oc, ob), (c, b) = old, line
        rebased = deque()
        for x, e, _ in self._excess_hist:
            e2 = e + (oc - c) + (ob - b) * x
            rebased.append((x, e2, float(_amin(e2))))
        self._excess_hist = rebased

    def _remember_excess(self, x: np.ndarray, e: np.ndarray) -> None:
        """Keep the group-last excess of recent bursts (for the step test)."""
        if x.size:
            horizon = float(x[0]) - _STEP_WINDOW_S
            while self._excess_hist and float(self._excess_hist[0][0][-1]) < horizon:
                self._excess_hist.popleft()
            self._excess_hist.append((x, e, float(_amin(e))))

    def _recent_floors(self, xf: np.ndarray, ef: np.ndarray, cand: np.ndarray) -> np.ndarray:
        """Lowest group-last excess in the `_STEP_WINDOW_S` before each candidate burst.

        ``xf``, ``ef``: this span's bursts (clock position and excess, in order); ``cand``: the
        candidates among them. The window runs over the recent history plus the bursts of this
        span before the candidate; one `np.minimum.reduceat` takes every window's minimum.
        """
        hist = self._excess_hist
        xs = np.concatenate([h[0] for h in hist] + [xf]) if hist else xf
        # (+inf at the end: reduceat needs every window bound to index an element.)
        es = np.concatenate([h[1] for h in hist] + [ef, _INF1])
        x_now = xf[cand]
        # Each candidate's own burst is in the concatenation: its window is [lo, hi).
        hi = xs.searchsorted(x_now, side="left")
        lo = xs.searchsorted(x_now - _STEP_WINDOW_S, side="left")
        bounds = np.empty(2 * len(cand), dtype=np.intp)
        bounds[0::2] = lo
        bounds[1::2] = hi
        mins = np.minimum.reduceat(es, bounds)[0::2]  # (the odd slots span the gaps between windows)
        return np.where(hi > lo, mins, np.inf)

    # ------------------------------------------------------------------ common

    def _fix_nonfinite(
        self, acc: np.ndarray, gyro: np.ndarray | None, filled: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """Replace rows with NaN/inf or impossible values by the last valid row (causal, so
        chunking cannot matter). Impossible: beyond any sensor's range (a hand-made file with
        1e6 m/s^2 would otherwise read as clipping and lose every rep)."""
        with np.errstate(invalid="ignore"):
            bad = ~_all3(np.abs(acc) <= _ABSURD_ACCEL_MPS2)
            if gyro is not None:
                bad |= ~_all3(np.abs(gyro) <= _ABSURD_GYRO_RADS)
        if not bad.any():
            return acc, gyro, filled
        nbad = int(bad.sum())
        self.nonfinite += nbad
        self.samples_filled += nbad
        if self.nonfinite == nbad:
            self.warnings.append("non-finite (NaN/inf) samples or impossible values (beyond 200 g or 200 rad/s) in the "
                                 "input were replaced by the last valid sample")
            self.warning_times.append(self._last_arrival if math.isfinite(self._last_arrival) else 0.0)
        filled = filled | bad
        idx = np.arange(len(acc))
        last_good = np.maximum.accumulate(np.where(~bad, idx, -1))
        out = []
        for arr, prev, default in (
            (acc, self._last_acc, np.array([0.0, 0.0, STANDARD_GRAVITY_MPS2])),
            (gyro, self._last_gyro, np.zeros(3)),
        ):
            if arr is None:
                out.append(None)
                continue
            fixed = arr.copy()
            before = last_good < 0
            src = np.where(before, 0, last_good)
            fixed[~before] = arr[src[~before]]
            if before.any():
                fill = prev if prev is not None and np.isfinite(prev).all() else default
                fixed[before] = fill
            # rows that are good keep their own values
            fixed[~bad] = arr[~bad]
            out.append(fixed)
        return out[0], out[1], filled

    def _finish_chunk(self, x, t, dt, acc, gyro, arrival, filled, brk) -> SampleChunk:  # noqa: ANN001
        at_full_scale = np.abs(acc) >= _CLIP_FRACTION * self.range_mps2
        clipped = at_full_scale[:, 0] | at_full_scale[:, 1] | at_full_scale[:, 2]  # = .any(axis=1), faster
        self._last_x = float(x[-1])
        self._last_arrival = float(arrival[-1])
        self._last_acc = acc[-1].copy()
        self._last_gyro = None if gyro is None else gyro[-1].copy()
        if self.first_t_s is None:
            self.first_t_s = float(t[0])
        self.last_t_s = float(t[-1])
        lost = self.samples_lost - self._lost_reported
        self._lost_reported = self.samples_lost
        return SampleChunk(t, dt, acc, gyro, arrival, filled, clipped, brk, lost)

    # ------------------------------------------------------------------ spikes

    def _release_held(self) -> None:
        """Time a held-back sample now (before a break, a configuration or the end of input)."""
        if self._held is not None:
            held, self._held = self._held, None
            self._pending_out.extend(self._push(held))

    def _despike(self, batch: ImuBatch) -> ImuBatch | None:
        """Replace isolated single samples no barbell can produce; returns what to time now.

        A sensor without a checksum (WitMotion) turns a corrupted byte into a plausible-looking
        value anywhere up to full scale, and one such sample spoils the velocity and stillness
        of the seconds around it: a 1 g spike at 50 Hz is a 0.2 m/s step in velocity, and a
        gyro spike turns the estimated vertical by tens of degrees, after which no rest looks
        still. A sample is a spike when it stands out from the mean of its two neighbours by
        more than `_SPIKE_ACCEL_MPS2` (accelerometer) or `_SPIKE_GYRO_RADS` (gyro) *and* by
        `_SPIKE_RATIO` times more than the signal changes around it (next against previous,
        previous against the one before): real bar motion -- a deadlift breaking from the
        floor, plates rattling -- changes over several samples, so its neighbours differ too.
        The whole sample (a corrupted frame is suspect in every field) becomes the mean of its
        neighbours. This runs on the samples as received, before gaps are filled (a fill
        interpolated from a spike would make it look like real motion). Deciding needs the
        next sample, so a batch's last sample is held back, only when it already jumps from
        the calm before it. Decisions depend only on the sample sequence, never on chunking.
        """
        n = len(batch)
        if n == 0:
            return None
        held, self._held = self._held, None
        if held is not None:
            if (held.gyro_rads is None) == (batch.gyro_rads is None) and (
                    (held.sensor_time_s is None) == (batch.sensor_time_s is None)):
                batch = _join_batches(held, batch)
                n = len(batch)
            else:  # the stream changed shape: time the held sample on its own first
                self._pending_out.extend(self._push(held))
                self._ctx = None
        acc = np.asarray(batch.accel_mps2, dtype=np.float64)
        gyro = None if batch.gyro_rads is None else np.asarray(batch.gyro_rads, dtype=np.float64)
        ctx_a, ctx_g = self._ctx if self._ctx is not None else (np.zeros((0, 3)), None)
        ca = np.vstack((ctx_a, acc))
        cg = None if gyro is None else (np.vstack((ctx_g, gyro)) if ctx_g is not None and len(ctx_g) == len(ctx_a)
                                        else np.vstack((np.full((len(ctx_a), 3), np.nan), gyro)))
        off = len(ca) - n
        with np.errstate(invalid="ignore"):
            bad = _spikes(ca, _SPIKE_ACCEL_MPS2, impacts=True)
            if cg is not None:
                bad |= _spikes(cg, _SPIKE_GYRO_RADS)
            hold = _jumps_at_end(ca, _SPIKE_ACCEL_MPS2) or (cg is not None and _jumps_at_end(cg, _SPIKE_GYRO_RADS))
        keep = len(ca) - 1 if hold else len(ca)  # context: the two samples before the next to judge
        self._ctx = (ca[max(0, keep - 2):keep].copy(), None if cg is None else cg[max(0, keep - 2):keep].copy())
        idx = np.flatnonzero(bad) - off
        idx = idx[idx >= 0]
        if idx.size:
            acc = acc.copy()
            gyro = None if gyro is None else gyro.copy()
            j = idx + off  # the same samples in the context arrays (neighbours as received)
            acc[idx] = 0.5 * (ca[j - 1] + ca[j + 1])
            if gyro is not None and cg is not None:
                gyro[idx] = 0.5 * (cg[j - 1] + cg[j + 1])
            arrival = batch.arrival_times()
            if self.spikes == 0 and len(self.warnings) < 50:
                self.warnings.append("isolated impossible samples (corrupted values?) were replaced by the mean of "
                                     "their neighbours")
                self.warning_times.append(float(arrival[int(idx[0])]))
            self.spikes += int(idx.size)
            batch = ImuBatch(batch.host_time_s, acc, gyro, batch.sensor_time_s, batch.rate_hz, arrival)
        if not hold:
            return batch
        self._held = _slice_batch(batch, n - 1, n)
        return _slice_batch(batch, 0, n - 1) if n > 1 else None

    def _warn_gap(self, at_s: float, gap_s: float, *, bridged: bool) -> None:
        what = "bridged by interpolation" if bridged else "too long to bridge: reps across it are not measured"
        if len(self.warnings) < 50:
            self.warnings.append(f"gap of {gap_s * 1000:.0f} ms in the samples at t={at_s:.2f} s ({what})")
            self.warning_times.append(at_s)


__all__ = ["SampleChunk", "Timebase"]
