"""open_recording: validation, truncation and corruption, not-a-recording inputs, fast path == json path."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmware_protocols import ImuBatch
from vbt.errors import InputFileError, RecordingFormatError, UnsupportedFormatVersionError
from vbt.recording.format import RecordingHeader
from vbt.recording.reader import (
    SAMPLE_GROUP_S,
    Recording,
    open_recording,
    read_header,
    sample_group_starts,
    samples_to_batches,
)
from vbt.recording.writer import RecordingWriter
from vbt.sources import LinkEvent, RawPacket

WIT = "0000ffe4-0000-1000-8000-00805f9a34fb"
PMD = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"
HEADER = {"format": "vbt-recording", "format_version": 1, "body": "packets", "sensor": "witmotion"}
S_HEADER = {**HEADER, "body": "samples", "sensor": "imported"}


def write_lines(path: Path, lines: list[str], *, header: dict | None = None, end: str = "\n") -> Path:
    text = json.dumps(header or HEADER) + "\n" + "\n".join(lines) + (end if lines else "")
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_bytes(text.encode())
    return path


def packet_lines(n: int, start: float = 0.0) -> list[str]:
    return [f'[{start + k * 0.005:.6f},"{WIT}","5561{k % 256:02x}00"]' for k in range(n)]


def make_recording(path: Path, n: int = 200, *, events: bool = True) -> Path:
    with RecordingWriter(path, RecordingHeader(body="packets", sensor="witmotion"), origin_s=0.0) as w:
        for k in range(n):
            w.write_packet(k * 0.005, WIT, b"\x55\x61" + k.to_bytes(4, "little"))
            if events and k in (50, 120):
                w.write_event(k * 0.005, "status", rssi_dbm=-70)
    return path


# --------------------------------------------------------------------------- not a recording


def test_missing_file(tmp_path):
    with pytest.raises(InputFileError, match="does not exist; check the path"):
        open_recording(tmp_path / "nope.jsonl")


def test_directory(tmp_path):
    with pytest.raises(InputFileError, match="is a directory"):
        open_recording(tmp_path)


def test_empty_file(tmp_path):
    (tmp_path / "e.jsonl").touch()
    with pytest.raises(InputFileError, match="is empty"):
        open_recording(tmp_path / "e.jsonl")


@pytest.mark.parametrize("content", [
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
    bytes(np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8)),
    b"\xff\xfe\xfd not utf8\n",
])
def test_binary_file(tmp_path, content):
    path = tmp_path / "junk.jsonl"
    path.write_bytes(content)
    with pytest.raises(InputFileError, match="is not a vbt recording") as info:
        open_recording(path)
    assert "give a vbt recording" in str(info.value)
    assert not isinstance(info.value, RecordingFormatError)


def test_csv_given_as_recording(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text("t,ax,ay,az\n0,0,0,1\n")
    with pytest.raises(InputFileError, match="looks like a CSV file") as info:
        open_recording(path)
    assert "vbt import" in str(info.value)


def test_json_that_is_not_a_recording(tmp_path):
    path = tmp_path / "other.jsonl"
    path.write_text('{"name": "something else"}\n[1,2,3]\n')
    with pytest.raises(InputFileError, match="header format is None"):
        open_recording(path)


def test_gzip_of_something_else(tmp_path):
    path = tmp_path / "x.jsonl.gz"
    path.write_bytes(gzip.compress(b"hello world, not json\n" * 10))
    with pytest.raises(InputFileError, match="not a vbt recording"):
        open_recording(path)


@pytest.mark.parametrize("version", [2, 0, "1", None, 1.5])
def test_unknown_format_version(tmp_path, version):
    path = write_lines(tmp_path / "v.jsonl", packet_lines(3), header={**HEADER, "format_version": version})
    with pytest.raises(UnsupportedFormatVersionError) as info:
        open_recording(path)
    assert info.value.version == version and info.value.line == 1
    assert "upgrade vbt-monitor" in str(info.value)
    with pytest.raises(UnsupportedFormatVersionError):
        read_header(path)


@pytest.mark.parametrize(("field", "value", "words"), [
    ("body", "frames", "body 'frames'"),
    ("sensor", 3, "sensor 3"),
    ("rate_hz", -200, "rate_hz -200"),
    ("load_kg", "heavy", "load_kg 'heavy'"),
    ("decoder", {"name": 1}, "decoder"),
    ("synthetic", "yes", "synthetic"),
])
def test_bad_header_fields(tmp_path, field, value, words):
    path = write_lines(tmp_path / "h.jsonl", packet_lines(3), header={**HEADER, field: value})
    with pytest.raises(RecordingFormatError, match="line 1: header: ") as info:
        open_recording(path)
    assert words in str(info.value) and info.value.line == 1


def test_unknown_header_keys_are_kept_in_extra(tmp_path):
    path = write_lines(tmp_path / "h.jsonl", packet_lines(3), header={**HEADER, "firmware": "5.0.3"})
    assert open_recording(path).header.extra == {"firmware": "5.0.3"}


def test_read_header_reads_only_the_header(tmp_path):
    path = make_recording(tmp_path / "r.jsonl.gz", 20)
    assert read_header(path) == open_recording(path).header
    junk = tmp_path / "junk_body.jsonl"
    junk.write_bytes(json.dumps(HEADER).encode() + b"\n\x00\x01garbage\n[1,2]\n")
    assert read_header(junk).sensor == "witmotion"  # the body is not looked at
    with pytest.raises(RecordingFormatError, match="line 2"):
        open_recording(junk)


# --------------------------------------------------------------------------- truncation


@pytest.mark.parametrize("cut", [2, 5, 20, 50])
def test_truncated_last_line_plain(tmp_path, cut):
    full = make_recording(tmp_path / "full.jsonl", 100, events=False)
    data = full.read_bytes()
    path = tmp_path / "cut.jsonl"
    path.write_bytes(data[:-cut])
    rec = open_recording(path)
    assert len(rec) == 99
    assert rec.warnings == ["last line truncated (crash while recording?); 100 complete lines read"]
    assert rec.packet_columns()[WIT][1] == open_recording(full).packet_columns()[WIT][1][:99]


def test_last_line_without_newline_but_complete_is_kept(tmp_path):
    path = write_lines(tmp_path / "a.jsonl", packet_lines(10), end="")
    rec = open_recording(path)
    assert len(rec) == 10 and rec.warnings == []


def test_only_the_header_cut_off(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"format":"vbt-recording","format_ver')
    with pytest.raises(RecordingFormatError, match="line 1: the header line is cut off"):
        open_recording(path)


def test_header_only_recording_is_empty_not_an_error(tmp_path):
    path = write_lines(tmp_path / "a.jsonl", [])
    rec = open_recording(path)
    assert len(rec) == 0 and list(rec) == [] and rec.duration_s == 0.0


def test_trailing_zero_bytes_after_power_loss(tmp_path):
    path = make_recording(tmp_path / "a.jsonl", 30, events=False)
    path.write_bytes(path.read_bytes() + bytes(4096))
    rec = open_recording(path)
    assert len(rec) == 30
    assert rec.warnings == ["4096 zero bytes at the end ignored (power loss while recording?)"]


def test_trailing_blank_lines_and_crlf_are_accepted(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes((json.dumps(HEADER) + "\r\n" + "\r\n".join(packet_lines(5)) + "\r\n\r\n\n").encode())
    rec = open_recording(path)
    assert len(rec) == 5 and rec.warnings == []
    assert rec.packet_columns()[WIT][0][-1] == pytest.approx(0.02)


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.95, 0.999])
def test_gzip_cut_anywhere_reads_the_prefix(tmp_path, keep):
    full = make_recording(tmp_path / "full.jsonl.gz", 2000)
    data = full.read_bytes()
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: int(len(data) * keep)])
    rec = open_recording(path)
    assert len(rec.warnings) == 1 and rec.warnings[0].startswith("last line truncated (crash while recording?)")
    n = len(rec)
    assert 0 < n < 2000
    ref = open_recording(full).packet_columns()[WIT]
    got = rec.packet_columns()[WIT]
    assert got[1] == ref[1][:n] and np.array_equal(got[0], ref[0][:n])


def test_gzip_without_trailer_from_a_killed_writer(tmp_path):
    """Kill -9 a process that is recording; the file must read up to its last complete line."""
    path = tmp_path / "killed.jsonl.gz"
    code = f"""
import sys
from vbt.recording.writer import RecordingWriter
from vbt.recording.format import RecordingHeader
w = RecordingWriter({str(path)!r}, RecordingHeader(body="packets", sensor="witmotion"))
k = 0
while True:
    w.write_packet(k * 0.005, "{WIT}", bytes([k % 256]) * 20)
    k += 1
    if k == 500:
        print("ready", flush=True)
"""
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    rec = open_recording(path)
    assert len(rec) >= 500
    assert rec.warnings[0].startswith("last line truncated (crash while recording?)")
    payloads = rec.packet_columns()[WIT][1]
    assert all(p == bytes([k % 256]) * 20 for k, p in enumerate(payloads))


def test_concatenated_gzip_members_are_one_stream(tmp_path):
    text = (json.dumps(HEADER) + "\n" + "\n".join(packet_lines(10)) + "\n").encode()
    path = tmp_path / "multi.jsonl.gz"
    path.write_bytes(gzip.compress(text[:100]) + gzip.compress(text[100:]))
    assert len(open_recording(path)) == 10


def test_junk_after_gzip_end(tmp_path):
    path = make_recording(tmp_path / "a.jsonl.gz", 10, events=False)
    path.write_bytes(path.read_bytes() + b"garbage!")
    with pytest.raises(RecordingFormatError, match="line 12: 8 bytes of unknown data after the end"):
        open_recording(path)


@pytest.mark.parametrize(("where", "width"), [(0.2, 1), (0.5, 1), (0.5, 40), (0.8, 40)])
def test_damaged_gzip_is_an_error_naming_a_line_near_the_damage(tmp_path, where, width):
    path = make_recording(tmp_path / "a.jsonl.gz", 3000, events=False)
    data = bytearray(path.read_bytes())
    start = int(len(data) * where)
    for pos in range(start, start + width):
        data[pos] ^= 0xA5
    path.write_bytes(bytes(data))
    with pytest.raises(RecordingFormatError) as info:
        open_recording(path)
    # lines are ~equal in size, so the damage sits near the same fraction of the lines
    expected = 2 + 3000 * where
    assert abs(info.value.line - expected) < 3000 * 0.05, str(info.value)


def test_gzip_checksum_mismatch_is_an_error(tmp_path):
    text = (json.dumps(HEADER) + "\n" + "\n".join(packet_lines(10)) + "\n").encode()
    data = bytearray(gzip.compress(text))
    data[-8] ^= 0xFF  # CRC32 field of the trailer
    path = tmp_path / "crc.jsonl.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(RecordingFormatError, match="checksum does not match"):
        open_recording(path)


# --------------------------------------------------------------------------- damage in the middle


@pytest.mark.parametrize(("bad", "words"), [
    (f'[0.5,"{WIT}","556"]', "not well-formed hex"),
    (f'[0.5,"{WIT}","55zz"]', "not well-formed hex"),
    ('[0.5,"not-a-uuid-at-all","5561"]', "is not a UUID"),
    (f'[0.5,"{WIT}",5561]', "packet line must be"),
    (f'[0.5,"{WIT}","55', "not valid JSON"),
    (f'0.5,"{WIT}","5561"]', "not a record"),
    ("", "empty line inside the recording"),
    ("   ", "empty line inside the recording"),
    ('[NaN,"0000ffe4-0000-1000-8000-00805f9a34fb","55"]', "time nan is not a finite number"),
    ('["0.5","0000ffe4-0000-1000-8000-00805f9a34fb","55"]', "time '0.5' is not a finite number"),
    ("[0.5,1.0,2.0,9.8]", "a samples line in a packets recording"),
    ('{"event":"status"}', "has no finite time"),
    ('{"t":1.0}', "without an event kind"),
    ('{"event":"status","t":1.0', "not valid JSON"),
    ("[0.5,\x00\x00\x00]", "not valid JSON"),
    ("\x00\x00\x00\x00", "binary data (zero bytes)"),
])
@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
def test_corrupt_middle_line_names_the_line(tmp_path, bad, words, suffix):
    lines = packet_lines(100)
    lines[40] = bad
    path = write_lines(tmp_path / f"bad{suffix}", lines)
    with pytest.raises(RecordingFormatError) as info:
        open_recording(path)
    assert info.value.line == 42  # header is line 1, body line 40 (0-based) is file line 42
    assert f"{path}: line 42: " in str(info.value) and words in str(info.value), str(info.value)


def test_time_running_backwards_names_the_line(tmp_path):
    lines = packet_lines(100)
    lines[70] = f'[0.100000,"{WIT}","55"]'
    path = write_lines(tmp_path / "back.jsonl", lines)
    with pytest.raises(RecordingFormatError, match=r"line 72: time 0\.100000 s runs backwards \(previous line at 0\.345000 s\)"):
        open_recording(path)


def test_small_backward_step_within_tolerance_is_accepted(tmp_path):
    lines = packet_lines(10)
    lines[5] = f'[0.019500,"{WIT}","55"]'  # 0.5 ms before the previous line
    assert len(open_recording(write_lines(tmp_path / "ok.jsonl", lines))) == 10


def test_event_time_backwards(tmp_path):
    lines = packet_lines(10)
    lines[2] = '{"event":"status","t":5.0}'
    lines[6] = '{"event":"status","t":1.0}'
    with pytest.raises(RecordingFormatError, match="line 8: event time 1.000000 s runs backwards"):
        open_recording(write_lines(tmp_path / "ev.jsonl", lines))


@pytest.mark.parametrize(("bad", "words"), [
    ("[0.5,1.0,NaN,9.8]", "non-finite value"),
    ("[0.5,1.0,Infinity,9.8]", "non-finite value"),
    ("[0.5,1.0,1e999,9.8]", "non-finite value"),
    ('[0.5,1.0,"x",9.8]', "sample value 'x' is not a number"),
    ("[0.5,1.0,9.8]", "must have 4 or 7 numbers, got 3"),
    ("[0.5,1.0,2.0,9.8,0,0,0]", "gyro columns must not appear or disappear"),
    (f'[0.5,"{WIT}","55"]', "a packet line in a samples recording"),
    ("[0.5,1.0,,9.8]", "not valid JSON"),
    ("[0.5,1.0,2.0,9.8", "not valid JSON"),
    ("[0.5 1.0,2.0,9.8]", "not valid JSON"),
])
def test_corrupt_sample_lines(tmp_path, bad, words):
    lines = [f"[{k * 0.01:.2f},0.1,-0.2,9.81]" for k in range(100)]
    lines[60] = bad
    path = write_lines(tmp_path / "s.jsonl", lines, header=S_HEADER)
    with pytest.raises(RecordingFormatError) as info:
        open_recording(path)
    assert info.value.line == 62 and words in str(info.value), str(info.value)


def test_samples_time_backwards(tmp_path):
    lines = [f"[{k * 0.01:.2f},0.1,-0.2,9.81]" for k in range(100)]
    lines[30] = "[0.1,0.1,-0.2,9.81]"
    with pytest.raises(RecordingFormatError, match="line 32: time 0.100000 s runs backwards"):
        open_recording(write_lines(tmp_path / "s.jsonl", lines, header=S_HEADER))


# --------------------------------------------------------------------------- fast path == json path


def _json_style(t: float, uuid: str, payload: bytes) -> str:
    return json.dumps([t, uuid.upper(), payload.hex().upper()])  # spaces, repr times, upper case


@given(st.lists(st.tuples(st.floats(0, 1.0), st.sampled_from([WIT, PMD, "2a37"]), st.binary(max_size=30)),
                min_size=1, max_size=40),
       st.lists(st.booleans(), min_size=40, max_size=40))
def test_canonical_and_hand_written_lines_read_the_same(tmp_path_factory, rows, styles):
    rows = sorted(rows, key=lambda r: r[0])
    t = np.cumsum([r[0] for r in rows]).round(6)
    folder = tmp_path_factory.mktemp("fp")
    canonical = [f'[{ti:.6f},"{r[1]}","{r[2].hex()}"]' for ti, r in zip(t, rows, strict=True)]
    mixed = [_json_style(float(ti), r[1], r[2]) if s else c
             for ti, r, c, s in zip(t, rows, canonical, styles, strict=False)]
    a = open_recording(write_lines(folder / "a.jsonl", canonical))
    b = open_recording(write_lines(folder / "b.jsonl", mixed))
    assert [(i.host_time_s, i.char_uuid, i.payload) for i in a] == [(i.host_time_s, i.char_uuid, i.payload) for i in b]
    cols = a.packet_columns()
    assert sum(len(v[1]) for v in cols.values()) == len(rows)
    for uuid, (times, payloads) in cols.items():
        expected = [(ti, r[2]) for ti, r in zip(t, rows, strict=True)
                    if (r[1] if len(r[1]) > 4 else f"0000{r[1]}-0000-1000-8000-00805f9b34fb") == uuid]
        assert [(float(x), p) for x, p in zip(times, payloads, strict=True)] == expected


@given(st.floats(0, 1e8))
def test_six_decimal_times_parse_exactly_like_float(t):
    text = f"{t:.6f}"
    line = f'[{text},"{WIT}","00"]'
    path_text = json.dumps(HEADER) + "\n" + line + "\n"
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "t.jsonl"
        p.write_text(path_text)
        got = open_recording(p).packet_columns()[WIT][0][0]
    assert got == float(text)


def test_uuid_pattern_inside_an_event_does_not_fool_the_fast_check(tmp_path):
    """An event holding the text ,"<uuid>"," must not stand in for a line with another UUID."""
    lines = packet_lines(20)
    lines[5] = f'[0.025000,"{PMD}","01"]'
    lines[10] = json.dumps({"event": "marker", "t": 0.05, "x": ["a", WIT, "b"]}, separators=(",", ":"))
    rec = open_recording(write_lines(tmp_path / "trick.jsonl", lines))
    cols = rec.packet_columns()
    assert len(cols[PMD][1]) == 1 and cols[PMD][1][0] == b"\x01"
    assert len(cols[WIT][1]) == 18


def test_exponent_and_negative_times_use_the_json_path(tmp_path):
    lines = [f'[-0.5,"{WIT}","01"]', f'[1e-3,"{WIT}","02"]', f'[-0.000000,"{WIT}","03"]']
    lines.sort(key=lambda s: float(s[1:s.index(",")]))
    rec = open_recording(write_lines(tmp_path / "neg.jsonl", lines))
    assert list(rec.packet_columns()[WIT][0]) == [-0.5, -0.0, 0.001]


# --------------------------------------------------------------------------- samples bodies


def test_samples_with_events_and_gyro(tmp_path):
    lines = []
    for k in range(50):
        lines.append(f"[{k * 0.01:.2f},{k},-0.2,9.81,0.01,0.02,{k / 100}]")
        if k == 20:
            lines.append('{"event":"marker","t":0.2,"note":"set start"}')
    rec = open_recording(write_lines(tmp_path / "s.jsonl.gz", lines, header=S_HEADER))
    t, a, g = rec.sample_columns()
    assert t.shape == (50,) and a[:, 0].tolist() == list(range(50)) and g[:, 2][-1] == 0.49
    items = list(rec)
    kinds = [type(i).__name__ for i in items]
    assert kinds.count("LinkEvent") == 1
    ev_index = kinds.index("LinkEvent")
    before = np.concatenate([b.arrival_times() for b in items[:ev_index]])
    assert before[-1] == pytest.approx(0.20)  # the event sits right after the sample on its line
    assert np.array_equal(np.concatenate([b.accel_mps2 for b in items if isinstance(b, ImuBatch)]), a)
    assert all(isinstance(b, ImuBatch) and b.sensor_time_s is not None for b in items if b is not items[ev_index])
    batches = rec.batches()
    assert len(batches) == len(items) - 1
    assert all(a.same_samples(b) for a, b in zip(batches, [i for i in items if isinstance(i, ImuBatch)], strict=True))
    with pytest.raises(ValueError, match="samples, not packets"):
        rec.packet_columns()


def test_batch_grouping_rule():
    t = np.array([0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.079, 0.08, 0.2])
    assert sample_group_starts(t).tolist() == [0, 4, 7, 8]  # 40 ms windows from the first sample
    # repeated (arrival) times are never split, even at a requested break
    t2 = np.array([0.0, 0.0, 0.0, 0.035, 0.035, 0.035, 0.07, 0.07, 0.07])
    assert sample_group_starts(t2, breaks=[4, 6]).tolist() == [0, 6]
    batches = samples_to_batches(t2, np.zeros((9, 3)), None, 25.0)
    assert [len(b) for b in batches] == [6, 3]
    assert all(b.sensor_time_s is None and b.rate_hz == 25.0 for b in batches)
    assert batches[0].host_time_s == 0.035 and batches[0].arrival_times().tolist() == [0.0] * 3 + [0.035] * 3
    assert SAMPLE_GROUP_S == 0.04


def test_item_index_and_times_for_seeking(tmp_path):
    rec = open_recording(make_recording(tmp_path / "r.jsonl", 200))
    times = rec.item_times_s()
    assert rec.n_items == 202 and times.shape == (202,)
    k = rec.item_index_at(0.5)
    assert times[k] >= 0.5 and times[k - 1] < 0.5
    assert rec.item_index_at(99.0) == rec.n_items
    rest = list(rec.iter_items(k))
    assert len(rest) == rec.n_items - k and rest[0].host_time_s == times[k]


def test_in_memory_constructors_match_files(tmp_path):
    header = RecordingHeader(body="packets", sensor="witmotion")
    pk = [(0.0, WIT, b"\x01"), (0.01, "2a37", b"\x02"), (0.02, WIT, b"")]
    rec = Recording.from_packets(header, pk, [LinkEvent(0.015, "marker")])
    items = list(rec)
    assert items[2] == LinkEvent(0.015, "marker") and items[1].char_uuid == "00002a37-0000-1000-8000-00805f9b34fb"
    assert isinstance(items[0], RawPacket)
    assert rec.char_uuids == ["00002a37-0000-1000-8000-00805f9b34fb", WIT]
    s_header = RecordingHeader(body="samples", sensor="imported", rate_hz=100.0)
    t = np.arange(10) / 100
    srec = Recording.from_samples(s_header, t, np.ones((10, 3)))
    assert [len(b) for b in srec] == [4, 4, 2] and srec.batches()[0].rate_hz == 100.0
    with pytest.raises(ValueError, match="lengths differ"):
        Recording.from_samples(s_header, t, np.ones((9, 3)))


def test_zlib_level_does_not_matter(tmp_path):
    text = (json.dumps(HEADER) + "\n" + "\n".join(packet_lines(50)) + "\n").encode()
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    path = tmp_path / "z.jsonl.gz"
    path.write_bytes(c.compress(text) + c.flush())
    assert len(open_recording(path)) == 50


# --------------------------------------------------------------------------- block path == line path


def _read_both_ways(path: Path) -> list[object]:
    """The recording read with small blocks (sliced) and line by line: values, or the error."""
    import vbt.recording.reader as reader_module

    outs: list[object] = []
    for min_lines, slice_lines in ((2, 3), (10**9, 1 << 16)):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(reader_module, "_MIN_BLOCK_LINES", min_lines)
            mp.setattr(reader_module, "_BLOCK_SLICE_LINES", slice_lines)
            try:
                rec = open_recording(path)
            except RecordingFormatError as err:
                outs.append(("error", err.line, str(err)))
                continue
        cols = rec.packet_columns()
        outs.append((rec.char_uuids, [(u, t.tobytes(), p) for u, (t, p) in cols.items()],
                     [(e.host_time_s, e.kind) for e in rec.events()], rec.warnings))
    return outs


def _mixed_packet_lines(seed: int) -> list[str]:
    """Runs of lines that differ in UUID, payload length and time digits, with events and
    hand-written lines between them (what blocks must split at or hand to the line path)."""
    rng = np.random.default_rng(seed)
    lines: list[str] = []
    t = float(rng.choice([-0.7, 0.0, 9.9, 99.95, 99999.9]))
    while len(lines) < 400:
        uuid = str(rng.choice([WIT, PMD, "2a37", "FFE4"]))
        size = int(rng.choice([0, 1, 20, 57]))
        for _ in range(int(rng.integers(1, 40))):
            t += float(rng.uniform(0.0, 0.02))
            payload = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
            hx = payload.hex().upper() if rng.random() < 0.05 else payload.hex()
            if rng.random() < 0.03:
                lines.append(_json_style(round(t, 6), uuid, payload))
            else:
                lines.append(f'[{t:.6f},"{uuid}","{hx}"]')
        if rng.random() < 0.3:
            lines.append(json.dumps({"event": "status", "t": round(t, 6), "rssi_dbm": -60}, separators=(",", ":")))
    return lines


@pytest.mark.parametrize("seed", range(8))
def test_blocks_read_exactly_like_single_lines(tmp_path, seed):
    """Times bit for bit, UUID order, payloads and events agree between the two paths."""
    path = write_lines(tmp_path / "mixed.jsonl", _mixed_packet_lines(seed))
    blocks, single = _read_both_ways(path)
    assert blocks[0] != "error"
    assert blocks == single


def test_blocks_keep_trailing_zero_bytes_and_empty_payloads(tmp_path):
    lines = [f'[{k * 0.005:.6f},"{WIT}","{"556100" if k < 100 else ""}"]' for k in range(200)]
    rec = open_recording(write_lines(tmp_path / "z.jsonl", lines))
    payloads = rec.packet_columns()[WIT][1]
    assert payloads[:100] == [b"\x55\x61\x00"] * 100 and payloads[100:] == [b""] * 100


_MUTATION_BYTES = b'"0019afAF,.[]{}- xeE\n\x00\xff'


@given(st.integers(0, 10**6), st.sampled_from(list(_MUTATION_BYTES)), st.booleans())
def test_damage_inside_a_block_is_reported_like_the_line_path(position, byte, insert):
    """One byte changed or inserted anywhere: the same line and message (or the same values)."""
    lines = packet_lines(150, start=9.5)  # the time gains a digit at 10 s: two blocks
    body = bytearray(("\n".join(lines) + "\n").encode())
    i = position % len(body)
    if insert:
        body.insert(i, byte)
    else:
        body[i] = byte
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "m.jsonl"
        path.write_bytes(json.dumps(HEADER).encode() + b"\n" + bytes(body))
        blocks, single = _read_both_ways(path)
    assert blocks == single


def test_damaged_line_in_a_long_block_is_named(tmp_path):
    lines = packet_lines(5000)
    lines[3210] = lines[3210][:-3] + 'zz"]'
    with pytest.raises(RecordingFormatError, match="line 3212: payload .* is not well-formed hex"):
        open_recording(write_lines(tmp_path / "long.jsonl.gz", lines))
