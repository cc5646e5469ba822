"""History database: location, round trips, side-by-side re-analysis, migrations, locks, bad files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from vbt.errors import DatabaseLockedError, HistoryDbError, SchemaTooNewError, UsageError
from vbt.fatigue import history
from vbt.fatigue.history import SCHEMA_VERSION, HistoryDb, default_db_path
from vbt.fatigue.tracker import FatigueTracker


def _stamp():
    counter = iter(range(10_000))
    return lambda: f"2025-01-01T10:{next(counter) // 60:02d}:{next(counter) % 60:02d}+00:00"


@pytest.fixture
def db(tmp_path):
    with HistoryDb(tmp_path / "h.sqlite3", now=_stamp()) as d:
        yield d


# ---------------------------------------------------------------- location


def test_default_path_linux_xdg(tmp_path):
    p = default_db_path("linux", {"XDG_DATA_HOME": "/data"}, Path("/home/u"))
    assert p == Path("/data/vbt-monitor/history.sqlite3")


def test_default_path_linux_fallback_and_relative_xdg_ignored():
    home = Path("/home/u")
    expected = home / ".local/share/vbt-monitor/history.sqlite3"
    assert default_db_path("linux", {}, home) == expected
    assert default_db_path("linux", {"XDG_DATA_HOME": "rel/dir"}, home) == expected


def test_default_path_macos_and_windows():
    home = Path("/Users/u")
    assert default_db_path("darwin", {}, home) == home / "Library/Application Support/vbt-monitor/history.sqlite3"
    assert default_db_path("win32", {"APPDATA": "/appdata"}, home) == Path("/appdata/vbt-monitor/history.sqlite3")
    assert default_db_path("win32", {}, home) == home / "AppData/Roaming/vbt-monitor/history.sqlite3"


def test_none_path_uses_standard_location(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(history.sys, "platform", "linux")
    with HistoryDb(None) as d:
        assert d.path == tmp_path / "xdg/vbt-monitor/history.sqlite3"
    assert d.path.exists()


# ---------------------------------------------------------------- schema


def test_fresh_database_is_current_and_wal(db):
    assert db.schema_version == SCHEMA_VERSION == 2
    assert [m[0] for m in db.migrations()] == [1, 2]
    mode = sqlite3.connect(db.path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def _make_v1(path: Path) -> None:
    """A database exactly as schema v1 wrote it, with one athlete, session, set, analysis and two reps."""
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL, "
        "app_version TEXT NOT NULL, description TEXT NOT NULL)"
    )
    version, description, sql = history._MIGRATIONS[0]
    conn.executescript(sql)
    conn.execute("INSERT INTO schema_migrations VALUES (1, '2024-01-01', '0.0.1', ?)", (description,))
    conn.execute("INSERT INTO athletes (id, name, created_at) VALUES (1, 'Ana', '2024-01-01')")
    conn.execute(
        "INSERT INTO sessions (id, athlete_id, started_at, recording_path, created_at) "
        "VALUES (1, 1, '2024-01-01T09:00:00+00:00', '/r/a.jsonl', '2024-01-01')"
    )
    conn.execute(
        "INSERT INTO sets (id, session_id, set_index, exercise, load_kg, start_s, end_s, to_failure, created_at) "
        "VALUES (1, 1, 1, 'squat', 120.0, 5.0, 30.0, 1, '2024-01-01')"
    )
    conn.execute(
        "INSERT INTO analyses (id, set_id, algorithm_version, settings_json, created_at, velocity_loss_pct) "
        "VALUES (1, 1, 'old-0.1', '{}', '2024-01-01', 12.5)"
    )
    for i, v in ((1, 0.61), (2, 0.55)):
        conn.execute(
            "INSERT INTO reps (analysis_id, rep_index, start_s, end_s, mean_velocity_mps, quality, flag) "
            "VALUES (1, ?, ?, ?, ?, 1.0, 'continue')", (i, 5.0 + 4 * i, 6.0 + 4 * i, v)
        )
    conn.commit()
    conn.close()


def test_migration_from_v1_keeps_everything_and_backs_up(tmp_path):
    path = tmp_path / "old.sqlite3"
    _make_v1(path)
    before = path.read_bytes()
    with HistoryDb(path) as d:
        assert d.schema_version == SCHEMA_VERSION
        rows = d.sets(athlete="ana")
        assert len(rows) == 1 and rows[0].load_kg == 120.0 and rows[0].to_failure is True
        (analysis,) = d.analyses(rows[0].id)
        assert analysis.algorithm_version == "old-0.1"
        assert [r.mean_velocity_mps for r in analysis.set_result.reps] == [0.61, 0.55]
        assert analysis.set_result.velocity_loss_pct == 12.5
        # the v2 feature works on migrated data
        d.exclude_rep(rows[0].id, 2)
        assert d.excluded_rep_indices(rows[0].id, analysis.set_result) == {2}
        assert [m[0] for m in d.migrations()] == [1, 2]
    backup = tmp_path / "old.sqlite3.v1.bak"
    assert backup.exists() and len(before) > 0
    # the backup is a readable v1 database with the data
    conn = sqlite3.connect(backup)
    assert conn.execute("SELECT COUNT(*) FROM reps").fetchone()[0] == 2
    assert conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0] == 1


def test_schema_too_new_is_one_clear_line(tmp_path):
    path = tmp_path / "new.sqlite3"
    HistoryDb(path).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_migrations VALUES (99, 'later', '9.9', 'future')")
    conn.commit()
    conn.close()
    with pytest.raises(SchemaTooNewError) as info:
        HistoryDb(path)
    err = info.value
    assert (err.found, err.supported) == (99, SCHEMA_VERSION)
    assert "99" in str(err) and "upgrade" in str(err) and "\n" not in str(err)


def test_write_while_locked_raises_database_locked(tmp_path, make_set, make_result):
    path = tmp_path / "h.sqlite3"
    HistoryDb(path).close()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with HistoryDb(path, busy_timeout_s=0.0) as d, pytest.raises(DatabaseLockedError) as info:
            d.save_analysis(make_result([make_set([0.5, 0.45])]), athlete="a")
        assert "locked by another process" in str(info.value) and "\n" not in str(info.value)
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_open_while_exclusively_locked_raises_database_locked(tmp_path):
    path = tmp_path / "h.sqlite3"
    HistoryDb(path).close()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("PRAGMA locking_mode = EXCLUSIVE")
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(DatabaseLockedError):
            HistoryDb(path, busy_timeout_s=0.0)
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_garbage_file_is_not_a_history_database(tmp_path):
    path = tmp_path / "junk.sqlite3"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(HistoryDbError, match="not a vbt history database"):
        HistoryDb(path)


def test_foreign_sqlite_file_refused(tmp_path):
    path = tmp_path / "other.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    with pytest.raises(HistoryDbError, match="not a vbt history database"):
        HistoryDb(path)


def test_missing_without_create_and_directory(tmp_path):
    with pytest.raises(HistoryDbError, match="does not exist"):
        HistoryDb(tmp_path / "nope.sqlite3", create=False)
    assert not (tmp_path / "nope.sqlite3").exists()
    with pytest.raises(HistoryDbError, match="is a directory"):
        HistoryDb(tmp_path)


# ---------------------------------------------------------------- round trips


def test_analysis_round_trip(db, make_set, make_result):
    s1 = make_set([0.62, 0.64, 0.58, 0.51, 0.42], qualities=[1, 1, 0.4, 1, 1])
    s2 = make_set([0.55, 0.5, 0.41], index=2, t0_s=200.0, failed_after=True)
    result = make_result([s1, s2])
    FatigueTracker("squat", load_kg=100).assess(s1)
    FatigueTracker("squat", load_kg=100).assess(s2)
    ids = db.save_analysis(result, athlete="Ana", recording_path="/tmp/x.jsonl.gz",
                           started_at="2025-03-01T18:00:00+00:00", settings={"target_rir": 2})
    assert len(ids) == 2
    for set_id, original in zip(ids, (s1, s2), strict=True):
        (a,) = db.analyses(set_id)
        assert a.algorithm_version == "test-1"
        assert a.settings == {"target_rir": 2}
        assert a.set_result.to_dict() == original.to_dict()
    rows = db.sets(athlete="ana")
    assert [r.set_index for r in rows] == [1, 2]
    assert rows[0].load_kg == 100.0 and rows[0].exercise == "squat"
    assert rows[0].recording_path == str(Path("/tmp/x.jsonl.gz").resolve())
    assert rows[0].performed_at == "2025-03-01T18:00:08+00:00"
    assert rows[1].n_reps == 3 and rows[0].best_velocity_mps == pytest.approx(0.64)
    (session,) = db.sessions()
    assert session.athlete == "Ana" and session.n_sets == 2 and session.exercises == ("squat",)


def test_reanalysis_kept_side_by_side_and_same_version_replaced(db, make_set, make_result):
    rec = "/tmp/rec.jsonl"
    db.save_analysis(make_result([make_set([0.6, 0.55, 0.5])], algorithm_version="v1"), athlete="a",
                     recording_path=rec)
    newer = make_set([0.61, 0.56, 0.49, 0.4])
    db.save_analysis(make_result([newer], algorithm_version="v2"), athlete="a", recording_path=rec)
    (row,) = db.sets()
    analyses = db.analyses(row.id)
    assert [a.algorithm_version for a in analyses] == ["v1", "v2"]
    assert [len(a.set_result.reps) for a in analyses] == [3, 4]
    assert row.algorithm_version == "v2" and row.n_analyses == 2
    # the same version again replaces, never duplicates
    db.save_analysis(make_result([newer], algorithm_version="v2"), athlete="a", recording_path=rec)
    assert [a.algorithm_version for a in db.analyses(row.id)] == ["v1", "v2"]
    # different settings with the same version are kept too
    db.save_analysis(make_result([newer], algorithm_version="v2"), athlete="a", recording_path=rec,
                     settings={"target_rir": 1})
    assert len(db.analyses(row.id)) == 3
    assert len(db.sessions()) == 1


def test_reanalysis_matches_sets_by_time_not_index(db, make_set, make_result):
    rec = "/tmp/rec2.jsonl"
    db.save_analysis(make_result([make_set([0.6, 0.5], index=1, t0_s=100.0)], algorithm_version="v1"),
                     athlete="a", recording_path=rec)
    # the newer algorithm finds an extra earlier set, so the old set 1 is now set 2
    db.save_analysis(
        make_result([make_set([0.7, 0.6], index=1, t0_s=10.0), make_set([0.6, 0.5], index=2, t0_s=100.2)],
                    algorithm_version="v2"),
        athlete="a", recording_path=rec,
    )
    rows = sorted(db.sets(), key=lambda r: r.start_s)
    assert len(rows) == 2
    assert [a.algorithm_version for a in db.analyses(rows[1].id)] == ["v1", "v2"]
    assert [a.algorithm_version for a in db.analyses(rows[0].id)] == ["v2"]


def test_deleted_rep_survives_reanalysis(db, make_set, make_result):
    rec = "/tmp/rec3.jsonl"
    (set_id,) = db.save_analysis(make_result([make_set([0.6, 0.3, 0.55])], algorithm_version="v1"),
                                 athlete="a", recording_path=rec)
    db.exclude_rep(set_id, 2)
    db.save_analysis(make_result([make_set([0.6, 0.3, 0.55], t0_s=10.05)], algorithm_version="v2"),
                     athlete="a", recording_path=rec)
    latest = db.latest_analysis(set_id)
    assert latest.algorithm_version == "v2"
    assert db.excluded_rep_indices(set_id, latest.set_result) == {2}
    assert db.sets()[0].n_reps == 2
    db.exclude_rep(set_id, 2, excluded=False)
    assert db.excluded_rep_indices(set_id, latest.set_result) == frozenset()
    with pytest.raises(UsageError, match="has reps 1, 2, 3"):
        db.exclude_rep(set_id, 9)


def test_to_failure_from_failed_attempt_and_user_mark(db, make_set, make_result):
    ids = db.save_analysis(
        make_result([make_set([0.6, 0.5, 0.4], failed_after=True), make_set([0.6, 0.55], index=2, t0_s=300)]),
        athlete="b", recording_path="/tmp/r4",
    )
    recs = db.set_records("b", "back-squat")
    assert [r.to_failure for r in recs] == [True, False]
    db.mark_to_failure(ids[1], True)
    db.mark_to_failure(ids[0], False)
    assert [r.to_failure for r in db.set_records("b", "squat")] == [False, True]
    with pytest.raises(UsageError):
        db.mark_to_failure(999, True)


def test_settings_and_athletes(db):
    assert db.get_setting("athlete", "me") == "me"
    db.set_setting("athlete", "Ana")
    db.set_setting("athlete", "Bo")
    assert db.get_setting("athlete") == "Bo"
    db.add_athlete("Ana")
    db.add_athlete("  ana ")  # same person, case-insensitive, whitespace-normalised
    db.add_athlete("Bo")
    assert db.athletes() == ["Ana", "Bo"]
    with pytest.raises(UsageError):
        db.add_athlete("   ")


def test_without_recording_each_save_is_a_new_session(db, make_set, make_result):
    db.save_analysis(make_result([make_set([0.5])]), athlete="a")
    db.save_analysis(make_result([make_set([0.5])]), athlete="a")
    assert len(db.sessions(athlete="a")) == 2
    assert db.sessions(athlete="nobody") == []
    assert len(db.sessions(exercise="squat")) == 2
    assert db.sessions(exercise="bench") == []
