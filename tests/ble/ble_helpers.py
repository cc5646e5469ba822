"""Helpers shared by the Bluetooth tests."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

#: Real-time bound on one test's event loop. Never reached when things work (every test here
#: runs in well under a second of real time); it turns a hang into a failure instead of a
#: stuck CI job. It is not a timing assertion.
HANG_GUARD_S = 60.0


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on a fresh event loop, failing (not hanging) if it never finishes."""
    return asyncio.run(asyncio.wait_for(coro, HANG_GUARD_S))
