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

from collections import deque

import numpy as np

from vbt.pipeline.settings import PipelineSettings

#: Noise-floor bookkeeping block (s) and history (blocks).
_NOISE_BLOCK_S = 1.0
_NOISE_BLOCKS = 60
#: Quantile of the block minima taken as the noise floor.
_NOISE_QUANTILE = 20.0


def window_count(settings: PipelineSettings, rate_hz: float) -> int:
    """Samples in the stillness window at ``rate_hz`` (at least 3, so an SD means something)."""
    return max(3, int(round(settings.still_window_s * rate_hz)))


class _RollingStats:
    """Trailing-window mean and SD of one or more signals, carried across chunks.

    Every window is summed on its own (not as a difference of running sums), so the result is
    bit-identical however the samples were chunked.
    """

    def __init__(self, width: int, ncols: int, ref: float = 0.0) -> None:
        self.width = width
        self.ref = ref
        self.tail = np.empty((0, ncols))

    def update(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and SD over the window ending at each row of ``x`` (NaN until the window fills)."""
        w = self.width
        full = np.concatenate((self.tail, x - self.ref))
        self.tail = full[-(w - 1) :] if w > 1 else full[:0]
        n = x.shape[0]
        mean = np.full(x.shape, np.nan)
        sd = np.full(x.shape, np.nan)
        k = full.shape[0] - w + 1  # windows ending at the last k rows
        if k <= 0:
            return mean, sd
        win = np.lib.stride_tricks.sliding_window_view(full, w, axis=0)  # (k, ncols, w)
        m = win.mean(axis=2)
        var = np.maximum((win * win).mean(axis=2) - m * m, 0.0)
        mean[n - k :] = m + self.ref
        sd[n - k :] = np.sqrt(var)
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
        self._mins_a: deque[float] = deque(maxlen=_NOISE_BLOCKS)
        self._mins_g: deque[float] = deque(maxlen=_NOISE_BLOCKS)
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
        norm = np.linalg.norm(accel_mps2, axis=1)[:, None]
        mean_n, sd_n = self._norm.update(norm)
        mean_n, sd_n = mean_n[:, 0], sd_n[:, 0]
        if self._gyro is not None and gyro_rads is not None:
            _, sd_g3 = self._gyro.update(gyro_rads)
            sd_g = sd_g3.max(axis=1)
        else:
            sd_g = np.zeros(len(norm))
        thr_a, thr_g, noise_a, noise_g = self._thresholds(sd_n, sd_g)
        return mean_n, sd_n, sd_g, thr_a, thr_g, noise_a, noise_g

    def _thresholds(self, sd_n: np.ndarray, sd_g: np.ndarray) -> tuple[np.ndarray, ...]:
        """Thresholds and noise floors per sample; updated at block boundaries only."""
        n = len(sd_n)
        thr_a = np.empty(n)
        thr_g = np.empty(n)
        noise_a = np.empty(n)
        noise_g = np.empty(n)
        s = self.settings
        i = 0
        while i < n:
            take = min(n - i, self._block_len - self._block_fill)
            thr_a[i : i + take] = self.accel_threshold
            thr_g[i : i + take] = self.gyro_threshold
            noise_a[i : i + take] = self.accel_noise
            noise_g[i : i + take] = self.gyro_noise
            seg_a = sd_n[i : i + take]
            seg_g = sd_g[i : i + take]
            if np.isfinite(seg_a).any():
                self._block_min_a = min(self._block_min_a, float(np.nanmin(seg_a)))
            if self.has_gyro and np.isfinite(seg_g).any():
                self._block_min_g = min(self._block_min_g, float(np.nanmin(seg_g)))
            self._block_fill += take
            i += take
            if self._block_fill >= self._block_len:
                if np.isfinite(self._block_min_a):
                    self._mins_a.append(self._block_min_a)
                if np.isfinite(self._block_min_g):
                    self._mins_g.append(self._block_min_g)
                self._block_fill = 0
                self._block_min_a = np.inf
                self._block_min_g = np.inf
                if self._mins_a:
                    noise = float(np.percentile(np.asarray(self._mins_a), _NOISE_QUANTILE))
                    self.accel_noise = noise
                    self.accel_threshold = min(
                        max(s.still_accel_sd_mps2, s.still_noise_factor * noise), 3.0 * s.still_accel_sd_mps2
                    )
                if self._mins_g:
                    floor_g = float(np.percentile(np.asarray(self._mins_g), _NOISE_QUANTILE))
                    self.gyro_noise = floor_g
                    self.gyro_threshold = min(
                        max(s.still_gyro_sd_rads, s.still_noise_factor * floor_g), 3.0 * s.still_gyro_sd_rads
                    )
        return thr_a, thr_g, noise_a, noise_g


__all__ = ["StillnessDetector", "window_count"]
