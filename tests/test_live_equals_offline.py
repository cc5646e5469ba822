"""The live path's final result equals ``vbt analyze`` on every bundled recording.

The live path is what the dashboard runs: `ReplaySource` hands out the recording's raw
notifications one by one -> `Session` (decoder, streaming pipeline, fatigue tracker) -> the
dashboard's event translator and model. ``vbt analyze`` decodes and feeds whole files in bulk.
Both must give the same reps, velocities, flags and warnings, to the last digit of the JSON
contract -- and the dashboard's model must end up showing exactly those reps.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from vbt.analysis import analyze_path
from vbt.ui.headless import replay_headless

RECORDINGS = sorted((Path(__file__).resolve().parents[1] / "recordings").glob("*.jsonl*"))


def test_there_are_bundled_recordings():
    assert len(RECORDINGS) >= 8


@pytest.mark.parametrize("path", RECORDINGS, ids=[p.name for p in RECORDINGS])
def test_live_result_equals_analyze(path: Path):
    live = asyncio.run(replay_headless(path))
    offline = analyze_path(path)
    assert live.result.to_dict() == offline.to_dict()
    # What the dashboard shows at the end is that same result, rep for rep (compared in the
    # contract's rounding: bulk and per-notification feeding differ in the last float bits).
    shown = [(s.index, [r.to_dict() for r in s.reps], [f.to_dict() for f in s.failed_attempts])
             for s in live.model.sets if s.reps or s.failed_attempts]
    expected = [(s.index, [r.to_dict() for r in s.reps], [f.to_dict() for f in s.failed_attempts])
                for s in offline.sets]
    assert shown == expected
