"""The bundled demo recordings: present, synthetic, labelled, reproducible, and covering the brief."""

from __future__ import annotations

import importlib.util
import json
import shlex
from pathlib import Path

import pytest

from vbt.recording.reader import open_recording, read_header

RECORDINGS = Path(__file__).resolve().parents[2] / "recordings"


def _demos():
    spec = importlib.util.spec_from_file_location("make_demos", RECORDINGS / "make_demos.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod.DEMOS


DEMOS = _demos()


@pytest.mark.parametrize("name", [d[0] for d in DEMOS])
def test_each_demo_is_synthetic_labelled_and_carries_its_command(name):
    path = RECORDINGS / name
    header = read_header(path)
    assert header.synthetic and "synthetic" in header.notes
    labels = json.loads((RECORDINGS / name.replace(".jsonl.gz", ".labels.json")).read_text())
    assert labels["synthetic"] and labels["recording"]["file"] == name
    assert header.extra["labels_file"] == name.replace(".jsonl.gz", ".labels.json")
    args = dict(d[::2] for d in DEMOS)[name]
    cmd = shlex.split(header.extra["command"])
    assert cmd[:2] == ["vbt", "simulate"] and cmd[-1] == name
    for token in shlex.split(args):
        assert token in cmd
    assert sum(len(s["reps"]) for s in labels["sets"]) >= 5
    assert len(open_recording(path)) > 0


def test_the_demos_cover_what_the_issue_asks_for():
    facts = []
    for name, _, _ in DEMOS:
        h = read_header(RECORDINGS / name)
        lab = json.loads((RECORDINGS / name.replace(".jsonl.gz", ".labels.json")).read_text())
        facts.append((h.exercise, h.rate_hz, lab["recording"]["gyro"], len(lab["sets"]),
                      any(s["failed_attempts"] for s in lab["sets"]), h.sensor))
    assert len(facts) >= 8
    assert {"squat", "bench", "deadlift", "ohp"} <= {f[0] for f in facts}
    assert {True, False} <= {f[2] for f in facts}
    assert {25.0, 50.0, 100.0, 200.0} <= {f[1] for f in facts}
    assert any(f[3] > 1 for f in facts) and any(f[4] for f in facts)
    assert len({f[5] for f in facts}) >= 3  # several sensors' packet formats
    total = sum(p.stat().st_size for p in RECORDINGS.iterdir() if p.is_file())
    assert total < 3_000_000
    demo = json.loads((RECORDINGS / "demo_squat.labels.json").read_text())["sets"][0]
    assert demo["exercise"] == "squat" and 7 <= len(demo["reps"]) <= 9 and demo["reps"][-1]["rir"] in (1, 2)
