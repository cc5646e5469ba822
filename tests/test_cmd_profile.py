"""`vbt profile`: load-velocity profile, e1RM with uncertainty, personal MVT, stop table."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vbt.cli import main
from vbt.fatigue.catalogue import lookup, reps_to_failure
from vbt.fatigue.history import HistoryDb
from vbt.pipeline.results import AnalysisResult, FailedAttempt, RepResult, SetResult

ONE_RM = 140.0
MVT = 0.22


def squat_set(load_kg, index, to_failure):
    e = lookup("squat")
    frac = load_kg / ONE_RM
    n_total = round(reps_to_failure(frac))
    v1 = e.velocity_at(frac, mvt_mps=MVT)
    x = np.arange(n_total) / (n_total - 1)
    v = v1 - (v1 - MVT) * x**2.0
    if not to_failure:
        v = v[: max(1, n_total - 4)]
    t0 = 200.0 * index
    reps = [RepResult(index=i + 1, start_s=t0 + 3 * i, end_s=t0 + 3 * i + 1, mean_velocity_mps=float(x),
                      mean_propulsive_velocity_mps=float(x), peak_velocity_mps=1.6 * float(x), rom_m=0.6,
                      duration_s=1.0, time_to_peak_s=0.4) for i, x in enumerate(v)]
    failed = [FailedAttempt(reps[-1].end_s + 2, reps[-1].end_s + 4, 0.2)] if to_failure else []
    return SetResult(index=index, start_s=t0 - 1, end_s=t0 + 3 * len(v) + 6, reps=reps, failed_attempts=failed)


@pytest.fixture
def db_path(tmp_path):
    path = tmp_path / "h.sqlite3"
    with HistoryDb(path) as db:
        for i, (load, fail) in enumerate(((90, False), (105, True), (112, True), (120, True), (130, False))):
            res = AnalysisResult(source="r", exercise="squat", sample_rate_hz=100, duration_s=1000,
                                 sets=[squat_set(load, 1, fail)], load_kg=float(load), algorithm_version="a")
            db.save_analysis(res, athlete="Ana", recording_path=tmp_path / f"r{i}.jsonl")
        res = AnalysisResult(source="r", exercise="bench", sample_rate_hz=100, duration_s=100,
                             sets=[squat_set(60, 1, False)], load_kg=None, algorithm_version="a")
        db.save_analysis(res, athlete="Bo")
    return path


def test_profile_table(db_path, capsys):
    assert main(["profile", "--db", str(db_path), "--athlete", "Ana"]) == 0
    out = capsys.readouterr().out
    assert "Back squat (squat): 5 set(s), 3 to failure" in out
    assert "personal" in out and "e1RM:" in out and "load-velocity: v =" in out
    assert "stop at 2 reps in reserve" in out
    for pct in ("60 %", "70 %", "80 %", "90 %"):
        assert pct in out


def test_profile_json_recovers_the_athlete(db_path, capsys):
    assert main(["profile", "--db", str(db_path), "--athlete", "Ana", "--exercise", "squat", "--format", "json"]) == 0
    (d,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert d["personal"] and d["sets_to_failure"] == 3
    assert d["mvt_mps"] == pytest.approx(MVT, abs=0.02)
    e = d["e1rm"]
    assert abs(e["kg"] - ONE_RM) < max(3 * e["sd_kg"], 5.0)
    assert e["low95_kg"] < e["kg"] < e["high95_kg"]
    assert d["load_velocity"]["points"] == 5 and d["load_velocity"]["r2"] > 0.95
    vls = [r["velocity_loss_at_target_pct"] for r in d["stop_targets"]]
    assert vls == sorted(vls, reverse=True)  # lighter loads: stop at a larger VL


def test_target_rir_changes_the_table(db_path, capsys):
    main(["profile", "--db", str(db_path), "--athlete", "Ana", "--format", "json", "--target-rir", "1"])
    one = json.loads(capsys.readouterr().out)
    main(["profile", "--db", str(db_path), "--athlete", "Ana", "--format", "json", "--target-rir", "3"])
    three = json.loads(capsys.readouterr().out)
    assert all(a["velocity_loss_at_target_pct"] > b["velocity_loss_at_target_pct"]
               for a, b in zip(one["stop_targets"], three["stop_targets"], strict=True))


def test_population_profile_without_loads(db_path, capsys):
    assert main(["profile", "--db", str(db_path), "--athlete", "Bo"]) == 0
    out = capsys.readouterr().out
    assert "population value" in out and "e1RM:" not in out
    assert "not enough loads logged" in out


def test_athlete_must_be_named_when_several(db_path, capsys):
    assert main(["profile", "--db", str(db_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Ana" in err[0] and "Bo" in err[0]


def test_bad_options_are_one_line(db_path, capsys):
    assert main(["profile", "--db", str(db_path), "--athlete", "Ana", "--target-rir", "5"]) == 2
    assert "--target-rir" in capsys.readouterr().err
    assert main(["profile", "--db", str(db_path), "--athlete", "Ana", "--exercise", "curl"]) == 2
    err = capsys.readouterr().err
    assert "curl" in err and "squat" in err


def test_unknown_athlete_says_so(db_path, capsys):
    assert main(["profile", "--db", str(db_path), "--athlete", "Cy"]) == 0
    assert "no sets saved for Cy" in capsys.readouterr().out
