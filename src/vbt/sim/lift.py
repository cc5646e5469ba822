"""Barbell kinematics of a set: the bar path, bar rotation and every non-rep event, at 1 kHz.

`build_set` turns the athlete's `SetOutcome` (per-rep true MCV, ROM, pauses; see
`vbt.sim.athlete`) into a `SetBlock`: dense true kinematics of the bar centre (world frame,
z up, x = the lifter's forward / for the bench the direction of the feet, y = along the bar),
the bar's roll / tilt / yaw, and the exact labels of every rep and event.

How a set is built
------------------
Vertical motion is assembled from *velocity* segments on a 1 kHz grid: each segment's
velocity is normalised so that its trapezoid integral equals the wanted displacement exactly,
so every rep reproduces its planned ROM and MCV. Horizontal position and bar angles are
smooth functions of the rep's height fraction (a bench J-curve, bar rolling with torso angle
in the squat...) or minimum-jerk moves, so velocities stay continuous. Small perturbations
(hand tremor, postural sway/breathing, vibration after impacts) are added last; labels are
computed from the final, perturbed motion, so they are exact for what the sensor observes.

Concentric profile: ``v(tau) = V * tau^alpha (1 - tau)^beta * (1 - d * G(tau))``, with
``alpha`` ~1 for touch-and-go (finite acceleration at the bottom) and ~2 from a still start,
``beta`` chosen per rep (within realistic peak/mean ratios) so that the braking phase (bar
acceleration < -g) lasts as close as possible to the share of the concentric that the
literature gives for that relative load, and ``d * G`` a Gaussian dip
(the sticking region: first peak -> minimum -> second peak) that deepens as the rep slows
towards the MVT.

Parameter table ([V]/[C]/[M] as in science.md; [D] = design assumption, with its reasoning)
-------------------------------------------------------------------------------------------
===============================  =================================  ===========================================
Parameter                        Value                              Source / reasoning
===============================  =================================  ===========================================
Braking share of concentric,     0.30 * (p0 - p) / (p0 - 0.3),      braking phase vanishes at 76.1 +/- 7.4 %
bench/OHP/row (p = relative      0 above p0; p0 ~ N(0.761, 0.074)   1RM (Sánchez-Medina 2010) [V]; 30 % at
load)                            per athlete                        30 % 1RM [D]; OHP/row as bench [D]
Braking share, squat/deadlift    0.18 * (1 - p) / 0.6               propulsive ~82 % of concentric at 40 %,
                                                                    100 % at 1RM (Sánchez-Medina 2017) [V];
                                                                    deadlift as squat [D]
Sticking region                  dip depth up to 0.45-0.85 (bench,  first peak -> minimum -> second peak on
                                 squat, OHP), 0.2-0.5 others;       slow reps (Martínez-Cava 2019) [V]; onset
                                 grows as MCV falls from MVT+0.55   velocity and depths [D], tuned so PV/MCV
                                 m/s to MVT; centre 30-50 % of      rises from ~1.8 at 60 % to ~2.2 near 1RM
                                 concentric time                    (squat MV and PV equations, Sánchez-Medina
                                                                    2017 [C])
Time of peak velocity            65 % of the concentric at 50 %     light reps accelerate longer and brake;
                                 relative load -> 35 % at 1RM       heavy reps peak before the sticking
                                                                    region [D]
Alpha (start of concentric)      1.0-1.1 touch-and-go, 1.8-2.6      finite acceleration out of a bounce vs
                                 from a pause                       force build-up from rest [D]
Eccentric shape                  alpha 1.5-2.2, beta 1.6-2.4        smooth descent; hard stop before a bounce
                                 (paused) / 1.05-1.3 (bounce)       [D]
Rack / hook heights              squat 0.78 H, OHP 0.79 H front     body-segment proportions (Drillis &
                                 rack, deadlift lockout 0.225 m +   Contini; Winter, Biomechanics ch. 4) [M]
                                 ROM, bench chest 0.62-0.70 m
Plate radius (bar on floor)      0.225 m                            450 mm IWF/IPF plates [M]
Unrack lift / rerack drop        3-8 cm                             J-hook depth [D]
Walkout                          2-4 steps, 0.25-0.6 m (squat),     typical powerlifting walkout [D]
                                 1-3 steps, 0.15-0.35 m (OHP)
Bench lift-off travel            0.12-0.30 m toward the feet        hooks above the eyes, press over the
                                                                    shoulders [D]
Bench J-curve                    0.04-0.14 m horizontal             bar touches the lower chest, presses back
                                                                    toward the head early [D]
Bar roll with depth              squat 15-40 deg (bar rides the     torso inclination changes ~20-45 deg in a
                                 back as the torso leans), OHP      squat [M]; wrist angle changes in presses
                                 8-25, bench/DL/row 0-15 deg        [D]
Bar tilt / yaw                   tilt N(0, 0.5 deg) per unit depth; uneven press, walkout turns; at the
                                 yaw N(0, 1-1.5 deg)                sleeve (0.5-1 m from centre) 1 deg of tilt
                                                                    moves the sensor ~1.5 cm [D]
Contact velocity at rack/floor   rerack 0.10-0.35 m/s, set-down     impact pulse 10-25 ms gives 1.5-6 g
                                 0.2-0.6, dead-stop touch 0.05-0.2, spikes ("> 2-3 g" rack impacts, science.md
                                 touch-and-go DL 0.2-0.5            §2) [M]/[D]
Impact vibration                 8-30 Hz, decay 0.05-0.25 s         bar/plate ringing [D]
Hand tremor                      6-12 Hz, 0.03-0.2 m/s^2 RMS        physiological tremor band 8-12 Hz [M];
                                                                    amplitude [D]
Postural sway / breathing        0.1-0.6 Hz RMS: 0.3-1.5 mm         the bar is never perfectly still while
                                 vertical, 1-5 mm horizontal, roll  held; mm-level, so that "still" at a
                                 0.2-1 deg, tilt 0.05-0.2 deg, yaw  sleeve-mounted sensor means < ~1 cm/s
                                 0.1-0.5 deg                        [D]
Failed attempt                   reaches 8-85 % of ROM (beta        stalls near the sticking region [D]; stall
                                 2.2, 2.8), stalls 1-3 s, sinks     >= ~1 s is the failure criterion in
                                 0-3 cm, then down to safeties      science.md §2 [M]
                                 (2-8 cm below the squat bottom)
===============================  =================================  ===========================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vbt.sim.athlete import ECCENTRIC_FIRST, Athlete, FailedPlan, RepPlan, SetOutcome

#: Rate of the dense physics grid (Hz). Sensor samples are interpolated from it.
PHYSICS_RATE_HZ = 1000.0
#: Gravity used for the MPV braking criterion (science.md §3 uses -9.81 m/s^2).
G_MPV = 9.81
#: Padding of still time at the start and end of every block (s) so filters and vibrations settle.
BLOCK_PAD_S = 1.5
FLOOR_Z_M = 0.225

# Event kinds (labels).
EV_UNRACK = "unrack"
EV_WALKOUT = "walkout"
EV_WALKIN = "walkin"
EV_RERACK = "rerack"
EV_SET_DOWN = "set_down"
EV_REGRIP = "re-grip"
EV_PICK_UP = "pick_up"
EV_HINGE = "hinge"
EV_STAND_UP = "stand_up"
EV_HANDLING = "handling"
EV_DROP = "drop"
EV_PLATE_CHANGE = "plate_change"
EVENT_KINDS = (EV_UNRACK, EV_WALKOUT, EV_WALKIN, EV_RERACK, EV_SET_DOWN, EV_REGRIP, EV_PICK_UP, EV_HINGE,
               EV_STAND_UP, EV_HANDLING, EV_DROP, EV_PLATE_CHANGE)


@dataclass(slots=True)
class Pose:
    """Where the bar is and how it is turned (world frame, metres and radians)."""

    x: float = 0.0
    y: float = 0.0
    z: float = FLOOR_Z_M
    roll: float = 0.0
    tilt: float = 0.0
    yaw: float = 0.0

    def copy(self) -> Pose:
        """An independent copy."""
        return Pose(self.x, self.y, self.z, self.roll, self.tilt, self.yaw)


@dataclass(slots=True)
class RepLabel:
    """True numbers of one completed rep (times are block-relative until shifted)."""

    index: int
    concentric_start_s: float
    concentric_end_s: float
    mean_velocity_mps: float
    mean_propulsive_velocity_mps: float
    peak_velocity_mps: float
    rom_m: float
    time_to_peak_s: float
    rir: int
    eccentric_start_s: float | None
    eccentric_end_s: float | None
    touch_and_go: bool
    pause_before_s: float
    sticking_region: bool
    relative_load: float
    sensor_mean_velocity_mps: float | None = None
    sensor_rom_m: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "concentric_start_s": round(self.concentric_start_s, 4),
            "concentric_end_s": round(self.concentric_end_s, 4),
            "duration_s": round(self.concentric_end_s - self.concentric_start_s, 4),
            "mean_velocity_mps": round(self.mean_velocity_mps, 5),
            "mean_propulsive_velocity_mps": round(self.mean_propulsive_velocity_mps, 5),
            "peak_velocity_mps": round(self.peak_velocity_mps, 5),
            "rom_m": round(self.rom_m, 5),
            "time_to_peak_s": round(self.time_to_peak_s, 4),
            "rir": self.rir,
            "eccentric_start_s": None if self.eccentric_start_s is None else round(self.eccentric_start_s, 4),
            "eccentric_end_s": None if self.eccentric_end_s is None else round(self.eccentric_end_s, 4),
            "touch_and_go": self.touch_and_go,
            "pause_before_s": round(self.pause_before_s, 4),
            "sticking_region": self.sticking_region,
            "relative_load": round(self.relative_load, 4),
            "sensor_mean_velocity_mps": None if self.sensor_mean_velocity_mps is None
            else round(self.sensor_mean_velocity_mps, 5),
            "sensor_rom_m": None if self.sensor_rom_m is None else round(self.sensor_rom_m, 5),
        }


@dataclass(slots=True)
class FailedLabel:
    """A failed last attempt: upward start to the bar coming to rest, and the height reached."""

    start_s: float
    end_s: float
    rom_m: float
    stall_start_s: float
    stall_end_s: float
    outcome: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "start_s": round(self.start_s, 4),
            "end_s": round(self.end_s, 4),
            "rom_m": round(self.rom_m, 5),
            "stall_start_s": round(self.stall_start_s, 4),
            "stall_end_s": round(self.stall_end_s, 4),
            "outcome": self.outcome,
        }


@dataclass(slots=True)
class EventLabel:
    """A non-rep event (unrack, walkout, rerack, set_down, re-grip, pick_up...)."""

    kind: str
    start_s: float
    end_s: float
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "start_s": round(self.start_s, 4), "end_s": round(self.end_s, 4), **self.detail}


@dataclass(slots=True)
class SetBlock:
    """Dense true kinematics of one set (bar centre) plus its labels.

    Arrays are sampled at `PHYSICS_RATE_HZ` starting at ``t0_s`` (true/host time).
    Attributes ``pos_m``, ``vel_mps``, ``acc_mps2`` are ``(n, 3)`` (x, y, z world); ``angles_rad``
    is ``(n, 3)`` (roll about the bar axis, tilt about world x, yaw about world z).
    """

    t0_s: float
    dt_s: float
    pos_m: np.ndarray
    vel_mps: np.ndarray
    acc_mps2: np.ndarray
    angles_rad: np.ndarray
    reps: list[RepLabel]
    failed: FailedLabel | None
    events: list[EventLabel]
    set_start_s: float
    set_end_s: float
    end_pose: Pose
    rest_location: str

    @property
    def n(self) -> int:
        """Number of physics samples."""
        return int(self.pos_m.shape[0])

    @property
    def t_s(self) -> np.ndarray:
        """Times of the physics samples (s, host/true axis)."""
        return self.t0_s + np.arange(self.n) * self.dt_s

    @property
    def t_end_s(self) -> float:
        """Time of the last physics sample (s)."""
        return self.t0_s + (self.n - 1) * self.dt_s

    def shifted(self, dt_s: float) -> None:
        """Move every label time by ``dt_s`` (labels are stored in absolute time)."""
        for r in self.reps:
            r.concentric_start_s += dt_s
            r.concentric_end_s += dt_s
            if r.eccentric_start_s is not None:
                r.eccentric_start_s += dt_s
            if r.eccentric_end_s is not None:
                r.eccentric_end_s += dt_s
        if self.failed is not None:
            f = self.failed
            f.start_s += dt_s
            f.end_s += dt_s
            f.stall_start_s += dt_s
            f.stall_end_s += dt_s
        for e in self.events:
            e.start_s += dt_s
            e.end_s += dt_s


# --------------------------------------------------------------------------- velocity shapes


def _trapz_unit(s: np.ndarray) -> float:
    """Trapezoid integral of ``s`` sampled on ``len(s)`` points over a unit interval."""
    n = len(s) - 1
    return float((s[0] / 2 + s[1:-1].sum() + s[-1] / 2) / n)


def _min_jerk_velocity(m: int) -> np.ndarray:
    """Unit-displacement minimum-jerk velocity shape on ``m + 1`` points (normalised)."""
    tau = np.linspace(0.0, 1.0, m + 1)
    s = 30 * tau**2 - 60 * tau**3 + 30 * tau**4
    return s / _trapz_unit(s)


def _min_jerk_position(m: int) -> np.ndarray:
    tau = np.linspace(0.0, 1.0, m + 1)
    return 10 * tau**3 - 15 * tau**4 + 6 * tau**5


def _beta_shape(m: int, alpha: float, beta: float, dip: float = 0.0, dip_c: float = 0.4,
                dip_w: float = 0.1) -> np.ndarray:
    """Unit-mean (trapezoid) bump ``tau^a (1-tau)^b (1 - dip G)`` on ``m + 1`` points."""
    tau = np.linspace(0.0, 1.0, m + 1)
    s = tau**alpha * (1.0 - tau) ** beta
    if dip > 0:
        s = s * (1.0 - dip * np.exp(-0.5 * ((tau - dip_c) / dip_w) ** 2))
    return s / _trapz_unit(s)


def _braking_share(v: np.ndarray, dt: float) -> float:
    a = np.gradient(v, dt)
    return float(np.mean(a[1:] < -G_MPV))


def concentric_velocity(
    rom_m: float,
    mcv_mps: float,
    *,
    alpha: float,
    beta_prior: float,
    braking_share: float,
    dip: float,
    dip_c: float,
    dip_w: float,
    fs: float = PHYSICS_RATE_HZ,
) -> np.ndarray:
    """Concentric velocity on the physics grid (``m + 1`` points, zero at both ends).

    The duration is ``rom / mcv`` rounded to the grid, and the trapezoid integral equals
    ``rom_m`` exactly. ``beta`` is chosen so that the share of samples with acceleration
    below -g comes as close as the rep's speed allows to ``braking_share``.
    """
    dt = 1.0 / fs
    m = max(int(round(rom_m / mcv_mps * fs)), 30)
    T = m * dt
    scale = rom_m / T

    def make(beta: float) -> np.ndarray:
        return scale * _beta_shape(m, alpha, beta, dip, dip_c, dip_w)

    # The braking share is mostly set by speed and ROM (a fast, short concentric must stop hard)
    # and is not monotonic in beta, so pick, among realistic end shapes (peak/mean 1.5-2.1), the
    # one closest to the target, breaking ties toward the athlete's habitual beta.
    best_beta, best_cost = beta_prior, math.inf
    for beta in np.linspace(1.05, 3.0, 14):
        cost = abs(_braking_share(make(float(beta)), dt) - braking_share) + 0.01 * abs(float(beta) - beta_prior)
        if cost < best_cost:
            best_beta, best_cost = float(beta), cost
    return make(best_beta)


def _descent_to_contact(depth_m: float, duration_s: float, v_contact: float, fs: float) -> np.ndarray:
    """Downward velocity (negative) from rest reaching ``-v_contact`` at the end, moving ``depth_m``."""
    m = max(int(round(duration_s * fs)), 20)
    T = m / fs
    # Need depth/T >= v_contact * mean(ramp) for a non-negative bump; lengthen T if not.
    tau = np.linspace(0.0, 1.0, m + 1)
    ramp = tau**3
    ramp_mean = _trapz_unit(ramp)
    if depth_m / T < v_contact * ramp_mean * 1.05:
        T = depth_m / (v_contact * ramp_mean * 1.05)
        m = max(int(round(T * fs)), 20)
        T = m / fs
        tau = np.linspace(0.0, 1.0, m + 1)
        ramp = tau**3
        ramp_mean = _trapz_unit(ramp)
    bump = _beta_shape(m, 1.8, 1.6)
    amp = depth_m / T - v_contact * ramp_mean
    v = -(amp * bump + v_contact * ramp)
    # exact displacement on the trapezoid grid
    v *= depth_m / (-_trapz_unit(v) * T)
    return v


def _impact_velocity(v_contact: float, duration_s: float, fs: float) -> np.ndarray:
    """Velocity from ``-v_contact`` to 0 with a half-sine deceleration pulse (``m + 1`` points)."""
    m = max(int(round(duration_s * fs)), 4)
    tau = np.linspace(0.0, 1.0, m + 1)
    return -v_contact * 0.5 * (1.0 + np.cos(np.pi * tau))


# --------------------------------------------------------------------------- per-exercise geometry


@dataclass(frozen=True, slots=True)
class LiftGeometry:
    """Per-set geometry drawn once per set: heights, paths, rotations."""

    rest_z: float  # z of the bar in its resting place (hooks / floor)
    start_z: float  # z at the rep rest position (lockout for ecc-first, bottom for con-first)
    path_j: float  # horizontal path amplitude (m), sign matters
    path_q: float  # return-path exponent (J-curve)
    roll_gain: float  # rad of roll per unit height fraction
    tilt_gain: float
    yaw_gain: float
    roll_vel_gain: float  # rad per (m/s) of vertical velocity
    braking_p0: float
    dip_c: float
    dip_w: float


#: Per-lift path and rotation ranges (parameter table): horizontal path ``(low, high)`` in m
#: (uniform), return-path exponent, roll with depth ``(low, high)`` deg with a random sign when
#: ``signed`` (else uniform over the signed range), yaw-with-depth SD (deg), roll per m/s of
#: vertical velocity SD (deg), sticking-dip centre and width (share of the concentric), and
#: whether the braking phase follows the bench rule (Sánchez-Medina 2010) or the squat rule.
_GEOMETRY: dict[str, dict[str, Any]] = {
    "squat": {"path": (-0.04, 0.04), "q": (1.0, 1.6), "roll": (15, 40), "signed": True, "yaw_sd": 1.0,
              "roll_vel_sd": 3.0, "dip_c": (0.3, 0.5), "dip_w": (0.08, 0.14), "bench_braking": False},
    "bench": {"path": (0.04, 0.14), "q": (1.5, 3.0), "roll": (-12, 12), "signed": False, "yaw_sd": 1.5,
              "roll_vel_sd": 4.0, "dip_c": (0.3, 0.5), "dip_w": (0.08, 0.14), "bench_braking": True},
    "deadlift": {"path": (-0.05, 0.01), "q": (1.0, 2.0), "roll": (-10, 10), "signed": False, "yaw_sd": 1.5,
                 "roll_vel_sd": 3.0, "dip_c": (0.35, 0.6), "dip_w": (0.08, 0.16), "bench_braking": False},
    "ohp": {"path": (-0.08, -0.02), "q": (1.0, 2.0), "roll": (8, 25), "signed": True, "yaw_sd": 1.5,
            "roll_vel_sd": 4.0, "dip_c": (0.3, 0.5), "dip_w": (0.08, 0.14), "bench_braking": True},
    "row": {"path": (-0.06, 0.0), "q": (1.0, 2.0), "roll": (-15, 15), "signed": False, "yaw_sd": 1.5,
            "roll_vel_sd": 4.0, "dip_c": (0.3, 0.5), "dip_w": (0.08, 0.16), "bench_braking": True},
}


def _geometry(ex: str, athlete: Athlete, rng: np.random.Generator) -> LiftGeometry:
    """Draw one set's geometry: heights from the athlete's size, path and rotation gains."""
    H = athlete.height_m
    rom = athlete.profiles[ex].rom_m
    g = _GEOMETRY[ex]
    if ex == "squat":
        start = 0.78 * H  # bar on the upper back when standing
        rest = start - rng.uniform(0.03, 0.08)  # hooks a few cm lower: unracking lifts it
    elif ex == "bench":
        start = rng.uniform(0.62, 0.70) + rom  # chest height on the bench + press ROM
        rest = start - rng.uniform(0.03, 0.08)
    elif ex == "ohp":
        start = 0.79 * H  # front rack on the shoulders
        rest = start - rng.uniform(0.03, 0.06)
    elif ex == "deadlift":
        start = rest = FLOOR_Z_M
    else:  # row: reps start from the hang in the bent-over position, the bar rests on the floor
        start = 0.44 * H - rng.uniform(0.12, 0.25)
        rest = FLOOR_Z_M
    lo, hi = g["roll"]
    roll = rng.uniform(lo, hi) * (1.0 if not g["signed"] or rng.random() < 0.5 else -1.0)
    p0 = float(np.clip(rng.normal(0.761, 0.074), 0.55, 0.95)) if g["bench_braking"] else 1.0
    return LiftGeometry(
        rest_z=rest, start_z=start, path_j=rng.uniform(*g["path"]), path_q=rng.uniform(*g["q"]),
        roll_gain=math.radians(roll), tilt_gain=math.radians(rng.normal(0.0, 0.5)),
        yaw_gain=math.radians(rng.normal(0.0, g["yaw_sd"])), roll_vel_gain=math.radians(rng.normal(0.0, g["roll_vel_sd"])),
        braking_p0=p0, dip_c=rng.uniform(*g["dip_c"]), dip_w=rng.uniform(*g["dip_w"]),
    )


def target_braking_share(ex: str, relative_load: float, p0: float) -> float:
    """Share of concentric time with bar acceleration below -g (parameter table)."""
    p = relative_load
    if ex in ("squat", "deadlift"):
        return float(np.clip(0.18 * (1.0 - p) / 0.6, 0.0, 0.3))
    if p >= p0:
        return 0.0
    return float(np.clip(0.30 * (p0 - p) / max(p0 - 0.3, 0.05), 0.0, 0.35))


# --------------------------------------------------------------------------- block builder


class _Builder:
    """Appends segments of vertical velocity and absolute horizontal/angle tracks."""

    def __init__(self, pose: Pose, fs: float) -> None:
        self.fs = fs
        self.dt = 1.0 / fs
        self.vz: list[np.ndarray] = [np.zeros(1)]
        self.x: list[np.ndarray] = [np.array([pose.x])]
        self.y: list[np.ndarray] = [np.array([pose.y])]
        self.roll: list[np.ndarray] = [np.array([pose.roll])]
        self.tilt: list[np.ndarray] = [np.array([pose.tilt])]
        self.yaw: list[np.ndarray] = [np.array([pose.yaw])]
        self.held: list[np.ndarray] = [np.zeros(1)]
        self.n = 1
        self.z0 = pose.z
        self.pose = pose.copy()
        self.impacts: list[tuple[int, float]] = []  # (sample index, contact velocity)

    @property
    def now(self) -> float:
        """Block-relative time of the last sample appended (s)."""
        return (self.n - 1) * self.dt

    def _append(self, vz: np.ndarray, x: np.ndarray, y: np.ndarray, roll: np.ndarray, tilt: np.ndarray,
                yaw: np.ndarray, held: float) -> None:
        """Append samples 1..m of a segment whose arrays include the start point (m + 1 values)."""
        m = len(vz) - 1
        if m <= 0:
            return
        dz = float(np.sum(0.5 * (vz[1:] + vz[:-1])) * self.dt)
        self.vz.append(vz[1:])
        self.x.append(x[1:])
        self.y.append(y[1:])
        self.roll.append(roll[1:])
        self.tilt.append(tilt[1:])
        self.yaw.append(yaw[1:])
        self.held.append(np.full(m, held))
        self.n += m
        p = self.pose
        p.z += dz
        p.x, p.y, p.roll, p.tilt, p.yaw = float(x[-1]), float(y[-1]), float(roll[-1]), float(tilt[-1]), float(yaw[-1])

    def _const(self, m: int, value: float) -> np.ndarray:
        return np.full(m + 1, value)

    def still(self, duration_s: float, held: float) -> None:
        """The bar does not move for ``duration_s`` (held in the hands when ``held`` is 1)."""
        m = int(round(duration_s * self.fs))
        if m <= 0:
            return
        p = self.pose
        self._append(np.zeros(m + 1), self._const(m, p.x), self._const(m, p.y), self._const(m, p.roll),
                     self._const(m, p.tilt), self._const(m, p.yaw), held)

    def move(self, duration_s: float, *, dz: float = 0.0, dx: float = 0.0, dy: float = 0.0, droll: float = 0.0,
             dtilt: float = 0.0, dyaw: float = 0.0, bob_z: float = 0.0, held: float = 1.0) -> None:
        """Minimum-jerk move of every channel; ``bob_z`` adds a down-up dip (steps)."""
        m = max(int(round(duration_s * self.fs)), 4)
        T = m * self.dt
        vz = dz / T * _min_jerk_velocity(m) if dz else np.zeros(m + 1)
        if bob_z:
            tau = np.linspace(0.0, 1.0, m + 1)
            vz = vz - bob_z * np.pi / T * np.sin(2 * np.pi * tau)  # d/dt of -b sin^2(pi tau)
        s = _min_jerk_position(m)
        p = self.pose
        self._append(vz, p.x + dx * s, p.y + dy * s, p.roll + droll * s, p.tilt + dtilt * s, p.yaw + dyaw * s, held)

    def vertical(self, vz: np.ndarray, *, z_from: float, z_span: float, geo_path: tuple[float, float, float],
                 angle_gains: tuple[float, float, float, float], ref: Pose, held: float = 1.0) -> None:
        """A rep phase: ``vz`` (m + 1 points) with channels following the height fraction.

        Horizontal position and angles are ``ref + gain * g(u)`` where ``u`` is the fraction of
        the way from the rep's rest position (``z_from`` at u = 0, ``z_from + z_span`` at 1).
        ``geo_path = (J, q, direction)``: ``direction`` 0 uses ``u`` (moving away), 1 ``u^q``.
        """
        z = self.pose.z + np.concatenate([[0.0], np.cumsum(0.5 * (vz[1:] + vz[:-1]) * self.dt)])
        u = np.clip((z - z_from) / z_span if z_span else np.zeros_like(z), -0.5, 1.5)
        J, q, back = geo_path
        upos = np.clip(u, 0.0, None)
        g = upos**q if back else upos
        rg, tg, yg, rv = angle_gains
        x = ref.x + J * g
        roll = ref.roll + rg * u + rv * vz
        tilt = ref.tilt + tg * u
        yaw = ref.yaw + yg * u
        y = np.full_like(z, ref.y)
        self._append(vz, x, y, roll, tilt, yaw, held)

    def velocity(self, vz: np.ndarray, held: float = 1.0) -> None:
        """A vertical velocity segment with the other channels held."""
        m = len(vz) - 1
        p = self.pose
        self._append(vz, self._const(m, p.x), self._const(m, p.y), self._const(m, p.roll), self._const(m, p.tilt),
                     self._const(m, p.yaw), held)

    def impact(self, v_contact: float, duration_s: float, held: float) -> None:
        """Contact with the hooks/floor/safeties: downward velocity to zero in a short pulse."""
        self.impacts.append((self.n - 1, v_contact))
        self.velocity(_impact_velocity(v_contact, duration_s, self.fs), held)

    def arrays(self) -> dict[str, np.ndarray]:
        """All tracks, concatenated."""
        return {
            "vz": np.concatenate(self.vz), "x": np.concatenate(self.x), "y": np.concatenate(self.y),
            "roll": np.concatenate(self.roll), "tilt": np.concatenate(self.tilt), "yaw": np.concatenate(self.yaw),
            "held": np.concatenate(self.held),
        }


# --------------------------------------------------------------------------- set assembly


def _walk(b: _Builder, rng: np.random.Generator, steps: int, total_dx: float, held: float = 1.0) -> None:
    """Walking steps carrying the bar: forward/back steps with a vertical bob and yaw turns."""
    lengths = rng.dirichlet(np.full(steps, 4.0)) * total_dx
    for dx in lengths:
        b.move(rng.uniform(0.45, 0.85), dx=float(dx), dy=float(rng.normal(0, 0.008)),
               dyaw=math.radians(rng.normal(0, 2.0)), droll=math.radians(rng.normal(0, 1.0)),
               bob_z=float(rng.uniform(0.004, 0.018)), held=held)
        b.still(rng.uniform(0.05, 0.35), held)


def _contact_down(b: _Builder, rng: np.random.Generator, depth: float, v_contact: float, duration: float,
                  held_before: float) -> None:
    b.velocity(_descent_to_contact(depth, duration, v_contact, b.fs), held_before)
    b.impact(v_contact, rng.uniform(0.010, 0.025), 0.0)


@dataclass(slots=True)
class _RepTimes:
    ecc: tuple[int, int] | None = None
    con: tuple[int, int] | None = None


def build_set(
    outcome: SetOutcome,
    athlete: Athlete,
    rng: np.random.Generator,
    *,
    start_pose: Pose | None,
    start_location: str | None,
    lead_in_s: float = 0.0,
    ending: str | None = None,
    plate_change_before_s: float | None = None,
    fs: float = PHYSICS_RATE_HZ,
) -> SetBlock:
    """Assemble the dense kinematics and labels of one set (block-relative times from 0).

    Args:
        outcome: What the athlete does (from `vbt.sim.athlete.plan_set`).
        athlete: Who (anthropometry, profile, style).
        rng: Randomness for geometry, event durations and perturbations.
        start_pose: Where the bar rests before the set (None: in the exercise's own rest place).
        start_location: ``"rack"``, ``"floor"``, ``"safeties"`` or None (same as the rest place).
        lead_in_s: Extra still time before the set starts.
        ending: How the set ends: ``"rerack"`` (squat, bench, OHP default), ``"floor"``
            (deadlift, row default) or ``"drop"`` (deadlift/row: released from lockout).
        plate_change_before_s: Plates are slid on or off this long before the set starts (the
            bar jolts, rings and turns in the hooks or rolls on the floor; not a rep).
    """
    ex = outcome.exercise
    prof = athlete.profiles[ex]
    geo = _geometry(ex, athlete, rng)
    home = "floor" if ex in ("deadlift", "row") else "rack"
    pose0 = Pose(0.0, 0.0, geo.rest_z, 0.0, 0.0, 0.0) if start_pose is None else start_pose.copy()
    b = _Builder(pose0, fs)
    events: list[EventLabel] = []
    b.still(BLOCK_PAD_S + lead_in_s, 0.0)

    # Move the bar from wherever it is to its starting place (e.g. off the safeties after a failed squat).
    # (Only when it is not where this lift starts: a bar a few cm off its last spot stays there.)
    if start_pose is not None and (abs(pose0.z - geo.rest_z) > 0.03 or (start_location or home) != home):
        t_a = b.now
        lift = max(geo.rest_z, pose0.z) + 0.06 - pose0.z
        b.move(rng.uniform(0.8, 1.6), dz=lift, dx=-pose0.x * 0.5, droll=math.radians(rng.normal(0, 20)))
        b.move(rng.uniform(0.6, 1.2), dx=-b.pose.x, dyaw=-b.pose.yaw, dtilt=-b.pose.tilt)
        _contact_down(b, rng, b.pose.z - geo.rest_z, rng.uniform(0.1, 0.3), rng.uniform(0.4, 0.8), 1.0)
        events.append(EventLabel(EV_HANDLING, t_a, b.now, {"from": start_location or "unknown", "to": home}))
        b.still(rng.uniform(2.0, 6.0), 0.0)

    if plate_change_before_s is not None:
        t_a = b.now
        n_plates = _plate_change(b, rng, on_floor=home == "floor")
        events.append(EventLabel(EV_PLATE_CHANGE, t_a, b.now, {"plates": n_plates}))
        b.still(max(plate_change_before_s - (b.now - t_a), 1.0), 0.0)

    b.still(rng.uniform(1.0, 3.0), 0.0)  # the lifter gets under / grips the bar
    set_start = b.now  # the first movement of the set
    reps_out: list[RepLabel] = []
    rep_times: list[_RepTimes] = []
    ref = b.pose.copy()
    ecc_first = ECCENTRIC_FIRST[ex]

    def angle_gains() -> tuple[float, float, float, float]:
        return (geo.roll_gain, geo.tilt_gain, geo.yaw_gain, geo.roll_vel_gain)

    # ---------------------------------------------------------------- set-up before the first rep
    if ex == "squat" or ex == "ohp":
        t_a = b.now
        b.move(rng.uniform(0.6, 1.2), dz=geo.start_z - b.pose.z, dx=-rng.uniform(0.0, 0.03),
               droll=math.radians(rng.normal(0, 6)))
        events.append(EventLabel(EV_UNRACK, t_a, b.now))
        b.still(rng.uniform(0.3, 1.0), 1.0)
        t_a = b.now
        steps = int(rng.integers(2, 5)) if ex == "squat" else int(rng.integers(1, 4))
        back = rng.uniform(0.25, 0.6) if ex == "squat" else rng.uniform(0.15, 0.35)
        _walk(b, rng, steps, -back)
        events.append(EventLabel(EV_WALKOUT, t_a, b.now, {"steps": steps, "distance_m": round(back, 3)}))
        b.still(rng.uniform(1.0, 3.5), 1.0)
    elif ex == "bench":
        t_a = b.now
        b.move(rng.uniform(0.5, 1.0), dz=geo.start_z - b.pose.z, droll=math.radians(rng.normal(0, 4)))
        b.move(rng.uniform(0.6, 1.2), dx=rng.uniform(0.12, 0.30), dz=rng.normal(0.0, 0.01))
        events.append(EventLabel(EV_UNRACK, t_a, b.now))
        b.still(rng.uniform(0.5, 2.0), 1.0)
    elif ex == "row":
        t_a = b.now
        stand = geo.start_z + rng.uniform(0.12, 0.25)
        vz = concentric_velocity(stand - b.pose.z, rng.uniform(0.4, 0.7), alpha=2.0, beta_prior=2.0,
                                 braking_share=0.0, dip=0.0, dip_c=0.4, dip_w=0.1, fs=fs)
        b.vertical(vz, z_from=b.pose.z, z_span=stand - b.pose.z, geo_path=(geo.path_j * 0.5, 1.0, 0),
                   angle_gains=(geo.roll_gain * 0.5, 0.0, 0.0, 0.0), ref=b.pose.copy())
        events.append(EventLabel(EV_PICK_UP, t_a, b.now))
        b.still(rng.uniform(0.5, 2.0), 1.0)
        t_a = b.now
        b.move(rng.uniform(0.8, 1.5), dz=geo.start_z - b.pose.z, dx=rng.uniform(0.0, 0.05))
        events.append(EventLabel(EV_HINGE, t_a, b.now))
        b.still(rng.uniform(0.3, 1.0), 1.0)
    ref = b.pose.copy()

    rest_held = 1.0 if ex in ("squat", "bench", "ohp", "row") else 0.0

    # ---------------------------------------------------------------- reps
    def eccentric_shape(rep: RepPlan, depth: float, tng: bool) -> np.ndarray:
        m = max(int(round(rep.eccentric_s * fs)), 30)
        beta = rng.uniform(1.05, 1.3) if tng else rng.uniform(1.6, 2.4)
        return -(depth / (m / fs)) * _beta_shape(m, rng.uniform(1.5, 2.2), beta)

    def concentric_shape(rep: RepPlan, tng: bool) -> tuple[np.ndarray, bool]:
        alpha = rng.uniform(1.0, 1.1) if tng else rng.uniform(1.8, 2.6)
        # Light loads peak late (then brake); heavy loads peak early, then the sticking region.
        rel = rep.relative_load
        tau_peak = float(np.clip(0.65 - 0.3 * (rel - 0.5) / 0.5, 0.33, 0.65)) + rng.normal(0.0, 0.03)
        beta_prior = float(np.clip(alpha * (1.0 - tau_peak) / tau_peak, 1.05, 3.0))
        v_on = outcome.mvt_day_mps + 0.55
        slow = float(np.clip((v_on - rep.mcv_mps) / max(v_on - outcome.mvt_day_mps, 0.05), 0.0, 1.0))
        dip = prof.sticking_depth * slow
        vz = concentric_velocity(
            rep.rom_m, rep.mcv_mps, alpha=alpha, beta_prior=beta_prior,
            braking_share=target_braking_share(ex, rep.relative_load, geo.braking_p0),
            dip=dip, dip_c=geo.dip_c + rng.normal(0, 0.03), dip_w=geo.dip_w, fs=fs,
        )
        return vz, dip > 0.15

    for rep in outcome.reps:
        times = _RepTimes()
        rest_pause = rep.rest_pause_s
        if rep.regrip_before:
            # A re-grip: hands come off / shift, the bar rolls a few degrees (and for the bench, settles again).
            b.still(rest_pause * 0.3, rest_held)
            t_a = b.now
            droll = math.radians(rng.normal(0, 8))
            if rest_held:
                b.move(rng.uniform(0.4, 0.9), droll=droll, dz=rng.normal(0, 0.003), held=rest_held)
            else:
                # On the floor the plates roll with the bar: x moves by plate radius x angle.
                b.move(rng.uniform(0.4, 0.9), droll=droll, dx=-FLOOR_Z_M * droll, held=0.0)
            events.append(EventLabel(EV_REGRIP, t_a, b.now))
            b.still(rest_pause * 0.5, rest_held)
        else:
            b.still(rest_pause, rest_held)
        tng = rep.touch_and_go
        ref = b.pose.copy()  # re-grips, floor rolls and sway move the starting pose
        if ecc_first:
            depth = rep.rom_m
            e0 = b.now
            vz = eccentric_shape(rep, depth, tng)
            b.vertical(vz, z_from=ref.z, z_span=-depth, geo_path=(geo.path_j, geo.path_q, 0),
                       angle_gains=angle_gains(), ref=ref)
            times.ecc = (int(round(e0 * fs)), b.n - 1)
            b.still(rep.turnaround_pause_s, 1.0)
            c0 = b.n - 1
            vz, sticky = concentric_shape(rep, tng)
            b.vertical(vz, z_from=ref.z, z_span=-depth, geo_path=(geo.path_j, geo.path_q, 1),
                       angle_gains=angle_gains(), ref=ref)
            times.con = (c0, b.n - 1)
        else:
            # Concentric first: from the floor / shoulders / hang up, then back down.
            c0 = b.n - 1
            vz, sticky = concentric_shape(rep, tng and rep.index > 1)
            b.vertical(vz, z_from=ref.z, z_span=rep.rom_m, geo_path=(geo.path_j, 1.0, 0),
                       angle_gains=angle_gains(), ref=ref)
            times.con = (c0, b.n - 1)
            # Lockout hold (deadlift/OHP) or squeeze at the torso (row).
            b.still(rep.turnaround_pause_s, 1.0)
            e0 = b.n - 1
            is_last = rep.index == len(outcome.reps) and outcome.failed is None
            if ex == "deadlift" and not is_last:
                v_c = rng.uniform(0.2, 0.5) if tng else rng.uniform(0.05, 0.2)
                vz_d = _descent_to_contact(rep.rom_m, rep.eccentric_s, v_c, fs)
                b.vertical(vz_d, z_from=ref.z, z_span=rep.rom_m, geo_path=(geo.path_j, geo.path_q, 1),
                           angle_gains=angle_gains(), ref=ref)
                times.ecc = (e0, b.n - 1)
                b.impact(v_c, rng.uniform(0.010, 0.020), 1.0 if tng else 0.0)
            elif ex == "deadlift" and is_last:
                times.ecc = None  # the set-down below is not part of a rep
            else:
                vz_d = eccentric_shape(rep, rep.rom_m, tng)
                b.vertical(vz_d, z_from=ref.z, z_span=rep.rom_m, geo_path=(geo.path_j, geo.path_q, 1),
                           angle_gains=angle_gains(), ref=ref)
                times.ecc = (e0, b.n - 1)
        rep_times.append(times)
        reps_out.append(_rep_label_stub(rep, times, fs, sticky))

    if not ecc_first:
        # Labels give the lowering *before* each concentric (as the pipeline's RepResult does):
        # none before rep 1 of a concentric-first lift; rep k gets rep k-1's lowering.
        for k in range(len(reps_out) - 1, -1, -1):
            prev = rep_times[k - 1].ecc if k > 0 else None
            reps_out[k].eccentric_start_s = None if prev is None else prev[0] / fs
            reps_out[k].eccentric_end_s = None if prev is None else prev[1] / fs

    # ---------------------------------------------------------------- failed attempt
    failed_label: FailedLabel | None = None
    end_location = home
    if outcome.failed is not None:
        fp: FailedPlan = outcome.failed
        rom = prof.rom_m
        b.still(fp.rest_pause_s, rest_held)
        ref = b.pose.copy()
        if ecc_first:
            e0 = b.now
            vz = -(rom / fp.eccentric_s) * _beta_shape(max(int(round(fp.eccentric_s * fs)), 30), 1.8, 1.8)
            b.vertical(vz, z_from=ref.z, z_span=-rom, geo_path=(geo.path_j, geo.path_q, 0),
                       angle_gains=angle_gains(), ref=ref)
            b.still(rng.uniform(0.0, 0.3), 1.0)
        start_f = b.now
        z_start_f = b.pose.z
        reach = fp.reach_fraction * rom
        vz = concentric_velocity(reach, fp.mcv_mps, alpha=1.8, beta_prior=2.2, braking_share=0.0, dip=0.0,
                                 dip_c=0.4, dip_w=0.1, fs=fs)
        rom_sign = -1.0 if ecc_first else 1.0
        b.vertical(vz, z_from=ref.z, z_span=rom_sign * rom, geo_path=(geo.path_j, geo.path_q, 1 if ecc_first else 0),
                   angle_gains=angle_gains(), ref=ref)
        stall0 = b.now
        z_top = b.pose.z
        # Stall: the bar hangs, trembling, and sinks a little.
        m = int(round(fp.stall_s * fs))
        tau = np.linspace(0.0, 1.0, m + 1)
        sink = rng.uniform(0.0, 0.03)
        # Struggle: irregular 1-4 Hz trembling with zero net displacement, faded in and out.
        shake = _band_noise(rng, m + 1, fs, 1.0, 4.0) * np.sin(np.pi * tau) ** 2
        shake -= _trapz_unit(shake) * np.sin(np.pi * tau) ** 2 / _trapz_unit(np.sin(np.pi * tau) ** 2)
        vz_st = -sink / fp.stall_s * _beta_shape(m, 1.5, 1.5) + rng.uniform(0.005, 0.02) * shake
        b.velocity(vz_st, 1.0)
        stall1 = b.now
        # Give up: down to safeties (squat/bench), floor (deadlift/row), shoulders (OHP).
        if ex == "squat":
            target = ref.z - rom - rng.uniform(0.02, 0.08)
            end_location = "safeties"
        elif ex == "bench":
            target = ref.z - rom - rng.uniform(0.01, 0.04)
            end_location = "safeties"
        elif ex == "deadlift":
            target = FLOOR_Z_M
            end_location = "floor"
        elif ex == "row":
            target = ref.z
        else:  # ohp back to the shoulders
            target = ref.z
        drop = b.pose.z - target
        if ex in ("squat", "bench", "deadlift"):
            _contact_down(b, rng, drop, rng.uniform(0.15, 0.45), max(0.4, drop / 0.5), 1.0)
            outcome_kind = "safeties" if ex in ("squat", "bench") else "floor"
        else:
            m = max(int(round(max(0.4, drop / 0.4) * fs)), 30)
            b.velocity(-(drop / (m / fs)) * _beta_shape(m, 1.8, 1.8), 1.0)
            outcome_kind = "lowered"
        end_f = b.now
        failed_label = FailedLabel(start_f, end_f, z_top - z_start_f, stall0, stall1, outcome_kind)
        b.still(rng.uniform(0.5, 1.5), 0.0 if outcome_kind in ("safeties", "floor") else 1.0)

    # ---------------------------------------------------------------- end of set
    if end_location == home:
        if ex in ("squat", "ohp"):
            b.still(rng.uniform(0.5, 2.0), 1.0)
            t_a = b.now
            steps = int(rng.integers(2, 5)) if ex == "squat" else int(rng.integers(1, 4))
            _walk(b, rng, steps, -b.pose.x + rng.uniform(0.02, 0.05))
            events.append(EventLabel(EV_WALKIN, t_a, b.now, {"steps": steps}))
            t_a = b.now
            b.move(rng.uniform(0.3, 0.6), dz=rng.uniform(0.0, 0.02))
            missed = _maybe_miss_hooks(b, rng)
            _contact_down(b, rng, b.pose.z - geo.rest_z, rng.uniform(0.10, 0.35), rng.uniform(0.3, 0.7), 1.0)
            events.append(EventLabel(EV_RERACK, t_a, b.now, {"hit_upright": missed}))
        elif ex == "bench":
            b.still(rng.uniform(0.3, 1.5), 1.0)
            t_a = b.now
            b.move(rng.uniform(0.6, 1.2), dx=-b.pose.x - rng.uniform(0.0, 0.03), dz=rng.uniform(0.01, 0.03))
            missed = _maybe_miss_hooks(b, rng)
            _contact_down(b, rng, b.pose.z - geo.rest_z, rng.uniform(0.10, 0.35), rng.uniform(0.3, 0.7), 1.0)
            events.append(EventLabel(EV_RERACK, t_a, b.now, {"hit_upright": missed}))
        else:  # deadlift / row: the bar goes back to the floor
            if ex == "row":
                b.still(rng.uniform(0.2, 0.8), 1.0)
                t_a = b.now
                up = rng.uniform(0.12, 0.25)
                vz = concentric_velocity(up, rng.uniform(0.3, 0.6), alpha=2.0, beta_prior=2.0, braking_share=0.0,
                                         dip=0.0, dip_c=0.4, dip_w=0.1, fs=fs)
                b.velocity(vz, 1.0)
                events.append(EventLabel(EV_STAND_UP, t_a, b.now))
                b.still(rng.uniform(0.3, 1.5), 1.0)
            else:
                b.still(rng.uniform(0.2, 1.0), 1.0)
            t_a = b.now
            height = b.pose.z - FLOOR_Z_M
            if ending == "drop" and height > 0.2:
                _drop(b, rng, height)
                events.append(EventLabel(EV_DROP, t_a, b.now, {"height_m": round(height, 3)}))
            elif height > 0.005:
                _contact_down(b, rng, height, rng.uniform(0.2, 0.6), rng.uniform(0.6, 1.4), 1.0)
                events.append(EventLabel(EV_SET_DOWN, t_a, b.now))
    set_end = b.now
    b.still(BLOCK_PAD_S + 0.5, 0.0)

    arrays = b.arrays()
    block = _finish(arrays, b, rng, fs, reps_out, rep_times, outcome, failed_label, events, set_start, set_end,
                    end_location)
    return block


def _plate_change(b: _Builder, rng: np.random.Generator, *, on_floor: bool) -> int:
    """Plates slid on or off during the rest: jolts and ringing, the bar turning in the hooks or
    rolling on the floor (lifted a little at one end to slide the plates). Returns the plates."""
    n = int(rng.choice([2, 2, 4]))
    for _ in range(n):
        b.still(rng.uniform(1.5, 5.0), 0.0)
        droll = math.radians(rng.normal(0.0, 3.0))
        if on_floor:
            # one end lifted (foot or plate jack) tilts the bar by ~1-3 deg while the plate slides on
            tilt = math.radians(rng.uniform(1.0, 3.0)) * (1 if rng.random() < 0.5 else -1)
            b.move(rng.uniform(0.4, 0.8), dtilt=tilt, dz=0.6 * 0.05 * abs(tilt) / 0.04, held=0.0)
            b.impacts.append((b.n - 1, float(rng.uniform(0.05, 0.15))))
            b.move(rng.uniform(0.4, 0.8), dtilt=-tilt, dz=-0.6 * 0.05 * abs(tilt) / 0.04, droll=droll,
                   dx=-FLOOR_Z_M * droll, held=0.0)
        else:
            b.impacts.append((b.n - 1, float(rng.uniform(0.05, 0.2))))
            b.move(rng.uniform(0.2, 0.5), droll=droll, held=0.0)
    return n


def _maybe_miss_hooks(b: _Builder, rng: np.random.Generator, p: float = 0.15) -> bool:
    """Sometimes the bar clips an upright before settling in the hooks (a hard horizontal knock)."""
    if rng.random() >= p:
        return False
    b.impacts.append((b.n - 1, float(rng.uniform(0.1, 0.3))))
    b.move(rng.uniform(0.2, 0.4), dx=-rng.uniform(0.01, 0.03), dz=rng.uniform(0.0, 0.01))
    b.move(rng.uniform(0.3, 0.6), dx=rng.uniform(0.02, 0.04))
    return True


def _drop(b: _Builder, rng: np.random.Generator, height: float) -> None:
    """Release the bar from lockout: free fall, a hard bumper-plate impact and a small bounce.

    During the fall the bar accelerates at -g, so the accelerometer reads ~0 g (a hard case for
    gravity estimation). Bumper plates rebound with restitution ~0.2-0.4 [D].
    """
    fs = b.fs
    e = rng.uniform(0.2, 0.4)
    dur1 = rng.uniform(0.02, 0.04)
    dur2 = rng.uniform(0.015, 0.03)
    v_imp = math.sqrt(2 * 9.81 * height)
    # Displacements while the plates compress (both impacts) shorten the free fall.
    comp1 = 0.5 * (1 - e) * v_imp * dur1
    comp2 = 0.5 * e * v_imp * dur2
    fall = max(height - comp1 - comp2, 0.05)
    t_fall = math.sqrt(2 * fall / 9.81)
    m = max(int(round(t_fall * fs)), 10)
    tau = np.linspace(0.0, 1.0, m + 1)
    v = -tau
    v *= fall / (-_trapz_unit(v) * (m / fs))
    b.velocity(v, 0.0)
    v_imp = -float(v[-1])
    mi = max(int(round(dur1 * fs)), 6)
    tau = np.linspace(0.0, 1.0, mi + 1)
    b.impacts.append((b.n - 1, v_imp))
    b.velocity(-v_imp + (v_imp * (1 + e)) * 0.5 * (1 - np.cos(np.pi * tau)), 0.0)
    m2 = max(int(round(2 * e * v_imp / 9.81 * fs)), 6)
    tau = np.linspace(0.0, 1.0, m2 + 1)
    b.velocity(e * v_imp * (1 - 2 * tau), 0.0)  # ballistic bounce, zero net displacement
    b.impact(e * v_imp, dur2, 0.0)


def _rep_label_stub(rep: RepPlan, times: _RepTimes, fs: float, sticky: bool) -> RepLabel:
    c0, c1 = times.con  # type: ignore[misc]
    ecc = times.ecc
    return RepLabel(
        index=rep.index, concentric_start_s=c0 / fs, concentric_end_s=c1 / fs, mean_velocity_mps=rep.mcv_mps,
        mean_propulsive_velocity_mps=rep.mcv_mps, peak_velocity_mps=0.0, rom_m=rep.rom_m, time_to_peak_s=0.0,
        rir=rep.rir, eccentric_start_s=None if ecc is None else ecc[0] / fs,
        eccentric_end_s=None if ecc is None else ecc[1] / fs, touch_and_go=rep.touch_and_go,
        pause_before_s=rep.turnaround_pause_s if ecc is not None and ecc[1] <= c0 else rep.rest_pause_s,
        sticking_region=sticky,
        relative_load=rep.relative_load,
    )


# --------------------------------------------------------------------------- perturbations and finishing


def _smooth_mask(mask: np.ndarray, fs: float, ramp_s: float = 0.2) -> np.ndarray:
    k = max(int(ramp_s * fs), 1)
    kernel = np.hanning(2 * k + 1)
    kernel /= kernel.sum()
    return np.convolve(mask, kernel, mode="same")


def _band_noise(rng: np.random.Generator, n: int, fs: float, f_lo: float, f_hi: float) -> np.ndarray:
    """Unit-RMS band-limited Gaussian noise (FFT-shaped), deterministic from ``rng``."""
    from scipy.fft import irfft, next_fast_len

    nf = next_fast_len(n, real=True)
    spec = rng.normal(size=nf // 2 + 1) + 1j * rng.normal(size=nf // 2 + 1)
    f = np.fft.rfftfreq(nf, 1.0 / fs)
    spec[(f < f_lo) | (f > f_hi)] = 0.0
    x = irfft(spec, nf)[:n]
    rms = float(np.sqrt(np.mean(x**2)))
    return x / rms if rms > 0 else x


def _has_sticking_region(v: np.ndarray) -> bool:
    """First peak -> minimum -> second peak, the minimum at least 10 % below the lower peak."""
    from scipy.signal import find_peaks

    peaks, _ = find_peaks(v, prominence=0.02 * float(np.max(v)))
    if len(peaks) < 2:
        return False
    for a, b in zip(peaks[:-1], peaks[1:], strict=True):
        if float(np.min(v[a:b + 1])) < 0.9 * min(float(v[a]), float(v[b])):
            return True
    return False


def _finish(arr: dict[str, np.ndarray], b: _Builder, rng: np.random.Generator, fs: float,
            reps: list[RepLabel], rep_times: list[_RepTimes], outcome: SetOutcome,
            failed: FailedLabel | None, events: list[EventLabel], set_start: float, set_end: float,
            end_location: str) -> SetBlock:
    n = len(arr["vz"])
    dt = 1.0 / fs
    held = _smooth_mask(arr["held"], fs, 0.4)
    # Tremor (6-12 Hz) and sway/breathing (0.15-1 Hz) while the bar is held.
    trem_acc = rng.uniform(0.03, 0.2)
    trem_disp = trem_acc / (2 * np.pi * 9.0) ** 2
    pert = np.zeros((n, 3))
    for axis, w in ((0, 0.7), (1, 0.4), (2, 1.0)):
        pert[:, axis] += trem_disp * w * _band_noise(rng, n, fs, 6.0, 12.0)
    sway = (rng.uniform(0.001, 0.005), rng.uniform(0.0005, 0.003), rng.uniform(0.0003, 0.0015))
    for axis in range(3):
        pert[:, axis] += sway[axis] * _band_noise(rng, n, fs, 0.1, 0.6)
    pert *= held[:, None]
    ang_pert = np.zeros((n, 3))
    # roll (hands turning the bar), tilt (one side higher: small, lifters keep the bar level), yaw
    for axis, (lo, hi) in enumerate(((0.2, 1.0), (0.05, 0.2), (0.1, 0.5))):
        ang_pert[:, axis] = math.radians(rng.uniform(lo, hi)) * _band_noise(rng, n, fs, 0.1, 0.8)
    ang_pert *= held[:, None]
    # Impact vibration: damped ringing of bar and plates after each contact.
    t = np.arange(n) * dt
    for idx, v_c in b.impacts:
        f = rng.uniform(8.0, 30.0)
        tau_d = rng.uniform(0.05, 0.25)
        a_peak = v_c * rng.uniform(15.0, 40.0)  # m/s^2 of ringing per m/s of contact speed
        amp = a_peak / (2 * np.pi * f) ** 2
        tt = t[idx:] - t[idx]
        ring = amp * np.exp(-tt / tau_d) * np.sin(2 * np.pi * f * tt) * (1 - np.exp(-tt / 0.004))
        direction = np.array([rng.normal(0, 0.3), rng.normal(0, 0.3), 1.0])
        pert[idx:] += ring[:, None] * direction[None, :]
    # Perturbations vanish at the block edges so consecutive blocks join exactly.
    edge = np.ones(n)
    k = int(BLOCK_PAD_S * 0.5 * fs)
    if n > 2 * k:
        ramp = 0.5 * (1 - np.cos(np.linspace(0, np.pi, k)))
        edge[:k] = ramp
        edge[-k:] = ramp[::-1]
    pert *= edge[:, None]
    ang_pert *= edge[:, None]

    vz_base = arr["vz"]
    z = b.z0 + np.concatenate([[0.0], np.cumsum(0.5 * (vz_base[1:] + vz_base[:-1]) * dt)])
    pos = np.stack([arr["x"], arr["y"], z], axis=1) + pert
    vel = np.empty_like(pos)
    vel[:, 0] = np.gradient(pos[:, 0], dt)
    vel[:, 1] = np.gradient(pos[:, 1], dt)
    vel[:, 2] = vz_base + np.gradient(pert[:, 2], dt)
    acc = np.gradient(vel, dt, axis=0)
    angles = np.stack([arr["roll"], arr["tilt"], arr["yaw"]], axis=1) + ang_pert

    # Exact labels from the final motion.
    for lab, times in zip(reps, rep_times, strict=True):
        c0, c1 = times.con  # type: ignore[misc]
        v = vel[c0:c1 + 1, 2]
        a = acc[c0:c1 + 1, 2]
        T = (c1 - c0) * dt
        disp = float(pos[c1, 2] - pos[c0, 2])
        lab.rom_m = disp
        lab.mean_velocity_mps = disp / T
        brake = np.nonzero(a[1:] < -G_MPV)[0]
        if brake.size:
            e = int(brake[0]) + 1
            lab.mean_propulsive_velocity_mps = float(np.sum(0.5 * (v[1:e + 1] + v[:e])) * dt / (e * dt))
        else:
            lab.mean_propulsive_velocity_mps = lab.mean_velocity_mps
        ip = int(np.argmax(v))
        lab.peak_velocity_mps = float(v[ip])
        lab.time_to_peak_s = ip * dt
        lab.sticking_region = _has_sticking_region(vz_base[c0:c1 + 1])
    end_pose = Pose(float(pos[-1, 0]), float(pos[-1, 1]), float(pos[-1, 2]), float(angles[-1, 0]),
                    float(angles[-1, 1]), float(angles[-1, 2]))
    return SetBlock(
        t0_s=0.0, dt_s=dt, pos_m=pos, vel_mps=vel, acc_mps2=acc, angles_rad=angles, reps=reps, failed=failed,
        events=events, set_start_s=set_start, set_end_s=set_end, end_pose=end_pose, rest_location=end_location,
    )


__all__ = [
    "BLOCK_PAD_S",
    "EVENT_KINDS",
    "FLOOR_Z_M",
    "PHYSICS_RATE_HZ",
    "EventLabel",
    "FailedLabel",
    "Pose",
    "RepLabel",
    "SetBlock",
    "build_set",
    "concentric_velocity",
    "target_braking_share",
]
