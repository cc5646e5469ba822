"""`vbt export`: CSV of reps and sets with provenance (algorithm version, settings, recording)."""

from __future__ import annotations

import csv
import io

import pytest

from vbt.cli import main
from vbt.commands.export import REP_COLUMNS, SET_COLUMNS
from vbt.fatigue.history import HistoryDb
from vbt.fatigue.tracker import FatigueTracker
from vbt.pipeline.results import AnalysisResult, RepResult, SetResult


def result(velocities, *, version="alg-1", exercise="bench", load_kg=80.0):
    reps = [
        RepResult(index=i + 1, start_s=10 + 3 * i, end_s=11 + 3 * i, mean_velocity_mps=v,
                  mean_propulsive_velocity_mps=v + 0.02, peak_velocity_mps=1.5 * v, rom_m=0.4, duration_s=0.9,
                  time_to_peak_s=0.3, mean_power_w=412.5, quality=0.9 if i else 0.4,
                  quality_reasons=[] if i else ["gap inside the rep", "weak anchor"])
        for i, v in enumerate(velocities)
    ]
    s = SetResult(index=1, start_s=8, end_s=40, reps=reps)
    FatigueTracker(exercise).assess(s)
    return AnalysisResult(source="r", exercise=exercise, sample_rate_hz=100, duration_s=50, sets=[s],
                          load_kg=load_kg, algorithm_version=version)


@pytest.fixture
def db_path(tmp_path):
    path = tmp_path / "h.sqlite3"
    with HistoryDb(path) as db:
        db.save_analysis(result([0.5, 0.52, 0.47, 0.41]), athlete="Ana", recording_path=tmp_path / "r.jsonl",
                         started_at="2025-02-01T17:00:00+00:00", settings={"target_rir": 2})
        db.save_analysis(result([0.5, 0.52, 0.47, 0.41, 0.33], version="alg-2"), athlete="Ana",
                         recording_path=tmp_path / "r.jsonl", settings={"target_rir": 2})
        db.save_analysis(result([0.9, 0.85], exercise="squat", load_kg=None), athlete="Bo")
        set_id = db.sets(athlete="Ana")[0].id
        db.exclude_rep(set_id, 2)
    return path


def read(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_rep_rows_latest_version(db_path, capsys):
    assert main(["export", "--db", str(db_path), "--athlete", "Ana"]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0].split(",") == list(REP_COLUMNS)
    rows = read(text)
    assert len(rows) == 5
    assert {r["algorithm_version"] for r in rows} == {"alg-2"}
    first = rows[0]
    assert first["athlete"] == "Ana" and first["exercise"] == "bench" and first["load_kg"] == "80"
    assert float(first["mean_velocity_mps"]) == 0.5 and float(first["mean_power_w"]) == 412.5
    assert first["quality_reasons"] == "gap inside the rep; weak anchor"
    assert first["settings"] == '{"target_rir": 2}'
    assert first["recording_path"].endswith("r.jsonl")
    assert [r["deleted"] for r in rows] == ["0", "1", "0", "0", "0"]
    assert rows[2]["velocity_loss_pct"] != "" and rows[-1]["flag"] in ("continue", "stop", "failure")


def test_all_versions_and_sets(db_path, capsys):
    assert main(["export", "--db", str(db_path), "--athlete", "Ana", "--all-versions"]) == 0
    rows = read(capsys.readouterr().out)
    assert [r["algorithm_version"] for r in rows].count("alg-1") == 4
    assert [r["algorithm_version"] for r in rows].count("alg-2") == 5
    assert main(["export", "--db", str(db_path), "--sets"]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0].split(",") == list(SET_COLUMNS)
    sets = read(text)
    assert len(sets) == 2
    ana = next(s for s in sets if s["athlete"] == "Ana")
    assert ana["reps"] == "4" and ana["deleted_reps"] == "2"
    assert float(ana["best_mcv_mps"]) == 0.5 and float(ana["last_mcv_mps"]) == 0.33
    bo = next(s for s in sets if s["athlete"] == "Bo")
    assert bo["load_kg"] == "" and bo["exercise"] == "squat"


def test_exercise_filter_and_out_file(db_path, tmp_path, capsys):
    out = tmp_path / "squat.csv"
    assert main(["export", "--db", str(db_path), "--exercise", "back-squat", "--out", str(out)]) == 0
    assert "wrote 2 rep row(s)" in capsys.readouterr().err
    rows = read(out.read_text())
    assert {r["athlete"] for r in rows} == {"Bo"}


def test_missing_database_is_one_line_error(tmp_path, capsys):
    assert main(["export", "--db", str(tmp_path / "none.sqlite3")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "does not exist" in err[0]


def test_unwritable_out_is_one_line_error(db_path, tmp_path, capsys):
    assert main(["export", "--db", str(db_path), "--out", str(tmp_path / "no" / "dir" / "x.csv")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot be written" in err[0]
