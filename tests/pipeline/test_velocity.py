"""Integration and drift correction (science.md §1.2): exact on polynomials and constant bias."""

from __future__ import annotations

import numpy as np
import pytest

from vbt.pipeline.velocity import CausalIntegrator, cumtrapz, integrate_segment


def test_cumtrapz_exact_for_linear_signal() -> None:
    t = np.linspace(0.0, 2.0, 201)
    dt = np.concatenate(([0.0], np.diff(t)))
    v = cumtrapz(3.0 * t, dt)
    assert np.allclose(v, 1.5 * t**2, atol=1e-12)


def test_detrend_removes_constant_bias_exactly() -> None:
    t = np.linspace(0.0, 1.0, 101)
    dt = np.concatenate(([0.0], np.diff(t)))
    a_true = 2.0 * np.pi * np.cos(2 * np.pi * t)  # v = sin(2 pi t): zero at both ends
    kin = integrate_segment(a_true + 0.3, dt, t, 0.0)
    assert kin.drift_mps == pytest.approx(0.3, abs=1e-3)
    assert np.allclose(kin.velocity_mps, np.sin(2 * np.pi * t), atol=2e-3)


def test_still_window_fit_ignores_motion_tail() -> None:
    # Motion ends at 1.0 s; the closing still window 1.0-1.2 s pins the drift slope.
    t = np.linspace(0.0, 1.2, 121)
    dt = np.concatenate(([0.0], np.diff(t)))
    a = np.where(t <= 1.0, 2 * np.pi * np.cos(2 * np.pi * t), 0.0) + 0.2
    kin = integrate_segment(a, dt, t, 0.0, still_from=101)
    assert np.abs(kin.velocity_mps[101:]).max() < 0.01
    assert kin.velocity_mps[25] == pytest.approx(1.0, abs=0.02)


def test_causal_integrator_is_chunk_invariant() -> None:
    rng = np.random.default_rng(4)
    a = rng.normal(0, 1, 500)
    dt = np.full(500, 0.01)
    dt[0] = 0.0
    whole = CausalIntegrator().update(a, dt)
    ci = CausalIntegrator()
    parts = [ci.update(a[i : i + 7], dt[i : i + 7]) for i in range(0, 500, 7)]
    assert np.array_equal(np.concatenate([p[0] for p in parts]), whole[0])
    assert np.array_equal(np.concatenate([p[1] for p in parts]), whole[1])


def _descent_and_rise() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Descent 0-1 s, concentric 1-1.5 s, still 1.5-2 s at 100 Hz: (t, dt, true acceleration)."""
    t = np.arange(0.0, 2.0001, 0.01)
    dt = np.concatenate(([0.0], np.diff(t)))
    v = np.where(t < 1.0, -0.5 * np.sin(np.pi * t), 0.0)
    rise = (t >= 1.0) & (t <= 1.5)
    v[rise] = 0.9 * np.sin(np.pi * (t[rise] - 1.0) / 0.5) ** 2
    return t, dt, np.gradient(v, t)


@pytest.mark.parametrize("bias", [0.0, 0.1])
def test_error_growing_with_acceleration_is_removed_where_it_accrued(bias: float) -> None:
    # 8 % of |a| leaks into the vertical (norm method with horizontal acceleration, bar roll):
    # the plain linear detrend smears it over the whole segment (~0.06 m/s error); the split
    # fit puts it where the bar accelerated and still finds the constant bias.
    t, dt, a = _descent_and_rise()
    truth = cumtrapz(a, dt)
    measured = a + 0.08 * np.abs(a) + bias
    kin = integrate_segment(measured, dt, t, 0.0, still_from=160)
    assert np.abs(kin.velocity_mps - truth).max() < 0.015
    assert np.abs(kin.velocity_mps[160:]).max() < 0.005
    raw = cumtrapz(measured, dt)
    linear = raw - raw[-1] * t / t[-1]
    assert np.abs(linear - truth).max() > 0.05
