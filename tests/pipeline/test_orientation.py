"""Gyro propagation of the up vector: exact rotation products, smoother end points, imufusion."""

from __future__ import annotations

import imufusion
import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from vbt.pipeline import orientation as ori


def rates(n: int, dt: float) -> np.ndarray:
    t = np.arange(n) * dt
    return np.stack([1.5 * np.sin(2 * t), 0.8 * np.cos(3 * t), 0.5 * np.sin(t)], axis=1)


def reference_up(w: np.ndarray, dt: float, u0: np.ndarray) -> np.ndarray:
    """Sequential exact rotations (scipy) with the trapezoidal rate, one step at a time."""
    rot = Rotation.identity()
    out = [u0]
    for k in range(1, len(w)):
        rot = rot * Rotation.from_rotvec(0.5 * (w[k] + w[k - 1]) * dt)
        out.append(rot.inv().apply(u0))
    return np.array(out)


def angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    c = np.einsum("ij,ij->i", a / np.linalg.norm(a, axis=1, keepdims=True), b)
    return np.degrees(np.arccos(np.clip(c, -1, 1)))


def test_prefix_product_matches_sequential_rotations() -> None:
    n, dt = 2000, 0.005
    w = rates(n, dt)
    u0 = ori.unit(np.array([0.2, 0.1, 1.0]))
    ref = reference_up(w, dt, u0)
    dts = np.full(n, dt)
    fwd = ori.ForwardUp(u0, np.zeros(3))
    chunked = np.concatenate([fwd.update(w[i : i + 7], dts[i : i + 7]) for i in range(0, n, 7)])
    assert angle_deg(chunked, ref).max() < 1e-5


def test_smoother_hits_both_anchors_and_spreads_bias_error() -> None:
    n, dt = 600, 0.01
    w = rates(n, dt)
    u0 = ori.unit(np.array([0.0, 0.3, 1.0]))
    ref = reference_up(w, dt, u0)
    dts = np.full(n, dt)
    biased = w + np.array([0.02, -0.015, 0.01])  # an unknown 1 deg/s bias
    forward = ori.ForwardUp(u0, np.zeros(3)).update(biased, dts)
    smooth = ori.smoothed_up(biased, dts, u0, ref[-1], np.zeros(3), np.zeros(3))
    assert angle_deg(smooth[[0, -1]], ref[[0, -1]]).max() < 1e-6
    assert angle_deg(smooth, ref).max() < 0.5 * angle_deg(forward, ref).max()


def test_forward_up_agrees_with_imufusion_gyro_only() -> None:
    """Differential check against x-io Fusion with the accelerometer correction off (gain 0)."""
    n, dt = 1000, 0.005
    w = rates(n, dt)
    u0 = np.array([0.0, 0.0, 1.0])
    ahrs = imufusion.Ahrs()
    ahrs.set_settings(imufusion.AhrsSettings(convention=imufusion.CONVENTION_NWU, gain=0.0, gyroscope_range=2000.0,
                                             acceleration_rejection=0.0, magnetic_rejection=0.0,
                                             rejection_timeout=0, sample_rate=1.0 / dt))
    ahrs.skip_startup()
    ups = []
    for k in range(n):
        ahrs.update_no_magnetometer(np.degrees(w[k]), np.array([0.0, 0.0, 1.0]))
        rot = Rotation.from_quat(np.roll(ahrs.get_quaternion(), -1))  # wxyz -> xyzw
        ups.append(rot.inv().apply(u0))
    ours = ori.ForwardUp(u0, np.zeros(3)).update(w, np.full(n, dt))
    # Fusion integrates with the end-of-step rate, we with the trapezoid: tiny difference.
    assert angle_deg(ours, np.array(ups)).max() < 0.5


def test_vertical_accel_norm_and_gyro_agree_without_horizontal_motion() -> None:
    rng = np.random.default_rng(1)
    up = ori.unit(rng.normal(size=3))
    a_v = rng.normal(0, 2, 100)
    acc = np.outer(9.80665 + a_v, up)
    a_g, x_g = ori.vertical_accel(acc, np.broadcast_to(up, (100, 3)), up, 9.80665, np.zeros(3))
    a_n, x_n = ori.vertical_accel(acc, None, up, 9.80665, np.zeros(3))
    assert np.allclose(a_g, a_v) and np.allclose(a_n, a_v)
    # A bias vector is removed along the projection direction.
    bias = np.array([0.3, -0.2, 0.1])
    a_b, _ = ori.vertical_accel(acc + bias, np.broadcast_to(up, (100, 3)), up, 9.80665, bias)
    assert np.allclose(a_b, a_v)


@pytest.mark.parametrize("angle", [0.0, 1e-9, 0.3])
def test_rotation_quats_are_unit(angle: float) -> None:
    q = ori.rotation_quats(np.array([[angle, 0.0, 0.0]]), np.array([1.0]))
    assert np.linalg.norm(q) == pytest.approx(1.0)
