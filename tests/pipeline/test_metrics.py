"""Rep metrics against closed-form velocity profiles (science.md §3 definitions)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.pipeline.synthetic import G, Rep, true_mpv
from vbt.pipeline.metrics import concentric_bounds, concentric_metrics, integral, lockout_plateau


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


def _rest_after(t: np.ndarray, v: np.ndarray, t1: float, level: float) -> np.ndarray:
    """``v`` plus the residual of an unanchored rest: ramping up to ``level`` over the rep, held."""
    return v + level * np.clip(t / t1, 0.0, 1.0)


def _position(t: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.concatenate(([0.0], np.cumsum(0.5 * (v[1:] + v[:-1]) * np.diff(t))))


@pytest.mark.parametrize("level", [0.05, -0.04])
def test_lockout_plateau_finds_an_unanchored_rest_and_its_level(level: float) -> None:
    t, v, a, t0, t1 = sine_rep(0.6, 0.9, fs=100.0, pad=0.6)
    vm = _rest_after(t, v, t1, level)
    p = _position(t, vm)
    ipk = int(np.argmax(vm))
    found = lockout_plateau(t, vm, a, p, ipk, len(t) - 1, p_min=0.75 * float(p.max()))
    assert found is not None
    first, last, got = found
    assert got == pytest.approx(level, abs=0.005)
    assert t1 - 0.05 <= t[first] <= t1 + 0.15
    # Already within a centimetre per second of zero: nothing to correct.
    v0 = _rest_after(t, v, t1, 0.005)
    assert lockout_plateau(t, v0, a, _position(t, v0), ipk, len(t) - 1, p_min=0.0) is None


def test_sticking_region_and_slow_final_approach_are_not_a_rest() -> None:
    fs = 100.0
    t = np.arange(0.0, 4.0, 1.0 / fs)
    # Push to 0.40 m/s, stall at a flat 0.08 m/s for 0.4 s, second push to 0.30, lockout, rest.
    knots_t = [0.0, 0.3, 0.6, 0.8, 1.2, 1.5, 1.9, 2.0, 4.0]
    knots_v = [0.0, 0.40, 0.20, 0.08, 0.08, 0.30, 0.0, 0.0, 0.0]
    v = np.interp(t, knots_t, knots_v)
    a = np.gradient(v, t)
    p = _position(t, v)
    ipk = int(np.argmax(v))
    assert lockout_plateau(t, v, a, p, ipk, len(t) - 1, p_min=-math.inf) is None  # a second push follows
    assert lockout_plateau(t, v, a, p, ipk, len(t) - 1, p_min=0.75 * float(p.max())) is None  # and it is low
    # A grind whose last centimetre crawls at a steady 0.06 m/s for a quarter second, then stops
    # (a crawl of 0.4 s or more cannot be told from a rest with drift: docs/analysis.md, Limits).
    v = np.interp(t, [0.0, 0.4, 0.9, 1.15, 1.25, 4.0], [0.0, 0.30, 0.06, 0.06, 0.0, 0.0])
    a = np.gradient(v, t)
    p = _position(t, v)
    assert lockout_plateau(t, v, a, p, int(np.argmax(v)), len(t) - 1, p_min=-math.inf) is None
    # The same rep with a drifting rest at 0.06 m/s after its lockout is re-zeroed.
    v = np.interp(t, [0.0, 0.4, 0.9, 1.15, 1.25, 4.0], [0.0, 0.30, 0.06, 0.06, 0.0, 0.0]) + np.clip(t / 1.25, 0, 1) * 0.06
    a = np.gradient(v, t)
    p = _position(t, v)
    found = lockout_plateau(t, v, a, p, int(np.argmax(v)), len(t) - 1, p_min=-math.inf)
    assert found is not None and t[found[0]] >= 1.15 and found[2] == pytest.approx(0.06, abs=0.01)
