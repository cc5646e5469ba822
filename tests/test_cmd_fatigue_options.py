"""Shared fatigue/history options for analysing commands: parsing, personalisation, saving."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from vbt.commands._common import add_db_option
from vbt.commands._fatigue import add_fatigue_options, make_tracker, save_analysis
from vbt.fatigue.catalogue import lookup, reps_to_failure
from vbt.fatigue.history import HistoryDb
from vbt.fatigue.tracker import FATIGUE_VERSION
from vbt.pipeline.results import AnalysisResult, FailedAttempt, RepResult, SetResult


def parser():
    p = argparse.ArgumentParser()
    add_db_option(p)
    add_fatigue_options(p)
    return p


def result(velocities, *, failed=False, version="pipe-1"):
    reps = [RepResult(index=i + 1, start_s=5 + 3 * i, end_s=6 + 3 * i, mean_velocity_mps=float(v),
                      mean_propulsive_velocity_mps=float(v), peak_velocity_mps=1.6 * float(v), rom_m=0.6,
                      duration_s=1.0, time_to_peak_s=0.4) for i, v in enumerate(velocities)]
    fa = [FailedAttempt(reps[-1].end_s + 2, reps[-1].end_s + 4)] if failed else []
    s = SetResult(index=1, start_s=4, end_s=reps[-1].end_s + 6, reps=reps, failed_attempts=fa)
    return AnalysisResult(source="r", exercise="squat", sample_rate_hz=100, duration_s=60, sets=[s],
                          load_kg=None, algorithm_version=version)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr("vbt.fatigue.history.sys.platform", "linux")


def test_defaults_never_touch_the_database(tmp_path):
    args = parser().parse_args([])
    t = make_tracker(args, "squat")
    assert t.target_rir == 2 and t.vl_cutoff_pct is None and t.profile is None
    assert save_analysis(args, result([0.6, 0.5]), None, None, t) == []
    assert not (tmp_path / "xdg").exists()


def test_options_parse_and_validate():
    args = parser().parse_args(["--target-rir", "3", "--vl-cutoff", "25", "--athlete", "Ana", "--save"])
    assert (args.target_rir, args.vl_cutoff, args.athlete, args.save) == (3, 25.0, "Ana", True)
    with pytest.raises(SystemExit):
        parser().parse_args(["--target-rir", "4"])
    with pytest.raises(SystemExit):
        parser().parse_args(["--vl-cutoff", "-5"])


def test_save_then_personalise(tmp_path):
    db_path = tmp_path / "h.sqlite3"
    e = lookup("squat")
    for i, frac in enumerate((0.7, 0.75, 0.8)):
        n = round(reps_to_failure(frac))
        x = np.arange(n) / (n - 1)
        v1 = e.velocity_at(frac, mvt_mps=0.2)
        args = parser().parse_args(["--db", str(db_path), "--athlete", "Ana", "--save"])
        t = make_tracker(args, "squat")
        res = result(v1 - (v1 - 0.2) * x**2, failed=True)
        t.assess(res.sets[0])
        ids = save_analysis(args, res, tmp_path / f"r{i}.jsonl", "2025-05-0{i + 1}T10:00:00+00:00", t)
        assert len(ids) == 1
    args = parser().parse_args(["--db", str(db_path), "--athlete", "ana"])
    t = make_tracker(args, "back-squat")
    assert t.profile is not None and t.profile.n_failure_sets == 3
    with HistoryDb(db_path) as db:
        (row,) = [r for r in db.sets() if r.recording_path.endswith("r2.jsonl")]
        (analysis,) = db.analyses(row.id)
        assert analysis.algorithm_version == "pipe-1"
        assert analysis.settings["fatigue_version"] == FATIGUE_VERSION
        assert analysis.settings["target_rir"] == 2 and analysis.settings["profile_sets_to_failure"] == 2


def test_named_athlete_without_database_gets_population_priors(tmp_path):
    args = parser().parse_args(["--db", str(tmp_path / "none.sqlite3"), "--athlete", "Bo"])
    t = make_tracker(args, "bench")
    assert t.profile is None and t.exercise == "bench"
    assert not (tmp_path / "none.sqlite3").exists()


def test_vbt_analyze_save_and_reanalyse(tmp_path, capsys):
    from pathlib import Path

    from vbt.cli import main

    demo = Path(__file__).resolve().parents[1] / "recordings" / "demo_squat.jsonl.gz"
    if not demo.exists():
        pytest.skip("bundled demo recording not present")
    db_path = tmp_path / "h.sqlite3"
    argv = ["analyze", str(demo), "--athlete", "Ana", "--save", "--db", str(db_path), "--format", "json"]
    assert main(argv) == 0
    first = capsys.readouterr().out
    assert main(argv) == 0  # same version and settings: replaced, not duplicated
    assert main([*argv, "--target-rir", "1"]) == 0  # other settings: kept beside it
    capsys.readouterr()
    with HistoryDb(db_path) as db:
        rows = db.sets(athlete="Ana")
        assert len(rows) == len(__import__("json").loads(first)["sets"]) >= 1
        analyses = db.analyses(rows[0].id)
        assert [a.settings["target_rir"] for a in analyses] == [2, 1]
        assert rows[0].recording_path == str(demo)
        assert rows[0].exercise == "squat"
