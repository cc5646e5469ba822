"""Stillness detection: window statistics and adaptive thresholds, however the input is chunked."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest

from vbt.pipeline.settings import DEFAULT_SETTINGS
from vbt.pipeline.stationary import StillnessDetector, _History, window_count

RATE_HZ = 100.0


def _rest_and_sets(n: int = 4000, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """A bar at rest with sensor noise and a gyro bias, moving 3 s in every 10 s."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / RATE_HZ
    acc = np.array([0.2, -0.1, 9.81]) + rng.normal(0.0, 0.02, (n, 3))
    gyro = np.array([0.03, -0.02, 0.01]) + rng.normal(0.0, 0.004, (n, 3))
    moving = t % 10.0 > 7.0
    acc[moving, 2] += 3.0 * np.sin(2 * np.pi * t[moving])
    gyro[moving, 0] += 0.5 * np.sin(2 * np.pi * t[moving])
    return acc, gyro


def _run(acc: np.ndarray, gyro: np.ndarray | None, sizes: list[int]) -> tuple[np.ndarray, ...]:
    det = StillnessDetector(DEFAULT_SETTINGS, RATE_HZ, gyro is not None)
    parts = []
    i = k = 0
    while i < len(acc):
        size = sizes[k % len(sizes)]
        parts.append(det.update(acc[i : i + size], None if gyro is None else gyro[i : i + size]))
        i += size
        k += 1
    return tuple(np.concatenate([p[j] for p in parts]) for j in range(7))


@pytest.mark.parametrize("with_gyro", [True, False])
@pytest.mark.parametrize("sizes", [[1], [7], [33, 1, 250, 2], [10**6]])
def test_statistics_do_not_depend_on_chunking(sizes: list[int], with_gyro: bool) -> None:
    acc, gyro = _rest_and_sets()
    gyro = gyro if with_gyro else None
    whole = _run(acc, gyro, [len(acc)])
    for got, want in zip(_run(acc, gyro, sizes), whole, strict=True):
        assert got.dtype == want.dtype
        assert np.array_equal(got, want, equal_nan=True)  # bit for bit


def test_windows_fill_and_thresholds_follow_the_noise_floor() -> None:
    acc, gyro = _rest_and_sets()
    mean_n, sd_n, sd_g, thr_a, thr_g, noise_a, noise_g = _run(acc, gyro, [len(acc)])
    w = window_count(DEFAULT_SETTINGS, RATE_HZ)
    assert np.isnan(sd_n[: w - 1]).all() and np.isfinite(sd_n[w - 1 :]).all()
    assert np.isnan(mean_n[: w - 1]).all() and np.isfinite(mean_n[w - 1 :]).all()
    assert np.isnan(sd_g[: w - 1]).all() and np.isfinite(sd_g[w - 1 :]).all()
    # The thresholds start at their floors and change only at noise-block boundaries.
    assert thr_a[0] == DEFAULT_SETTINGS.still_accel_sd_mps2 and thr_g[0] == DEFAULT_SETTINGS.still_gyro_sd_rads
    changes = np.flatnonzero(np.diff(noise_a)) + 1
    assert changes.size and np.all(changes % int(RATE_HZ) == 0)
    # At rest the window SDs sit at the sensor's noise, which the floors measure.
    rest = slice(int(2 * RATE_HZ), int(6 * RATE_HZ))
    assert noise_a[-1] == pytest.approx(np.quantile(sd_n[rest], 0.05), rel=0.5)
    assert 0.0 < noise_g[-1] < 0.01
    assert np.all(thr_a <= 3.0 * DEFAULT_SETTINGS.still_accel_sd_mps2)


def test_history_quantile_is_the_sorted_window() -> None:
    rng = np.random.default_rng(0)
    hist, ref = _History(60), deque(maxlen=60)
    for value in np.round(rng.normal(size=500), 1).tolist():  # ties included
        hist.append(value)
        ref.append(value)
        srt = sorted(ref)
        assert len(hist) == len(ref)
        assert hist.quantile(20.0) == srt[min(len(srt) - 1, int(0.2 * len(srt)))]
