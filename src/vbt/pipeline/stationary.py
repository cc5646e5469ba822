"""Stillness detection: which samples could anchor a zero-velocity update (ZUPT).

A sample is *quiet* when, over the trailing window of `PipelineSettings.still_window_s`
ending at it:

* the SD of the specific-force norm ``|f|`` is below the accelerometer threshold,
* the mean of ``|f|`` is within a tolerance of the gravity measured at the last still period
  (a bar decelerating steadily into lockout has a small SD but a non-zero mean), and
* with a gyro, the SD of each gyro axis is below the gyro threshold (the SD, not the norm, so
  a zero-rate bias of up to +/-20 deg/s -- MPU-6050, science.md §6.1 -- does not matter).

Thresholds adapt to the sensor: each is ``max(floor, still_noise_factor x noise)``, capped at
three times the floor, where *noise* is a low quantile of the per-block minimum window SD over
the last minute -- the sensor's own noise floor while the bar rests (science.md §2: windowed SD
of ``|f|`` under ~0.1-0.15 m/s^2 and gyro under ~3-5 deg/s, x-io gait example 100 ms margins).

Whether a quiet run really anchors a ZUPT (velocity check, hysteresis) is decided by the
streaming pipeline, which knows the integrated velocity.
"""

from __future__ import annotations

import bisect
import math
from collections import deque

import numpy as np

from vbt.pipeline.settings import PipelineSettings
from vbt.pipeline.timebase import row_norms

#: Noise-floor bookkeeping block (s) and history (blocks).
_NOISE_BLOCK_S = 1.0
_NOISE_BLOCKS = 60
#: Quantile of the block minima taken as the noise floor.
_NOISE_QUANTILE = 20.0


class _History:
    """The last ``maxlen`` values, also kept sorted (for a quantile at every append)."""

    def __init__(self, maxlen: int) -> None:
        self._recent: deque[float] = deque(maxlen=maxlen)
        self._sorted: list[float] = []

    def append(self, value: float) -> None:
        if len(self._recent) == self._recent.maxlen:
            del self._sorted[bisect.bisect_left(self._sorted, self._recent[0])]
        self._recent.append(value)
        bisect.insort(self._sorted, value)

    def __len__(self) -> int:
        return len(self._recent)

    def quantile(self, q: float) -> float:
        """Lower ``q``-th percentile (nearest rank); cheaper than np.percentile."""
        arr = self._sorted
        return float(arr[min(len(arr) - 1, int(q / 100.0 * len(arr)))])


def window_count(settings: PipelineSettings, rate_hz: float) -> int:
    """Samples in the stillness window at ``rate_hz`` (at least 3, so an SD means something)."""
    return max(3, int(round(settings.still_window_s * rate_hz)))


class _RollingStats:
    """Trailing-window mean and SD of one or more signals, carried across chunks.

    Window sums are differences of running sums that continue from chunk to chunk. NumPy's
    ``cumsum`` adds strictly left to right, so the running sums -- and every window statistic
    -- are bit-identical however the samples were chunked.
    """

    def __init__(self, width: int, ncols: int, ref: float = 0.0) -> None:
        self.width = width
        self.ref = ref
        self.s1 = np.zeros((1, ncols))  # running sums up to the last sample
        self.s2 = np.zeros((1, ncols))
        self.tail1 = np.zeros((0, ncols))  # running sums of the last width-1 samples... and before
        self.tail2 = np.zeros((0, ncols))
        self.count = 0

    def update(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and SD over the window ending at each row of ``x`` (NaN until the window fills)."""
        w = self.width
        y = x - self.ref
        c1 = np.cumsum(np.concatenate((self.s1, y)), axis=0)[1:]
        c2 = np.cumsum(np.concatenate((self.s2, y * y)), axis=0)[1:]
        # Running sums of the previous `w` samples (the one just before each window).
        prev1 = np.concatenate((self.tail1, c1))
        prev2 = np.concatenate((self.tail2, c2))
        n = x.shape[0]
        # window ending at row i of x covers running-sum difference c[i] - c[i - w]
        have = len(self.tail1)  # sums available before this chunk (at most w)
        if have == w and self.count + 1 >= w:
            # The usual case: every window is full and its base sum is at hand (row i: prev[i]).
            m = (c1 - prev1[:n]) / w
            var = np.maximum((c2 - prev2[:n]) / w - m * m, 0.0)
            self.count += n
            self.s1 = c1[-1:]
            self.s2 = c2[-1:]
            self.tail1 = prev1[-w:]
            self.tail2 = prev2[-w:]
            return m + self.ref, np.sqrt(var)
        mean = np.full(x.shape, np.nan)
        sd = np.full(x.shape, np.nan)
        idx = np.arange(n)
        back = idx + have - w  # index into prev* of the sum just before the window
        full = (self.count + idx + 1) >= w
        valid = full & (back >= -1)
        if valid.any():
            i = idx[valid]
            b = back[valid]
            base1 = np.where((b >= 0)[:, None], prev1[np.maximum(b, 0)], 0.0)
            base2 = np.where((b >= 0)[:, None], prev2[np.maximum(b, 0)], 0.0)
            s1 = c1[i] - base1
            s2 = c2[i] - base2
            m = s1 / w
            var = np.maximum(s2 / w - m * m, 0.0)
            mean[i] = m + self.ref
            sd[i] = np.sqrt(var)
        self.count += n
        self.s1 = c1[-1:]
        self.s2 = c2[-1:]
        self.tail1 = prev1[-w:]
        self.tail2 = prev2[-w:]
        return mean, sd


class StillnessDetector:
    """Per-sample quietness flags with sensor-adaptive thresholds.

    Args:
        settings: Pipeline settings (stillness fields).
        rate_hz: Sample rate used to size the window (fixed at construction, so decisions
            depend only on the sample sequence).
        has_gyro: Whether gyro samples will be given.
    """

    def __init__(self, settings: PipelineSettings, rate_hz: float, has_gyro: bool) -> None:
        self.settings = settings
        self.width = window_count(settings, rate_hz)
        self.has_gyro = has_gyro
        self._norm = _RollingStats(self.width, 1, ref=9.80665)
        self._gyro = _RollingStats(self.width, 3) if has_gyro else None
        self._block_len = max(self.width, int(round(_NOISE_BLOCK_S * rate_hz)))
        self._block_fill = 0
        self._block_min_a = np.inf
        self._block_min_g = np.inf
        self._mins_a = _History(_NOISE_BLOCKS)
        self._mins_g = _History(_NOISE_BLOCKS)
        self.accel_threshold = settings.still_accel_sd_mps2
        self.gyro_threshold = settings.still_gyro_sd_rads
        #: Current noise-floor estimates (window SD of |f| and of the gyro at rest).
        self.accel_noise = settings.still_accel_sd_mps2 / settings.still_noise_factor
        self.gyro_noise = settings.still_gyro_sd_rads / settings.still_noise_factor

    def update(
        self, accel_mps2: np.ndarray, gyro_rads: np.ndarray | None
    ) -> tuple[np.ndarray, ...]:
        """Window statistics, thresholds and noise floors for each new sample.

        Returns:
            ``(mean_norm, sd_norm, sd_gyro, thr_accel, thr_gyro, noise_accel, noise_gyro)`` per
            sample: trailing-window mean and SD of ``|f|`` (m/s^2), the largest per-axis gyro
            SD (rad/s; zeros without a gyro), the thresholds and the noise floors in force at
            that sample.
        """
        norm = row_norms(accel_mps2)[:, None]
        mean_n, sd_n = self._norm.update(norm)
        mean_n, sd_n = mean_n[:, 0], sd_n[:, 0]
        if self._gyro is not None and gyro_rads is not None:
            _, sd_g3 = self._gyro.update(gyro_rads)
            sd_g = np.maximum(np.maximum(sd_g3[:, 0], sd_g3[:, 1]), sd_g3[:, 2])  # = max(axis=1), faster
        else:
            sd_g = np.zeros(len(norm))
        thr_a, thr_g, noise_a, noise_g = self._thresholds(sd_n, sd_g)
        return mean_n, sd_n, sd_g, thr_a, thr_g, noise_a, noise_g

    def _thresholds(self, sd_n: np.ndarray, sd_g: np.ndarray) -> tuple[np.ndarray, ...]:
        """Thresholds and noise floors per sample; updated at block boundaries only."""
        n = len(sd_n)
        s = self.settings
        # Segments: the rest of the current block, then whole blocks (the last may be partial).
        starts = np.arange(min(n, self._block_len - self._block_fill), n, self._block_len)
        starts = np.concatenate(([0], starts)) if n else starts
        takes = np.diff(np.append(starts, n)).tolist()
        # Each segment's smallest window SD, where it has a finite one (np.nanmin is fmin.reduce).
        fin_a = np.logical_or.reduceat(np.isfinite(sd_n), starts).tolist() if n else []
        min_a = np.fmin.reduceat(sd_n, starts).tolist() if n else []
        if self.has_gyro and n:
            fin_g = np.logical_or.reduceat(np.isfinite(sd_g), starts).tolist()
            min_g = np.fmin.reduceat(sd_g, starts).tolist()
        else:
            fin_g = [False] * len(takes)
            min_g = fin_g
        # Values in force over each segment.
        thr_a: list[float] = []
        thr_g: list[float] = []
        noise_a: list[float] = []
        noise_g: list[float] = []
        for take, fa, ma, fg, mg in zip(takes, fin_a, min_a, fin_g, min_g, strict=True):
            thr_a.append(self.accel_threshold)
            thr_g.append(self.gyro_threshold)
            noise_a.append(self.accel_noise)
            noise_g.append(self.gyro_noise)
            if fa:
                self._block_min_a = min(self._block_min_a, ma)
            if fg:
                self._block_min_g = min(self._block_min_g, mg)
            self._block_fill += take
            if self._block_fill >= self._block_len:
                if math.isfinite(self._block_min_a):
                    self._mins_a.append(self._block_min_a)
                if math.isfinite(self._block_min_g):
                    self._mins_g.append(self._block_min_g)
                self._block_fill = 0
                self._block_min_a = np.inf
                self._block_min_g = np.inf
                if self._mins_a:
                    noise = self._mins_a.quantile(_NOISE_QUANTILE)
                    self.accel_noise = noise
                    self.accel_threshold = min(
                        max(s.still_accel_sd_mps2, s.still_noise_factor * noise), 3.0 * s.still_accel_sd_mps2
                    )
                if self._mins_g:
                    floor_g = self._mins_g.quantile(_NOISE_QUANTILE)
                    self.gyro_noise = floor_g
                    self.gyro_threshold = min(
                        max(s.still_gyro_sd_rads, s.still_noise_factor * floor_g), 3.0 * s.still_gyro_sd_rads
                    )
        return tuple(np.repeat(np.array(v, dtype=np.float64), takes)
                     for v in (thr_a, thr_g, noise_a, noise_g))


__all__ = ["StillnessDetector", "window_count"]
