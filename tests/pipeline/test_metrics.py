"""Rep metrics against closed-form velocity profiles (science.md §3 definitions)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.pipeline.synthetic import G, Rep, true_mpv
from vbt.pipeline.metrics import concentric_bounds, concentric_metrics, integral


def sine_rep(peak: float, dur: float, fs: float = 1000.0, pad: float = 0.3):
    """A sine concentric padded with rest: (t, v, a) and the true start/end."""
    t = np.arange(0.0, dur + 2 * pad, 1.0 / fs)
    tau = t - pad
    v = np.where((tau >= 0) & (tau <= dur), peak * np.sin(math.pi * np.clip(tau, 0, dur) / dur), 0.0)
    a = np.where((tau >= 0) & (tau <= dur), peak * math.pi / dur * np.cos(math.pi * np.clip(tau, 0, dur) / dur), 0.0)
    return t, v, a, pad, pad + dur


@pytest.mark.parametrize(("peak", "dur"), [(0.8, 0.8), (0.4, 1.5), (1.6, 0.45)])
def test_metrics_match_closed_form(peak: float, dur: float) -> None:
    t, v, a, t0, t1 = sine_rep(peak, dur)
    ipk = int(np.argmax(v))
    start, end = concentric_bounds(t, v, ipk, 0, len(t) - 1)
    assert start == pytest.approx(t0, abs=2e-3)
    assert end == pytest.approx(t1, abs=2e-3)
    m = concentric_metrics(t, v, a, a, start, end, gravity_mps2=G, load_kg=100.0)
    rep = Rep(peak, dur)
    assert m.mean_velocity_mps == pytest.approx(rep.mcv, rel=3e-3)
    assert m.rom_m == pytest.approx(rep.rom_m, rel=3e-3)
    assert m.peak_velocity_mps == pytest.approx(peak, rel=1e-3)
    assert m.peak_time_s - start == pytest.approx(dur / 2, abs=2e-3)
    # MPV: the braking phase (a < -g) exists only when peak * pi / dur > g.
    assert m.mean_propulsive_velocity_mps == pytest.approx(true_mpv(rep), rel=5e-3)
    # Mean power m (a + g) v over a rep that starts and ends at rest equals m g MCV.
    assert m.mean_power_w == pytest.approx(100.0 * G * rep.mcv, rel=5e-3)


def test_mpv_below_mcv_only_with_braking() -> None:
    fast = Rep(1.6, 0.45)
    slow = Rep(0.5, 1.2)
    assert true_mpv(fast) > fast.mcv  # the propulsive part excludes the slow braking tail
    assert true_mpv(slow) == slow.mcv


def test_lingering_residual_does_not_stretch_the_rep() -> None:
    t, v, a, t0, t1 = sine_rep(0.6, 0.9)
    # A drift residual of 4 mm/s after lockout would move the zero crossing to the next stop.
    v = v + np.where(t > t1, 0.004, 0.0)
    ipk = int(np.argmax(v))
    start, end = concentric_bounds(t, v, ipk, 0, len(t) - 1)
    assert end == pytest.approx(t1, abs=0.02)


def test_integral_of_piecewise_linear() -> None:
    t = np.array([0.0, 1.0, 2.0])
    y = np.array([0.0, 2.0, 0.0])
    assert integral(t, y, 0.0, 2.0) == pytest.approx(2.0)
    assert integral(t, y, 0.5, 1.5) == pytest.approx(1.5)
    assert integral(t, y, 1.0, 1.0) == 0.0
