"""Fixtures for the Bluetooth tests."""

from __future__ import annotations

import pytest

from vbt.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    # until_idle: bumble's in-process GATT exchanges must complete before time moves on.
    return FakeClock(until_idle=True)
