"""Every command that takes a file, given every kind of bad input (issue 8, "Input").

Each case must exit non-zero with exactly one line on stderr, ``vbt: error: ...``, that names the
offending value (the file, the option value) and says what to do -- never a traceback. With
``--debug`` the same failure shows where it came from (the exception propagates in-process; a
traceback on stderr in a real process).

The inputs: a missing file, a directory, an empty file, a binary file, a CSV with the wrong
columns, a CSV in the wrong units, NaN values, a recording of an unknown format version, an
unknown exercise (given as an option and named by a recording's header), plus what only some
commands meet: an unknown sensor, a history database from a newer vbt or locked by another
process, and output into a missing, read-only or full place.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import logging
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from vbt.cli import EXIT_BROKEN_PIPE, main
from vbt.errors import VbtError

ROOT = Path(__file__).resolve().parents[1]
GOOD_RECORDING = ROOT / "recordings" / "deadlift_polar_h10_25hz.jsonl.gz"  # small and quick
WIT = "0000ffe4-0000-1000-8000-00805f9a34fb"
KNOWN_EXERCISES = "use one of: bench, deadlift"


def _header(**fields) -> str:
    head = {"format": "vbt-recording", "format_version": 1, "body": "samples", "sensor": "imported",
            "rate_hz": 100.0}
    head.update(fields)
    return json.dumps(head)


def _rest_rows(n: int, az: float = 1.0) -> str:
    return "\n".join(f"{k * 0.01:.2f},0.01,-0.02,{az + 0.01 * np.sin(k):.4f}" for k in range(n))


@pytest.fixture(scope="module")
def bad(tmp_path_factory) -> Path:
    """A folder of bad inputs, made once for the module."""
    d = tmp_path_factory.mktemp("bad")
    (d / "folder").mkdir()
    (d / "empty.jsonl").touch()
    (d / "empty.csv").touch()
    noise = np.random.default_rng(8).bytes(3000)  # no text encoding makes this
    (d / "binary.jsonl.gz").write_bytes(noise)
    (d / "binary.csv").write_bytes(noise)
    (d / "columns.csv").write_text("time,x,y,z\n0,0,0,1\n0.01,0,0,1\n")
    (d / "units.csv").write_text("t,ax,ay,az\n" + _rest_rows(300, az=9.81))  # m/s^2 read as g
    (d / "nan.csv").write_text("t,ax,ay,az\n0,0,0,1\n0.01,0,nan,1\n")
    (d / "nan.jsonl").write_text(_header() + "\n[0.0,0.0,0.0,9.81]\n[0.01,NaN,0.0,9.81]\n")
    (d / "v2.jsonl").write_text(_header(format_version=2) + "\n[0.0,0.0,0.0,9.81]\n")
    (d / "curl.jsonl").write_text(_header(exercise="curl") + "\n" + "\n".join(
        json.dumps([k * 0.01, 0.0, 0.0, 9.81]) for k in range(300)) + "\n")
    (d / "fitbit.jsonl").write_text(json.dumps({"format": "vbt-recording", "format_version": 1, "body": "packets",
                                                "sensor": "fitbit"}) + f'\n[0.0,"{WIT}","5561"]\n')
    (d / "ok.csv").write_text("t,ax,ay,az\n" + _rest_rows(300))
    _history(d / "newer.sqlite3", newer=True)
    _history(d / "history.sqlite3")
    return d


def _history(path: Path, *, newer: bool = False) -> None:
    from vbt.fatigue.history import HistoryDb

    with HistoryDb(path):
        pass
    if newer:
        conn = sqlite3.connect(path)
        conn.execute("INSERT INTO schema_migrations VALUES (99, 'x', '9.0', 'from the future')")
        conn.commit()
        conn.close()


@dataclass(frozen=True)
class Case:
    """One bad input for one command.

    Attributes:
        argv: Command line after ``vbt``; ``{bad}`` and ``{tmp}`` are filled in.
        names: Text the error line must contain: the offending value.
        todo: Text saying what to do (or what is wrong, when that is the whole story).
        code: Expected exit status.
        untouched: Files (relative to ``{bad}``) that must not change.
    """

    argv: tuple[str, ...]
    names: str
    todo: str
    code: int = 1
    untouched: tuple[str, ...] = field(default=())


# --------------------------------------------------------------------------- the matrix

_RECORDING_INPUTS = {
    "missing": ("{bad}/missing.jsonl", "missing.jsonl: does not exist", "check the"),
    "directory-empty": ("{bad}/folder", "folder: ", "give"),
    "empty": ("{bad}/empty.jsonl", "empty.jsonl: is empty", "give a"),
    "binary": ("{bad}/binary.jsonl.gz", "binary.jsonl.gz: is not a vbt recording", "give a vbt recording"),
    "csv-empty": ("{bad}/empty.csv", "empty.csv: is empty", "give a"),
    "csv-binary": ("{bad}/binary.csv", "binary.csv: is not a text file", "give a CSV text file"),
    "csv-columns": ("{bad}/columns.csv", "columns.csv: line 1: missing columns t, ax, ay, az (header has: time, x, y, z)",
                    "expected a header row with t (s), ax, ay, az"),
    "csv-units": ("{bad}/units.csv", "units.csv: ax, ay, az look like m/s^2, not g", "pass --acc-unit mps2"),
    "csv-nan": ("{bad}/nan.csv", "nan.csv: line 3: column ay: 'nan' is not a finite number", "fix or delete that row"),
    "recording-nan": ("{bad}/nan.jsonl", "nan.jsonl: line 3: non-finite value", "re-record or repair that line"),
    "version": ("{bad}/v2.jsonl", "v2.jsonl: line 1: format version 2 is not supported", "upgrade vbt-monitor"),
    "header-exercise": ("{bad}/curl.jsonl", "curl.jsonl: names exercise 'curl'", "pass --exercise with one of: bench"),
    "header-sensor": ("{bad}/fitbit.jsonl", "fitbit.jsonl: comes from sensor 'fitbit'", "upgrade vbt-monitor"),
}


def _reading_cases() -> dict[str, Case]:
    cases: dict[str, Case] = {}
    for kind, (path, names, todo) in _RECORDING_INPUTS.items():
        folder_names = "folder: holds no recordings or CSV files" if kind == "directory-empty" else names
        cases[f"analyze-{kind}"] = Case(("analyze", path), folder_names, todo)
        if kind == "directory-empty":
            names = "folder: is a directory"
        cases[f"replay-{kind}"] = Case(("replay", "--headless", path), names, todo)
    cases["analyze-exercise-option"] = Case(("analyze", str(GOOD_RECORDING), "--exercise", "curl"),
                                            "--exercise 'curl' is not usable", KNOWN_EXERCISES, code=2)
    cases["replay-exercise-option"] = Case(("replay", "--headless", str(GOOD_RECORDING), "--exercise", "curl"),
                                           "--exercise 'curl' is not usable", KNOWN_EXERCISES, code=2)
    # A damaged file among good ones: the others are analysed, the error names its file.
    cases["analyze-one-bad-of-two"] = Case(("analyze", "{bad}/curl.jsonl", "{bad}/ok.csv", "--format", "json"),
                                           "curl.jsonl: names exercise 'curl'", "pass --exercise")
    return cases


def _import_cases() -> dict[str, Case]:
    out = "{tmp}/imported.jsonl.gz"
    rows = {
        "missing": ("{bad}/missing.csv", "missing.csv: does not exist", "check the CSV path"),
        "directory": ("{bad}/folder", "folder: is a directory", "give a CSV file inside it"),
        "empty": ("{bad}/empty.csv", "empty.csv: is empty", "give a non-empty CSV file"),
        "binary": ("{bad}/binary.csv", "binary.csv: is not a text file", "give a CSV text file"),
        "columns": _RECORDING_INPUTS["csv-columns"],
        "units": _RECORDING_INPUTS["csv-units"],
        "nan": _RECORDING_INPUTS["csv-nan"],
        "recording-not-csv": ("{bad}/v2.jsonl", "v2.jsonl: line 1: is a vbt recording, not a CSV file",
                              "give it to vbt analyze or vbt replay directly"),
    }
    cases = {f"import-{k}": Case(("import", path, "--out", out), names, todo) for k, (path, names, todo) in rows.items()}
    cases["import-exercise-option"] = Case(("import", "{bad}/ok.csv", "--out", out, "--exercise", "curl"),
                                           "--exercise 'curl' is not usable", KNOWN_EXERCISES, code=2)
    return cases


def _record_replay_cases() -> dict[str, Case]:
    """``vbt record --virtual ... --replay FILE`` re-records a file: it must read it first."""
    base = ("record", "--virtual", "witmotion", "--instant", "--out", "{tmp}/rerecorded.jsonl", "--replay")
    rows = {
        "missing": ("{bad}/missing.jsonl", "missing.jsonl: does not exist", "check the recording path"),
        "directory": ("{bad}/folder", "folder: is a directory", "give a recording file inside it"),
        "empty": ("{bad}/empty.jsonl", "empty.jsonl: is empty", "give a non-empty recording file"),
        "binary": _RECORDING_INPUTS["binary"],
        "csv": ("{bad}/columns.csv", "columns.csv: is not a vbt recording (it looks like a CSV file)",
                "convert it with vbt import"),
        "nan": _RECORDING_INPUTS["recording-nan"],
        "version": _RECORDING_INPUTS["version"],
        "sensor": _RECORDING_INPUTS["header-sensor"],
    }
    cases = {f"record-replay-{k}": Case((*base, path), names, todo) for k, (path, names, todo) in rows.items()}
    cases["record-exercise-option"] = Case(("record", "--virtual", "witmotion", "--instant", "--exercise", "curl",
                                            "--out", "{tmp}/r.jsonl"),
                                           "--exercise 'curl' is not usable", KNOWN_EXERCISES, code=2)
    return cases


def _database_cases() -> dict[str, Case]:
    rows = {
        "missing": ("{bad}/missing.sqlite3", "missing.sqlite3: does not exist", "pass --db to another file"),
        "directory": ("{bad}/folder", "folder: is a directory", "give a file path to --db"),
        "empty": ("{bad}/empty.csv", "empty.csv: is empty, not a vbt history database", "pass --db to your history file"),
        "binary": ("{bad}/binary.csv", "binary.csv: is not a vbt history database", "pass --db to use another file"),
        "csv": ("{bad}/columns.csv", "columns.csv: is not a vbt history database", "pass --db to use another file"),
        "newer-schema": ("{bad}/newer.sqlite3", "newer.sqlite3: schema version 99 is newer than this vbt supports",
                         "upgrade vbt-monitor"),
    }
    cases = {}
    for command in ("history", "export", "profile"):
        for kind, (path, names, todo) in rows.items():
            untouched = tuple(Path(path).name for _ in [0] if kind in ("empty", "binary", "csv", "newer-schema"))
            cases[f"{command}-db-{kind}"] = Case((command, "--db", path), names, todo, untouched=untouched)
        cases[f"{command}-exercise-option"] = Case((command, "--db", "{bad}/history.sqlite3", "--exercise", "curl"),
                                                   "--exercise 'curl' is not usable", KNOWN_EXERCISES, code=2)
    for kind in ("binary", "newer-schema"):
        path, names, todo = rows[kind]
        cases[f"analyze-save-db-{kind}"] = Case(
            ("analyze", str(GOOD_RECORDING), "--save", "--athlete", "Ana", "--db", path), names, todo,
            untouched=(Path(path).name,))
    return cases


def _output_cases() -> dict[str, Case]:
    """Output into a folder that does not exist (read-only and full places: tests below)."""
    missing = "{tmp}/no/such/folder"
    return {
        "simulate-out-missing-folder": Case(
            ("simulate", "--exercise", "squat", "--reps", "2", "--out", f"{missing}/s.jsonl.gz"),
            "cannot write {tmp}/no/such/folder/s.jsonl.gz: the folder does not exist (ENOENT)",
            "nothing was written"),
        "simulate-exercise-option": Case(("simulate", "--exercise", "curl", "--out", "{tmp}/s.jsonl"),
                                         "--exercise 'curl' is not usable", "use one of: bench, deadlift", code=2),
        "import-out-missing-folder": Case(("import", "{bad}/ok.csv", "--out", f"{missing}/i.jsonl"),
                                          "cannot write {tmp}/no/such/folder/i.jsonl: the folder does not exist",
                                          "choose another --out"),
        "record-out-missing-folder": Case(("record", "--virtual", "witmotion", "--instant", "--out",
                                           f"{missing}/r.jsonl"),
                                          "--out '{tmp}/no/such/folder/r.jsonl' is not usable",
                                          "does not exist; create it first", code=2),
        "export-out-missing-folder": Case(("export", "--db", "{bad}/history.sqlite3", "--out", f"{missing}/e.csv"),
                                          "{tmp}/no/such/folder/e.csv: cannot be written", "choose another --out path"),
        "replay-screenshot-missing-folder": Case(("replay", str(GOOD_RECORDING), "--screenshot", f"{missing}/s.png"),
                                                 "no/such/folder/s.png", "folder"),
        "decode-not-hex": Case(("decode", "--sensor", "witmotion", "55 61 zz"), "HEX argument 1 '55 61 zz'",
                               "give bytes as hex", code=2),
        "decode-unknown-sensor": Case(("decode", "--sensor", "fitbit", "5561"), "sensor 'fitbit' is not supported",
                                      "supported: metawear"),
    }


CASES: dict[str, Case] = {**_reading_cases(), **_import_cases(), **_record_replay_cases(), **_database_cases(),
                          **_output_cases()}


def _argv(case: Case, bad: Path, tmp: Path) -> list[str]:
    return [a.format(bad=bad, tmp=tmp) for a in case.argv]


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    assert lines[0].startswith("vbt: error: "), lines[0]
    assert "Traceback" not in err
    return lines[0]


def _fingerprints(bad: Path, names: tuple[str, ...]) -> dict[str, bytes]:
    return {n: (bad / n).read_bytes() for n in names}


@pytest.fixture(autouse=True)
def _no_display(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_one_clear_line(name, bad, tmp_path, capsys, caplog):
    case = CASES[name]
    argv = _argv(case, bad, tmp_path)
    before = _fingerprints(bad, case.untouched)
    code = main(argv)
    captured = capsys.readouterr()
    if name == "analyze-one-bad-of-two":  # several inputs: a progress bar shares stderr with the error
        assert captured.err.count("vbt: error: ") == 1 and "Traceback" not in captured.err
        line = "vbt: error: " + captured.err.split("vbt: error: ")[1].splitlines()[0]
    else:
        line = _one_error_line(captured.err)
    assert code == case.code, (code, line)
    assert case.names.format(bad=bad, tmp=tmp_path) in line, line
    assert case.todo in line, line
    assert _fingerprints(bad, case.untouched) == before  # a bad input is never "repaired" behind our back
    assert not list(tmp_path.iterdir()) or name == "analyze-one-bad-of-two", list(tmp_path.iterdir())  # no output
    if name == "analyze-one-bad-of-two":  # the good input was still analysed
        assert json.loads(captured.out)["source"].endswith("ok.csv")

    # --debug: the same failure shows where it came from.
    caplog.set_level(logging.DEBUG)
    try:
        code = main(["--debug", *argv])
    except VbtError as err:
        assert err.__traceback__ is not None
    else:  # commands that report per-sensor errors log the traceback instead of raising
        assert code == case.code
        assert any(r.exc_info for r in caplog.records), "no traceback with --debug"
    capsys.readouterr()


def test_every_command_that_reads_or_writes_a_file_is_in_the_matrix():
    from vbt.cli import COMMANDS

    covered = {c.argv[0] for c in CASES.values()}
    # scan has no file; demo/dashboard take no input file (their options share analyze/replay's
    # validation, tested in tests/test_cmd_demo.py and tests/test_cmd_dashboard.py).
    assert covered >= set(COMMANDS) - {"scan", "demo", "dashboard"}


# --------------------------------------------------------------------------- read-only and full places


def _as_nobody(fn: Callable[[], tuple[int, str]]) -> tuple[int, str]:
    """Run ``fn`` in a child process as user ``nobody`` (root ignores file permissions)."""
    if os.geteuid() != 0:
        return fn()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(read)
            os.setgid(65534)
            os.setuid(65534)
            result = fn()
        except BaseException as exc:  # noqa: BLE001 - report anything to the parent
            result = (99, f"child failed: {type(exc).__name__}: {exc}")
        os.write(write, json.dumps(result).encode())
        os._exit(0)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 65536):
        chunks.append(chunk)
    os.close(read)
    os.waitpid(pid, 0)
    code, err = json.loads(b"".join(chunks).decode())
    return code, err


def _run_captured(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    return code, err.getvalue()


OUTPUT_COMMANDS = {
    "simulate": lambda inp, out: ["simulate", "--exercise", "squat", "--reps", "2", "--out", str(out / "s.jsonl.gz")],
    "import": lambda inp, out: ["import", str(inp / "ok.csv"), "--out", str(out / "i.jsonl.gz")],
    "record": lambda inp, out: ["record", "--virtual", "witmotion", "--instant", "--duration", "2",
                                "--out", str(out / "r.jsonl.gz")],
    "export": lambda inp, out: ["export", "--db", str(inp / "history.sqlite3"), "--out", str(out / "e.csv")],
}


@pytest.mark.parametrize("command", sorted(OUTPUT_COMMANDS))
def test_output_into_a_read_only_folder_is_one_clear_line(command, bad, capsys):
    base = Path(tempfile.mkdtemp(prefix="vbt-ro-"))
    try:
        base.chmod(0o777)  # nobody may use the inputs (and the database's WAL files) here
        for name in ("ok.csv", "history.sqlite3"):
            shutil.copy(bad / name, base / name)
            (base / name).chmod(0o666)
        writable, ro = base / "writable", base / "readonly"
        writable.mkdir()
        ro.mkdir()
        ro.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
        # The same command works into a writable folder (and loads every module the child needs).
        assert main(OUTPUT_COMMANDS[command](base, writable)) == 0
        capsys.readouterr()
        code, err = _as_nobody(lambda: _run_captured(OUTPUT_COMMANDS[command](base, ro)))
        line = _one_error_line(err)
        assert code == 1, line
        assert str(ro) in line and "permission denied" in line.lower(), line
        assert list(ro.iterdir()) == []
    finally:
        (base / "readonly").chmod(0o755)
        shutil.rmtree(base)


@pytest.mark.parametrize("command", sorted(OUTPUT_COMMANDS))
def test_output_onto_a_full_disk_is_one_clear_line(command, bad, tmp_path, capsys, monkeypatch):
    """ENOSPC: /dev/full where the command writes the path itself, else the writer's writes fail."""
    if command in ("record", "export"):  # they write the given path: make it a full device
        target = tmp_path / ("r.jsonl.gz" if command == "record" else "e.csv")
        target.symlink_to("/dev/full")
        argv = OUTPUT_COMMANDS[command](bad, tmp_path)
        if command == "record":
            argv.append("--overwrite")
    else:  # they write a temporary file and rename it: fail its writes as a full disk does
        import vbt.recording.writer as writer_module

        def full(file, data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr(writer_module, "_write_all", full)
        argv = OUTPUT_COMMANDS[command](bad, tmp_path)
    code = main(argv)
    line = _one_error_line(capsys.readouterr().err)
    assert code == 1
    assert str(tmp_path) in line and ("disk is full" in line or "No space left" in line), line
    leftovers = [p for p in tmp_path.iterdir() if not p.is_symlink()]
    assert leftovers == []  # nothing half-written left behind (record's file is the full device itself)


# --------------------------------------------------------------------------- real processes


def _vbt(*args: str, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("DISPLAY", None)
    return subprocess.run([sys.executable, "-m", "vbt", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120, **kwargs)


def test_real_process_one_line_and_traceback_only_with_debug(bad):
    plain = _vbt("analyze", str(bad / "units.csv"))
    assert plain.returncode == 1 and plain.stdout == ""
    line = _one_error_line(plain.stderr)
    assert line == f"vbt: error: {bad / 'units.csv'}: ax, ay, az look like m/s^2, not g (median |a| = 9.81); " \
                   "pass --acc-unit mps2"
    debug = _vbt("--debug", "analyze", str(bad / "units.csv"))
    assert debug.returncode != 0
    assert "Traceback (most recent call last)" in debug.stderr and "CsvImportError" in debug.stderr


def test_real_process_missing_database_and_closed_pipe(bad, tmp_path):
    missing = _vbt("export", "--db", str(tmp_path / "typo.sqlite3"))
    assert missing.returncode == 1
    assert _one_error_line(missing.stderr).startswith(f"vbt: error: history database {tmp_path / 'typo.sqlite3'}")
    # `vbt analyze ... | head`: the reader went away; that is no error of ours.
    read, write = os.pipe()
    os.close(read)
    try:
        closed = subprocess.run([sys.executable, "-m", "vbt", "analyze", str(GOOD_RECORDING), "--format", "csv"],
                                stdout=write, stderr=subprocess.PIPE, text=True, cwd=ROOT, timeout=120)
    finally:
        os.close(write)
    assert closed.returncode == EXIT_BROKEN_PIPE
    assert closed.stderr == ""


@pytest.mark.parametrize("argv", [
    ["history"], ["export"], ["profile", "--athlete", "Ana"],
    ["analyze", str(GOOD_RECORDING), "--save", "--athlete", "Ana"],
], ids=["history", "export", "profile", "analyze-save"])
def test_a_database_locked_by_another_process_is_one_clear_line(argv, bad, tmp_path, capsys, monkeypatch):
    import vbt.fatigue.history as history

    db = tmp_path / "locked.sqlite3"
    shutil.copy(bad / "history.sqlite3", db)
    monkeypatch.setattr(history, "DEFAULT_BUSY_TIMEOUT_S", 0.0)  # do not wait the real 5 s for the other process
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("PRAGMA locking_mode = EXCLUSIVE")
    other.execute("BEGIN EXCLUSIVE")
    try:
        code = main([*argv, "--db", str(db)])
    finally:
        other.execute("ROLLBACK")
        other.close()
    line = _one_error_line(capsys.readouterr().err)
    assert code == 1
    assert line.startswith(f"vbt: error: history database {db}: locked by another process")
    assert "close the other vbt window or pass --db to use another database" in line
