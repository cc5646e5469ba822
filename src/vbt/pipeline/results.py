"""Result types of the analysis: one `RepResult` per rep, `SetResult`, `AnalysisResult`.

`AnalysisResult.to_dict()` *is* the ``vbt analyze --format json`` contract (README,
"Output contract"): other tools and our own checks read it, so keys are only ever added,
never renamed or removed. Times are seconds on the input's own time axis. Velocities are
vertical bar velocities in m/s; ``rom_m`` is the concentric displacement in metres.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: `RepResult.flag` values.
FLAG_CONTINUE = "continue"  # estimated >= 3 reps in reserve
FLAG_STOP = "stop"  # estimated 1-2 reps in reserve: the target zone, stop the set
FLAG_FAILURE = "failure"  # 0 reps in reserve, or a failed attempt
FLAGS = (FLAG_CONTINUE, FLAG_STOP, FLAG_FAILURE)


def _round(x: float | None, nd: int) -> float | None:
    if x is None:
        return None
    xf = float(x)
    if not np.isfinite(xf):
        return None
    return round(xf, nd)


@dataclass(slots=True)
class RepResult:
    """One completed repetition (its concentric phase), with fatigue fields once assessed.

    Attributes:
        index: 1-based rep number within its set.
        start_s, end_s: Bounds of the concentric phase.
        mean_velocity_mps: MCV, mean vertical velocity over the concentric phase.
        mean_propulsive_velocity_mps: MPV, over the propulsive part (bar acceleration > -g).
        peak_velocity_mps: Highest concentric velocity.
        rom_m: Concentric displacement.
        duration_s: Concentric duration.
        time_to_peak_s: From concentric start to peak velocity.
        mean_power_w: Mean concentric power m*(a+g)*v (None without a known load).
        quality: 0-1 trust in this rep's numbers (gaps, drift removed, anchors); see README.
        quality_reasons: Short reasons that lowered ``quality``.
        velocity_loss_pct: Loss against the set's reference rep (None until assessed).
        rir_estimate: Estimated reps in reserve after this rep (None: too little evidence).
        rir_interval: (low, high) plausible RIR range.
        flag: ``continue`` / ``stop`` / ``failure``.
        eccentric_duration_s: Duration of the lowering before this concentric (None for
            concentric-first reps).
        provisional: True for the early live result, before lockout confirms it.
        t_s, velocity_mps: Concentric velocity curve (for overlays; not in the JSON contract).
    """

    index: int
    start_s: float
    end_s: float
    mean_velocity_mps: float
    mean_propulsive_velocity_mps: float
    peak_velocity_mps: float
    rom_m: float
    duration_s: float
    time_to_peak_s: float
    mean_power_w: float | None = None
    quality: float = 1.0
    quality_reasons: list[str] = field(default_factory=list)
    velocity_loss_pct: float | None = None
    rir_estimate: float | None = None
    rir_interval: tuple[float, float] | None = None
    flag: str = FLAG_CONTINUE
    eccentric_duration_s: float | None = None
    provisional: bool = False
    t_s: np.ndarray | None = field(default=None, repr=False, compare=False)
    velocity_mps: np.ndarray | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "start_s": _round(self.start_s, 3),
            "end_s": _round(self.end_s, 3),
            "mean_velocity_mps": _round(self.mean_velocity_mps, 4),
            "mean_propulsive_velocity_mps": _round(self.mean_propulsive_velocity_mps, 4),
            "peak_velocity_mps": _round(self.peak_velocity_mps, 4),
            "rom_m": _round(self.rom_m, 4),
            "duration_s": _round(self.duration_s, 3),
            "time_to_peak_s": _round(self.time_to_peak_s, 3),
            "mean_power_w": _round(self.mean_power_w, 1),
            "quality": _round(self.quality, 3),
            "quality_reasons": list(self.quality_reasons),
            "velocity_loss_pct": _round(self.velocity_loss_pct, 1),
            "rir_estimate": _round(self.rir_estimate, 1),
            "rir_interval": None
            if self.rir_interval is None
            else [_round(self.rir_interval[0], 1), _round(self.rir_interval[1], 1)],
            "flag": self.flag,
            "eccentric_duration_s": _round(self.eccentric_duration_s, 3),
        }


@dataclass(slots=True)
class FailedAttempt:
    """A concentric that started but did not reach lockout (reported, never counted as a rep)."""

    start_s: float
    end_s: float
    rom_m: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"start_s": _round(self.start_s, 3), "end_s": _round(self.end_s, 3), "rom_m": _round(self.rom_m, 4)}


@dataclass(slots=True)
class SetResult:
    """One set: the reps between two rests, with set-level fatigue figures."""

    index: int
    start_s: float
    end_s: float
    reps: list[RepResult] = field(default_factory=list)
    failed_attempts: list[FailedAttempt] = field(default_factory=list)
    velocity_loss_pct: float | None = None
    rir_estimate: float | None = None
    rir_interval: tuple[float, float] | None = None
    reference_rep_index: int | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "start_s": _round(self.start_s, 3),
            "end_s": _round(self.end_s, 3),
            "velocity_loss_pct": _round(self.velocity_loss_pct, 1),
            "rir_estimate": _round(self.rir_estimate, 1),
            "rir_interval": None
            if self.rir_interval is None
            else [_round(self.rir_interval[0], 1), _round(self.rir_interval[1], 1)],
            "reference_rep_index": self.reference_rep_index,
            "notes": list(self.notes),
            "failed_attempts": [f.to_dict() for f in self.failed_attempts],
            "reps": [r.to_dict() for r in self.reps],
        }


@dataclass(slots=True)
class AnalysisResult:
    """Everything `vbt analyze` reports for one input."""

    source: str
    exercise: str
    sample_rate_hz: float
    duration_s: float
    warnings: list[str] = field(default_factory=list)
    sets: list[SetResult] = field(default_factory=list)
    load_kg: float | None = None
    algorithm_version: str = ""

    @property
    def reps(self) -> list[RepResult]:
        """All reps of all sets, in order."""
        return [r for s in self.sets for r in s.reps]

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "exercise": self.exercise,
            "load_kg": self.load_kg,
            "sample_rate_hz": _round(self.sample_rate_hz, 2),
            "duration_s": _round(self.duration_s, 2),
            "algorithm_version": self.algorithm_version,
            "warnings": list(self.warnings),
            "sets": [s.to_dict() for s in self.sets],
        }


__all__ = [
    "FLAGS",
    "FLAG_CONTINUE",
    "FLAG_FAILURE",
    "FLAG_STOP",
    "AnalysisResult",
    "FailedAttempt",
    "RepResult",
    "SetResult",
]
