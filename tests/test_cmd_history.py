"""`vbt history`: listings, side-by-side analyses, marks, and one-line errors for bad databases."""

from __future__ import annotations

import json
import sqlite3

import pytest

from vbt.cli import main
from vbt.fatigue.history import HistoryDb
from vbt.fatigue.tracker import FatigueTracker
from vbt.pipeline.results import AnalysisResult, FailedAttempt, RepResult, SetResult


def make_result(sets_velocities, *, exercise="squat", load_kg=100.0, version="alg-1", failed_last=False):
    sets = []
    for si, velocities in enumerate(sets_velocities, start=1):
        t0 = 100.0 * si
        reps = [
            RepResult(index=i + 1, start_s=t0 + 3 * i, end_s=t0 + 3 * i + 1, mean_velocity_mps=v,
                      mean_propulsive_velocity_mps=v, peak_velocity_mps=1.6 * v, rom_m=0.55, duration_s=1.0,
                      time_to_peak_s=0.4)
            for i, v in enumerate(velocities)
        ]
        failed = [FailedAttempt(reps[-1].end_s + 2, reps[-1].end_s + 4, 0.2)] if failed_last and si == len(sets_velocities) else []
        s = SetResult(index=si, start_s=t0 - 1, end_s=t0 + 3 * len(velocities) + 5, reps=reps, failed_attempts=failed)
        FatigueTracker(exercise, load_kg=load_kg).assess(s)
        sets.append(s)
    return AnalysisResult(source="r.jsonl", exercise=exercise, sample_rate_hz=100, duration_s=300, sets=sets,
                          load_kg=load_kg, algorithm_version=version)


@pytest.fixture
def db_path(tmp_path):
    path = tmp_path / "h.sqlite3"
    with HistoryDb(path) as db:
        db.save_analysis(make_result([[0.7, 0.68, 0.63, 0.55], [0.66, 0.6, 0.5, 0.4, 0.3]], failed_last=True),
                         athlete="Ana", recording_path=tmp_path / "a.jsonl", started_at="2025-02-01T17:00:00+00:00")
        db.save_analysis(make_result([[0.7, 0.68, 0.62, 0.56, 0.41]], version="alg-2"),
                         athlete="Ana", recording_path=tmp_path / "a.jsonl", started_at="2025-02-01T17:00:00+00:00")
        db.save_analysis(make_result([[0.5, 0.45]], exercise="bench", load_kg=60.0), athlete="Bo",
                         recording_path=tmp_path / "b.jsonl", started_at="2025-02-03T08:00:00+00:00")
    return path


def test_no_database_yet_is_not_an_error(tmp_path, capsys, monkeypatch):
    path = tmp_path / "none.sqlite3"
    monkeypatch.setattr("vbt.fatigue.history.default_db_path", lambda: path)
    assert main(["history"]) == 0
    assert "no history yet" in capsys.readouterr().out
    assert not path.exists()
    # an explicit --db that is not there is a mistyped path: one error line (issue 8)
    assert main(["history", "--db", str(path)]) == 1
    assert capsys.readouterr().err.startswith(f"vbt: error: history database {path}: does not exist")
    assert not path.exists()


def test_lists_sets(db_path, capsys):
    assert main(["history", "--db", str(db_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:4] == ["set", "date", "athlete", "exercise"]
    body = out[2:]
    assert len(body) == 3
    assert "Bo" in body[0] and "bench" in body[0]  # newest session first
    ana = [line for line in body if "Ana" in line]
    assert all("squat" in line for line in ana)
    assert "alg-2" in ana[0] and ana[0].split()[-1] == "2"  # two analyses side by side
    assert "yes" in ana[1]  # ended with a failed attempt


def test_filters_and_json(db_path, capsys):
    assert main(["history", "--db", str(db_path), "--athlete", "ana", "--format", "json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {r["athlete"] for r in rows} == {"Ana"} and len(rows) == 2
    assert rows[0]["n_reps"] == 5 and rows[0]["algorithm_version"] == "alg-2"
    assert main(["history", "--db", str(db_path), "--exercise", "bench", "--format", "json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["athlete"] for r in rows] == ["Bo"]
    assert main(["history", "--db", str(db_path), "--athlete", "nobody"]) == 0
    assert "no sets match" in capsys.readouterr().out


def test_sessions(db_path, capsys):
    assert main(["history", "--db", str(db_path), "--sessions"]) == 0
    out = capsys.readouterr().out
    assert "a.jsonl" in out and "b.jsonl" in out and "2025-02-01T17:00:00+00:00" in out


def test_set_shows_analyses_side_by_side(db_path, capsys):
    with HistoryDb(db_path) as db:
        set_id = next(s.id for s in db.sets(athlete="Ana") if s.set_index == 1)
    assert main(["history", "--db", str(db_path), "--set", str(set_id)]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("rep"))
    assert "alg-1#" in header and "alg-2#" in header
    rep5 = next(line for line in out.splitlines() if line.startswith("5 "))
    assert "0.410" in rep5  # only the newer analysis found a fifth rep
    assert main(["history", "--db", str(db_path), "--set", str(set_id), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [a["algorithm_version"] for a in data["analyses"]] == ["alg-1", "alg-2"]
    assert len(data["analyses"][1]["result"]["reps"]) == 5


def test_mark_failure_and_delete_rep(db_path, capsys):
    with HistoryDb(db_path) as db:
        set_id = next(s.id for s in db.sets(athlete="Ana") if s.set_index == 1)
    assert main(["history", "--db", str(db_path), "--mark-failure", str(set_id)]) == 0
    assert main(["history", "--db", str(db_path), "--delete-rep", str(set_id), "5"]) == 0
    capsys.readouterr()
    with HistoryDb(db_path) as db:
        row = db.set_info(set_id)
        assert row.to_failure is True and row.n_reps == 4
    assert main(["history", "--db", str(db_path), "--restore-rep", str(set_id), "5"]) == 0
    assert main(["history", "--db", str(db_path), "--unmark-failure", str(set_id)]) == 0
    with HistoryDb(db_path) as db:
        row = db.set_info(set_id)
        assert row.to_failure is False and row.n_reps == 5


def test_unknown_set_is_a_one_line_usage_error(db_path, capsys):
    assert main(["history", "--db", str(db_path), "--set", "999"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "999" in err[0] and err[0].startswith("vbt: error:")
    assert main(["history", "--db", str(db_path), "--delete-rep", "1", "99"]) == 2
    assert "has reps" in capsys.readouterr().err


def test_locked_database_is_one_line(db_path, capsys, monkeypatch):
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("PRAGMA locking_mode = EXCLUSIVE")
    other.execute("BEGIN EXCLUSIVE")
    try:
        import vbt.fatigue.history as history

        monkeypatch.setattr(history, "DEFAULT_BUSY_TIMEOUT_S", 0.0)
        code = main(["history", "--db", str(db_path)])
    finally:
        other.execute("ROLLBACK")
        other.close()
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert len(err) == 1 and "locked by another process" in err[0] and "Traceback" not in err[0]


def test_schema_too_new_is_one_line(db_path, capsys):
    conn = sqlite3.connect(db_path)
    conn.execute("INSERT INTO schema_migrations VALUES (7, 'x', '9.0', 'future')")
    conn.commit()
    conn.close()
    assert main(["history", "--db", str(db_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "schema version 7 is newer" in err[0]


def test_not_a_database_is_one_line(tmp_path, capsys):
    path = tmp_path / "x.sqlite3"
    path.write_text("hello, not a database\n" * 50)
    assert main(["history", "--db", str(path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a vbt history database" in err[0]
