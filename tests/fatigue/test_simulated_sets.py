"""The tracker on simulated sets (simulator labels: true MCV and true RIR per rep).

Rep level: the simulator's true per-rep MCVs (its biological rep-to-rep noise included, no sensor
error) go straight to the tracker. The full chain is measured by benchmarks/fatigue.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from vbt.fatigue.catalogue import lookup
from vbt.fatigue.profile import SetRecord, fit_profile
from vbt.fatigue.tracker import FatigueTracker
from vbt.pipeline.results import FLAG_CONTINUE, FailedAttempt, RepResult, SetResult

sim = pytest.importorskip("vbt.sim")


def _set_from_labels(lab) -> tuple[SetResult, list[int]]:
    reps = [
        RepResult(index=i + 1, start_s=r.concentric_start_s, end_s=r.concentric_end_s,
                  mean_velocity_mps=r.mean_velocity_mps, mean_propulsive_velocity_mps=r.mean_propulsive_velocity_mps,
                  peak_velocity_mps=r.peak_velocity_mps, rom_m=r.rom_m,
                  duration_s=r.concentric_end_s - r.concentric_start_s, time_to_peak_s=r.time_to_peak_s)
        for i, r in enumerate(lab.reps)
    ]
    failed = [FailedAttempt(f.start_s, f.end_s) for f in lab.failed_attempts]
    return SetResult(index=lab.index, start_s=lab.start_s, end_s=lab.end_s, reps=reps, failed_attempts=failed), [
        r.rir for r in lab.reps
    ]


def _to_failure(athlete, exercise, load_pct, seed):
    plan = sim.SetPlan(exercise, load_pct=load_pct, to_failure=True, failed_attempt=True)
    res = sim.simulate(sim.Scenario(athlete, [plan], rate_hz=25, gyro=False, faults="none"), seed=seed)
    return _set_from_labels(res.labels.sets[0])


@pytest.fixture(scope="module")
def corpus():
    out = []
    for i, exercise in enumerate(("bench", "squat", "deadlift", "ohp", "bench", "squat")):
        athlete = sim.Athlete.random(1000 + i)
        history = [_to_failure(athlete, exercise, pct, 10 * i + j) for j, pct in enumerate((70, 77, 84))]
        evals = [_to_failure(athlete, exercise, pct, 10 * i + 5 + j) for j, pct in enumerate((65, 75, 85))]
        out.append((exercise, history, evals))
    return out


def _near_failure_errors(tracker, s, rirs):
    errs = []
    for k, true in enumerate(rirs, start=1):
        if true <= 4:
            est = tracker.estimate(s.reps[:k])
            errs.append(abs(est.median - true))
    return errs


def test_flags_come_before_failure_and_personalisation_helps(corpus):
    before_failure = total = 0
    pop_errs, per_errs = [], []
    for exercise, history, evals in corpus:
        records = [SetRecord(exercise, tuple(r.mean_velocity_mps for r in s.reps), to_failure=True)
                   for s, _ in history]
        profile = fit_profile(lookup(exercise), records)
        assert profile.n_failure_sets == 3
        for s, rirs in evals:
            pop = FatigueTracker(exercise)
            pop.assess(s)
            flagged = [t for r, t in zip(s.reps, rirs, strict=True) if r.flag != FLAG_CONTINUE]
            total += 1
            before_failure += bool(flagged) and flagged[0] >= 1
            pop_errs += _near_failure_errors(pop, s, rirs)
            per_errs += _near_failure_errors(FatigueTracker(exercise, profile=profile), s, rirs)
    # A stop (or failure) call comes while at least one rep is still in reserve in most sets ...
    assert before_failure / total >= 0.6
    # ... and logged sets to failure make the estimate near failure better.
    assert np.mean(per_errs) < np.mean(pop_errs)
    assert np.mean(per_errs) < 1.5
