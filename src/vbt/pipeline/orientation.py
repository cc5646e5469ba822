"""Vertical bar acceleration from specific force, with or without a gyro.

Only the vertical component matters for bar velocity, and only the *up* direction expressed in
the sensor frame is needed to get it: ``a_vert = f . u - g_ref``. Tilt hardly matters
(an orientation error theta leaks ``g (1 - cos theta)``, 0.013 m/s^2 at 3 deg, science.md §1.1);
what matters is that ``u`` follows the sensor through bar roll and any mounting.

With a gyro -- a smoother between still anchors. At each still period the accelerometer gives
``u`` exactly (the mean specific force points up) and the gyro's zero-rate bias (its mean).
Through the motion between two anchors the gyro alone carries the orientation (the AHRS
advice of science.md §1.1 -- low gain, let the gyro carry it through the rep -- taken to its
limit: the bar's own +/-0.5 g would corrupt any accelerometer correction). The up vector is
propagated forward from the opening anchor and backward from the closing one, and the two are
blended linearly in time, so gyro-bias drift is spread instead of accumulated. Propagation is
an exact quaternion product, evaluated as a vectorised prefix scan (``O(n log n)``, no
per-sample Python loop). For the live, causal estimate only the forward pass is available.

Without a gyro -- the norm method (science.md §1.1, §6.3: MCV SD 0.003 m/s under 20 deg roll vs
0.016 for a fixed axis): ``a_vert = s |f| - g_ref``, with the sign ``s`` of ``f . u`` from the
opening anchor so that a bar decelerating harder than free fall reads below -g.

``g_ref`` is the specific force measured at the anchors (interpolated between them), which
removes the accelerometer bias along the vertical at every still period (ZUPT bias
re-estimation, science.md §1.2) without trusting the sensor's scale.
"""

from __future__ import annotations

import numpy as np


def quat_mul(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Hamilton product of quaternion arrays ``(..., 4)`` in (w, x, y, z) order."""
    pw, px, py, pz = p[..., 0], p[..., 1], p[..., 2], p[..., 3]
    qw, qx, qy, qz = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    return np.stack(
        (
            pw * qw - px * qx - py * qy - pz * qz,
            pw * qx + px * qw + py * qz - pz * qy,
            pw * qy - px * qz + py * qw + pz * qx,
            pw * qz + px * qy - py * qx + pz * qw,
        ),
        axis=-1,
    )


def rotation_quats(gyro_rads: np.ndarray, dt_s: np.ndarray) -> np.ndarray:
    """Per-step rotation quaternions ``exp(omega dt / 2)`` for body rates ``(n, 3)``."""
    rv = gyro_rads * dt_s[:, None]
    angle = np.linalg.norm(rv, axis=1)
    half = 0.5 * angle
    # sin(half)/angle -> 1/2 as angle -> 0 (series keeps it exact for tiny steps)
    with np.errstate(invalid="ignore", divide="ignore"):
        k = np.where(angle > 1e-8, np.sin(half) / np.where(angle > 0, angle, 1.0), 0.5 - angle**2 / 48.0)
    q = np.empty((len(rv), 4))
    q[:, 0] = np.cos(half)
    q[:, 1:] = rv * k[:, None]
    return q


def prefix_product(q: np.ndarray) -> np.ndarray:
    """Inclusive prefix products ``q0, q0 q1, q0 q1 q2, ...`` (Hillis-Steele scan)."""
    out = q.copy()
    n = len(out)
    step = 1
    while step < n:
        out[step:] = quat_mul(out[:-step], out[step:])
        step *= 2
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


def cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cross product of ``(..., 3)`` arrays (plain arithmetic: ``np.cross`` is slow on small arrays)."""
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
    return np.stack((a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0), axis=-1)


def rotate_inverse(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate vectors ``v`` by the conjugate of unit quaternions ``q``: ``q* v q``."""
    w = q[..., :1]
    r = -q[..., 1:]
    t = 2.0 * cross(r, v)
    return v + w * t + cross(r, t)


def rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate vectors ``v`` by unit quaternions ``q``: ``q v q*``."""
    w = q[..., :1]
    r = q[..., 1:]
    t = 2.0 * cross(r, v)
    return v + w * t + cross(r, t)


def unit(v: np.ndarray) -> np.ndarray:
    """``v`` scaled to unit length (the z axis for a zero vector)."""
    n = float(np.linalg.norm(v))
    if not np.isfinite(n) or n < 1e-9:
        return np.array([0.0, 0.0, 1.0])
    return v / n


class ForwardUp:
    """Causal up-vector propagation from an anchor, continued chunk by chunk.

    Args:
        up: Up direction in the sensor frame at the anchor (unit vector).
        gyro_bias_rads: Gyro zero-rate bias measured at the anchor.
    """

    def __init__(self, up: np.ndarray, gyro_bias_rads: np.ndarray) -> None:
        self.up0 = up
        self.bias = gyro_bias_rads
        self.q = np.array([1.0, 0.0, 0.0, 0.0])
        self.last: np.ndarray | None = None

    def update(self, gyro_rads: np.ndarray, dt_s: np.ndarray) -> np.ndarray:
        """Up vectors ``(n, 3)`` at each new sample (the first call's first sample is the anchor)."""
        first = self.last is None
        prev = np.concatenate(([gyro_rads[0] if first else self.last], gyro_rads[:-1]))
        self.last = gyro_rads[-1].copy()
        steps = rotation_quats(0.5 * (gyro_rads + prev) - self.bias, dt_s)
        if first:
            steps[0] = np.array([1.0, 0.0, 0.0, 0.0])
        steps[0] = quat_mul(self.q, steps[0])
        cum = prefix_product(steps)
        self.q = cum[-1]
        return rotate_inverse(cum, np.broadcast_to(self.up0, (len(cum), 3)))


def smoothed_up(
    gyro_rads: np.ndarray,
    dt_s: np.ndarray,
    up_start: np.ndarray,
    up_end: np.ndarray,
    bias_start: np.ndarray,
    bias_end: np.ndarray,
) -> np.ndarray:
    """Up vectors through a motion segment between two still anchors (two-sided smoother).

    Args:
        gyro_rads: ``(n, 3)`` rates of the segment's samples; sample 0 is at the opening
            anchor (its rate is not used).
        dt_s: ``(n,)`` step before each sample (``dt_s[0]`` ignored).
        up_start, up_end: Up direction measured at the opening and closing anchors.
        bias_start, bias_end: Gyro bias measured at the two anchors (interpolated in time).

    Returns:
        ``(n, 3)`` unit up vectors, equal to ``up_start`` at sample 0 and ``up_end`` at the last.
    """
    n = len(gyro_rads)
    tau = np.concatenate(([0.0], np.cumsum(dt_s[1:])))
    frac = tau / tau[-1] if n > 1 and tau[-1] > 0 else np.zeros(n)
    bias = bias_start + np.outer(frac, bias_end - bias_start)
    # Trapezoidal rate over each step (matters at 25 Hz with fast bar roll).
    mid = np.concatenate((gyro_rads[:1], 0.5 * (gyro_rads[1:] + gyro_rads[:-1])))
    steps = rotation_quats(mid - bias, dt_s)
    steps[0] = np.array([1.0, 0.0, 0.0, 0.0])
    cum = prefix_product(steps)
    # In the opening anchor's frame: forward estimate is up_start; the backward one is the
    # closing anchor's up carried back through the whole segment's rotation.
    back = rotate(cum[-1], up_end)
    blend = (1.0 - frac)[:, None] * up_start + frac[:, None] * back
    blend /= np.linalg.norm(blend, axis=1, keepdims=True)
    return rotate_inverse(cum, blend)


def vertical_accel(
    accel_mps2: np.ndarray,
    up: np.ndarray | None,
    up0: np.ndarray,
    g_mps2: float,
    bias_mps2: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Vertical acceleration with the accelerometer bias vector removed.

    Args:
        accel_mps2: ``(n, 3)`` specific force, sensor frame.
        up: ``(n, 3)`` up vectors (gyro), or None for the norm method.
        up0: Up vector at the opening still period (sign of the norm method).
        g_mps2: Gravity reading to subtract.
        bias_mps2: Accelerometer bias vector estimate (`vbt.pipeline.calibration`).

    Returns:
        ``(a, x)``: vertical acceleration (m/s^2) and the unit vector each sample's estimate
        projects a bias onto (the up vector, or the specific-force direction).
    """
    if up is not None:
        a = np.einsum("ij,ij->i", accel_mps2, up) - up @ bias_mps2 - g_mps2
        return a, up
    norm = np.linalg.norm(accel_mps2, axis=1)
    x = accel_mps2 / np.maximum(norm, 1e-9)[:, None]
    sign = np.where(accel_mps2 @ up0 >= 0.0, 1.0, -1.0)
    return sign * (norm - x @ bias_mps2) - g_mps2, x


def vertical_accel_gyro(accel_mps2: np.ndarray, up: np.ndarray, g_ref: np.ndarray) -> np.ndarray:
    """``f . u - g_ref`` per sample."""
    return np.einsum("ij,ij->i", accel_mps2, up) - g_ref


def vertical_accel_norm(accel_mps2: np.ndarray, up0: np.ndarray, g_ref: np.ndarray) -> np.ndarray:
    """Norm method: ``sign(f . u0) |f| - g_ref`` per sample."""
    norm = np.linalg.norm(accel_mps2, axis=1)
    sign = np.where(accel_mps2 @ up0 >= 0.0, 1.0, -1.0)
    return sign * norm - g_ref


__all__ = [
    "ForwardUp",
    "prefix_product",
    "quat_mul",
    "rotate",
    "rotate_inverse",
    "rotation_quats",
    "smoothed_up",
    "unit",
    "vertical_accel",
    "vertical_accel_gyro",
    "vertical_accel_norm",
]
