"""Shared test set-up: offscreen Qt, reproducible hypothesis, fake clock, golden-file switch."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from hypothesis import HealthCheck, settings

# Reproducible property tests in CI (derandomize: same examples every run); a longer, random
# fuzz run is documented in README ("Fuzzing") and uses the "fuzz" profile.
settings.register_profile(
    "ci", derandomize=True, deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("fuzz", deadline=None, max_examples=20_000, suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden", action="store_true", default=False,
        help="rewrite golden output files from the current code instead of comparing",
    )
    parser.addoption("--sensor", default=None, metavar="ADDRESS",
                     help="run @pytest.mark.hardware tests against this real sensor")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--sensor"):
        return
    skip = pytest.mark.skip(reason="needs a real sensor: run with --sensor ADDRESS")
    for item in items:
        if "hardware" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture
def fake_clock():
    from vbt.clock import FakeClock

    return FakeClock()
