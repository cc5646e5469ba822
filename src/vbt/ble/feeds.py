"""What a virtual sensor measures: `SampleFeed` and its implementations.

A feed answers one question for a `VirtualSensorPeripheral`: "what do the accelerometer and
gyro read at these instants, sampled at this rate?". Times are *feed time*: physical seconds
since the sensor first started streaming (the lifter starts when the app is ready). The
peripheral asks for the instants its own sample clock produces, so a feed never needs to
know about packets, rates changing mid-stream or link gaps.

Implementations:

* `AnalyticRepsFeed` -- a closed-form vertical "rep" motion (cosine position profile) with a
  fixed mounting tilt and a small roll; exact truth for tests, not a realistic lift;
* `SimulatedFeed` -- a `vbt.sim` session (realistic lifts, sensor errors), see below;
* `RecordingFeed` -- the decoded samples of a recording, interpolated at the requested times.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from firmware_protocols import STANDARD_GRAVITY_MPS2


@runtime_checkable
class SampleFeed(Protocol):
    """Source of sensor readings for a virtual sensor.

    Attributes:
        has_gyro: Whether `render` can return angular rate.
        duration_s: Feed time after which nothing more happens (the sensor then reads a bar at
            rest); None for an endless feed.
    """

    has_gyro: bool
    duration_s: float | None

    def render(self, t_s: np.ndarray, rate_hz: float) -> tuple[np.ndarray, np.ndarray | None]:
        """Readings at feed times ``t_s`` for a sensor sampling at ``rate_hz``.

        Args:
            t_s: ``(n,)`` increasing feed times (s).
            rate_hz: The sensor's output data rate (a realistic feed band-limits and adds noise
                for it).

        Returns:
            ``(accel_mps2 (n, 3), gyro_rads (n, 3) | None)`` in the sensor frame.
        """
        ...


def _rotation_x(angle_rad: np.ndarray) -> np.ndarray:
    """``(n, 3, 3)`` rotations about x."""
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    out = np.zeros((angle_rad.size, 3, 3))
    out[:, 0, 0] = 1.0
    out[:, 1, 1], out[:, 1, 2] = c, -s
    out[:, 2, 1], out[:, 2, 2] = s, c
    return out


def _mounting(tilt_deg: float, yaw_deg: float) -> np.ndarray:
    """Sensor-to-world rotation of a sensor tilted ``tilt_deg`` about y after ``yaw_deg`` about z."""
    t, y = math.radians(tilt_deg), math.radians(yaw_deg)
    ry = np.array([[math.cos(t), 0.0, math.sin(t)], [0.0, 1.0, 0.0], [-math.sin(t), 0.0, math.cos(t)]])
    rz = np.array([[math.cos(y), -math.sin(y), 0.0], [math.sin(y), math.cos(y), 0.0], [0.0, 0.0, 1.0]])
    return rz @ ry


@dataclass(frozen=True)
class AnalyticRep:
    """Truth for one rep of `AnalyticRepsFeed` (feed time axis)."""

    index: int
    start_s: float
    concentric_start_s: float
    concentric_end_s: float
    rom_m: float
    mean_concentric_velocity_mps: float
    peak_velocity_mps: float


@dataclass(frozen=True)
class AnalyticRepsFeed:
    """Closed-form squat-like reps: exact specific force and angular rate, for tests and demos.

    Each rep is one cosine cycle of the bar's height (eccentric down, concentric up):
    ``z(u) = -rom/2 * (1 - cos(2 pi u))`` for ``u`` in [0, 1] over ``rep_s`` seconds, so the
    concentric half has mean velocity ``2 rom / rep_s`` and peak ``pi rom / rep_s``. Reps are
    separated by ``rest_s`` of stillness and slow down by ``slowdown`` per rep (a plain
    velocity-loss pattern). The sensor is mounted tilted and rolls about its x axis by
    ``roll_deg * sin^2(pi u)`` during each rep, so gravity moves between axes and the gyro is
    exercised; the readings are exactly ``R(t)^T (a_world + g)`` and the body rate of ``R(t)``.

    Attributes:
        reps: Number of reps.
        rom_m: Range of motion (m).
        rep_s: Duration of the first rep (s).
        slowdown: Fractional lengthening of each successive rep.
        lead_in_s: Stillness before the first rep (s).
        rest_s: Stillness between reps (s).
        tail_s: Stillness after the last rep (s).
        tilt_deg, yaw_deg: Mounting orientation.
        roll_deg: Peak roll during a rep.
        has_gyro: Whether to report angular rate.
    """

    reps: int = 5
    rom_m: float = 0.5
    rep_s: float = 2.0
    slowdown: float = 0.08
    lead_in_s: float = 2.0
    rest_s: float = 1.0
    tail_s: float = 2.0
    tilt_deg: float = 20.0
    yaw_deg: float = 30.0
    roll_deg: float = 8.0
    has_gyro: bool = True

    @property
    def rep_truth(self) -> list[AnalyticRep]:
        """Start, concentric phase and velocities of every rep."""
        out = []
        t = self.lead_in_s
        for i in range(self.reps):
            dur = self.rep_s * (1.0 + self.slowdown) ** i
            out.append(AnalyticRep(
                index=i,
                start_s=t,
                concentric_start_s=t + dur / 2,
                concentric_end_s=t + dur,
                rom_m=self.rom_m,
                mean_concentric_velocity_mps=2 * self.rom_m / dur,
                peak_velocity_mps=math.pi * self.rom_m / dur,
            ))
            t += dur + self.rest_s
        return out

    @property
    def duration_s(self) -> float:
        reps = self.rep_truth
        end = reps[-1].concentric_end_s if reps else self.lead_in_s
        return end + self.tail_s

    def _phase(self, t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per sample: cycle phase u in [0, 1] (0 outside reps), rep duration, and an in-rep mask."""
        u = np.zeros_like(t_s)
        dur = np.ones_like(t_s)
        inside = np.zeros(t_s.shape, dtype=bool)
        for rep in self.rep_truth:
            d = rep.concentric_end_s - rep.start_s
            m = (t_s >= rep.start_s) & (t_s < rep.concentric_end_s)
            u[m] = (t_s[m] - rep.start_s) / d
            dur[m] = d
            inside |= m
        return u, dur, inside

    def position_m(self, t_s: np.ndarray) -> np.ndarray:
        """True bar height relative to the start (m), for test truth."""
        u, _, inside = self._phase(np.asarray(t_s, dtype=float))
        return np.where(inside, -self.rom_m / 2 * (1 - np.cos(2 * np.pi * u)), 0.0)

    def velocity_mps(self, t_s: np.ndarray) -> np.ndarray:
        """True vertical bar velocity (m/s), for test truth."""
        u, dur, inside = self._phase(np.asarray(t_s, dtype=float))
        return np.where(inside, -self.rom_m / 2 * (2 * np.pi / dur) * np.sin(2 * np.pi * u), 0.0)

    def render(self, t_s: np.ndarray, rate_hz: float) -> tuple[np.ndarray, np.ndarray | None]:
        """Exact readings at ``t_s`` (the analytic motion needs no band-limiting)."""
        t = np.asarray(t_s, dtype=float)
        u, dur, inside = self._phase(t)
        w = 2 * np.pi / dur
        acc_z = np.where(inside, -self.rom_m / 2 * w**2 * np.cos(2 * np.pi * u), 0.0)
        # Specific force in the world frame: what an accelerometer measures, pointing up at rest.
        f_world = np.zeros((t.size, 3))
        f_world[:, 2] = STANDARD_GRAVITY_MPS2 + acc_z
        roll_peak = math.radians(self.roll_deg)
        roll = np.where(inside, roll_peak * np.sin(np.pi * u) ** 2, 0.0)
        roll_rate = np.where(inside, roll_peak * np.pi / dur * np.sin(2 * np.pi * u), 0.0)
        # Sensor-to-world rotation: fixed mounting, then the roll about the sensor's own x axis.
        r = _mounting(self.tilt_deg, self.yaw_deg)[None, :, :] @ _rotation_x(roll)
        accel = np.einsum("nji,nj->ni", r, f_world)
        gyro = None
        if self.has_gyro:
            gyro = np.zeros((t.size, 3))
            gyro[:, 0] = roll_rate  # body rate of a rotation about the body x axis
        return accel, gyro


__all__ = ["AnalyticRep", "AnalyticRepsFeed", "SampleFeed"]
