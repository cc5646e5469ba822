"""Athlete history: a local SQLite database of athletes, sessions, sets, analyses and reps.

Where it lives (`default_db_path`, overridden by ``--db PATH``):

* Linux and other Unix: ``$XDG_DATA_HOME/vbt-monitor/history.sqlite3`` (default
  ``~/.local/share/vbt-monitor/history.sqlite3``);
* macOS: ``~/Library/Application Support/vbt-monitor/history.sqlite3``;
* Windows: ``%APPDATA%\\vbt-monitor\\history.sqlite3``.

Data model (one row per thing, nothing denormalised):

``athletes``   name (unique, case-insensitive)
``sessions``   one gym session = one recording (``recording_path``) of one athlete
``sets``       a set of one exercise with its load, its time span within the recording, and
               ``to_failure`` (NULL unknown, 1 marked by the user or shown by a failed attempt)
``analyses``   one analysis of a set by one algorithm version with its settings (JSON). A
               re-analysis with a newer algorithm adds a row *beside* the old one; re-saving with
               the same version and settings replaces it (same input, same result)
``reps``       per-rep metrics and fatigue fields of one analysis
``rep_exclusions``  reps the user deleted, by their time span in the recording, so a deletion
               survives re-analysis (schema v2)
``settings``   key -> JSON value (user defaults such as the current athlete)
``schema_migrations``  one row per applied migration (version, time, vbt version)

Schema upgrades only ever *add* (tables, columns, indexes). Before migrating, the file is
copied to ``<name>.v<old>.bak``, and each migration runs in one transaction: nothing is lost on
upgrade, and an interrupted upgrade leaves the old database intact. A database written by a
newer vbt raises `SchemaTooNewError`; one locked by another process for longer than the busy
timeout raises `DatabaseLockedError`. The file is in WAL mode, so readers never block a writer.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from vbt import __version__
from vbt.errors import DatabaseLockedError, HistoryDbError, SchemaTooNewError, UsageError
from vbt.fatigue.catalogue import canonical_name, lookup
from vbt.fatigue.estimator import DEFAULT_SETTINGS, EstimatorSettings
from vbt.fatigue.profile import AthleteProfile, SetRecord, fit_profile
from vbt.pipeline.results import AnalysisResult, FailedAttempt, RepResult, SetResult

APP_DIR_NAME = "vbt-monitor"
DB_FILE_NAME = "history.sqlite3"
DEFAULT_ATHLETE = "me"
#: Seconds a write waits for another process's lock before `DatabaseLockedError`.
DEFAULT_BUSY_TIMEOUT_S = 5.0
#: A deleted rep matches a rep of another analysis when their concentric spans overlap this much.
EXCLUSION_MATCH_S = 0.25

_MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (
        1,
        "athletes, sessions, sets, analyses side by side per algorithm version, reps, settings",
        """
        CREATE TABLE settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        CREATE TABLE athletes (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE,
            created_at TEXT NOT NULL,
            notes TEXT NOT NULL DEFAULT ''
        );
        CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            athlete_id INTEGER NOT NULL REFERENCES athletes(id) ON DELETE CASCADE,
            started_at TEXT NOT NULL,
            recording_path TEXT,
            source TEXT NOT NULL DEFAULT '',
            notes TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        );
        CREATE TABLE sets (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            set_index INTEGER NOT NULL,
            exercise TEXT NOT NULL,
            load_kg REAL,
            start_s REAL NOT NULL,
            end_s REAL NOT NULL,
            to_failure INTEGER,
            created_at TEXT NOT NULL,
            UNIQUE (session_id, set_index)
        );
        CREATE TABLE analyses (
            id INTEGER PRIMARY KEY,
            set_id INTEGER NOT NULL REFERENCES sets(id) ON DELETE CASCADE,
            algorithm_version TEXT NOT NULL,
            settings_json TEXT NOT NULL,
            created_at TEXT NOT NULL,
            velocity_loss_pct REAL,
            rir_estimate REAL,
            rir_low REAL,
            rir_high REAL,
            reference_rep_index INTEGER,
            notes_json TEXT NOT NULL DEFAULT '[]',
            failed_attempts_json TEXT NOT NULL DEFAULT '[]',
            UNIQUE (set_id, algorithm_version, settings_json)
        );
        CREATE TABLE reps (
            id INTEGER PRIMARY KEY,
            analysis_id INTEGER NOT NULL REFERENCES analyses(id) ON DELETE CASCADE,
            rep_index INTEGER NOT NULL,
            start_s REAL NOT NULL,
            end_s REAL NOT NULL,
            mean_velocity_mps REAL,
            mean_propulsive_velocity_mps REAL,
            peak_velocity_mps REAL,
            rom_m REAL,
            duration_s REAL,
            time_to_peak_s REAL,
            mean_power_w REAL,
            quality REAL,
            quality_reasons_json TEXT NOT NULL DEFAULT '[]',
            velocity_loss_pct REAL,
            rir_estimate REAL,
            rir_low REAL,
            rir_high REAL,
            flag TEXT NOT NULL,
            eccentric_duration_s REAL,
            UNIQUE (analysis_id, rep_index)
        );
        """,
    ),
    (
        2,
        "deleted reps kept by time span across re-analyses; indexes for history listings",
        """
        CREATE TABLE rep_exclusions (
            set_id INTEGER NOT NULL REFERENCES sets(id) ON DELETE CASCADE,
            start_s REAL NOT NULL,
            end_s REAL NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (set_id, start_s)
        );
        CREATE INDEX sessions_by_athlete ON sessions (athlete_id, started_at);
        CREATE INDEX sets_by_exercise ON sets (exercise);
        CREATE INDEX analyses_by_set ON analyses (set_id, created_at);
        """,
    ),
)

#: Schema version this vbt writes.
SCHEMA_VERSION = _MIGRATIONS[-1][0]


def default_db_path(platform: str | None = None, environ: dict[str, str] | None = None,
                    home: Path | None = None) -> Path:
    """The per-user standard location of the history database (see the module doc).

    Args:
        platform: ``sys.platform`` value to use (for tests).
        environ: Environment to read (for tests).
        home: Home directory (for tests).
    """
    platform = sys.platform if platform is None else platform
    env = os.environ if environ is None else environ
    home = Path.home() if home is None else home
    if platform.startswith("win"):
        base = Path(env["APPDATA"]) if env.get("APPDATA") else home / "AppData" / "Roaming"
    elif platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        xdg = env.get("XDG_DATA_HOME", "")
        # The XDG spec: a relative path is invalid and must be ignored.
        base = Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".local" / "share"
    return base / APP_DIR_NAME / DB_FILE_NAME


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# --------------------------------------------------------------------------- row types


@dataclass(frozen=True, slots=True)
class SessionRow:
    """A session as `vbt history` lists it."""

    id: int
    athlete: str
    started_at: str
    recording_path: str | None
    n_sets: int
    exercises: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SetRow:
    """A set with the summary of its latest analysis.

    ``to_failure`` is the user's mark when there is one, else True when the latest analysis saw a
    failed attempt after the last rep, else None (unknown).
    """

    id: int
    session_id: int
    athlete: str
    set_index: int
    exercise: str
    load_kg: float | None
    start_s: float
    end_s: float
    performed_at: str
    recording_path: str | None
    to_failure: bool | None
    n_analyses: int
    algorithm_version: str | None
    n_reps: int
    velocity_loss_pct: float | None
    rir_estimate: float | None
    best_velocity_mps: float | None


@dataclass(frozen=True, slots=True)
class AnalysisRow:
    """One stored analysis of a set."""

    id: int
    set_id: int
    algorithm_version: str
    settings: dict[str, Any]
    created_at: str
    set_result: SetResult = field(compare=False)


# --------------------------------------------------------------------------- the database


class HistoryDb:
    """The athlete-history database.

    Args:
        path: Database file; None for the per-user standard location (`default_db_path`).
        busy_timeout_s: How long a write waits for another process's lock (default
            `DEFAULT_BUSY_TIMEOUT_S`).
        create: Create the file (and its folder) when missing; otherwise a missing file raises
            `HistoryDbError`.
        now: Wall-clock source for ``created_at`` stamps (ISO-8601 strings; injectable for tests).

    Raises:
        HistoryDbError: not a vbt history database, missing (with ``create=False``), unreadable.
        SchemaTooNewError: written by a newer vbt.
        DatabaseLockedError: another process holds the lock beyond ``busy_timeout_s``.
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        busy_timeout_s: float | None = None,
        create: bool = True,
        now: Callable[[], str] = _utc_now,
    ) -> None:
        self.path = Path(path).expanduser() if path is not None else default_db_path()
        self.busy_timeout_s = float(DEFAULT_BUSY_TIMEOUT_S if busy_timeout_s is None else busy_timeout_s)
        self._now = now
        if self.path.is_dir():
            raise HistoryDbError(self.path, "is a directory", "give a file path to --db")
        if not self.path.exists():
            if not create:
                raise HistoryDbError(
                    self.path, "does not exist", "save sets with `vbt analyze --save`, or pass --db to another file"
                )
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise HistoryDbError(self.path, f"cannot create its folder ({err.strerror})",
                                     "pass --db to a writable place") from err
        elif not create and self.path.stat().st_size == 0:
            # SQLite would happily turn any empty file into a database: only a save may do that.
            raise HistoryDbError(
                self.path, "is empty, not a vbt history database",
                "pass --db to your history file (`vbt analyze --save` creates one)",
            )
        try:
            self._conn = sqlite3.connect(str(self.path), timeout=self.busy_timeout_s, isolation_level=None)
        except sqlite3.Error as err:
            raise HistoryDbError(self.path, f"cannot be opened ({err})", "check the path and its permissions") from err
        self._conn.row_factory = sqlite3.Row
        try:
            with self._guard():
                self._conn.execute("PRAGMA foreign_keys = ON")
                self._prepare()
        except BaseException:
            self._conn.close()
            raise

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Close the connection (idempotent)."""
        self._conn.close()

    def __enter__(self) -> HistoryDb:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Turn SQLite errors into one-line `HistoryDbError`s naming the file."""
        try:
            yield
        except sqlite3.OperationalError as err:
            text = str(err).lower()
            if "locked" in text or "busy" in text:
                raise DatabaseLockedError(self.path, self.busy_timeout_s) from err
            if "readonly" in text or "read-only" in text:
                raise HistoryDbError(self.path, "is read-only", "pass --db to a writable file") from err
            raise HistoryDbError(self.path, f"database error: {err}", "run with --debug and report it") from err
        except sqlite3.DatabaseError as err:
            raise HistoryDbError(
                self.path, f"is not a vbt history database ({err})", "pass --db to use another file"
            ) from err

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE: take the write lock up front, or time out)."""
        with self._guard():
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # ------------------------------------------------------------------ schema

    @property
    def schema_version(self) -> int:
        """Highest applied migration."""
        with self._guard():
            row = self._conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    def _tables(self) -> set[str]:
        rows = self._conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        return {r[0] for r in rows}

    def _prepare(self) -> None:
        tables = self._tables()
        if not tables:
            current = 0
        elif "schema_migrations" in tables:
            current = int(self._conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0] or 0)
        else:
            raise HistoryDbError(
                self.path, "is an SQLite file but not a vbt history database (no schema_migrations table)",
                "pass --db to use another file",
            )
        if current > SCHEMA_VERSION:
            raise SchemaTooNewError(self.path, current, SCHEMA_VERSION)
        if 0 < current < SCHEMA_VERSION:
            self._backup(current)
        mode = self._conn.execute("PRAGMA journal_mode").fetchone()[0]
        if str(mode).lower() != "wal":
            self._conn.execute("PRAGMA journal_mode = WAL")
        if current < SCHEMA_VERSION:
            self._migrate(current)

    def _backup(self, current: int) -> None:
        """Copy the old file aside before migrating: an upgrade must never lose data."""
        backup = self.path.with_name(f"{self.path.name}.v{current}.bak")
        if backup.exists():
            return
        # The online-backup API copies a consistent snapshot, WAL content included.
        target = sqlite3.connect(str(backup))
        try:
            self._conn.backup(target)
        finally:
            target.close()

    def _migrate(self, current: int) -> None:
        for version, description, sql in _MIGRATIONS:
            if version <= current:
                continue
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                if version == 1:
                    self._conn.execute(
                        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL, "
                        "app_version TEXT NOT NULL, description TEXT NOT NULL)"
                    )
                for statement in _split_sql(sql):
                    self._conn.execute(statement)
                self._conn.execute(
                    "INSERT INTO schema_migrations (version, applied_at, app_version, description) VALUES (?, ?, ?, ?)",
                    (version, self._now(), __version__, description),
                )
                self._conn.execute(f"PRAGMA user_version = {int(version)}")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def migrations(self) -> list[tuple[int, str, str, str]]:
        """Applied migrations: (version, applied_at, app_version, description)."""
        with self._guard():
            rows = self._conn.execute(
                "SELECT version, applied_at, app_version, description FROM schema_migrations ORDER BY version"
            ).fetchall()
        return [tuple(r) for r in rows]  # type: ignore[misc]

    # ------------------------------------------------------------------ settings and athletes

    def get_setting(self, key: str, default: Any = None) -> Any:
        """A stored user setting (JSON value), or ``default``."""
        with self._guard():
            row = self._conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def set_setting(self, key: str, value: Any) -> None:
        """Store a user setting (any JSON-serialisable value)."""
        with self._write() as c:
            c.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, json.dumps(value)),
            )

    def athletes(self) -> list[str]:
        """Athlete names, alphabetically."""
        with self._guard():
            rows = self._conn.execute("SELECT name FROM athletes ORDER BY name COLLATE NOCASE").fetchall()
        return [r[0] for r in rows]

    def _athlete_id(self, name: str, *, create: bool) -> int | None:
        name = _clean_name(name)
        row = self._conn.execute("SELECT id FROM athletes WHERE name = ?", (name,)).fetchone()
        if row is not None:
            return int(row[0])
        if not create:
            return None
        cur = self._conn.execute("INSERT INTO athletes (name, created_at) VALUES (?, ?)", (name, self._now()))
        return int(cur.lastrowid)

    def resolve_athlete(self, name: str | None) -> str:
        """The athlete a command means: ``name``, else the stored default, else the only one there is.

        Raises:
            UsageError: no name given and several athletes are stored (lists them).
        """
        if name is not None:
            return _clean_name(name)
        stored = self.get_setting("athlete")
        if stored:
            return str(stored)
        known = self.athletes()
        if len(known) == 1:
            return known[0]
        if not known:
            return DEFAULT_ATHLETE
        raise UsageError("--athlete", "", "several athletes are stored, name one of: " + ", ".join(known))

    def add_athlete(self, name: str) -> int:
        """Create ``name`` if needed; returns its id."""
        with self._write():
            return int(self._athlete_id(name, create=True))  # type: ignore[arg-type]

    # ------------------------------------------------------------------ saving

    def save_analysis(
        self,
        result: AnalysisResult,
        *,
        athlete: str = DEFAULT_ATHLETE,
        recording_path: str | Path | None = None,
        started_at: str | None = None,
        settings: dict[str, Any] | None = None,
        to_failure: dict[int, bool] | None = None,
    ) -> list[int]:
        """Store every set of ``result`` for ``athlete``; returns the set ids, in order.

        The same recording analysed again goes into the same session and sets: a different
        ``algorithm_version``/``settings`` adds an analysis beside the old one, the same ones
        replace it.

        Args:
            result: The analysis (its ``algorithm_version`` is stored).
            athlete: Athlete name (created if new).
            recording_path: The recording the sets come from (stored resolved, links each set to it).
            started_at: ISO wall time of the recording start (default: now).
            settings: Analysis settings to store with it (target RIR, VL cut-off, pipeline options).
            to_failure: Set index -> taken to failure, when known beyond the analysis itself.
        """
        path = str(Path(recording_path).expanduser().resolve()) if recording_path is not None else None
        settings_json = json.dumps(settings or {}, sort_keys=True)
        version = result.algorithm_version or "unknown"
        exercise = canonical_name(result.exercise or "generic")
        ids: list[int] = []
        with self._write() as c:
            athlete_id = self._athlete_id(athlete, create=True)
            session_id = None
            if path is not None:
                row = c.execute(
                    "SELECT id FROM sessions WHERE athlete_id = ? AND recording_path = ? ORDER BY id LIMIT 1",
                    (athlete_id, path),
                ).fetchone()
                session_id = None if row is None else int(row[0])
            if session_id is None:
                cur = c.execute(
                    "INSERT INTO sessions (athlete_id, started_at, recording_path, source, created_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (athlete_id, started_at or self._now(), path, result.source, self._now()),
                )
                session_id = int(cur.lastrowid)
            for s in result.sets:
                set_id = self._upsert_set(c, session_id, s, exercise, result.load_kg)
                if to_failure and s.index in to_failure:
                    c.execute("UPDATE sets SET to_failure = ? WHERE id = ?", (int(bool(to_failure[s.index])), set_id))
                c.execute(
                    "DELETE FROM analyses WHERE set_id = ? AND algorithm_version = ? AND settings_json = ?",
                    (set_id, version, settings_json),
                )
                self._insert_analysis(c, set_id, s, version, settings_json)
                ids.append(set_id)
        return ids

    def _upsert_set(self, c: sqlite3.Connection, session_id: int, s: SetResult, exercise: str,
                    load_kg: float | None) -> int:
        # Match by time: a newer algorithm may split the recording into sets differently, so the
        # same set can get another index; the stored set it overlaps most is the same set.
        rows = c.execute("SELECT id, start_s, end_s FROM sets WHERE session_id = ?", (session_id,)).fetchall()
        best, best_overlap = None, 0.0
        for set_id, a, b in rows:
            overlap = min(b, s.end_s) - max(a, s.start_s)
            if overlap > best_overlap:
                best, best_overlap = int(set_id), overlap
        if best is None:
            taken = {int(r[0]) for r in c.execute("SELECT set_index FROM sets WHERE session_id = ?", (session_id,))}
            index = s.index if s.index not in taken else max(taken) + 1
            cur = c.execute(
                "INSERT INTO sets (session_id, set_index, exercise, load_kg, start_s, end_s, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (session_id, index, exercise, load_kg, s.start_s, s.end_s, self._now()),
            )
            return int(cur.lastrowid)
        # A re-analysis may move the set's bounds a little and may know the load now.
        c.execute(
            "UPDATE sets SET start_s = ?, end_s = ?, load_kg = COALESCE(?, load_kg) WHERE id = ?",
            (s.start_s, s.end_s, load_kg, best),
        )
        return best

    def _insert_analysis(self, c: sqlite3.Connection, set_id: int, s: SetResult, version: str,
                         settings_json: str) -> int:
        low, high = s.rir_interval if s.rir_interval is not None else (None, None)
        cur = c.execute(
            "INSERT INTO analyses (set_id, algorithm_version, settings_json, created_at, velocity_loss_pct, "
            "rir_estimate, rir_low, rir_high, reference_rep_index, notes_json, failed_attempts_json) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                set_id, version, settings_json, self._now(), _num(s.velocity_loss_pct), _num(s.rir_estimate),
                _num(low), _num(high), s.reference_rep_index, json.dumps(list(s.notes)),
                json.dumps([f.to_dict() for f in s.failed_attempts]),
            ),
        )
        analysis_id = int(cur.lastrowid)
        c.executemany(
            "INSERT INTO reps (analysis_id, rep_index, start_s, end_s, mean_velocity_mps, "
            "mean_propulsive_velocity_mps, peak_velocity_mps, rom_m, duration_s, time_to_peak_s, mean_power_w, "
            "quality, quality_reasons_json, velocity_loss_pct, rir_estimate, rir_low, rir_high, flag, "
            "eccentric_duration_s) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    analysis_id, r.index, r.start_s, r.end_s, _num(r.mean_velocity_mps),
                    _num(r.mean_propulsive_velocity_mps), _num(r.peak_velocity_mps), _num(r.rom_m),
                    _num(r.duration_s), _num(r.time_to_peak_s), _num(r.mean_power_w), _num(r.quality),
                    json.dumps(list(r.quality_reasons)), _num(r.velocity_loss_pct), _num(r.rir_estimate),
                    _num(r.rir_interval[0]) if r.rir_interval else None,
                    _num(r.rir_interval[1]) if r.rir_interval else None,
                    r.flag, _num(r.eccentric_duration_s),
                )
                for r in s.reps
            ],
        )
        return analysis_id

    # ------------------------------------------------------------------ user edits

    def mark_to_failure(self, set_id: int, value: bool | None) -> None:
        """Record whether set ``set_id`` was taken to failure (None: unknown)."""
        self._require_set(set_id)
        with self._write() as c:
            c.execute("UPDATE sets SET to_failure = ? WHERE id = ?", (None if value is None else int(value), set_id))

    def exclude_rep(self, set_id: int, rep_index: int, excluded: bool = True) -> None:
        """Delete (or restore) rep ``rep_index`` of the set's latest analysis, by its time span.

        Raises:
            UsageError: no such set or rep.
        """
        latest = self.latest_analysis(set_id)
        rep = next((r for r in latest.set_result.reps if r.index == rep_index), None) if latest else None
        if rep is None:
            known = ", ".join(str(r.index) for r in latest.set_result.reps) if latest else "none"
            raise UsageError("--rep", rep_index, f"set {set_id} has reps {known}")
        with self._write() as c:
            if excluded:
                c.execute(
                    "INSERT OR REPLACE INTO rep_exclusions (set_id, start_s, end_s, created_at) VALUES (?, ?, ?, ?)",
                    (set_id, rep.start_s, rep.end_s, self._now()),
                )
            else:
                for start, end in self._exclusions(set_id):
                    if _overlaps(start, end, rep.start_s, rep.end_s):
                        c.execute("DELETE FROM rep_exclusions WHERE set_id = ? AND start_s = ?", (set_id, start))

    def _exclusions(self, set_id: int) -> list[tuple[float, float]]:
        rows = self._conn.execute("SELECT start_s, end_s FROM rep_exclusions WHERE set_id = ?", (set_id,)).fetchall()
        return [(float(a), float(b)) for a, b in rows]

    def excluded_rep_indices(self, set_id: int, set_result: SetResult) -> frozenset[int]:
        """Indices of ``set_result``'s reps the user deleted (matched by time span)."""
        with self._guard():
            spans = self._exclusions(set_id)
        return frozenset(r.index for r in set_result.reps if any(_overlaps(a, b, r.start_s, r.end_s) for a, b in spans))

    def _require_set(self, set_id: int) -> None:
        with self._guard():
            row = self._conn.execute("SELECT 1 FROM sets WHERE id = ?", (set_id,)).fetchone()
        if row is None:
            raise UsageError("--set", set_id, "no set with that id; list them with `vbt history --sets`")

    # ------------------------------------------------------------------ reading

    def sessions(self, *, athlete: str | None = None, exercise: str | None = None,
                 limit: int | None = None) -> list[SessionRow]:
        """Sessions, newest first, optionally for one athlete / with one exercise."""
        where, args = self._filters(athlete, exercise)
        sql = (
            "SELECT se.id, a.name, se.started_at, se.recording_path, COUNT(st.id) AS n_sets, "
            "GROUP_CONCAT(DISTINCT st.exercise) AS exercises FROM sessions se "
            "JOIN athletes a ON a.id = se.athlete_id LEFT JOIN sets st ON st.session_id = se.id "
            f"{where} GROUP BY se.id ORDER BY se.started_at DESC, se.id DESC"
        )
        if limit:
            sql += f" LIMIT {int(limit)}"
        with self._guard():
            rows = self._conn.execute(sql, args).fetchall()
        return [
            SessionRow(int(r[0]), r[1], r[2], r[3], int(r[4]), tuple(sorted((r[5] or "").split(",") if r[5] else ())))
            for r in rows
        ]

    def sets(self, *, athlete: str | None = None, exercise: str | None = None, session_id: int | None = None,
             limit: int | None = None) -> list[SetRow]:
        """Sets with their latest analysis' summary, newest first."""
        where, args = self._filters(athlete, exercise)
        if session_id is not None:
            where += (" AND " if where else "WHERE ") + "se.id = ?"
            args.append(session_id)
        sql = (
            "SELECT st.id, st.session_id, a.name, st.set_index, st.exercise, st.load_kg, st.start_s, st.end_s, "
            "se.started_at, se.recording_path, st.to_failure, "
            "(SELECT COUNT(*) FROM analyses an WHERE an.set_id = st.id) AS n_analyses "
            "FROM sets st JOIN sessions se ON se.id = st.session_id JOIN athletes a ON a.id = se.athlete_id "
            f"{where} ORDER BY se.started_at DESC, se.id DESC, st.set_index ASC"
        )
        if limit:
            sql += f" LIMIT {int(limit)}"
        with self._guard():
            rows = self._conn.execute(sql, args).fetchall()
        out = []
        for r in rows:
            latest = self.latest_analysis(int(r[0]))
            sres = latest.set_result if latest else None
            excluded = self.excluded_rep_indices(int(r[0]), sres) if sres else frozenset()
            counted = [x for x in sres.reps if x.index not in excluded] if sres else []
            to_failure = None if r[10] is None else bool(r[10])
            if to_failure is None and counted and any(f.start_s >= counted[-1].end_s for f in sres.failed_attempts):
                to_failure = True  # a failed attempt after the last rep shows it; the user can unmark it
            out.append(
                SetRow(
                    id=int(r[0]), session_id=int(r[1]), athlete=r[2], set_index=int(r[3]), exercise=r[4],
                    load_kg=r[5], start_s=float(r[6]), end_s=float(r[7]), performed_at=_plus_seconds(r[8], r[6]),
                    recording_path=r[9], to_failure=to_failure, n_analyses=int(r[11]),
                    algorithm_version=latest.algorithm_version if latest else None, n_reps=len(counted),
                    velocity_loss_pct=sres.velocity_loss_pct if sres else None,
                    rir_estimate=sres.rir_estimate if sres else None,
                    best_velocity_mps=max((x.mean_velocity_mps for x in counted), default=None),
                )
            )
        return out

    def _filters(self, athlete: str | None, exercise: str | None) -> tuple[str, list[Any]]:
        clauses, args = [], []
        if athlete is not None:
            clauses.append("a.name = ?")
            args.append(_clean_name(athlete))
        if exercise is not None:
            clauses.append("EXISTS (SELECT 1 FROM sets s2 WHERE s2.session_id = se.id AND s2.exercise = ?)")
            args.append(canonical_name(exercise))
        return ("WHERE " + " AND ".join(clauses)) if clauses else "", args

    def analyses(self, set_id: int) -> list[AnalysisRow]:
        """Every stored analysis of a set, oldest first (side by side by algorithm version)."""
        with self._guard():
            rows = self._conn.execute(
                "SELECT * FROM analyses WHERE set_id = ? ORDER BY created_at, id", (set_id,)
            ).fetchall()
            st = self._conn.execute("SELECT set_index, start_s, end_s FROM sets WHERE id = ?", (set_id,)).fetchone()
            out = []
            for a in rows:
                reps = self._conn.execute(
                    "SELECT * FROM reps WHERE analysis_id = ? ORDER BY rep_index", (a["id"],)
                ).fetchall()
                out.append(
                    AnalysisRow(
                        id=int(a["id"]), set_id=set_id, algorithm_version=a["algorithm_version"],
                        settings=json.loads(a["settings_json"]), created_at=a["created_at"],
                        set_result=_set_result(st, a, reps),
                    )
                )
        return out

    def latest_analysis(self, set_id: int) -> AnalysisRow | None:
        """The most recently stored analysis of a set (None if it has none)."""
        rows = self.analyses(set_id)
        return rows[-1] if rows else None

    def set_info(self, set_id: int) -> SetRow:
        """One set's summary row.

        Raises:
            UsageError: no set with that id.
        """
        self._require_set(set_id)
        with self._guard():
            row = self._conn.execute(
                "SELECT a.name, se.id FROM sets st JOIN sessions se ON se.id = st.session_id "
                "JOIN athletes a ON a.id = se.athlete_id WHERE st.id = ?", (set_id,)
            ).fetchone()
        return next(s for s in self.sets(athlete=row[0], session_id=int(row[1])) if s.id == set_id)

    def set_records(self, athlete: str, exercise: str) -> list[SetRecord]:
        """The athlete's sets of ``exercise`` as profile input (latest analysis, deleted reps removed)."""
        name = canonical_name(exercise)
        out = []
        rows = sorted(self.sets(athlete=athlete, exercise=name), key=_chronological)
        for row in rows:
            if row.exercise != name:
                continue
            latest = self.latest_analysis(row.id)
            if latest is None:
                continue
            sres = latest.set_result
            excluded = self.excluded_rep_indices(row.id, sres)
            reps = [r for r in sres.reps if r.index not in excluded]
            if not reps:
                continue
            out.append(
                SetRecord(
                    exercise=name,
                    velocities_mps=tuple(float(r.mean_velocity_mps) for r in reps),
                    qualities=tuple(float(r.quality) for r in reps),
                    load_kg=row.load_kg,
                    to_failure=bool(row.to_failure),
                    performed_at=row.performed_at,
                    set_id=row.id,
                )
            )
        return out

    def profile(self, athlete: str, exercise: str, *, settings: EstimatorSettings = DEFAULT_SETTINGS) -> AthleteProfile:
        """Fit ``athlete``'s profile for ``exercise`` from their stored sets (population values if none)."""
        return fit_profile(lookup(exercise), self.set_records(athlete, exercise), settings)

    def export_rows(self, *, athlete: str | None = None, exercise: str | None = None,
                    all_versions: bool = False) -> list[tuple[SetRow, AnalysisRow, frozenset[int]]]:
        """(set, analysis, deleted rep indices) triples for export: the latest analysis, or all of them."""
        out = []
        for row in sorted(self.sets(athlete=athlete, exercise=exercise), key=_chronological):
            if exercise is not None and row.exercise != canonical_name(exercise):
                continue
            analyses = self.analyses(row.id)
            if not all_versions:
                analyses = analyses[-1:]
            for a in analyses:
                out.append((row, a, self.excluded_rep_indices(row.id, a.set_result)))
        return out


# --------------------------------------------------------------------------- helpers


def _chronological(row: SetRow) -> tuple[str, int, int]:
    return (row.performed_at, row.session_id, row.set_index)


def _split_sql(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _clean_name(name: str) -> str:
    cleaned = " ".join(str(name).split())
    if not cleaned:
        raise UsageError("--athlete", name, "give a non-empty athlete name")
    return cleaned


def _num(x: float | None) -> float | None:
    if x is None:
        return None
    xf = float(x)
    return xf if math.isfinite(xf) else None


def _overlaps(a0: float, a1: float, b0: float, b1: float) -> bool:
    """True when two concentric spans are the same rep: close starts, or mostly overlapping."""
    overlap = min(a1, b1) - max(a0, b0)
    shorter = max(min(a1 - a0, b1 - b0), 1e-9)
    return abs(a0 - b0) <= EXCLUSION_MATCH_S or overlap >= 0.5 * shorter


def _plus_seconds(iso: str, seconds: float) -> str:
    try:
        t = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return iso
    return (t + timedelta(seconds=float(seconds))).isoformat(timespec="seconds")


def _set_result(st: sqlite3.Row, a: sqlite3.Row, reps: list[sqlite3.Row]) -> SetResult:
    def interval(lo: float | None, hi: float | None) -> tuple[float, float] | None:
        return None if lo is None or hi is None else (float(lo), float(hi))

    return SetResult(
        index=int(st["set_index"]),
        start_s=float(st["start_s"]),
        end_s=float(st["end_s"]),
        reps=[
            RepResult(
                index=int(r["rep_index"]), start_s=float(r["start_s"]), end_s=float(r["end_s"]),
                mean_velocity_mps=_nan(r["mean_velocity_mps"]),
                mean_propulsive_velocity_mps=_nan(r["mean_propulsive_velocity_mps"]),
                peak_velocity_mps=_nan(r["peak_velocity_mps"]), rom_m=_nan(r["rom_m"]),
                duration_s=_nan(r["duration_s"]), time_to_peak_s=_nan(r["time_to_peak_s"]),
                mean_power_w=r["mean_power_w"], quality=1.0 if r["quality"] is None else float(r["quality"]),
                quality_reasons=list(json.loads(r["quality_reasons_json"])),
                velocity_loss_pct=r["velocity_loss_pct"], rir_estimate=r["rir_estimate"],
                rir_interval=interval(r["rir_low"], r["rir_high"]), flag=r["flag"],
                eccentric_duration_s=r["eccentric_duration_s"],
            )
            for r in reps
        ],
        failed_attempts=[
            FailedAttempt(start_s=f["start_s"], end_s=f["end_s"], rom_m=f.get("rom_m"))
            for f in json.loads(a["failed_attempts_json"])
        ],
        velocity_loss_pct=a["velocity_loss_pct"],
        rir_estimate=a["rir_estimate"],
        rir_interval=interval(a["rir_low"], a["rir_high"]),
        reference_rep_index=a["reference_rep_index"],
        notes=list(json.loads(a["notes_json"])),
    )


def _nan(x: float | None) -> float:
    return math.nan if x is None else float(x)


__all__ = [
    "DEFAULT_ATHLETE",
    "SCHEMA_VERSION",
    "AnalysisRow",
    "HistoryDb",
    "SessionRow",
    "SetRow",
    "default_db_path",
]
