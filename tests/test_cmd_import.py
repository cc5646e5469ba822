"""`vbt import`: CSV -> samples recording, one summary line, one clear error line for bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vbt.cli import main
from vbt.recording.csv_import import read_csv_samples
from vbt.recording.reader import open_recording

G = 9.80665


def make_csv(path, n=400, gyro=True, extra=""):
    head = "t,ax,ay,az" + (",gx,gy,gz" if gyro else "") + extra
    rows = []
    for k in range(n):
        row = f"{k / 100:.2f},0.02,-0.01,{1 + 0.3 * math.sin(k / 9):.5f}"
        if gyro:
            row += f",{40 * math.sin(k / 9):.3f},1.5,-2"
        if extra:
            row += ",21.5"
        rows.append(row)
    path.write_text(head + "\n" + "\n".join(rows) + "\n")
    return path


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


def test_import_writes_a_samples_recording_with_metadata(tmp_path, capsys):
    csv = make_csv(tmp_path / "set.csv")
    out = tmp_path / "set.jsonl.gz"
    code = main(["import", str(csv), "--out", str(out), "--exercise", "Back Squat", "--load-kg", "102.5",
                 "--athlete", "Ana", "--notes", "belt on"])
    assert code == 0
    line = one_line(capsys.readouterr().out)
    assert line == f"imported 400 samples, 4.0 s, ~100 Hz, gyro: yes -> {out}"
    rec = open_recording(out)
    h = rec.header
    assert (h.body, h.sensor, h.exercise, h.load_kg, h.athlete, h.notes) == (
        "samples", "imported", "squat", 102.5, "Ana", "belt on")
    assert h.rate_hz == pytest.approx(100.0) and h.extra["source_file"] == "set.csv"
    t, acc, gyro = rec.sample_columns()
    src = read_csv_samples(csv)
    assert np.array_equal(t, src.t_s) and np.array_equal(acc, src.accel_mps2) and np.array_equal(gyro, src.gyro_rads)
    assert acc[0, 2] == 1.0 * G
    assert not list(tmp_path.glob(".*part*")), "no temporary file left behind"


def test_units_and_plain_output_and_warnings(tmp_path, capsys):
    csv = tmp_path / "si.csv"
    rows = [f"{k / 50:.2f},0.1,0.2,{9.81 + 0.5 * math.sin(k)},0.1,0,0,20" for k in range(100)]
    csv.write_text("t,ax,ay,az,gx,gy,gz,temp\n" + "\n".join(rows))
    out = tmp_path / "si.jsonl"
    assert main(["import", str(csv), "--out", str(out), "--acc-unit", "mps2", "--gyro-unit", "rads"]) == 0
    line = one_line(capsys.readouterr().out)
    assert "imported 100 samples, 2.0 s, ~50 Hz, gyro: yes" in line and "(1 warning: ignored columns: temp)" in line
    _, acc, gyro = open_recording(out).sample_columns()
    assert acc[0].tolist() == [0.1, 0.2, 9.81] and gyro[0].tolist() == [0.1, 0.0, 0.0]
    # the wrong unit: one line naming the option to pass, and nothing written
    assert main(["import", str(csv), "--out", str(tmp_path / "g.jsonl")]) == 1
    assert "look like m/s^2, not g (median |a| = 9.8" in one_line(capsys.readouterr().err)
    assert not (tmp_path / "g.jsonl").exists()


def test_no_gyro(tmp_path, capsys):
    csv = make_csv(tmp_path / "a.csv", gyro=False)
    assert main(["import", str(csv), "--out", str(tmp_path / "a.jsonl")]) == 0
    assert "gyro: no" in capsys.readouterr().out


def test_existing_output_needs_force(tmp_path, capsys):
    csv = make_csv(tmp_path / "a.csv")
    out = tmp_path / "a.jsonl.gz"
    out.write_text("precious")
    assert main(["import", str(csv), "--out", str(out)]) == 2
    err = one_line(capsys.readouterr().err)
    assert err.startswith("vbt: error: --out") and "pass --force" in err
    assert out.read_text() == "precious"
    assert main(["import", str(csv), "--out", str(out), "--force"]) == 0
    assert len(open_recording(out)) == 400


def _bad_inputs(tmp_path):
    (tmp_path / "empty.csv").touch()
    (tmp_path / "bin.csv").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "cols.csv").write_text("time,x,y,z\n0,0,0,1\n")
    (tmp_path / "nan.csv").write_text("t,ax,ay,az\n0,0,0,1\n0.01,0,nan,1\n")
    (tmp_path / "back.csv").write_text("t,ax,ay,az\n0,0,0,1\n0.02,0,0,1\n0.01,0,0,1\n")
    (tmp_path / "d").mkdir()
    return {
        "missing.csv": ("does not exist", 1),
        "d": ("is a directory", 1),
        "empty.csv": ("is empty", 1),
        "bin.csv": ("is not a text file", 1),
        "cols.csv": ("line 1: missing columns t, ax, ay, az", 1),
        "nan.csv": ("line 3: column ay: 'nan' is not a finite number", 1),
        "back.csv": ("line 4: time runs backwards", 1),
    }


def test_bad_inputs_exit_non_zero_with_one_line(tmp_path, capsys):
    for name, (words, code) in _bad_inputs(tmp_path).items():
        out = tmp_path / f"{name}.jsonl"
        assert main(["import", str(tmp_path / name), "--out", str(out)]) == code, name
        captured = capsys.readouterr()
        err = one_line(captured.err)
        assert err.startswith("vbt: error: ") and words in err, (name, err)
        assert "Traceback" not in captured.err and captured.out == ""
        assert not out.exists()


@pytest.mark.parametrize(("args", "words"), [
    (["--out", "x.csv"], "name the recording FILE.jsonl or FILE.jsonl.gz"),
    (["--out", "r.jsonl", "--exercise", "curl"], "--exercise 'curl' is not usable: use one of"),
])
def test_bad_options(tmp_path, capsys, args, words, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_csv(tmp_path / "a.csv")
    assert main(["import", "a.csv", *args]) == 2
    assert words in one_line(capsys.readouterr().err)


def test_unwritable_output_leaves_nothing(tmp_path, capsys):
    csv = make_csv(tmp_path / "a.csv")
    out = tmp_path / "no_such_folder" / "a.jsonl.gz"
    assert main(["import", str(csv), "--out", str(out)]) == 1
    err = one_line(capsys.readouterr().err)
    assert err == (f"vbt: error: cannot write {out}: the folder does not exist (ENOENT); nothing was written "
                   "(an existing file is unchanged); fix that or choose another --out")


def test_disk_full_during_import_keeps_the_old_file(tmp_path, capsys, monkeypatch):
    """ENOSPC half-way: the existing output stays as it was and no temporary file is left."""
    import errno

    import vbt.recording.writer as writer_mod

    csv = make_csv(tmp_path / "a.csv", n=3000)
    out = tmp_path / "a.jsonl"
    out.write_text("old")
    real_write_all = writer_mod._write_all
    calls = {"n": 0}

    def failing(file, data):
        calls["n"] += 1
        if calls["n"] > 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write_all(file, data)

    monkeypatch.setattr(writer_mod, "_write_all", failing)
    assert main(["import", str(csv), "--out", str(out), "--force"]) == 1
    assert "the disk is full (ENOSPC)" in one_line(capsys.readouterr().err)
    assert out.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "a.jsonl"]
