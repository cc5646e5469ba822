"""RecordingWriter: round trips of every body kind, flushing, time origin, storage failures."""

from __future__ import annotations

import errno
import gzip
import json
import os
import shutil
import stat
import tempfile
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

import vbt
from firmware_protocols import ImuBatch, merge_batches
from vbt.errors import RecordingWriteError
from vbt.recording.format import RecordingHeader
from vbt.recording.reader import open_recording
from vbt.recording.writer import RecordingWriter
from vbt.sources import LinkEvent, RawPacket

WIT = "0000ffe4-0000-1000-8000-00805f9a34fb"
POLAR = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"


def packets_header(**kw) -> RecordingHeader:
    return RecordingHeader(body="packets", sensor="witmotion", sensor_model="WT901BLE68",
                           decoder={"name": "witmotion", "version": "1"}, rate_hz=200.0, **kw)


def samples_header(**kw) -> RecordingHeader:
    return RecordingHeader(body="samples", sensor="imported", rate_hz=100.0, **kw)


@pytest.fixture(params=["rec.jsonl", "rec.jsonl.gz"])
def rec_path(request, tmp_path) -> Path:
    return tmp_path / request.param


# --------------------------------------------------------------------------- header


def test_header_line_is_first_and_fills_version_and_start_time(tmp_path):
    path = tmp_path / "a.jsonl"
    header = packets_header(exercise="squat", load_kg=102.5, athlete="Ana", notes="felt heavy")
    before = asdict(header)
    with RecordingWriter(path, header) as w:
        assert w.header.app_version == vbt.__version__
    assert asdict(header) == before, "the caller's header must not be modified"
    first = json.loads(path.read_text().splitlines()[0])
    assert list(first)[:2] == ["format", "format_version"]
    assert first["format"] == "vbt-recording" and first["format_version"] == 1
    assert first["app_version"] == vbt.__version__
    started = datetime.fromisoformat(first["started_at"].replace("Z", "+00:00"))
    assert started.utcoffset().total_seconds() == 0
    assert abs((datetime.now(started.tzinfo) - started).total_seconds()) < 60
    rec = open_recording(path)
    assert rec.header.exercise == "squat" and rec.header.load_kg == 102.5 and rec.header.athlete == "Ana"
    assert rec.header.notes == "felt heavy" and len(rec) == 0 and rec.warnings == []


def test_given_start_time_and_extra_fields_round_trip_exactly(tmp_path):
    path = tmp_path / "a.jsonl.gz"
    header = packets_header(started_at="2025-03-01T10:00:00.000Z", synthetic=True,
                            extra={"seed": 7, "command": "vbt simulate --seed 7", "nested": {"a": [1, 2.5]}},
                            stream={"rate_hz": 200.0, "accel_range_g": 16.0, "gyro_range_dps": 2000.0, "options": {}})
    with RecordingWriter(path, header) as w:
        written = w.header
    assert open_recording(path).header == written
    assert written.started_at == "2025-03-01T10:00:00.000Z"


def test_non_ascii_text_is_kept(tmp_path):
    path = tmp_path / "a.jsonl"
    with RecordingWriter(path, packets_header(athlete="Zoë Müller", notes="Ø 1 ✓")) as w:
        w.write_event(0.0, "marker", note="sätt 2")
    assert path.read_bytes().isascii()  # escaped, so byte and character offsets agree
    rec = open_recording(path)
    assert rec.header.athlete == "Zoë Müller" and rec.header.notes == "Ø 1 ✓"
    assert rec.events()[0].detail == {"note": "sätt 2"}


@pytest.mark.parametrize("bad", [dict(body="frames"), dict(sensor=""), dict(rate_hz=-1.0), dict(load_kg=float("nan"))])
def test_invalid_header_is_refused(tmp_path, bad):
    header = RecordingHeader(**{"body": "packets", "sensor": "witmotion", **bad})
    with pytest.raises(ValueError, match="header"):
        RecordingWriter(tmp_path / "a.jsonl", header)


# --------------------------------------------------------------------------- packets


def test_packets_and_events_round_trip(rec_path):
    rng = np.random.default_rng(3)
    sent = []
    with RecordingWriter(rec_path, packets_header()) as w:
        for k in range(300):
            host = 5000.0 + k * 0.005 + rng.uniform(0, 0.002)
            uuid = "FFE4" if k % 3 else WIT  # 16-bit alias and upper case are normalised
            payload = rng.bytes(int(rng.integers(0, 40)))
            w.write_packet(host, uuid, payload)
            sent.append(("p", host, payload))
            if k == 100:
                w.write_event(host + 0.001, "disconnected", reason="supervision timeout", rssi_dbm=-91)
                sent.append(("e", host + 0.001, "disconnected"))
            if k == 110:
                w.write_event(host, "reconnected", gap_s=np.float64(0.25), counts=np.arange(3))
                sent.append(("e", host, "reconnected"))
    rec = open_recording(rec_path)
    assert rec.warnings == []
    items = list(rec)
    assert len(items) == len(sent) and rec.n_items == len(sent)
    origin = sent[0][1]
    for item, (kind, host, what) in zip(items, sent, strict=True):
        assert item.host_time_s == pytest.approx(host - origin, abs=5e-7)  # microsecond resolution
        if kind == "p":
            assert isinstance(item, RawPacket)
            assert item.char_uuid == "0000ffe4-0000-1000-8000-00805f9b34fb" or item.char_uuid == WIT
            assert item.payload == what
        else:
            assert isinstance(item, LinkEvent) and item.kind == what
    assert items[0].host_time_s == 0.0
    ev = rec.events()
    assert ev[0].detail == {"reason": "supervision timeout", "rssi_dbm": -91}
    assert ev[1].detail == {"gap_s": 0.25, "counts": [0, 1, 2]}
    cols = rec.packet_columns()
    assert set(cols) == {WIT, "0000ffe4-0000-1000-8000-00805f9b34fb"}
    assert sum(len(p) for _, p in cols.values()) == 300


def test_origin_can_be_given(tmp_path):
    path = tmp_path / "a.jsonl"
    with RecordingWriter(path, packets_header(), origin_s=99.5) as w:
        w.write_event(99.75, "connected")
        w.write_packet(100.0, WIT, b"\x55\x61")
    rec = open_recording(path)
    assert [i.host_time_s for i in rec] == [0.25, 0.5]


def test_write_item_dispatches_like_a_session_sink(tmp_path):
    path = tmp_path / "a.jsonl"
    items = [LinkEvent(1.0, "connected", {"address": "AA:BB"}), RawPacket(1.01, WIT, b"\x01\x02"),
             RawPacket(1.02, WIT, b""), LinkEvent(1.5, "lost")]
    with RecordingWriter(path, packets_header()) as w:
        for item in items:
            w.write_item(item)
        with pytest.raises(TypeError, match="str"):
            w.write_item("junk")  # type: ignore[arg-type]
    got = list(open_recording(path))
    assert [type(i) for i in got] == [type(i) for i in items]
    assert got[1] == RawPacket(pytest.approx(0.01), WIT, b"\x01\x02")
    assert got[0].detail == {"address": "AA:BB"} and got[3].kind == "lost"


def test_misuse_raises_value_errors(tmp_path):
    with RecordingWriter(tmp_path / "p.jsonl", packets_header()) as w:
        w.write_packet(10.0, WIT, b"\x00")
        with pytest.raises(ValueError, match="samples"):
            w.write_samples(ImuBatch(10.0, np.zeros((1, 3))))
        with pytest.raises(ValueError, match="earlier"):
            w.write_packet(9.9, WIT, b"\x00")
        with pytest.raises(ValueError, match="not a UUID"):
            w.write_packet(10.1, "not-a-uuid", b"\x00")
        with pytest.raises(ValueError, match="not finite"):
            w.write_packet(float("nan"), WIT, b"\x00")
        with pytest.raises(ValueError, match="kind 'party'"):
            w.write_event(10.2, "party")
        with pytest.raises(ValueError, match="reserved"):
            w.write_event(10.2, "marker", t=3)
        w.write_packet(10.0 - 0.0005, WIT, b"\x01")  # within the tolerance: accepted
    assert len(open_recording(tmp_path / "p.jsonl")) == 2
    with pytest.raises(ValueError, match="closed"):
        w.write_packet(11.0, WIT, b"")
    with RecordingWriter(tmp_path / "s.jsonl", samples_header()) as w:
        with pytest.raises(ValueError, match="packets"):
            w.write_packet(0.0, WIT, b"")
        w.write_samples(ImuBatch(0.0, np.zeros((2, 3)), np.zeros((2, 3))))
        with pytest.raises(ValueError, match="gyro"):
            w.write_samples(ImuBatch(0.1, np.zeros((2, 3))))
        with pytest.raises(ValueError, match="non-finite"):
            w.write_samples(ImuBatch(0.2, np.array([[0.0, np.nan, 9.8]]), np.zeros((1, 3))))


# --------------------------------------------------------------------------- samples


def test_samples_with_sensor_time_round_trip_exactly(rec_path):
    rng = np.random.default_rng(5)
    n = 1000
    st = 7.25 + np.arange(n) / 200.0  # sensor clock with its own origin
    acc = rng.normal(0, 3, (n, 3)) + [0, 0, 9.80665]
    gyro = rng.normal(0, 1, (n, 3))
    batches = [ImuBatch(300.0 + (k + 4) / 200.0 + 0.03, acc[k:k + 5], gyro[k:k + 5], st[k:k + 5], 200.0)
               for k in range(0, n, 5)]
    with RecordingWriter(rec_path, samples_header()) as w:
        for b in batches:
            w.write_item(b)
    rec = open_recording(rec_path)
    t, a, g = rec.sample_columns()
    assert np.array_equal(a, acc) and np.array_equal(g, gyro)  # values are exact
    np.testing.assert_allclose(t, st - st[0], atol=1e-9)  # first sample at t = 0, sensor spacing kept
    assert t[0] == 0.0 and np.all(np.diff(t) > 0)
    got = list(rec)
    assert all(isinstance(b, ImuBatch) and b.sensor_time_s is not None for b in got)
    merged = merge_batches(got)
    assert merged is not None and np.array_equal(merged.accel_mps2, acc)
    assert rec.has_gyro is True


def test_samples_without_sensor_time_keep_arrival_batching(rec_path):
    """Batched BLE data without sensor time: every sample of a notification shares its host time."""
    rng = np.random.default_rng(6)
    batches = []
    host = 50.0
    for _ in range(60):
        host += rng.uniform(0.02, 0.05)
        batches.append(ImuBatch(host, rng.normal(0, 1, (4, 3)), None, None, 100.0))
    with RecordingWriter(rec_path, samples_header()) as w:
        for b in batches:
            w.write_samples(b)
    rec = open_recording(rec_path)
    assert rec.has_gyro is False
    got = list(rec)
    assert all(b.sensor_time_s is None and b.gyro_rads is None for b in got)
    expected = merge_batches(batches)
    merged = merge_batches(got)
    np.testing.assert_array_equal(merged.accel_mps2, expected.accel_mps2)
    np.testing.assert_allclose(merged.arrival_times(), expected.arrival_times() - batches[0].host_time_s, atol=1e-9)
    # no notification is split across two batches
    arrivals = np.concatenate([b.arrival_times() for b in got])
    ends = np.cumsum([len(b) for b in got])[:-1]
    assert np.all(arrivals[ends] != arrivals[ends - 1])


def test_sensor_clock_reset_is_reanchored_to_host_time(tmp_path):
    """A sensor that restarts (counter back to 0) must not make the file's time run backwards."""
    path = tmp_path / "s.jsonl"
    with RecordingWriter(path, samples_header()) as w:
        for k in range(10):  # 1 s of data, sensor time 100..101
            w.write_samples(ImuBatch(10.0 + (k + 1) * 0.1, np.zeros((10, 3)), None,
                                     100.0 + k * 0.1 + np.arange(10) / 100, 100.0))
        w.write_event(11.0, "disconnected")
        w.write_event(13.0, "reconnected")
        for k in range(10):  # after a 2 s gap the sensor clock restarts at 0
            w.write_samples(ImuBatch(13.0 + (k + 1) * 0.1, np.zeros((10, 3)), None,
                                     k * 0.1 + np.arange(10) / 100, 100.0))
    t, _, _ = open_recording(path).sample_columns()
    assert np.all(np.diff(t) > 0)
    gap = np.diff(t).max()
    assert gap == pytest.approx(2.0 + 0.01, abs=0.02)  # the real gap on the host clock
    assert t[100] == pytest.approx(3.0 + 0.01, abs=0.02)


# --------------------------------------------------------------------------- crash safety


def test_every_line_is_on_disk_before_the_call_returns(rec_path, tmp_path):
    """A copy taken while the writer is open (= the process killed now) reads completely."""
    snapshot = tmp_path / ("snap" + "".join(rec_path.suffixes))
    w = RecordingWriter(rec_path, packets_header())
    try:
        for k in range(25):
            w.write_packet(k * 0.01, WIT, bytes([k]) * 20)
            if k % 8 == 0:
                w.write_event(k * 0.01, "status", rssi_dbm=-60 - k)
            shutil.copyfile(rec_path, snapshot)
            rec = open_recording(snapshot)
            assert len(rec) == k + 1
            assert rec.packet_columns()[WIT][1][-1] == bytes([k]) * 20
            if rec_path.suffix == ".gz":  # no gzip trailer yet: reported like a cut-off last line
                lines = 1 + (k + 1) + (k // 8 + 1)
                assert rec.warnings == [f"last line truncated (crash while recording?); {lines} complete lines read"]
            else:
                assert rec.warnings == []
    finally:
        w.close()
    final = open_recording(rec_path)
    assert final.warnings == [] and len(final) == 25
    if rec_path.suffix == ".gz":
        with gzip.open(rec_path) as f:  # a normal gzip tool reads the finished file
            assert f.read().count(b"\n") == 1 + 25 + 4


def test_unflushed_mode_is_complete_after_close(tmp_path):
    path = tmp_path / "bulk.jsonl.gz"
    with RecordingWriter(path, packets_header(), line_flush=False) as w:
        for k in range(1000):
            w.write_packet(k * 0.005, WIT, b"\x55\x61" + bytes(18))
    assert len(open_recording(path)) == 1000


# --------------------------------------------------------------------------- storage failures


class FailingFile:
    """A real file that starts failing with ``err`` once ``budget`` bytes have been written."""

    def __init__(self, path: Path, budget: int, err: int = errno.ENOSPC) -> None:
        self._f = open(path, "wb", buffering=0)  # noqa: SIM115
        self.budget = budget
        self.err = err
        self.closed = False

    def write(self, data) -> int:
        data = bytes(data)
        if self.budget <= 0:
            raise OSError(self.err, os.strerror(self.err))
        part = data[: self.budget]
        self._f.write(part)  # a full disk accepts a partial write first, like the real thing
        self.budget -= len(part)
        return len(part)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True
        self._f.close()


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
@pytest.mark.parametrize(("err", "words"), [(errno.ENOSPC, "the disk is full (ENOSPC)"),
                                            (errno.EROFS, "the file system is read-only (EROFS)"),
                                            (errno.EIO, "input/output error")])
def test_storage_failure_stops_recording_keeps_data_readable(tmp_path, suffix, err, words):
    path = tmp_path / f"full{suffix}"
    fake = FailingFile(path, budget=2500, err=err)
    w = RecordingWriter(path, packets_header(), fileobj=fake)
    written = 0
    with pytest.raises(RecordingWriteError) as info:
        for k in range(10_000):
            w.write_packet(k * 0.005, WIT, bytes(range(20)))
            written += 1
    assert words in str(info.value) and str(path) in str(info.value)
    assert "everything written so far is kept and readable" in str(info.value)
    assert info.value.path == path and info.value.reason.startswith(words.split(" (")[0])
    assert w.closed and w.error is not None and fake.closed
    # every later write raises the same error; close is quiet
    with pytest.raises(RecordingWriteError, match=words.split(" (")[0]):
        w.write_packet(1e3, WIT, b"")
    with pytest.raises(RecordingWriteError):
        w.write_event(1e3, "marker")
    w.close()
    rec = open_recording(path)
    # At most the line being written is lost. It may also have survived whole: with gzip, all of
    # its compressed bytes can reach the disk before the sync-flush marker is the write that fails.
    assert written - 1 <= len(rec) <= written + 1
    assert all(p == bytes(range(20)) for p in rec.packet_columns()[WIT][1])
    assert len(rec.warnings) == 1 and rec.warnings[0].startswith("last line truncated")


def test_dev_full_fails_at_creation(tmp_path):
    link = tmp_path / "onto_full_disk.jsonl"
    link.symlink_to("/dev/full")  # a real device whose writes fail with ENOSPC
    with pytest.raises(RecordingWriteError, match=r"the disk is full \(ENOSPC\)"):
        RecordingWriter(link, packets_header())


def test_missing_folder_fails_with_clear_reason(tmp_path):
    with pytest.raises(RecordingWriteError, match="the folder does not exist"):
        RecordingWriter(tmp_path / "no" / "such" / "dir" / "a.jsonl", packets_header())


def _in_unprivileged_child(fn) -> str:
    """Run ``fn()`` (returns a string) as user nobody when we are root, since root ignores chmod."""
    if os.geteuid() != 0:
        return fn()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            os.close(read)
            os.setgid(65534)
            os.setuid(65534)
            out = fn()
        except BaseException as exc:  # noqa: BLE001 - report anything to the parent
            out = f"child failed: {type(exc).__name__}: {exc}"
        os.write(write, out.encode())
        os._exit(0)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 65536):
        chunks.append(chunk)
    os.close(read)
    os.waitpid(pid, 0)
    return b"".join(chunks).decode()


def test_read_only_folder_fails_with_clear_reason():
    base = Path(tempfile.mkdtemp(prefix="vbt-ro-"))
    try:
        base.chmod(0o755)
        ro = base / "readonly"
        ro.mkdir()
        ro.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)

        def attempt() -> str:
            try:
                RecordingWriter(ro / "set.jsonl.gz", packets_header())
            except RecordingWriteError as err:
                return str(err)
            return "no error"

        message = _in_unprivileged_child(attempt)
        assert "permission denied (EACCES)" in message, message
        assert "set.jsonl.gz" in message
        assert not (ro / "set.jsonl.gz").exists()
    finally:
        (base / "readonly").chmod(0o755)
        shutil.rmtree(base)
