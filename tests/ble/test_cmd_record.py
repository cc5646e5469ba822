"""``vbt record``: virtual sensors through the emulated link into recordings; options and failures."""

from __future__ import annotations

import errno
import io
import os
import signal
import sys

import numpy as np
import pytest

import vbt.ble.environment as environment
import vbt.recording.writer as writer_module
from firmware_protocols import get_protocol
from vbt.ble import FaultPlan, LinkDrop
from vbt.cli import main
from vbt.recording.reader import open_recording
from vbt.sources import RawPacket

WIT = get_protocol("witmotion")


def _decode_all(recording) -> int:
    decoder = get_protocol(recording.header.sensor).decoder()
    n = 0
    for item in recording:
        if isinstance(item, RawPacket):
            n += sum(len(b) for b in decoder.feed(item.char_uuid, item.payload, item.host_time_s))
    return n


def _events(recording) -> list[str]:
    return [e.kind for e in recording.events() if e.kind != "status"]


def test_record_virtual_witmotion_writes_a_complete_recording(tmp_path, capsys):
    out = tmp_path / "set.jsonl.gz"
    code = main(["record", "--virtual", "witmotion", "--exercise", "back-squat", "--load-kg", "100",
                 "--athlete", "Ana", "--duration", "10", "--instant", "--out", str(out)])
    assert code == 0
    summary = capsys.readouterr().out
    assert f"WT901BLE68: {out}" in summary and "~0 dropped" in summary
    rec = open_recording(out)
    assert rec.warnings == []
    h = rec.header
    assert (h.sensor, h.sensor_model, h.rate_hz, h.exercise, h.load_kg, h.athlete) == (
        "witmotion", "WT901BLE68", 200.0, "squat", 100.0, "Ana")
    assert h.synthetic is True and h.extra["virtual"]["seed"] == 0
    assert h.stream["rate_hz"] == 200.0 and h.stream["gyro_range_dps"] == 2000.0
    assert _events(rec)[:2] == ["connected", "config"]
    # --duration counts from the end of configuration (0.6 s of SDK write delays; the rate
    # register changes 0.1 s in); the file starts at the connection: ~10.5 s at 200 Hz.
    assert 10.5 <= rec.duration_s <= 10.7
    assert 2000 <= _decode_all(rec) <= 2110


def test_record_two_virtual_sensors_into_a_pattern(tmp_path, capsys):
    code = main(["record", "--virtual", "witmotion,witmotion", "--duration", "3", "--instant",
                 "--out", str(tmp_path / "rack{n}_{name}.jsonl")])
    assert code == 0
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["rack1_WT901BLE68.jsonl", "rack2_WT901BLE682.jsonl"]
    for name in files:
        assert _decode_all(open_recording(tmp_path / name)) > 500


def test_record_into_a_folder_names_files_by_date_and_sensor(tmp_path):
    assert main(["record", "--virtual", "polar", "--duration", "2", "--instant", "--out", str(tmp_path)]) == 0
    (path,) = list(tmp_path.iterdir())
    assert path.name.endswith("_Polar_H10_A1B2C3D4.jsonl.gz")
    rec = open_recording(path)
    assert rec.header.sensor == "polar_h10" and _decode_all(rec) > 300


@pytest.mark.parametrize(("argv", "message"), [
    (["--virtual", "witmotion,witmotion", "--out", "{tmp}/one.jsonl"], "2 sensors need 2 files"),
    (["--virtual", "witmotion", "--out", "{tmp}/set.csv"], "name a .jsonl or .jsonl.gz file"),
    (["--virtual", "witmotion", "--out", "{tmp}/missing/set.jsonl"], "does not exist; create it first"),
    (["--virtual", "witmotion", "--out", "{tmp}/x_{rack}.jsonl"], "unknown placeholder {rack}"),
    (["--virtual", "witmotion", "--rate", "7", "--out", "{tmp}/set.jsonl"], "use one of"),
    (["--out", "{tmp}/set.jsonl"], "give --sensor NAME|ADDRESS"),
    (["--sensor", "WT901BLE68", "--virtual", "witmotion", "--out", "{tmp}/set.jsonl"], "not both"),
    (["--virtual", "witmotion", "--exercise", "curl", "--out", "{tmp}/set.jsonl"], "use one of: bench"),
])
def test_record_usage_errors_are_one_line_and_exit_2(tmp_path, capsys, argv, message):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(["record", "--instant", "--duration", "1", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("vbt: error:") and message in err[0]
    assert list(tmp_path.iterdir()) == []


def test_record_refuses_to_overwrite_unless_asked(tmp_path, capsys):
    out = tmp_path / "set.jsonl"
    out.write_text("precious\n")
    assert main(["record", "--virtual", "witmotion", "--duration", "1", "--instant", "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert out.read_text() == "precious\n"
    assert main(["record", "--virtual", "witmotion", "--duration", "1", "--instant", "--overwrite",
                 "--out", str(out)]) == 0
    assert open_recording(out).header.sensor == "witmotion"


def test_record_with_harsh_link_reconnects_and_keeps_one_recording(tmp_path, capsys):
    out = tmp_path / "set.jsonl.gz"
    assert main(["record", "--virtual", "witmotion", "--faults", "harsh", "--instant", "--out", str(out)]) == 0
    assert "1 reconnect(s)" in capsys.readouterr().out
    rec = open_recording(out)
    kinds = _events(rec)
    assert kinds[:2] == ["connected", "config"]
    assert kinds[2:5] == ["disconnected", "reconnected", "config"]
    statuses = [e.detail for e in rec.events() if e.kind == "status"]
    assert statuses and statuses[-1]["reconnects"] == 1
    assert _decode_all(rec) > 2000


def test_record_sensor_lost_for_good_is_a_clean_error_and_the_file_stays_readable(tmp_path, capsys, monkeypatch):
    real_specs = environment.virtual_specs

    def dying_specs(names, **kwargs):
        specs = real_specs(names, **kwargs)
        specs[0].faults = FaultPlan(link_drops=(LinkDrop(at_s=4.0, back_after_s=None),))
        return specs

    monkeypatch.setattr(environment, "virtual_specs", dying_specs)
    out = tmp_path / "set.jsonl.gz"
    assert main(["record", "--virtual", "witmotion", "--instant", "--reconnect-s", "15", "--out", str(out)]) == 1
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and "link lost and not back after 15 s" in err[0]
    assert "recording so far is complete" in err[0]
    rec = open_recording(out)
    assert rec.warnings == []
    assert _events(rec)[-2:] == ["disconnected", "lost"]
    assert _decode_all(rec) > 600


class _FillingDisk(io.RawIOBase):
    """A file that reports ENOSPC once ``capacity`` bytes were written."""

    def __init__(self, real, capacity: int) -> None:
        self.real = real
        self.capacity = capacity

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        if self.real.tell() + len(data) > self.capacity:
            raise OSError(errno.ENOSPC, "No space left on device")
        return self.real.write(data)

    def flush(self) -> None:
        self.real.flush()

    def fileno(self) -> int:
        return self.real.fileno()

    def close(self) -> None:
        self.real.close()
        super().close()


def test_disk_full_stops_that_recording_with_a_clear_line_while_the_other_continues(tmp_path, capsys, monkeypatch):
    def fake_open(path, mode="r", *args, **kwargs):
        real = open(path, mode, *args, **kwargs)  # noqa: SIM115 - wrapped and closed by the writer
        return _FillingDisk(real, 20_000) if os.path.basename(path).startswith("rack2") else real

    monkeypatch.setattr(writer_module, "open", fake_open, raising=False)
    code = main(["record", "--virtual", "witmotion,witmotion", "--duration", "5", "--instant",
                 "--out", str(tmp_path / "rack{n}.jsonl")])
    assert code == 1
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1
    assert f"recording to {tmp_path / 'rack2.jsonl'} stopped: the disk is full (ENOSPC)" in err[0]
    full = open_recording(tmp_path / "rack1.jsonl")
    assert full.duration_s >= 4.9
    partial = open_recording(tmp_path / "rack2.jsonl")  # what was written stays readable
    assert 0 < partial.duration_s < 4.0


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signal delivery")
def test_ctrl_c_ends_the_recording_cleanly(tmp_path, capsys, monkeypatch):
    real_write_item = writer_module.RecordingWriter.write_item
    calls = {"n": 0}

    def write_item(self, item):
        real_write_item(self, item)
        calls["n"] += 1
        if calls["n"] == 500:
            os.kill(os.getpid(), signal.SIGINT)  # the user presses Ctrl-C mid-set

    monkeypatch.setattr(writer_module.RecordingWriter, "write_item", write_item)
    out = tmp_path / "set.jsonl.gz"
    assert main(["record", "--virtual", "witmotion", "--duration", "60", "--instant", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "stopping" in captured.err
    rec = open_recording(out)
    assert rec.warnings == []  # gzip trailer written: the file was closed properly
    assert 500 <= len(list(rec)) < 700  # stopped right after the 500th item
    assert np.isfinite(rec.duration_s)


def test_record_real_sensor_with_bluetooth_off_fails_with_one_line_and_no_file(tmp_path, capsys, monkeypatch):
    from test_cmd_scan import _PoweredOffScanner

    import vbt.sources.ble as ble_source

    monkeypatch.setattr(ble_source, "DEFAULT_SCANNER_BACKEND", _PoweredOffScanner)
    out = tmp_path / "set.jsonl.gz"
    assert main(["record", "--sensor", "WT901BLE68", "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Bluetooth is switched off" in err[0]
    assert not out.exists()


def _decoded_acc(path) -> np.ndarray:
    rec = open_recording(path)
    decoder = get_protocol(rec.header.sensor).decoder()
    return np.concatenate([b.accel_mps2 for item in rec if isinstance(item, RawPacket)
                           for b in decoder.feed(item.char_uuid, item.payload, item.host_time_s)])


def test_record_replay_feeds_a_virtual_sensor_with_a_recording(tmp_path):
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    assert main(["record", "--virtual", "witmotion", "--duration", "8", "--instant", "--out", str(first)]) == 0
    assert main(["record", "--virtual", "witmotion", "--replay", str(first), "--instant", "--out", str(second)]) == 0
    assert open_recording(second).header.extra["virtual"]["replayed"] == str(first)
    a, b = _decoded_acc(first), _decoded_acc(second)
    lsb = 16 * 9.80665 / 32768
    # the 200 Hz part of the first recording comes back sample for sample (nearest-sample replay)
    n = 1000
    tail = a[-n - 5:-5]
    assert any(np.allclose(b[k:k + n], tail, atol=1.01 * lsb) for k in range(len(b) - n + 1))
