"""Shared fixtures for the simulator tests: a few small, cached simulations."""

from __future__ import annotations

import pytest

from vbt.sim import Athlete, Scenario, SetPlan, simulate


@pytest.fixture(scope="session")
def athlete() -> Athlete:
    return Athlete.random(11)


@pytest.fixture(scope="session")
def clean_bench(athlete):
    """Two bench sets (fixed reps, then to failure with a failed attempt), ideal sensor and link."""
    sc = Scenario(athlete, [SetPlan("bench", load_pct=70, reps=4),
                            SetPlan("bench", load_pct=70, to_failure=True, failed_attempt=True, rest_before_s=60)],
                  rate_hz=200, faults="none")
    return simulate(sc, seed=2)


@pytest.fixture(scope="session")
def typical_squat(athlete):
    sc = Scenario(athlete, [SetPlan("squat", load_pct=75, stop_rir=2)], rate_hz=100, faults="typical")
    return simulate(sc, seed=5)
