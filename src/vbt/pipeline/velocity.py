"""Velocity and position from vertical acceleration: trapezoid integration, ZUPT and detrend.

science.md §1.2 compares drift corrections on simulated bar data: plain integration is useless
(+0.86 +/- 0.76 m/s MCV error), a ZUPT at each still period with bias re-estimated gets the 95th
percentile to 0.035 m/s, and ZUPT *plus a linear detrend between consecutive still points*
(velocity forced to zero at both ends; x-io's gait example does the same) gets it to 0.017 m/s,
the best method tried. That is what `integrate_segment` does to each motion segment once its
closing still period is seen, with one refinement: the residual is split into a constant-bias
ramp and an error that accrues with the acceleration itself (see `integrate_segment`). Live,
before the closing anchor exists, `CausalIntegrator` integrates forward from the opening anchor
(ZUPT with the anchor's bias, no detrend).

Integration is the trapezoid rule on the measured (not nominal) time steps (science.md §1.3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Ridge on the bias slope fitted in the closing still window (s^2 per sample): the slope is
#: trusted about half at a 0.15 s window and fully from ~0.5 s (tremor and sway make short
#: windows' slopes unreliable).
_SLOPE_RIDGE_S2 = 0.002
#: Before the bias is calibrated, the two-part fit is used only for segments whose vertical
#: acceleration reaches this (m/s^2, ~0.5 g): only then do acceleration-proportional errors
#: outweigh an uncalibrated bias (tens of mg over a few seconds).
_BURST_MPS2 = 5.0
#: A closing still window needs this many samples for the two-part fit.
_MIN_STILL_SAMPLES = 3
#: How well the velocity is known to be zero at a zero-velocity instant inside a segment (a
#: floor contact, `vbt.pipeline.streaming`): residuals within this are left alone (m/s).
ZERO_INSTANT_TOL_MPS = 0.1
#: A segment that ends still uses its zero instants only when it has this many: over one rep
#: cycle the two-part fit above is the better model (its acceleration-proportional part puts
#: an impact's error at the impact), over several it is not.
_MIN_ZEROS = 2
_ZEROS_MIN_DRIFT_MPS = 0.3


def cumtrapz(y: np.ndarray, dt_s: np.ndarray, y0: float = 0.0, prev: float | None = None) -> np.ndarray:
    """Cumulative trapezoid integral of ``y`` with steps ``dt_s`` (``dt_s[0]`` links to ``prev``).

    Args:
        y: Samples to integrate.
        dt_s: Step before each sample.
        y0: Value of the integral before the first sample.
        prev: The sample before ``y[0]`` (for the first step); None means the first step adds
            nothing (start of a segment).

    Returns:
        The running integral at each sample.
    """
    inc = np.empty(len(y))
    if len(y) == 0:
        return inc
    inc[0] = 0.0 if prev is None else 0.5 * (prev + y[0]) * dt_s[0]
    inc[1:] = 0.5 * (y[1:] + y[:-1]) * dt_s[1:]
    # Accumulate from y0 sample by sample (not y0 + cumsum), so continuing a sum chunk by chunk
    # gives bit-identical values.
    return np.cumsum(np.concatenate(([y0], inc)))[1:]


@dataclass(slots=True)
class SegmentKinematics:
    """Drift-corrected kinematics of one motion segment between two still anchors.

    Attributes:
        velocity_mps: Vertical velocity, zero at both ends.
        position_m: Vertical position (continuous with the previous segment).
        drift_mps: Velocity the plain integration reached at the closing anchor, i.e. the
            drift the detrend removed.
        local_drift_mps: The largest drift removed between two consecutive zero-velocity
            points (the ends and any zero instants inside; a quality indicator). Equals
            ``drift_mps`` without zero instants inside.
    """

    velocity_mps: np.ndarray
    position_m: np.ndarray
    drift_mps: float
    local_drift_mps: float | None = None

    def __post_init__(self) -> None:
        if self.local_drift_mps is None:
            self.local_drift_mps = self.drift_mps


def integrate_segment(
    accel_mps2: np.ndarray,
    dt_s: np.ndarray,
    t_s: np.ndarray,
    p0_m: float,
    *,
    detrend: bool = True,
    still_from: int | None = None,
    bias_known: bool = True,
    clipped: np.ndarray | None = None,
    zeros: list[int] | None = None,
    zero_tol_mps: float = ZERO_INSTANT_TOL_MPS,
) -> SegmentKinematics:
    """ZUPT + drift removal over one segment that starts still and ends in a still window.

    Two error sources make the integrated velocity miss zero at the closing stop:

    * a constant accelerometer bias (or gravity-reading error): a velocity ramp ``b (t - t0)``
      (science.md §1.2);
    * errors proportional to the acceleration itself -- scale factor, a tilted or rolled
      vertical, horizontal acceleration folded in by the norm method, an impact's clipped or
      aliased peak. They accrue where the bar accelerates, mostly in bursts (a bench press's
      chest bounce, a deadlift's floor contact), as ``d U(t)`` with ``U`` the normalised
      running integral of ``|a|`` (of the clipped-sample indicator when the sensor saturated).

    In the closing still window (samples ``still_from`` to the end) the true velocity is zero,
    so there the raw velocity is ``b (t - t0) + d``: its slope is the bias and its level the
    rest. Both are fitted by least squares over the window (a ridge keeps short windows' slopes
    near zero). Spreading everything as one ramp -- the plain linear detrend -- smears a
    bounce's velocity step over the whole descent and leaves a residual slope through the
    window, which drags the end of the concentric (and with it MCV) late; on the simulator
    corpus the split cut MCV mean absolute error by about a quarter. Without a usable window
    (``still_from`` None or under three samples) the plain ramp through the last sample is used.

    Args:
        accel_mps2: Vertical acceleration (gravity and anchor bias removed).
        dt_s: Step before each sample (``dt_s[0]`` ignored: velocity starts at zero).
        t_s: Sample times (for the detrend).
        p0_m: Position at the first sample.
        detrend: Remove the drift (False for a segment that ended without a still window: a
            break in the stream or a motion that never stopped).
        still_from: First sample of the closing still window (None: the last sample only).
            With a usable window the two-part fit is used (see above).
        bias_known: The acceleration already has a calibrated bias removed (`vbt.pipeline.
            calibration`). Otherwise the two-part fit is used only for a segment with an
            acceleration burst (`_BURST_MPS2`); gentle segments keep the plain ramp, so a large
            uncalibrated bias is not mistaken for an acceleration-proportional error.
        clipped: Per-sample full-scale flags; when any is set the non-bias part of the drift
            is put on the clipped samples (that is where a saturated sensor loses acceleration).
        zeros: Samples inside the segment where the bar's velocity is known to be zero for an
            instant (floor contacts), to within ``zero_tol_mps``. What the correction
            above leaves there beyond that tolerance is removed too, interpolated linearly
            between consecutive zero instants (see `_through_zeros`); only in a detrended
            segment whose drift reached `_ZEROS_MIN_DRIFT_MPS`.

    Returns:
        The segment's kinematics.
    """
    kin = _integrate(accel_mps2, dt_s, t_s, p0_m, detrend=detrend, still_from=still_from, bias_known=bias_known,
                     clipped=clipped)
    if not zeros or len(kin.velocity_mps) < 3:
        return kin
    if not detrend or abs(kin.drift_mps) < _ZEROS_MIN_DRIFT_MPS:
        return kin
    v_raw = cumtrapz(accel_mps2, dt_s)
    fixed = _through_zeros(v_raw, kin.velocity_mps, t_s, zeros, still_from=still_from, tol=zero_tol_mps)
    if fixed is None:
        return kin
    v, local = fixed
    return SegmentKinematics(v, cumtrapz(v, dt_s, p0_m), kin.drift_mps, local)


def _through_zeros(
    v_raw: np.ndarray, v: np.ndarray, t_s: np.ndarray, zeros: list[int], *, still_from: int | None, tol: float,
) -> tuple[np.ndarray, float] | None:
    """``v`` also zero (to within the tolerance) at the ``zeros``; returns it and the largest
    drift between zero points (None with fewer than `_MIN_ZEROS` zero instants inside).

    A segment with no still period for many seconds (a touch-and-go deadlift set: the bar
    bounces off the floor between reps) gets one drift correction from its two ends, which
    cannot follow a bias that changed, nor an error that grew rep by rep. Each floor contact
    is a zero-velocity update of its own: a residual there larger than ``tol`` (how well the
    instant is known; smaller ones are consistent with zero and left alone) is removed,
    linearly interpolated in time between the segment's start (zero by construction), the
    contacts, and the start of the closing still window (zero after the fit).
    """
    n = len(v)
    end = n - 1 if still_from is None else min(max(int(still_from), 1), n - 1)
    ks = sorted({int(z) for z in zeros if 0 < int(z) < end})
    if len(ks) < _MIN_ZEROS:
        return None
    res = [float(v[k]) if abs(float(v[k])) > tol else 0.0 for k in ks]
    kt = [float(t_s[0]), *(float(t_s[k]) for k in ks), float(t_s[end])]
    kr = [0.0, *res, 0.0]
    out = v - np.interp(t_s, np.array(kt), np.array(kr))
    # Drift: the largest change of the whole correction between consecutive zero points.
    corr = v_raw - out
    pts = [0, *ks, end]
    local = max((float(corr[b] - corr[a]) for a, b in zip(pts[:-1], pts[1:], strict=True)), key=abs)
    return out, local


def _integrate(
    accel_mps2: np.ndarray,
    dt_s: np.ndarray,
    t_s: np.ndarray,
    p0_m: float,
    *,
    detrend: bool,
    still_from: int | None,
    bias_known: bool,
    clipped: np.ndarray | None,
) -> SegmentKinematics:
    """`integrate_segment` without zero instants."""
    v = cumtrapz(accel_mps2, dt_s)
    drift = float(v[-1]) if len(v) else 0.0
    usable = still_from is not None and len(v) - max(still_from, 1) >= _MIN_STILL_SAMPLES
    burst = len(v) > 0 and float(np.max(np.abs(accel_mps2))) >= _BURST_MPS2
    burst = burst or (clipped is not None and bool(np.any(clipped)))
    if detrend and usable and (bias_known or burst):
        # A saturated sensor loses acceleration only while it is saturated: that error accrues
        # at the clipped samples.
        sat = clipped is not None and bool(np.any(clipped))
        u = cumtrapz(clipped.astype(float) if sat else np.abs(accel_mps2), dt_s)
        if u[-1] > 0.0:
            tau = t_s - t_s[0]
            u = u / u[-1]
            lo = max(int(still_from or 0), 1)
            tw, uw, vw = tau[lo:], u[lo:], v[lo:]
            lam = _SLOPE_RIDGE_S2 * len(vw)
            tu = float(np.dot(tw, uw))
            lhs = np.array([[float(np.dot(tw, tw)) + lam, tu], [tu, float(np.dot(uw, uw))]])
            rhs = np.array([float(np.dot(vw, tw)), float(np.dot(vw, uw))])
            b, d = np.linalg.solve(lhs, rhs)
            v = v - b * tau - d * u
            drift = float(b * tau[-1] + d)
            return SegmentKinematics(v, cumtrapz(v, dt_s, p0_m), drift)
    if detrend and len(v) > 1:
        tau = t_s - t_s[0]
        lo = len(v) - 1 if still_from is None else min(max(still_from, 1), len(v) - 1)
        den = float(np.sum(tau[lo:] ** 2))
        if den > 0:
            slope = float(np.sum(v[lo:] * tau[lo:])) / den
            v = v - slope * tau
            drift = slope * float(tau[-1])
    p = cumtrapz(v, dt_s, p0_m)
    return SegmentKinematics(v, p, drift)


class CausalIntegrator:
    """Forward integration from the last still anchor, continued chunk by chunk (live view)."""

    def __init__(self, p0_m: float = 0.0, *, a_prev: float | None = None) -> None:
        """Start at rest at ``p0_m``; ``a_prev`` is the acceleration at that sample (None: the
        first sample integrated is the start)."""
        self.v = 0.0
        self.p = p0_m
        self._a_prev: float | None = a_prev

    def update(self, accel_mps2: np.ndarray, dt_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Velocity and position at each new sample."""
        if len(accel_mps2) == 0:
            return np.empty(0), np.empty(0)
        v = cumtrapz(accel_mps2, dt_s, self.v, self._a_prev)
        p = cumtrapz(v, dt_s, self.p, None if self._a_prev is None else self.v)
        self._a_prev = float(accel_mps2[-1])
        self.v = float(v[-1])
        self.p = float(p[-1])
        return v, p


__all__ = ["CausalIntegrator", "SegmentKinematics", "cumtrapz", "integrate_segment"]
