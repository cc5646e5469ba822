"""`vbt simulate` in-process: files, header provenance, determinism, errors."""

from __future__ import annotations

import json
import shlex

import pytest

from vbt.cli import main
from vbt.recording.reader import open_recording, read_header


def test_writes_recording_and_labels_and_reproduces_from_its_command(tmp_path, capsys):
    out = tmp_path / "sq.jsonl.gz"
    assert main(["simulate", "--exercise", "squat", "--reps", "3", "--rate", "50", "--seed", "4", "--out", str(out)]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("simulated set 1: squat") and "sq.labels.json" in line and "\n" not in line
    labels = json.loads((tmp_path / "sq.labels.json").read_text())
    assert labels["synthetic"] and labels["seed"] == 4 and labels["recording"]["file"] == "sq.jsonl.gz"
    assert len(labels["sets"][0]["reps"]) == 3
    header = read_header(out)
    assert header.synthetic and header.extra["seed"] == 4 and header.extra["labels_file"] == "sq.labels.json"
    cmd = shlex.split(header.extra["command"])
    assert cmd[:2] == ["vbt", "simulate"] and "--seed" in cmd
    # the recorded command reproduces the same files
    again = tmp_path / "again"
    again.mkdir()
    argv = cmd[1:]
    argv[argv.index("--out") + 1] = str(again / "sq.jsonl.gz")
    assert main(argv) == 0
    assert json.loads((again / "sq.labels.json").read_text())["sets"] == labels["sets"]
    rec = open_recording(out)
    assert rec.body == "samples" and len(rec) > 1000


def test_packet_recording_for_a_sensor(tmp_path, capsys):
    pytest.importorskip("firmware_protocols.witmotion")
    out = tmp_path / "b.jsonl"
    assert main(["simulate", "--exercise", "bench", "--sensor", "witmotion", "--rate", "50", "--reps", "2",
                 "--out", str(out)]) == 0
    rec = open_recording(out)
    assert rec.body == "packets" and rec.header.sensor == "witmotion"
    assert "witmotion 50 Hz" in capsys.readouterr().out


@pytest.mark.parametrize("argv, option", [
    (["--exercise", "curl"], "--exercise"),
    (["--exercise", "squat", "--sensor", "witmotion", "--rate", "25"], "--rate"),
    (["--exercise", "squat", "--load-pct", "120"], "--load-pct"),
    (["--exercise", "squat", "--failed-attempt"], "--failed-attempt"),
    (["--exercise", "bench", "--drop"], "--drop"),
    (["--exercise", "squat", "--out", "x.csv"], "--out"),
])
def test_unusable_options_give_one_line(tmp_path, capsys, argv, option):
    if "--out" not in argv:
        argv = argv + ["--out", str(tmp_path / "x.jsonl")]
    assert main(["simulate", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"vbt: error: {option}") and "\n" not in err
    assert not list(tmp_path.glob("*.jsonl"))


def test_unknown_sensor_and_existing_output(tmp_path, capsys):
    assert main(["simulate", "--exercise", "squat", "--sensor", "nosuch", "--out", str(tmp_path / "a.jsonl")]) != 0
    assert "nosuch" in capsys.readouterr().err
    out = tmp_path / "a.jsonl"
    out.write_text("keep")
    assert main(["simulate", "--exercise", "squat", "--out", str(out)]) == 2
    assert out.read_text() == "keep" and "--force" in capsys.readouterr().err
