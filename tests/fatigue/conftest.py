"""Builders for constructed sets (known velocities, known answers) shared by the fatigue tests."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from vbt.fatigue.catalogue import lookup
from vbt.pipeline.results import AnalysisResult, FailedAttempt, RepResult, SetResult


def build_set(
    velocities: Sequence[float],
    *,
    index: int = 1,
    qualities: Sequence[float] | None = None,
    t0_s: float = 10.0,
    failed_after: bool = False,
) -> SetResult:
    """A set of reps 3 s apart with the given MCVs (other metrics derived plausibly)."""
    qualities = [1.0] * len(velocities) if qualities is None else list(qualities)
    reps = []
    for i, (v, q) in enumerate(zip(velocities, qualities, strict=True)):
        start = t0_s + 3.0 * i
        dur = 0.5 / max(v, 0.05)
        reps.append(
            RepResult(
                index=i + 1, start_s=start, end_s=start + dur, mean_velocity_mps=float(v),
                mean_propulsive_velocity_mps=float(v) * 1.05, peak_velocity_mps=float(v) * 1.7, rom_m=0.5,
                duration_s=dur, time_to_peak_s=dur * 0.4, mean_power_w=None, quality=float(q),
                quality_reasons=[] if q >= 1 else ["gap inside the rep"], eccentric_duration_s=1.2,
            )
        )
    end = reps[-1].end_s + 1.0 if reps else t0_s
    failed = [FailedAttempt(start_s=end + 1.0, end_s=end + 3.0, rom_m=0.2)] if failed_after else []
    return SetResult(index=index, start_s=t0_s - 2.0, end_s=end + (4.0 if failed_after else 0.0), reps=reps,
                     failed_attempts=failed)


def model_velocities(exercise: str, fraction_1rm: float, n_total: int, *, mvt: float | None = None,
                     gamma: float | None = None, v1: float | None = None) -> np.ndarray:
    """Noise-free velocities of a set to failure following the catalogue's own priors."""
    e = lookup(exercise)
    mvt = e.mvt.value if mvt is None else mvt
    gamma = e.shape.value if gamma is None else gamma
    v1 = e.velocity_at(fraction_1rm, mvt_mps=mvt) if v1 is None else v1
    n = np.arange(1, n_total + 1)
    x = (n - 1) / max(n_total - 1, 1)
    return v1 - (v1 - mvt) * x**gamma


def build_result(sets: Sequence[SetResult], *, exercise: str = "squat", load_kg: float | None = 100.0,
                 algorithm_version: str = "test-1") -> AnalysisResult:
    return AnalysisResult(
        source="rec.jsonl.gz", exercise=exercise, sample_rate_hz=100.0, duration_s=120.0, sets=list(sets),
        load_kg=load_kg, algorithm_version=algorithm_version,
    )


@pytest.fixture
def make_set():
    return build_set


@pytest.fixture
def make_result():
    return build_result


@pytest.fixture
def model_set():
    return model_velocities
