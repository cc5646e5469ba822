"""The IMU on the bar: mounting, rigid-body kinematics of the sensor point, and the error model.

Frames: world W (x forward / toward the bench-presser's feet, y along the bar, z up); bar B
(attached to the bar: y_B = long axis) with ``R_WB = Rz(yaw) Rx(tilt) Ry(roll)``; sensor S with
``R_WS = R_WB R_BS`` (the mounting). The sensor sits at ``r_B`` from the bar centre: an axial
position on the sleeve or shaft plus a radial lever arm of 0-6 cm from the bar axis, so bar
roll produces centripetal and tangential accelerations at the sensor::

    a_S = a_bar + alpha x r + omega x (omega x r),     r = R_WB r_B               (rigid body)
    f_S = R_WS^T (a_S - g_W),   g_W = (0, 0, -g_local)      (what an accelerometer measures)
    w_S = R_WS^T omega                                      (what a gyroscope measures)

Measured accelerometer ``= (I + M) diag(1 + s) f_S + b(t) + n``, with bias ``b(t)`` = initial
offset + warm-up drift + a slow Gauss-Markov wander; then the chip's anti-alias low-pass,
saturation at full scale and 16-bit quantisation. The gyro gets the same treatment plus
linear-acceleration (g-) sensitivity. The sensor's sample clock runs ``(1 + drift)`` slow.

Parameter table ([V]/[M] as in science.md; [D] design assumption)
------------------------------------------------------------------
===========================  ==============================================  ==========================================
Parameter                    Value                                           Source / reasoning
===========================  ==============================================  ==========================================
Accel noise density          MPU-6050 400, BMI270 160, BMA280 120,            datasheets, science.md §6.1 [V]
                             ICM-42605 70 ug/rtHz
Accel bias (initial)         MPU-6050 +/-50 mg x/y, +/-80 mg z; BMI270 /      §6.1 [V] (BMI270/ICM bias [D]); "typical"
                             ICM +/-20 mg; BMA280 +/-50 mg                   draws within half the spec (factory or
                                                                             user calibration), "harsh" up to it
Accel bias warm-up drift     +/-35 mg (MPU-6050, 0-70 C spec), others        §6.1 temperature spec [V]; self-heating
                             +/-10 mg; time constant 2-10 min                time constant [D]
Accel bias wander            Gauss-Markov, SD 1-5 mg, tau 30-300 s           slow drift (§6.3 stress: 0.5-1 mg/s
                                                                             over a set) [D]
Scale error                  +/-3 % (MPU-6050), +/-1-2 % others              MPU-6050 +/-3 % [V]; brief 1-3 %
Cross-axis / misalignment    +/-2 % (MPU-6050), +/-1 % others                MPU-6050 +/-2 % [V]
Gyro noise density           MPU-6050 0.005, BMI270 0.007, ICM 0.0038,       §6.1 [V]
                             BMG160 0.014 deg/s/rtHz
Gyro bias (residual)         +/-0.5-3 deg/s (after start-up calibration;     MPU-6050 +/-20 deg/s raw [V]; BMI270
                             MPU-6050 harsh up to +/-5)                      users report ~3 dps [V]; residual [D]
Gyro g-sensitivity           0.1 deg/s/g (MPU-6050), 0.05 others             §6.1 [V] / [D]
Gyro scale error             +/-1-3 %                                        [D]
Anti-alias low-pass          2nd-order Butterworth at 0.25-0.45 x rate       chip DLPF (e.g. WitMotion bandwidth
                             (faults "none": 4th order at 0.4 x rate)        register 20-256 Hz, §sensors 2) [D]
Full scale                   accel +/-2/4/8/16 g, gyro +/-2000 deg/s,        per protocol; impacts saturate small
                             16-bit                                          ranges (science.md §2 "> 2-3 g")
Sample-clock drift           +/-0.3 % typical, +/-1 % harsh; WitMotion       MPU-60x0 clock +/-1 % [V]; WitMotion
                             ~-1 % (runs slow); crystal-clocked sensors      197.8 Hz at 200 (sensors.md §2) [3p];
                             +/-50 ppm; plus a warm-up change of +/-200 ppm  crystals [D]
Mounting                     70 % "aligned" (one axis along the bar, any     users clip boxy sensors to the sleeve
                             rotation about it, <= 5 deg misalignment),      [D]; "arbitrary orientation" (brief)
                             30 % uniformly random
Lever arm                    0-6 cm radial; axial 0.5-1.05 m from centre     sleeve / collar mounts (brief) [D]
Local gravity                9.780-9.832 m/s^2 (none: 9.80665)               latitude and altitude range of normal
                                                                             gravity (Somigliana) [M]
===========================  ==============================================  ==========================================
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from firmware_protocols import STANDARD_GRAVITY_MPS2

#: Chip classes with their datasheet numbers (see the parameter table).
CHIPS: dict[str, dict[str, float]] = {
    # noise in ug/rtHz, bias in mg (x/y, z), temp drift mg, scale %, cross %, gyro noise dps/rtHz,
    # gyro residual bias dps, g-sensitivity dps/g
    "mpu6050": {"noise_ug": 400.0, "bias_xy_mg": 50.0, "bias_z_mg": 80.0, "temp_mg": 35.0, "scale_pct": 3.0,
                "cross_pct": 2.0, "gyro_noise_dps": 0.005, "gyro_bias_dps": 3.0, "gsens_dps_g": 0.1},
    "bmi270": {"noise_ug": 160.0, "bias_xy_mg": 20.0, "bias_z_mg": 20.0, "temp_mg": 10.0, "scale_pct": 2.0,
               "cross_pct": 1.0, "gyro_noise_dps": 0.007, "gyro_bias_dps": 3.0, "gsens_dps_g": 0.05},
    "bma280": {"noise_ug": 120.0, "bias_xy_mg": 50.0, "bias_z_mg": 50.0, "temp_mg": 10.0, "scale_pct": 2.0,
               "cross_pct": 1.0, "gyro_noise_dps": 0.014, "gyro_bias_dps": 1.0, "gsens_dps_g": 0.05},
    "icm42605": {"noise_ug": 70.0, "bias_xy_mg": 20.0, "bias_z_mg": 20.0, "temp_mg": 10.0, "scale_pct": 1.0,
                 "cross_pct": 1.0, "gyro_noise_dps": 0.0038, "gyro_bias_dps": 1.0, "gsens_dps_g": 0.05},
}

FAULT_LEVELS = ("none", "typical", "harsh")


# --------------------------------------------------------------------------- rotations


def rot_x(a: np.ndarray) -> np.ndarray:
    """Rotation matrices ``(n, 3, 3)`` about x by angles ``a`` (rad)."""
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([o, z, z], -1), np.stack([z, c, -s], -1), np.stack([z, s, c], -1)], -2)


def rot_y(a: np.ndarray) -> np.ndarray:
    """Rotation matrices ``(n, 3, 3)`` about y by angles ``a`` (rad)."""
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], -2)


def rot_z(a: np.ndarray) -> np.ndarray:
    """Rotation matrices ``(n, 3, 3)`` about z by angles ``a`` (rad)."""
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2)


def bar_rotation(angles_rad: np.ndarray) -> np.ndarray:
    """``R_WB`` for ``(n, 3)`` angles (roll about bar y, tilt about world x, yaw about world z)."""
    roll, tilt, yaw = angles_rad[:, 0], angles_rad[:, 1], angles_rad[:, 2]
    return rot_z(yaw) @ rot_x(tilt) @ rot_y(roll)


def bar_angular_velocity(angles_rad: np.ndarray, rates_rads: np.ndarray) -> np.ndarray:
    """World-frame angular velocity of ``Rz(yaw) Rx(tilt) Ry(roll)`` from the angle rates."""
    tilt, yaw = angles_rad[:, 1], angles_rad[:, 2]
    droll, dtilt, dyaw = rates_rads[:, 0], rates_rads[:, 1], rates_rads[:, 2]
    ex = np.stack([np.cos(yaw), np.sin(yaw), np.zeros_like(yaw)], -1)  # Rz(yaw) x
    ey = np.stack([-np.sin(yaw) * np.cos(tilt), np.cos(yaw) * np.cos(tilt), np.sin(tilt)], -1)  # Rz Rx y
    ez = np.zeros_like(ex)
    ez[:, 2] = 1.0
    return dyaw[:, None] * ez + dtilt[:, None] * ex + droll[:, None] * ey


def matrix_to_quat(R: np.ndarray) -> np.ndarray:
    """``(n, 3, 3)`` rotation matrices -> ``(n, 4)`` unit quaternions (w, x, y, z), w >= 0."""
    m = R
    n = m.shape[0]
    q = np.empty((n, 4))
    tr = m[:, 0, 0] + m[:, 1, 1] + m[:, 2, 2]
    cands = np.stack([tr, m[:, 0, 0], m[:, 1, 1], m[:, 2, 2]], -1)
    k = np.argmax(cands, axis=1)
    for case in range(4):
        sel = k == case
        if not np.any(sel):
            continue
        r = m[sel]
        if case == 0:
            s = np.sqrt(1.0 + tr[sel]) * 2
            q[sel] = np.stack([0.25 * s, (r[:, 2, 1] - r[:, 1, 2]) / s, (r[:, 0, 2] - r[:, 2, 0]) / s,
                               (r[:, 1, 0] - r[:, 0, 1]) / s], -1)
        elif case == 1:
            s = np.sqrt(1.0 + r[:, 0, 0] - r[:, 1, 1] - r[:, 2, 2]) * 2
            q[sel] = np.stack([(r[:, 2, 1] - r[:, 1, 2]) / s, 0.25 * s, (r[:, 0, 1] + r[:, 1, 0]) / s,
                               (r[:, 0, 2] + r[:, 2, 0]) / s], -1)
        elif case == 2:
            s = np.sqrt(1.0 + r[:, 1, 1] - r[:, 0, 0] - r[:, 2, 2]) * 2
            q[sel] = np.stack([(r[:, 0, 2] - r[:, 2, 0]) / s, (r[:, 0, 1] + r[:, 1, 0]) / s, 0.25 * s,
                               (r[:, 1, 2] + r[:, 2, 1]) / s], -1)
        else:
            s = np.sqrt(1.0 + r[:, 2, 2] - r[:, 0, 0] - r[:, 1, 1]) * 2
            q[sel] = np.stack([(r[:, 1, 0] - r[:, 0, 1]) / s, (r[:, 0, 2] + r[:, 2, 0]) / s,
                               (r[:, 1, 2] + r[:, 2, 1]) / s, 0.25 * s], -1)
    q *= np.where(q[:, :1] < 0, -1.0, 1.0)
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    """``(n, 4)`` quaternions (w, x, y, z) -> ``(n, 3, 3)`` rotation matrices."""
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
        np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
        np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
    ], -2)


def _random_rotation(rng: np.random.Generator) -> np.ndarray:
    q = rng.normal(size=4)
    return quat_to_matrix(q[None, :])[0]


def _cube_rotations() -> list[np.ndarray]:
    from itertools import permutations, product

    out = []
    for perm in permutations(range(3)):
        for signs in product((1.0, -1.0), repeat=3):
            m = np.zeros((3, 3))
            for row, (col, sg) in enumerate(zip(perm, signs, strict=True)):
                m[row, col] = sg
            if np.linalg.det(m) > 0:
                out.append(m)
    return out


_CUBE_ROTATIONS = _cube_rotations()


def _axis_angle(axis: np.ndarray, angle: float) -> np.ndarray:
    axis = axis / np.linalg.norm(axis)
    q = np.concatenate([[math.cos(angle / 2)], math.sin(angle / 2) * axis])
    return quat_to_matrix(q[None, :])[0]


# --------------------------------------------------------------------------- mounting and errors


@dataclass(frozen=True, slots=True)
class Mounting:
    """Where and how the sensor is attached to the bar.

    Attributes:
        R_bs: ``3x3`` rotation from sensor to bar frame (columns: sensor axes in bar frame).
        lever_arm_m: Sensor position in the bar frame relative to the bar centre (m); the y
            component is the axial position, x/z the radial offset from the bar axis.
        kind: ``"aligned"`` or ``"arbitrary"``.
    """

    R_bs: tuple[tuple[float, float, float], ...]
    lever_arm_m: tuple[float, float, float]
    kind: str

    @property
    def matrix(self) -> np.ndarray:
        """``R_bs`` as a 3x3 array."""
        return np.asarray(self.R_bs, dtype=float)

    @property
    def radial_offset_m(self) -> float:
        """Distance of the sensor from the bar axis (m)."""
        return float(math.hypot(self.lever_arm_m[0], self.lever_arm_m[2]))

    @classmethod
    def random(cls, rng: np.random.Generator, *, kind: str | None = None, max_lever_arm_m: float = 0.06) -> Mounting:
        """Draw a mounting (parameter table)."""
        if kind is None:
            kind = "aligned" if rng.random() < 0.7 else "arbitrary"
        if kind == "aligned":
            # A random proper "box" orientation (one of the cube's 24 rotations) puts one sensor
            # axis along the bar; then any rotation about the bar axis.
            base = _CUBE_ROTATIONS[int(rng.integers(len(_CUBE_ROTATIONS)))]
            spin = rot_y(np.array([rng.uniform(0, 2 * math.pi)]))[0]
            mis = _axis_angle(rng.normal(size=3), math.radians(rng.uniform(0.0, 5.0)))
            R = spin @ base @ mis
        elif kind == "arbitrary":
            R = _random_rotation(rng)
        else:
            raise ValueError(f"mounting kind {kind!r} must be 'aligned' or 'arbitrary'")
        radial = rng.uniform(0.0, max_lever_arm_m)
        phi = rng.uniform(0, 2 * math.pi)
        axial = rng.uniform(0.5, 1.05) * (1.0 if rng.random() < 0.5 else -1.0)
        lever = (radial * math.cos(phi), axial, radial * math.sin(phi))
        return cls(tuple(tuple(float(v) for v in row) for row in R), tuple(float(v) for v in lever), kind)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mounting."""
        return {"R_bs": [list(r) for r in self.R_bs], "lever_arm_m": list(self.lever_arm_m), "kind": self.kind}


@dataclass(frozen=True, slots=True)
class SensorSpec:
    """A realised sensor: chip errors, ranges, clock and filter (all drawn, fixed for a session).

    Attributes:
        chip: Chip class name (`CHIPS` key) or ``"ideal"``.
        mounting: Where it sits on the bar.
        accel_range_g, gyro_range_dps: Full scale (saturation); ``gyro_range_dps`` None = no gyro.
        quantise: Apply 16-bit quantisation at full scale.
        accel_noise_mps2_rthz: Noise density (m/s^2/rtHz).
        accel_bias_mps2, accel_bias_warmup_mps2: Initial bias and warm-up change per axis.
        bias_warmup_tau_s: Warm-up time constant.
        accel_bias_walk_mps2, accel_bias_walk_tau_s: Gauss-Markov wander SD and time constant.
        accel_scale, accel_cross: Per-axis scale errors (fraction) and the 3x3 off-diagonal
            misalignment matrix.
        gyro_noise_rads_rthz, gyro_bias_rads, gyro_scale, gyro_gsens_rads_per_mps2: Gyro errors.
        lowpass_fraction: Anti-alias cut-off as a fraction of the rate (None: no filter).
        lowpass_order: Order of that Butterworth filter (the chip's DLPF: 2; ideal: 4).
        clock_drift: Fractional sample-clock error: the real sample period is
            ``(1 + clock_drift) / rate`` (positive = runs slow).
        clock_warmup_drift: Additional drift reached after warm-up (same time constant).
        g_local_mps2: Local gravity.
    """

    chip: str
    mounting: Mounting
    accel_range_g: float
    gyro_range_dps: float | None
    quantise: bool
    accel_noise_mps2_rthz: float
    accel_bias_mps2: tuple[float, float, float]
    accel_bias_warmup_mps2: tuple[float, float, float]
    bias_warmup_tau_s: float
    accel_bias_walk_mps2: float
    accel_bias_walk_tau_s: float
    accel_scale: tuple[float, float, float]
    accel_cross: tuple[tuple[float, float, float], ...]
    gyro_noise_rads_rthz: float
    gyro_bias_rads: tuple[float, float, float]
    gyro_scale: tuple[float, float, float]
    gyro_gsens_rads_per_mps2: float
    lowpass_fraction: float | None
    clock_drift: float
    clock_warmup_drift: float
    g_local_mps2: float
    lowpass_order: int = 2

    @property
    def has_gyro(self) -> bool:
        """The sensor streams a gyroscope."""
        return self.gyro_range_dps is not None

    @classmethod
    def ideal(cls, mounting: Mounting, *, accel_range_g: float = 16.0, gyro_range_dps: float | None = 2000.0,
              g_local_mps2: float = STANDARD_GRAVITY_MPS2) -> SensorSpec:
        """An error-free sensor (for physics tests): no noise, bias, scale, drift or quantisation.

        It still band-limits like every real MEMS (a sharp 4th-order anti-alias filter at 0.4 x
        rate): sampling the raw 1 kHz motion would alias impact ringing and make integrated
        velocity wrong, which no real sensor does.
        """
        z3 = (0.0, 0.0, 0.0)
        return cls("ideal", mounting, accel_range_g, gyro_range_dps, False, 0.0, z3, z3, 300.0, 0.0, 100.0, z3,
                   (z3, z3, z3), 0.0, z3, z3, 0.0, 0.4, 0.0, 0.0, g_local_mps2, lowpass_order=4)

    @classmethod
    def random(
        cls,
        rng: np.random.Generator,
        *,
        faults: str = "typical",
        chip: str | None = None,
        gyro: bool = True,
        accel_range_g: float | None = None,
        gyro_range_dps: float | None = None,
        clock_drift: float | None = None,
        mounting: Mounting | None = None,
    ) -> SensorSpec:
        """Draw a sensor of ``chip`` class at a fault level (parameter table).

        ``faults="none"`` gives `ideal` (random mounting, errors off). ``clock_drift`` overrides
        the drawn sample-clock error (e.g. -0.01 for a WitMotion, which runs 1 % slow).
        """
        if faults not in FAULT_LEVELS:
            raise ValueError(f"faults {faults!r} must be one of {FAULT_LEVELS}")
        mounting = mounting or Mounting.random(rng)
        g_range = (2000.0 if gyro_range_dps is None else gyro_range_dps) if gyro else None
        if faults == "none":
            return cls.ideal(mounting, accel_range_g=accel_range_g or 16.0, gyro_range_dps=g_range)
        chip = chip or str(rng.choice(list(CHIPS)))
        c = CHIPS[chip]
        k = 0.5 if faults == "typical" else 1.0  # share of the datasheet spread used
        g0 = STANDARD_GRAVITY_MPS2
        mg = 1e-3 * g0

        def sym(limit: float, n: int = 3) -> np.ndarray:
            return rng.uniform(-limit, limit, size=n)

        bias = np.concatenate([sym(k * c["bias_xy_mg"], 2), sym(k * c["bias_z_mg"], 1)]) * mg
        warm = sym(k * c["temp_mg"]) * mg
        scale = sym(k * c["scale_pct"] / 100.0)
        cross = sym(k * c["cross_pct"] / 100.0, 9).reshape(3, 3)
        np.fill_diagonal(cross, 0.0)
        noise = c["noise_ug"] * 1e-6 * g0 * (1.0 if faults == "typical" else rng.uniform(1.0, 1.5))
        gbias_lim = c["gyro_bias_dps"] * (1.0 if faults == "typical" else 1.7)
        if accel_range_g is None:
            accel_range_g = float(rng.choice([4.0, 8.0, 16.0, 16.0] if faults == "typical" else [2.0, 4.0, 8.0, 16.0]))
        if clock_drift is None:
            lim = 0.003 if faults == "typical" else 0.01
            clock_drift = float(rng.uniform(-lim, lim))
        return cls(
            chip=chip,
            mounting=mounting,
            accel_range_g=float(accel_range_g),
            gyro_range_dps=g_range,
            quantise=True,
            accel_noise_mps2_rthz=float(noise),
            accel_bias_mps2=tuple(float(v) for v in bias),  # type: ignore[arg-type]
            accel_bias_warmup_mps2=tuple(float(v) for v in warm),  # type: ignore[arg-type]
            bias_warmup_tau_s=float(rng.uniform(120.0, 600.0)),
            accel_bias_walk_mps2=float(rng.uniform(1.0, 5.0 if faults == "harsh" else 2.5)) * mg,
            accel_bias_walk_tau_s=float(rng.uniform(30.0, 300.0)),
            accel_scale=tuple(float(v) for v in scale),  # type: ignore[arg-type]
            accel_cross=tuple(tuple(float(v) for v in row) for row in cross),
            gyro_noise_rads_rthz=math.radians(c["gyro_noise_dps"]),
            gyro_bias_rads=tuple(float(v) for v in np.radians(sym(gbias_lim))),  # type: ignore[arg-type]
            gyro_scale=tuple(float(v) for v in sym(k * 0.03 + 0.01 * (1 - k))),  # type: ignore[arg-type]
            gyro_gsens_rads_per_mps2=math.radians(c["gsens_dps_g"]) / g0,
            lowpass_fraction=float(rng.uniform(0.25, 0.45)),
            clock_drift=float(clock_drift),
            clock_warmup_drift=float(rng.uniform(-2e-4, 2e-4)),
            g_local_mps2=float(rng.uniform(9.780, 9.832)),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready parameters (the labels file stores them)."""
        d = asdict(self)
        d["mounting"] = self.mounting.to_dict()
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SensorSpec:
        """Rebuild from `to_dict` output."""
        d = dict(data)
        m = d.pop("mounting")
        mounting = Mounting(tuple(tuple(r) for r in m["R_bs"]), tuple(m["lever_arm_m"]), m["kind"])  # type: ignore[arg-type]
        for key in ("accel_bias_mps2", "accel_bias_warmup_mps2", "accel_scale", "gyro_bias_rads", "gyro_scale"):
            d[key] = tuple(d[key])
        d["accel_cross"] = tuple(tuple(r) for r in d["accel_cross"])
        return cls(mounting=mounting, **d)


# --------------------------------------------------------------------------- kinematics at the sensor


@dataclass(slots=True)
class SensorKinematics:
    """Ideal (error-free) signals at the sensor point on the physics grid of one block.

    Attributes:
        R_ws: ``(n, 3, 3)`` sensor orientation in the world.
        omega_world_rads: ``(n, 3)`` angular velocity, world frame.
        gyro_rads: ``(n, 3)`` angular velocity, sensor frame (ideal gyro).
        pos_m, vel_mps, acc_mps2: ``(n, 3)`` sensor-point motion, world frame.
        specific_force_world_mps2: ``(n, 3)`` ``a - g`` in the world frame.
        accel_mps2: ``(n, 3)`` specific force in the sensor frame (ideal accelerometer).
    """

    R_ws: np.ndarray
    omega_world_rads: np.ndarray
    gyro_rads: np.ndarray
    pos_m: np.ndarray
    vel_mps: np.ndarray
    acc_mps2: np.ndarray
    specific_force_world_mps2: np.ndarray
    accel_mps2: np.ndarray


def sensor_kinematics(pos_m: np.ndarray, vel_mps: np.ndarray, acc_mps2: np.ndarray, angles_rad: np.ndarray,
                      dt_s: float, mounting: Mounting, g_local_mps2: float) -> SensorKinematics:
    """Rigid-body kinematics of the sensor point from the bar-centre motion (module docstring)."""
    R_wb = bar_rotation(angles_rad)
    rates = np.gradient(angles_rad, dt_s, axis=0)
    omega = bar_angular_velocity(angles_rad, rates)
    alpha = np.gradient(omega, dt_s, axis=0)
    r_w = R_wb @ np.asarray(mounting.lever_arm_m)
    p_s = pos_m + r_w
    v_s = vel_mps + np.cross(omega, r_w)
    a_s = acc_mps2 + np.cross(alpha, r_w) + np.cross(omega, np.cross(omega, r_w))
    f_w = a_s.copy()
    f_w[:, 2] += g_local_mps2
    R_ws = R_wb @ mounting.matrix
    R_sw = np.transpose(R_ws, (0, 2, 1))
    f_s = np.einsum("nij,nj->ni", R_sw, f_w)
    w_s = np.einsum("nij,nj->ni", R_sw, omega)
    return SensorKinematics(R_ws, omega, w_s, p_s, v_s, a_s, f_w, f_s)


def static_reading(angles_rad: np.ndarray, mounting: Mounting, g_local_mps2: float) -> np.ndarray:
    """Ideal accelerometer reading ``(3,)`` of a bar at rest with ``angles_rad`` (roll, tilt, yaw)."""
    R_ws = bar_rotation(np.asarray(angles_rad, float)[None, :])[0] @ mounting.matrix
    return R_ws.T @ np.array([0.0, 0.0, g_local_mps2])


# --------------------------------------------------------------------------- the measurement model


def lowpass_sos(cutoff_hz: float, fs: float, order: int = 2) -> np.ndarray:
    """Butterworth low-pass (SOS) at ``cutoff_hz`` (capped at 0.45 fs): the chip's anti-alias DLPF."""
    from scipy.signal import butter

    return butter(order, min(cutoff_hz, 0.45 * fs), fs=fs, output="sos")


def apply_lowpass(x: np.ndarray, sos: np.ndarray) -> np.ndarray:
    """Causal filter along axis 0, started in steady state at the first sample (no transient)."""
    from scipy.signal import sosfilt, sosfilt_zi

    zi = sosfilt_zi(sos)  # (sections, 2)
    out = np.empty_like(x)
    for j in range(x.shape[1]):
        out[:, j], _ = sosfilt(sos, x[:, j], zi=zi * x[0, j])
    return out


def sample_times(spec: SensorSpec, rate_hz: float, t_first_s: float, t_end_s: float) -> np.ndarray:
    """True (host-clock) times of the sensor's samples between ``t_first_s`` and ``t_end_s``.

    The sensor believes it samples every ``1 / rate_hz``; really every
    ``(1 + drift(t)) / rate_hz`` with ``drift(t) = clock_drift + clock_warmup_drift (1 - exp(-t/tau))``.
    """
    nominal = 1.0 / rate_hz
    n = int(math.ceil((t_end_s - t_first_s) / (nominal * (1.0 + spec.clock_drift - 0.0003)))) + 2
    k = np.arange(n, dtype=float)
    tk_nom = k * nominal
    tau = spec.bias_warmup_tau_s
    # integral of (1 + drift(t)) dt over the nominal time axis
    warm = spec.clock_warmup_drift * (tk_nom - tau * (1.0 - np.exp(-tk_nom / tau)))
    t = t_first_s + tk_nom * (1.0 + spec.clock_drift) + warm
    return t[t <= t_end_s]


def measure(
    spec: SensorSpec,
    t_true_s: np.ndarray,
    ideal_accel_mps2: np.ndarray,
    ideal_gyro_rads: np.ndarray | None,
    rate_hz: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Apply the error model to ideal (already low-passed) samples; returns (accel, gyro)."""
    n = len(t_true_s)
    g0 = STANDARD_GRAVITY_MPS2
    acc = ideal_accel_mps2
    if spec.chip != "ideal":
        M = np.eye(3) + np.asarray(spec.accel_cross)
        S = np.diag(1.0 + np.asarray(spec.accel_scale))
        acc = acc @ (M @ S).T
        tt = t_true_s - t_true_s[0] if n else t_true_s
        bias = np.asarray(spec.accel_bias_mps2)[None, :] + np.asarray(spec.accel_bias_warmup_mps2)[None, :] * (
            1.0 - np.exp(-tt / spec.bias_warmup_tau_s))[:, None]
        bias = bias + _gauss_markov(rng, t_true_s, spec.accel_bias_walk_mps2, spec.accel_bias_walk_tau_s)
        bw = (spec.lowpass_fraction or 0.5) * rate_hz
        sigma = spec.accel_noise_mps2_rthz * math.sqrt(bw)
        acc = acc + bias + rng.normal(0.0, sigma, size=acc.shape)
    full_scale = spec.accel_range_g * g0
    acc = _adc(acc, full_scale, spec.quantise)
    gyro = None
    if ideal_gyro_rads is not None and spec.has_gyro:
        gyro = ideal_gyro_rads
        if spec.chip != "ideal":
            gyro = gyro * (1.0 + np.asarray(spec.gyro_scale))[None, :]
            gyro = gyro + np.asarray(spec.gyro_bias_rads)[None, :]
            gyro = gyro + spec.gyro_gsens_rads_per_mps2 * ideal_accel_mps2
            bw = (spec.lowpass_fraction or 0.5) * rate_hz
            gyro = gyro + rng.normal(0.0, spec.gyro_noise_rads_rthz * math.sqrt(bw), size=gyro.shape)
        gyro = _adc(gyro, math.radians(spec.gyro_range_dps or 2000.0), spec.quantise)
    return acc, gyro


def _adc(x: np.ndarray, full_scale: float, quantise: bool) -> np.ndarray:
    """Saturate at full scale and (optionally) quantise to signed 16 bit, as the chip's ADC does."""
    if quantise:
        lsb = full_scale / 32768.0
        raw = np.clip(np.round(x / lsb), -32768, 32767)
        return raw * lsb
    return np.clip(x, -full_scale, full_scale)


def _gauss_markov(rng: np.random.Generator, t_s: np.ndarray, sd: float, tau_s: float) -> np.ndarray:
    """First-order Gauss-Markov wander (3 axes) evaluated at ``t_s`` (AR(1) on a 1 s grid)."""
    if len(t_s) == 0 or sd <= 0:
        return np.zeros((len(t_s), 3))
    t0, t1 = float(t_s[0]), float(t_s[-1])
    grid = np.arange(t0, t1 + 2.0, 1.0)
    phi = math.exp(-1.0 / tau_s)
    e = rng.normal(0.0, sd * math.sqrt(1 - phi * phi), size=(len(grid), 3))
    x = np.empty_like(e)
    x[0] = rng.normal(0.0, sd, size=3)
    for i in range(1, len(grid)):
        x[i] = phi * x[i - 1] + e[i]
    return np.stack([np.interp(t_s, grid, x[:, j]) for j in range(3)], -1)


__all__ = [
    "CHIPS",
    "FAULT_LEVELS",
    "Mounting",
    "SensorKinematics",
    "SensorSpec",
    "apply_lowpass",
    "bar_angular_velocity",
    "bar_rotation",
    "lowpass_sos",
    "matrix_to_quat",
    "measure",
    "quat_to_matrix",
    "sample_times",
    "sensor_kinematics",
    "static_reading",
]
