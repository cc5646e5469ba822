"""Online accelerometer-bias calibration from the drift of closed motion segments.

A zero-velocity update removes a *constant* error exactly (science.md §1.2), but an
accelerometer bias vector ``b`` (MPU-6050 class: tens of mg, science.md §6.1) projects onto the
vertical differently as the sensor turns: a squat bar rolls 15-40 deg as the torso leans, so
``b`` leaks into the vertical acceleration in step with each rep -- a rep-shaped error that no
detrend removes (science.md §1.1 notes the effect for single-axis methods; it applies to every
method when ``b`` is not known).

Every closed segment (still -> motion -> still) measures it, though. With ``x(t)`` the unit
vector the vertical estimate projects on (the up vector with a gyro; the measured specific-force
direction for the norm method) the velocity the plain integration has reached at the closing
still window is::

    drift_j = b . C_j + (g - g_hat) T_j,     C_j = integral of x(t) dt over the segment

(``g_hat``: the gravity reading used). One scalar equation per segment in four unknowns
``(b, g)``; segments with different rotation histories make them observable. They are solved by
ridge-regularised least squares with exponential forgetting (the bias walks slowly: minutes,
science.md §6.3), with a prior ``b ~ 0 +/- 50 mg`` and ``g`` near the first still reading, so a
session without rotation simply keeps ``b`` near zero. The correction is then
``a = f . u - g_hat - b_hat . x``.

Decisions depend only on the closed segments in order (deterministic, chunking-independent).
"""

from __future__ import annotations

import numpy as np

#: Prior SD of each bias component (m/s^2): 50 mg, the MPU-6050 initial zero-g offset class.
_BIAS_PRIOR_MPS2 = 0.5
#: Prior SD of the gravity reading around the first still reading (m/s^2).
_G_PRIOR_MPS2 = 0.15
#: A segment whose drift exceeds this (m/s) failed for some other reason (clipping, large
#: horizontal acceleration for the norm method, a missed stop) and teaches nothing.
_MAX_DRIFT_MPS = 0.25
#: SD of a segment's drift not explained by the model (lever arm, scale, noise) (m/s).
_DRIFT_SD_MPS = 0.03
#: Forgetting per segment (the bias walks over minutes).
_FORGET = 0.97
#: The estimate is used once the data carry at least this much weight (effective segments).
_MIN_SEGMENTS = 3.0


class AccelCalibration:
    """Running estimate of the accelerometer bias vector and the gravity reading.

    Args:
        g0_mps2: First still gravity reading (prior centre for ``g``).
    """

    def __init__(self, g0_mps2: float) -> None:
        self.g0 = float(g0_mps2)
        self._ata = np.zeros((4, 4))
        self._aty = np.zeros(4)
        self._weight = 0.0
        self.bias = np.zeros(3)
        self.g = self.g0

    @property
    def ready(self) -> bool:
        """Enough segments to use the estimate."""
        return self._weight >= _MIN_SEGMENTS

    def add_segment(
        self, c_vec: np.ndarray, span_s: float, drift_mps: float, bias_used: np.ndarray, g_used: float
    ) -> None:
        """Add one closed segment.

        Args:
            c_vec: Integral of the projection direction ``x(t)`` over the segment (s).
            span_s: Segment duration (s).
            drift_mps: Velocity the integration reached at the closing still window.
            bias_used, g_used: The bias vector and gravity reading that integration used.
        """
        if span_s <= 0 or not np.all(np.isfinite(c_vec)) or not np.isfinite(drift_mps):
            return
        if abs(drift_mps) > _MAX_DRIFT_MPS:
            return
        # drift = (b - b_used).C + (g - g_used) T  =>  b.C + g T = drift + b_used.C + g_used T
        row = np.concatenate((c_vec, [span_s]))
        y = drift_mps + float(np.asarray(bias_used) @ c_vec) + g_used * span_s
        w = 1.0 / _DRIFT_SD_MPS**2
        self._ata = _FORGET * self._ata + w * np.outer(row, row)
        self._aty = _FORGET * self._aty + w * row * y
        self._weight = _FORGET * self._weight + 1.0
        prior = np.diag([1.0 / _BIAS_PRIOR_MPS2**2] * 3 + [1.0 / _G_PRIOR_MPS2**2])
        rhs = self._aty + prior @ np.array([0.0, 0.0, 0.0, self.g0])
        try:
            sol = np.linalg.solve(self._ata + prior, rhs)
        except np.linalg.LinAlgError:
            return
        if np.all(np.isfinite(sol)) and np.linalg.norm(sol[:3]) < 3.0 * _BIAS_PRIOR_MPS2 * np.sqrt(3):
            self.bias = sol[:3]
            self.g = float(sol[3])


__all__ = ["AccelCalibration"]
