"""Analytic barbell signals with known velocity, for pipeline tests.

Not a simulator (that is `vbt.sim`): a few closed-form velocity profiles whose MCV, MPV, PV and
ROM are known exactly, rendered through a simple IMU model (mounting rotation, bar roll, bias,
scale, noise, optional gyro) and a simple link model (notifications, connection-interval
batching, jitter, drops), so each pipeline stage can be checked against exact truth.

Concentric profile: ``v(tau) = Vp sin(pi tau / T)`` for ``0 <= tau <= T``; so MCV = 2 Vp / pi,
ROM = 2 Vp T / pi, PV = Vp, and the acceleration ``Vp pi / T cos(pi tau / T)`` drops below -g
(braking phase) only when ``Vp pi / T > g``; MPV then has a closed form (`true_mpv`).
Eccentric: the same shape downwards.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import signal

from firmware_protocols import ImuBatch

G = 9.80665


@dataclass
class Rep:
    """One rep: optional eccentric (depth = ROM), optional pause, sine concentric."""

    peak_mps: float
    duration_s: float
    eccentric_s: float | None = 1.2
    pause_s: float = 0.0
    lockout_s: float = 1.0

    @property
    def rom_m(self) -> float:
        return 2.0 * self.peak_mps * self.duration_s / math.pi

    @property
    def mcv(self) -> float:
        return 2.0 * self.peak_mps / math.pi


def true_mpv(rep: Rep) -> float:
    """Closed-form MPV of the sine profile (MCV when the bar never brakes harder than g)."""
    vp, T = rep.peak_mps, rep.duration_s
    amax = vp * math.pi / T
    if amax <= G:
        return rep.mcv
    tau_p = T / math.pi * math.acos(-G * T / (vp * math.pi))
    return vp * T / (math.pi * tau_p) * (1.0 - math.cos(math.pi * tau_p / T))


@dataclass
class Truth:
    """Ground truth per rep: concentric start/end, MCV, MPV, PV, ROM."""

    start_s: list[float] = field(default_factory=list)
    end_s: list[float] = field(default_factory=list)
    mcv: list[float] = field(default_factory=list)
    mpv: list[float] = field(default_factory=list)
    pv: list[float] = field(default_factory=list)
    rom: list[float] = field(default_factory=list)


def trajectory(reps: list[Rep], *, lead_s: float = 2.0, tail_s: float = 2.0, fs: float = 1000.0):
    """Dense true vertical velocity and acceleration for a set, plus truth.

    Returns:
        (t, v, a, truth) on a dense grid at ``fs``.
    """
    segs_v: list[np.ndarray] = [np.zeros(int(lead_s * fs))]
    truth = Truth()
    t_cursor = lead_s
    for rep in reps:
        if rep.eccentric_s:
            n = int(round(rep.eccentric_s * fs))
            tau = np.arange(n) / fs
            vd = rep.rom_m * math.pi / (2.0 * rep.eccentric_s)
            segs_v.append(-vd * np.sin(math.pi * tau / rep.eccentric_s))
            t_cursor += n / fs
        if rep.pause_s:
            n = int(round(rep.pause_s * fs))
            segs_v.append(np.zeros(n))
            t_cursor += n / fs
        n = int(round(rep.duration_s * fs))
        tau = np.arange(n) / fs
        segs_v.append(rep.peak_mps * np.sin(math.pi * tau / rep.duration_s))
        truth.start_s.append(t_cursor)
        truth.end_s.append(t_cursor + n / fs)
        truth.mcv.append(rep.mcv)
        truth.mpv.append(true_mpv(rep))
        truth.pv.append(rep.peak_mps)
        truth.rom.append(rep.rom_m)
        t_cursor += n / fs
        n = int(round(rep.lockout_s * fs))
        segs_v.append(np.zeros(n))
        t_cursor += n / fs
    segs_v.append(np.zeros(int(tail_s * fs)))
    v = np.concatenate(segs_v)
    t = np.arange(len(v)) / fs
    a = np.gradient(v, 1.0 / fs)
    return t, v, a, truth


def rotation_matrix(axis: np.ndarray, angle: float | np.ndarray) -> np.ndarray:
    """Rodrigues rotation matrices about ``axis`` (unit), shape (3,3) or (n,3,3)."""
    axis = np.asarray(axis, float) / np.linalg.norm(axis)
    ang = np.asarray(angle, float)
    K = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    s, c = np.sin(ang)[..., None, None], np.cos(ang)[..., None, None]
    return np.eye(3) + s * K + (1 - c) * (K @ K)


@dataclass
class SensorModel:
    """Simple IMU: mounting, roll proportional to |v|, bias, scale, noise, optional gyro."""

    rate_hz: float = 100.0
    clock_error: float = 0.0  # true rate = nominal * (1 + clock_error)
    mount_axis: tuple[float, float, float] = (1.0, 0.0, 0.0)
    mount_deg: float = 0.0
    roll_deg_per_mps: float = 0.0
    bias_mps2: tuple[float, float, float] = (0.0, 0.0, 0.0)
    scale: float = 0.0
    noise_mps2: float = 0.0
    gyro: bool = True
    gyro_bias_rads: tuple[float, float, float] = (0.0, 0.0, 0.0)
    gyro_noise_rads: float = 0.0
    seed: int = 0


def render(t, v, a, model: SensorModel):
    """Sample the dense truth into sensor frames: (t_sensor, accel (n,3), gyro (n,3)|None).

    Like a real IMU, the acceleration is low-passed before sampling (anti-alias filter at
    0.4 x the output rate, zero phase so labelled times stay put).
    """
    rng = np.random.default_rng(model.seed)
    fs_true = model.rate_hz * (1.0 + model.clock_error)
    ts = np.arange(0.0, t[-1], 1.0 / fs_true)
    fs_dense = 1.0 / (t[1] - t[0])
    sos = signal.butter(2, min(0.4 * model.rate_hz, 0.4 * fs_dense) / (fs_dense / 2), output="sos")
    vs = np.interp(ts, t, v)
    acs = np.interp(ts, t, signal.sosfiltfilt(sos, a))
    roll = np.radians(model.roll_deg_per_mps) * np.abs(vs)
    droll = np.gradient(roll, ts)
    R_m = rotation_matrix(np.array(model.mount_axis), math.radians(model.mount_deg))
    R_roll = rotation_matrix(np.array([1.0, 0.0, 0.0]), roll)
    C = R_roll @ R_m  # sensor -> world
    f_w = np.zeros((len(ts), 3))
    f_w[:, 2] = acs + G
    f_s = np.einsum("nji,nj->ni", C, f_w)  # C^T f
    f_s = f_s * (1.0 + model.scale) + np.asarray(model.bias_mps2)
    f_s += rng.normal(0.0, model.noise_mps2, f_s.shape) if model.noise_mps2 else 0.0
    gyro = None
    if model.gyro:
        w_bar = np.zeros((len(ts), 3))
        w_bar[:, 0] = droll
        gyro = w_bar @ R_m  # R_m^T w
        gyro = gyro + np.asarray(model.gyro_bias_rads)
        if model.gyro_noise_rads:
            gyro = gyro + rng.normal(0.0, model.gyro_noise_rads, gyro.shape)
    return ts, f_s, gyro


@dataclass
class LinkModel:
    """Notifications of ``per_packet`` samples, delivered at connection events."""

    per_packet: int = 1
    interval_s: float = 0.0
    latency_s: float = 0.010
    jitter_s: float = 0.0
    drop: float = 0.0
    burst: int = 3
    sensor_time: bool = False
    seed: int = 1


def packetize(ts, acc, gyro, nominal_rate_hz: float, link: LinkModel) -> list[ImuBatch]:
    """Split samples into `ImuBatch` notifications with host arrival times."""
    rng = np.random.default_rng(link.seed)
    n = len(ts) // link.per_packet
    batches = []
    keep = np.ones(n, dtype=bool)
    if link.drop:
        i = 0
        while i < n:
            if rng.random() < link.drop / link.burst:
                keep[i : i + int(rng.integers(1, 2 * link.burst))] = False
                i += 2 * link.burst
            i += 1
        keep[:20] = True
    for j in range(n):
        sl = slice(j * link.per_packet, (j + 1) * link.per_packet)
        send = ts[sl][-1]
        ev = math.ceil(send / link.interval_s) * link.interval_s if link.interval_s > 0 else send
        host = ev + link.latency_s + (rng.random() * link.jitter_s if link.jitter_s else 0.0)
        if not keep[j]:
            continue
        batches.append(
            ImuBatch(
                float(host),
                acc[sl].copy(),
                None if gyro is None else gyro[sl].copy(),
                ts[sl].copy() if link.sensor_time else None,
                float(nominal_rate_hz),
            )
        )
    # Arrival times never run backwards on a host.
    last = -math.inf
    out = []
    for b in batches:
        h = max(b.host_time_s, last)
        last = h
        out.append(ImuBatch(h, b.accel_mps2, b.gyro_rads, b.sensor_time_s, b.rate_hz))
    return out


def make_set(
    reps: list[Rep], model: SensorModel | None = None, link: LinkModel | None = None, **kw
) -> tuple[list[ImuBatch], Truth]:
    """Batches and truth for a set."""
    model = model or SensorModel()
    link = link or LinkModel()
    t, v, a, truth = trajectory(reps, **kw)
    ts, acc, gyro = render(t, v, a, model)
    return packetize(ts, acc, gyro, model.rate_hz, link), truth


def path(moves: list[tuple[float, float]], fs: float = 1000.0):
    """Dense (t, v, a) from moves ``(displacement_m, duration_s)``; displacement 0 = stand still.

    Each move is a half-sine velocity bump, so it starts and ends at rest.
    """
    segs = []
    for disp, dur in moves:
        n = int(round(dur * fs))
        tau = np.arange(n) / fs
        segs.append(np.zeros(n) if disp == 0 else disp * math.pi / (2 * dur) * np.sin(math.pi * tau / dur))
    v = np.concatenate(segs)
    t = np.arange(len(v)) / fs
    return t, v, np.gradient(v, 1.0 / fs)


def make_path(moves: list[tuple[float, float]], model: SensorModel | None = None,
              link: LinkModel | None = None) -> list[ImuBatch]:
    """Batches for a `path`."""
    model = model or SensorModel()
    t, v, a = path(moves)
    ts, acc, gyro = render(t, v, a, model)
    return packetize(ts, acc, gyro, model.rate_hz, link or LinkModel())
