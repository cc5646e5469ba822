"""Generic CSV import: the issue's format, its variations, every error naming its line, unit warnings."""

from __future__ import annotations

import gzip
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vbt.errors import CsvImportError, InputFileError
from vbt.recording.csv_import import csv_to_batches, estimate_rate_hz, read_csv_samples
from vbt.recording.reader import open_recording
from vbt.recording.writer import RecordingWriter

G = 9.80665


def write(tmp_path, text: str, name: str = "data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


def rest_rows(n: int, rate: float = 100.0, gyro: bool = True) -> list[str]:
    rows = []
    for k in range(n):
        t = k / rate
        g = f",{0.5 * math.sin(k / 10):.4f},-1.25,{k % 7}" if gyro else ""
        rows.append(f"{t:.4f},0.01,-0.02,{1.0 + 0.3 * math.sin(k / 5):.4f}{g}")
    return rows


# --------------------------------------------------------------------------- the format


def test_basic_file_with_gyro_in_g_and_dps(tmp_path):
    path = write(tmp_path, "t,ax,ay,az,gx,gy,gz\n" + "\n".join(rest_rows(500)) + "\n")
    s = read_csv_samples(path)
    assert len(s) == 500 and s.has_gyro and s.warnings == []
    assert s.t_s[0] == 0.0 and s.t_s[-1] == pytest.approx(4.99)
    assert s.accel_mps2[0].tolist() == [0.01 * G, -0.02 * G, 1.0 * G]
    d2r = math.pi / 180
    assert s.gyro_rads[3].tolist() == [float(f"{0.5 * math.sin(0.3):.4f}") * d2r, -1.25 * d2r, 3 * d2r]
    assert s.rate_hz == pytest.approx(100.0)
    assert not s.batched_timestamps and s.duration_s == pytest.approx(4.99)


def test_si_units(tmp_path):
    path = write(tmp_path, "t,ax,ay,az,gx,gy,gz\n0,0,0,9.81,0.1,0,0\n0.01,0.1,0,9.79,0.2,0,0\n")
    s = read_csv_samples(path, acc_unit="mps2", gyro_unit="rads")
    assert s.accel_mps2[:, 2].tolist() == [9.81, 9.79] and s.gyro_rads[:, 0].tolist() == [0.1, 0.2]
    assert s.warnings == []


def test_no_gyro(tmp_path):
    s = read_csv_samples(write(tmp_path, "t,ax,ay,az\n" + "\n".join(rest_rows(50, gyro=False))))
    assert s.gyro_rads is None and not s.has_gyro
    assert all(b.gyro_rads is None for b in s.batches())


def test_batched_timestamps_irregular_spacing_and_gaps_are_normal(tmp_path):
    """Notifications of 4 samples stamped on arrival at ~25 Hz (100 Hz sampling), jitter, a 3 s gap."""
    rng = np.random.default_rng(2)
    rows, t = [], 10.0
    for k in range(100):
        t += 0.04 + rng.uniform(-0.004, 0.004) + (3.0 if k == 60 else 0.0)
        rows += [f"{t:.6f},0,0,1"] * 4
    s = read_csv_samples(write(tmp_path, "t,ax,ay,az\n" + "\n".join(rows)))
    assert len(s) == 400 and s.batched_timestamps and s.warnings == []
    assert s.rate_hz == pytest.approx(100.0, rel=0.03)  # the gap is not counted
    batches = s.batches()
    assert all(b.sensor_time_s is None for b in batches)
    assert sum(len(b) for b in batches) == 400
    # no notification split between batches
    ends = np.cumsum([len(b) for b in batches])
    assert all(e % 4 == 0 for e in ends)


@pytest.mark.parametrize("header", [
    "T, AX, AY, AZ",
    ' "t" ; "ax" ; "ay" ; "az" ',
    "t (s)\tax (g)\tay (g)\taz (g)",
    "t[s] ax[g] ay[g] az[g]",
    "\ufefft,ax,ay,az",
])
def test_header_variations_and_delimiters(tmp_path, header):
    delim = ";" if ";" in header else "\t" if "\t" in header else " " if "[s] " in header else ","
    rows = [delim.join(["0.00", "0", "0", "1"]), delim.join(["0.01", "0.5", "0", "1"])]
    s = read_csv_samples(write(tmp_path, header + "\n" + "\n".join(rows) + "\n"))
    assert s.accel_mps2[1, 0] == 0.5 * G and s.t_s.tolist() == [0.0, 0.01]


def test_semicolon_file_with_decimal_commas(tmp_path):
    text = "t;ax;ay;az\n0,000;0,01;0;1,00\n0,010;0,02;0;0,98\n"
    s = read_csv_samples(write(tmp_path, text))
    assert s.t_s.tolist() == [0.0, 0.01] and s.accel_mps2[1].tolist() == [0.02 * G, 0.0, 0.98 * G]
    assert "decimal commas read as decimal points" in s.warnings


def test_comments_extra_columns_trailing_delimiter_blank_lines(tmp_path):
    text = ("# logger v2.1\n# device: phone\n\n"
            "time_iso,t,ax,ay,az,temp,\n"
            "2024-01-01T10:00:00,0.00,0,0,1,21.5,\n"
            "\n"
            "2024-01-01T10:00:00,0.01,0,0,1,21.5,\n"
            ",,,,,,\n")
    s = read_csv_samples(write(tmp_path, text))
    assert len(s) == 2
    assert s.warnings == ["ignored columns: time_iso, temp"]


def test_gzip_csv(tmp_path):
    path = tmp_path / "data.csv.gz"
    path.write_bytes(gzip.compress(("t,ax,ay,az\n" + "\n".join(rest_rows(20, gyro=False))).encode()))
    assert len(read_csv_samples(path)) == 20


def test_cp1252_comment_does_not_break_import(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("# Übung: Kniebeuge\nt;ax;ay;az\n0;0;0;1\n".encode("cp1252"))
    assert len(read_csv_samples(path)) == 1


@given(st.lists(st.tuples(st.floats(-16, 16, allow_nan=False), st.floats(-16, 16, allow_nan=False),
                          st.floats(-16, 16, allow_nan=False)), min_size=1, max_size=50))
def test_values_are_read_exactly(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("csv") / "x.csv"
    path.write_text("t,ax,ay,az\n" + "\n".join(f"{k * 0.01!r},{a!r},{b!r},{c!r}" for k, (a, b, c) in enumerate(rows)))
    s = read_csv_samples(path, acc_unit="mps2")
    assert s.accel_mps2.tolist() == [list(r) for r in rows]


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(("text", "line", "words"), [
    ("t,ax,ay\n0,0,0\n", 1, "missing column az (header has: t, ax, ay)"),
    ("time,x,y,z\n0,0,0,1\n", 1, "missing columns t, ax, ay, az"),
    ("0,0,0,1\n0.01,0,0,1\n", 1, "holds numbers, not column names"),
    ("t,ax,ay,az,gx,gy\n0,0,0,1,0,0\n", 1, "has gyro columns gx, gy but not gz; give all of gx, gy, gz or none"),
    ("t,ax,ay,az,AX\n0,0,0,1,0\n", 1, "column 'ax' appears more than once"),
    ("t,ax,ay,az\n0,0,0,1\n0.01,0,abc,1\n", 3, "column ay: 'abc' is not a number"),
    ("t,ax,ay,az\n0,0,0,1\n0.01,0,,1\n", 3, "column ay is empty"),
    ("t,ax,ay,az\n0,0,0,1\n0.01,0,NaN,1\n", 3, "column ay: 'NaN' is not a finite number"),
    ("t,ax,ay,az\n0,0,0,1\n0.01,0,0,inf\n", 3, "column az: 'inf' is not a finite number"),
    ("t,ax,ay,az\n0,0,0,1\n0.02,0,0,1\n0.01,0,0,1\n", 4, "time runs backwards: t = 0.01 after 0.02"),
    ("t,ax,ay,az\n0,0,0,1\n0.01,0,0,1,5\n", 3, "5 cells but the header has 4 columns"),
    ("t,ax,ay,az\n0,0,0,1\n0.01,0,0\n", 3, "only 3 cells but the header has 4 columns"),
    ("t,ax,ay,az\n\n\n", 1, "no data rows after the header"),
    ("t,ax,ay,az\n10:00:01,0,0,1\n", 2, "column t: '10:00:01' is not a number (t must be seconds)"),
    ("# only comments\n\n", 0, "has no header row"),
])
def test_errors_name_the_line_and_cell(tmp_path, text, line, words):
    path = write(tmp_path, text)
    with pytest.raises(CsvImportError) as info:
        read_csv_samples(path)
    assert info.value.line == line and words in str(info.value), str(info.value)
    assert str(path) in str(info.value)
    if line:
        assert f"line {line}: " in str(info.value)


def test_binary_file(tmp_path):
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    with pytest.raises(CsvImportError, match="is not a text file"):
        read_csv_samples(path)


def test_recording_given_as_csv(tmp_path):
    path = write(tmp_path, '{"format":"vbt-recording","format_version":1,"body":"packets","sensor":"x"}\n')
    with pytest.raises(CsvImportError, match="is a vbt recording, not a CSV file"):
        read_csv_samples(path)


def test_missing_empty_directory(tmp_path):
    with pytest.raises(InputFileError, match="does not exist"):
        read_csv_samples(tmp_path / "nope.csv")
    with pytest.raises(InputFileError, match="is a directory"):
        read_csv_samples(tmp_path)
    (tmp_path / "empty.csv").touch()
    with pytest.raises(InputFileError, match="is empty"):
        read_csv_samples(tmp_path / "empty.csv")


def test_unknown_unit_is_a_programming_error(tmp_path):
    with pytest.raises(ValueError, match="acc_unit"):
        read_csv_samples(tmp_path / "x.csv", acc_unit="G")


# --------------------------------------------------------------------------- unit warnings


def test_mps2_file_read_as_g_is_an_error_naming_the_option(tmp_path):
    # A median |a| of 9.8 g is impossible for a barbell: the file is in m/s^2 (issue 8: wrong
    # units exit non-zero with the fix); a few samples could be a moment of motion: only a warning.
    rows = [f"{k * 0.01},0.1,0.2,{9.81 + 0.5 * math.sin(k)}" for k in range(200)]
    with pytest.raises(CsvImportError, match=r"look like m/s\^2, not g \(median \|a\| = 9\.8\d\); pass --acc-unit mps2$"):
        read_csv_samples(write(tmp_path, "t,ax,ay,az\n" + "\n".join(rows)))
    s = read_csv_samples(write(tmp_path, "t,ax,ay,az\n" + "\n".join(rows[:20]), "short.csv"))
    assert any("look like m/s^2" in w and "pass --acc-unit mps2" in w for w in s.warnings)


def test_g_file_read_as_mps2_is_an_error_naming_the_option(tmp_path):
    with pytest.raises(CsvImportError, match=r"look like g, not m/s\^2 .*; pass --acc-unit g$"):
        read_csv_samples(write(tmp_path, "t,ax,ay,az\n" + "\n".join(rest_rows(200, gyro=False))), acc_unit="mps2")


def test_linear_acceleration_without_gravity_warns(tmp_path):
    rows = [f"{k * 0.01},0.01,0.02,{0.05 * math.sin(k)}" for k in range(200)]
    s = read_csv_samples(write(tmp_path, "t,ax,ay,az\n" + "\n".join(rows)))
    assert any("without gravity" in w for w in s.warnings)


def test_gyro_unit_warnings(tmp_path):
    moving = [f"{k * 0.01},0,0,{1 + 0.4 * math.sin(k / 8)}" for k in range(300)]
    deg = [r + f",{120 * math.sin(k / 8)},0,0" for k, r in enumerate(moving)]
    rad = [r + f",{0.2 * math.sin(k / 8)},0,0" for k, r in enumerate(moving)]
    with pytest.raises(CsvImportError, match=r"look like deg/s, not rad/s \(\|w\| reaches 120\); pass --gyro-unit dps$"):
        read_csv_samples(write(tmp_path, "t,ax,ay,az,gx,gy,gz\n" + "\n".join(deg), "d.csv"), gyro_unit="rads")
    s = read_csv_samples(write(tmp_path, "t,ax,ay,az,gx,gy,gz\n" + "\n".join(rad), "r.csv"))
    assert any("look like rad/s" in w and "--gyro-unit rads" in w for w in s.warnings)
    s = read_csv_samples(write(tmp_path, "t,ax,ay,az,gx,gy,gz\n" + "\n".join(deg), "ok.csv"))
    assert s.warnings == []


def test_time_in_milliseconds_warns(tmp_path):
    rows = [f"{k * 5},0,0,1" for k in range(100)]
    s = read_csv_samples(write(tmp_path, "t,ax,ay,az\n" + "\n".join(rows)))
    assert any("is t in milliseconds?" in w for w in s.warnings)


# --------------------------------------------------------------------------- batches and recordings


def test_rate_estimate():
    assert estimate_rate_hz(np.arange(1000) / 200.0) == pytest.approx(200.0)
    batched = np.repeat(np.arange(100) * 0.04, 4)  # 4 samples per notification, 100 Hz
    assert estimate_rate_hz(batched) == pytest.approx(100.0)
    gappy = np.concatenate([np.arange(100) / 50.0, 100 + np.arange(100) / 50.0])
    assert estimate_rate_hz(gappy) == pytest.approx(50.0)
    assert estimate_rate_hz(np.array([1.0])) is None and estimate_rate_hz(np.zeros(5)) is None


@pytest.mark.parametrize("batched", [False, True])
def test_csv_and_its_imported_recording_give_identical_batches(tmp_path, batched):
    rows = rest_rows(400)
    if batched:  # stamp samples in fours, as a BLE logger does
        rows = [f"{(k // 4) * 0.04:.2f}," + r.split(",", 1)[1] for k, r in enumerate(rows)]
    path = write(tmp_path, "t,ax,ay,az,gx,gy,gz\n" + "\n".join(rows))
    samples = read_csv_samples(path)
    direct = csv_to_batches(path)
    out = tmp_path / "imported.jsonl.gz"
    with RecordingWriter(out, samples.recording_header(exercise="squat"), origin_s=0.0, line_flush=False) as w:
        for b in direct:
            w.write_samples(b)
    rec = open_recording(out)
    replayed = list(rec)
    assert len(replayed) == len(direct)
    assert all(a.same_samples(b) for a, b in zip(direct, replayed, strict=True))
    assert rec.header.rate_hz == samples.rate_hz and rec.header.exercise == "squat"
    assert rec.header.sensor == "imported" and rec.header.extra["source_file"] == "data.csv"
    in_memory = list(samples.to_recording())
    assert all(a.same_samples(b) for a, b in zip(direct, in_memory, strict=True))
