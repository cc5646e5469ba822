"""Per-rep metrics exactly as science.md §3 defines them.

* Concentric phase: from the start of upward motion to lockout (v -> 0): the velocity zero
  crossings around the peak; where velocity lingers within a few mm/s of zero, the crossing of
  a small threshold extrapolated to zero (`concentric_bounds`).
* MCV: mean velocity over the concentric phase = ROM / duration (Sánchez-Medina 2017).
* MPV: mean velocity from concentric start until bar acceleration first drops below -g
  (Sánchez-Medina 2010); the acceleration is the zero-phase low-passed one
  (`PipelineSettings.event_cutoff_hz`, science.md §1.3). MPV = MCV when it never does.
* PV: highest instantaneous concentric velocity; time to peak from concentric start.
* ROM: concentric displacement, the integral of velocity.
* Mean power: mean of m (a + g) v over the concentric (force as on a force plate).

Velocity is treated as piecewise linear between samples, so integrals over fractional end
points are exact for that interpolant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Lingering threshold for the concentric end points (m/s, and share of peak velocity): above
#: the residual of drift correction on a still bar (~mm/s), below the slow final approach to
#: lockout of heavy reps.
_END_THRESHOLD_MPS = 0.01
_END_THRESHOLD_FRACTION = 0.015


@dataclass(slots=True)
class ConcentricMetrics:
    """Metrics of one concentric phase (times on the input axis)."""

    start_s: float
    end_s: float
    mean_velocity_mps: float
    mean_propulsive_velocity_mps: float
    peak_velocity_mps: float
    peak_time_s: float
    rom_m: float
    mean_power_w: float | None

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


def _cross_time(t: np.ndarray, y: np.ndarray, i: int, level: float) -> float:
    """Time where ``y`` crosses ``level`` between samples ``i`` and ``i + 1`` (linear)."""
    y0, y1 = y[i], y[i + 1]
    if y1 == y0:
        return float(t[i])
    f = (level - y0) / (y1 - y0)
    f = min(max(f, 0.0), 1.0)
    return float(t[i] + f * (t[i + 1] - t[i]))


def integral(t: np.ndarray, y: np.ndarray, ta: float, tb: float) -> float:
    """Integral of the piecewise-linear interpolant of ``y`` over ``[ta, tb]``."""
    if tb <= ta:
        return 0.0
    inside = (t > ta) & (t < tb)
    tt = np.concatenate(([ta], t[inside], [tb]))
    yy = np.concatenate(([np.interp(ta, t, y)], y[inside], [np.interp(tb, t, y)]))
    return float(np.sum(0.5 * (yy[1:] + yy[:-1]) * np.diff(tt)))


def concentric_bounds(t: np.ndarray, v: np.ndarray, i_peak: int, lo: int, hi: int) -> tuple[float, float]:
    """Start and end times of the upward phase containing ``i_peak`` (searched in ``[lo, hi]``).

    Each end is the velocity zero crossing next to the peak (science.md §3: from the start of
    upward motion to lockout, v -> 0), linearly interpolated -- unless the velocity lingers
    just above zero: then the end is where velocity crossed `_END_THRESHOLD_MPS` (or that
    share of the peak), extrapolated to zero along the local slope. A millimetre-per-second
    residual of the drift correction must not add half a second to a rep.
    """
    pv = float(v[i_peak])
    thr = max(_END_THRESHOLD_MPS, _END_THRESHOLD_FRACTION * pv)
    seg = v[lo : i_peak + 1]
    nonpos = np.flatnonzero(seg <= 0.0)
    i0 = lo + int(nonpos[-1]) if nonpos.size else lo
    t_start = _cross_time(t, v, i0, 0.0) if nonpos.size and i0 < i_peak else float(t[i0])
    below = np.flatnonzero(v[i0 : i_peak + 1] <= thr)
    if below.size:
        j = i0 + int(below[-1])
        if j < i_peak:
            slope = (v[j + 1] - v[j]) / max(t[j + 1] - t[j], 1e-9)
            if slope > 0:
                t_start = max(t_start, _cross_time(t, v, j, thr) - thr / slope)
    seg = v[i_peak : hi + 1]
    nonpos = np.flatnonzero(seg <= 0.0)
    i1 = i_peak + int(nonpos[0]) if nonpos.size else hi
    t_end = _cross_time(t, v, i1 - 1, 0.0) if nonpos.size and i1 > i_peak else float(t[i1])
    below = np.flatnonzero(v[i_peak : i1 + 1] <= thr)
    if below.size:
        j = i_peak + int(below[0])
        if j > i_peak:
            slope = (v[j] - v[j - 1]) / max(t[j] - t[j - 1], 1e-9)
            if slope < 0:
                t_end = min(t_end, _cross_time(t, v, j - 1, thr) + thr / -slope)
    return t_start, t_end


#: A lockout plateau: the velocity holds within this range (m/s) for `_PLATEAU_S` ...
_PLATEAU_RANGE_MPS = 0.03
_PLATEAU_S = 0.12
#: ...at a level no further than this from zero (a residual of drift correction, m/s)...
_PLATEAU_MAX_LEVEL_MPS = 0.15
#: ...with the bar's acceleration this close to zero (m/s^2)...
_PLATEAU_MAX_ACCEL_MPS2 = 0.3
#: ...and the bar never speeds up again by more than this before it goes down (m/s): a
#: sticking region is followed by a second push, a lockout is not.
_PLATEAU_REACCEL_MPS = 0.1
#: ...the level is at most this share of the rep's peak velocity...
_PLATEAU_MAX_SHARE = 0.25
#: ...and until the bar goes down (for at most `_PLATEAU_HOLD_S`), the velocity stays within
#: this (m/s) of a line no steeper than `_PLATEAU_MAX_SLOPE_MPS2` (drift of a rest).
_PLATEAU_HOLD_MPS = 0.03
_PLATEAU_HOLD_S = 0.6
_PLATEAU_MAX_SLOPE_MPS2 = 0.15
#: Levels below this need no correction (m/s).
_PLATEAU_MIN_LEVEL_MPS = 0.01
#: Searched for up to this long after the velocity fell below half the peak (s).
_PLATEAU_SEARCH_S = 1.0


def lockout_plateau(
    t: np.ndarray, v: np.ndarray, a: np.ndarray, p: np.ndarray, i_peak: int, i_end: int, p_min: float
) -> tuple[int, int, float] | None:
    """A stop at lockout that the still detector did not anchor: ``(first, last, level)``.

    After a concentric the bar rests at lockout, so its velocity is zero there; when the
    still detector could not anchor that rest (a short hold, the causal velocity too far off
    to trust), the drift-corrected velocity holds a small non-zero *level* instead -- the
    residual drift, which would otherwise stretch or cut the concentric and bias its ROM.
    The plateau is the first window after the velocity fell below half the peak where the
    velocity is flat (`_PLATEAU_RANGE_MPS` over `_PLATEAU_S`), not accelerating, at a small
    level (`_PLATEAU_MAX_LEVEL_MPS`, and at most `_PLATEAU_MAX_SHARE` of the peak) and at
    lockout height (position at least ``p_min``). It counts only if it looks like a rest and
    nothing else: the velocity then follows a slow drift line until the bar goes down (a
    slow grind's last centimetres at constant speed end in a step down to a stop), and
    the bar never speeds up again before it goes down (a sticking region is followed by a
    second push). Samples ``i_peak..i_end`` are searched; None when there is no such plateau
    or its level is already within a centimetre per second of zero.
    """
    pv = float(v[i_peak])
    fell = np.flatnonzero(v[i_peak : i_end + 1] < 0.5 * pv)
    if not fell.size:
        return None
    j0 = i_peak + int(fell[0])
    stop = min(i_end + 1, int(np.searchsorted(t, t[j0] + _PLATEAU_SEARCH_S, side="right")))
    steps = np.diff(t[j0:stop])
    steps = steps[steps > 0]
    if not steps.size:
        return None
    w = max(3, int(round(_PLATEAU_S / float(np.median(steps)))) + 1)
    if stop - j0 < w:
        return None
    win_v = np.lib.stride_tricks.sliding_window_view(v[j0:stop], w)
    win_a = np.lib.stride_tricks.sliding_window_view(a[j0:stop], w)
    level = win_v.mean(axis=1)
    ok = (
        (win_v.max(axis=1) - win_v.min(axis=1) < _PLATEAU_RANGE_MPS)
        & (np.abs(level) <= min(_PLATEAU_MAX_LEVEL_MPS, _PLATEAU_MAX_SHARE * pv))
        & (np.abs(win_a.mean(axis=1)) < _PLATEAU_MAX_ACCEL_MPS2)
        & (p[j0 : stop - w + 1] >= p_min)
    )
    hit = np.flatnonzero(ok)
    if not hit.size:
        return None
    k = int(hit[0])
    lvl = float(level[k])
    first = j0 + k
    if abs(lvl) < _PLATEAU_MIN_LEVEL_MPS:
        return None
    after = v[first : i_end + 1]
    down = np.flatnonzero(after < lvl - _PLATEAU_REACCEL_MPS)
    after = after[: int(down[0])] if down.size else after
    if float(np.max(after)) > lvl + _PLATEAU_REACCEL_MPS:
        return None
    # Until the bar goes down (or for `_PLATEAU_HOLD_S`), a rest's velocity is its level plus
    # a slow drift ramp -- a line; a slow crawl that then stops is a step.
    n_hold = int(np.searchsorted(t[first : first + len(after)], t[first] + _PLATEAU_HOLD_S, side="right"))
    tt, vv = t[first : first + n_hold] - t[first], after[:n_hold]
    if len(vv) >= 3:
        slope, icpt = np.polyfit(tt, vv, 1)
        if abs(slope) > _PLATEAU_MAX_SLOPE_MPS2 or float(np.max(np.abs(vv - (slope * tt + icpt)))) > _PLATEAU_HOLD_MPS:
            return None
    return first, first + w - 1, lvl


def concentric_metrics(
    t: np.ndarray,
    v: np.ndarray,
    a: np.ndarray,
    a_event: np.ndarray,
    t_start: float,
    t_end: float,
    *,
    gravity_mps2: float,
    load_kg: float | None,
) -> ConcentricMetrics:
    """All metrics of a concentric phase ``[t_start, t_end]``.

    Args:
        t, v: Sample times and drift-corrected vertical velocity.
        a: Vertical acceleration (for power).
        a_event: Low-passed vertical acceleration (for the end of the propulsive phase).
        t_start, t_end: Concentric bounds (`concentric_bounds`).
        gravity_mps2: g.
        load_kg: System mass (bar + plates) for power, or None.
    """
    duration = max(t_end - t_start, 1e-9)
    rom = integral(t, v, t_start, t_end)
    mcv = rom / duration
    inside = np.flatnonzero((t >= t_start) & (t <= t_end))
    if inside.size:
        k = int(inside[np.argmax(v[inside])])
        pv, t_pv = float(v[k]), float(t[k])
    else:
        pv, t_pv = mcv, t_start
    # Propulsive phase ends where acceleration first drops below -g.
    mpv = mcv
    if inside.size:
        lo = max(int(inside[0]) - 1, 0)
        brake = np.flatnonzero(a_event[lo : int(inside[-1]) + 1] < -gravity_mps2)
        if brake.size:
            j = lo + int(brake[0])
            t_prop = _cross_time(t, a_event, j - 1, -gravity_mps2) if j > 0 else float(t[j])
            t_prop = min(max(t_prop, t_start), t_end)
            if t_prop - t_start > 1e-3:
                mpv = integral(t, v, t_start, t_prop) / (t_prop - t_start)
    power = None
    if load_kg is not None:
        power = load_kg * integral(t, (a + gravity_mps2) * v, t_start, t_end) / duration
    return ConcentricMetrics(t_start, t_end, mcv, mpv, pv, t_pv, rom, power)


__all__ = ["ConcentricMetrics", "concentric_bounds", "concentric_metrics", "integral", "lockout_plateau"]
