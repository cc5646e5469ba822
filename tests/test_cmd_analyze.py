"""``vbt analyze`` end to end, in-process: formats, folders, errors."""

from __future__ import annotations

import csv
import io
import json

import pytest

from vbt.cli import main
from vbt.commands.analyze import CSV_COLUMNS
from vbt.sim import Athlete, Scenario, SetPlan, simulate


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory):
    d = tmp_path_factory.mktemp("recs")
    for i, (ex, sensor) in enumerate([("squat", "witmotion"), ("deadlift", "samples")]):
        sc = Scenario(Athlete.random(40 + i), [SetPlan(ex, load_pct=75.0, stop_rir=2)], rate_hz=50.0, gyro=True,
                      sensor=sensor, faults="typical")
        simulate(sc, seed=40 + i).write(d / f"{i}_{ex}.jsonl.gz")
    return d


def test_table_for_people(folder, capsys) -> None:
    path = sorted(folder.glob("*.jsonl.gz"))[0]
    assert main(["analyze", str(path), "--load-kg", "100"]) == 0
    out = capsys.readouterr().out
    assert "squat, 100 kg" in out and "Set 1" in out and "MCV" in out
    assert out.count("\n") > 5


def test_json_one_object_per_input(folder, capsys) -> None:
    assert main(["analyze", str(folder), "--format", "json"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    assert len(lines) == 2
    docs = [json.loads(line) for line in lines]
    assert [d["exercise"] for d in docs] == ["squat", "deadlift"]
    for d in docs:
        assert {"source", "sample_rate_hz", "duration_s", "algorithm_version", "warnings", "sets"} <= set(d)
        rep = d["sets"][0]["reps"][0]
        assert {"mean_velocity_mps", "mean_propulsive_velocity_mps", "peak_velocity_mps", "rom_m", "quality",
                "flag", "velocity_loss_pct"} <= set(rep)
    assert "[2/2]" in captured.err  # progress bar on stderr


def test_csv_rows_per_rep(folder, capsys) -> None:
    path = sorted(folder.glob("*.jsonl.gz"))[1]
    assert main(["analyze", str(path), "--format", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert tuple(rows[0]) == CSV_COLUMNS
    reps = [r for r in rows[1:] if r[3] == "rep"]
    assert reps and all(float(r[6]) > 0 for r in reps)


def test_unknown_exercise_lists_the_known_ones(folder, capsys) -> None:
    path = sorted(folder.glob("*.jsonl.gz"))[0]
    assert main(["analyze", str(path), "--exercise", "zercher"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "squat" in err and "deadlift" in err and "zercher" in err


def test_exercise_alias_is_accepted(folder, capsys) -> None:
    path = sorted(folder.glob("*.jsonl.gz"))[0]
    assert main(["analyze", str(path), "--exercise", "back-squat", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["exercise"] == "squat"


def test_missing_and_empty_inputs(tmp_path, capsys) -> None:
    assert main(["analyze", str(tmp_path / "nope.jsonl")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("vbt: error:") and "does not exist" in err and "\n" not in err
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert main(["analyze", str(empty)]) == 1
    assert "empty" in capsys.readouterr().err
    nothing = tmp_path / "nothing"
    nothing.mkdir()
    assert main(["analyze", str(nothing)]) == 1  # a folder with nothing to analyse
    assert "holds no recordings" in capsys.readouterr().err


def test_one_bad_file_among_several_is_reported_and_the_rest_analysed(folder, tmp_path, capsys) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json at all\n")
    good = sorted(folder.glob("*.jsonl.gz"))[0]
    assert main(["analyze", str(bad), str(good), "--format", "json"]) == 1
    captured = capsys.readouterr()
    assert len(captured.out.strip().splitlines()) == 1
    assert "bad.jsonl" in captured.err


def test_table_condenses_short_bridged_gaps_into_one_line():
    from vbt.commands.analyze import condensed_warnings

    warnings = [
        "3.1 % of samples missing; gaps bridged by interpolation where short",
        "gap of 61 ms in the samples at t=3.89 s (bridged by interpolation)",
        "gap of 1509 ms in the samples at t=16.77 s (too long to bridge: reps across it are not measured)",
        "gap of 101 ms in the samples at t=20.50 s (bridged by interpolation)",
        "accelerometer at full scale at t=21.00 s: use a larger range",
    ]
    assert condensed_warnings(warnings) == [
        warnings[0],
        "2 gaps of 61-101 ms in the samples, bridged by interpolation (at t=3.89, 20.50 s)",
        warnings[2],
        warnings[4],
    ]
    assert condensed_warnings(warnings[:2]) == warnings[:2]  # a single gap keeps its own line
