"""WitMotion specifics: command bytes, battery table, framing corner cases, virtual-device conversations.

Byte literals here are derived from the vendor SDK/datasheet tables in the module docstring of
firmware_protocols/witmotion.py (no hardware capture exists yet).
"""

from __future__ import annotations

import numpy as np
import pytest
from fp_testkit import G, feed_all, merged

import firmware_protocols as fp
from firmware_protocols import ProtocolError
from firmware_protocols import witmotion as wm

W = fp.get_protocol("witmotion")
U = wm.NOTIFY_UUID
FRAME_1G_X = bytes.fromhex("5561000800000000000000000000000000000000")
FRAME_1G_Z = bytes.fromhex("5561000000000008000000000000000000000000")


def test_command_bytes_match_the_sdk():
    assert bytes.fromhex("FFAA6988B5") == wm.UNLOCK
    assert bytes.fromhex("FFAA000000") == wm.SAVE
    assert wm.command(wm.REG_RATE, 0x0B) == bytes.fromhex("FFAA030B00")
    assert [w.payload for w in W.battery_writes()] == [bytes.fromhex("FFAA276400")]


def test_start_writes_follow_sdk_write_reg_sequence():
    writes = W.start_writes(W.make_config(200))
    assert [w.payload.hex() for w in writes] == [
        "ffaa6988b5", "ffaa030b00", "ffaa000000",  # unlock, rate 200 Hz, save
        "ffaa6988b5", "ffaa1f0200", "ffaa000000",  # unlock, bandwidth 98 Hz, save
    ]
    assert all(w.char_uuid == wm.WRITE_UUID and w.delay_after_s == pytest.approx(0.1) for w in writes)
    assert W.start_writes(W.make_config(50))[4].payload == bytes.fromhex("FFAA1F0400")  # 20 Hz
    override = W.make_config(100, bandwidth_hz=256)
    assert W.start_writes(override)[4].payload == bytes.fromhex("FFAA1F0000")
    with pytest.raises(ValueError, match="bandwidth 30"):
        W.start_writes(W.make_config(100, bandwidth_hz=30))
    assert W.stop_writes(W.make_config(200)) == []


@pytest.mark.parametrize(
    ("volts", "pct"),
    [(4.2, 100), (3.96, 100), (3.95, 90), (3.93, 90), (3.90, 75), (3.80, 50), (3.71, 20), (3.6, 10),
     (3.45, 5), (3.39, 0)],
)
def test_battery_table(volts, pct):
    assert wm.battery_percent(volts) == pct


def test_bandwidth_is_widest_below_nyquist():
    assert [wm.bandwidth_for_rate(r) for r in (200, 125, 100, 50, 20, 10, 1)] == [98, 42, 42, 20, 10, 5, 5]


def test_advertisement_names():
    assert W.matches("WT901BLE68")
    assert W.matches("WT9011DCL-BT50")
    assert not W.matches("WTX headphones")
    assert fp.match_advertisement("WT901BLE67") is W


def test_short_and_standard_uuid_forms_are_accepted_other_chars_counted():
    dec = W.decoder(W.make_config(200))
    assert len(merged(dec.feed("ffe4", FRAME_1G_X, 0.0))) == 1
    assert dec.feed("00002a19-0000-1000-8000-00805f9b34fb", FRAME_1G_X, 0.1) == []
    assert dec.stats.unknown == 1


def test_truncated_frame_is_rejected_not_emitted_as_garbage():
    """A notification lost mid-frame: the cut frame must not become a wrong sample."""
    dec = W.decoder(W.make_config(200))
    out = feed_all(dec, [fp.Notification(U, p) for p in (FRAME_1G_X, FRAME_1G_X[:9], FRAME_1G_Z + FRAME_1G_Z)])
    got = merged(out)
    np.testing.assert_allclose(got.accel_mps2, [[G, 0, 0], [0, 0, G], [0, 0, G]], atol=1e-12)
    assert dec.stats.bad_frames == 1 and dec.stats.resyncs == 1
    assert dec.stats.skipped_bytes == 9


def test_false_header_in_garbage_needs_confirmation_while_resynchronising():
    dec = W.decoder(W.make_config(200))
    garbage = bytes.fromhex("0102") + bytes.fromhex("5561") + bytes(range(10, 20))  # fake header, no frame after
    out = merged(dec.feed(U, garbage + FRAME_1G_X + FRAME_1G_Z, 0.0))
    # the fake frame at offset 2 is not followed by a header 20 bytes later -> skipped
    np.testing.assert_allclose(out.accel_mps2, [[G, 0, 0], [0, 0, G]], atol=1e-12)
    assert dec.stats.skipped_bytes == len(garbage) and dec.stats.bad_frames == 0
    # while resynchronising, a frame at the very end is held until the next header confirms it
    dec2 = W.decoder(W.make_config(200))
    assert dec2.feed(U, b"\x00" + FRAME_1G_X, 0.0) == []
    held = dec2.feed(U, FRAME_1G_Z, 0.1)
    np.testing.assert_allclose(merged(held).accel_mps2, [[G, 0, 0], [0, 0, G]], atol=1e-12)


def test_strict_mode_names_the_problem():
    dec = W.decoder(W.make_config(200), strict=True)
    with pytest.raises(ProtocolError, match="expected frame header 0x55, got 0x00") as info:
        dec.feed(U, b"\x00" + FRAME_1G_X, 0.0)
    assert info.value.offset == 0 and info.value.sensor == "witmotion"


def test_register_replies_interleaved_in_bulk_and_sequential_paths():
    rng = np.random.default_rng(0)
    cfg = W.make_config(200)
    enc = W.encoder(cfg)
    acc = rng.normal(0, 20, (500, 3))
    notes = [n.payload for n in enc.encode(acc, rng.normal(0, 3, (500, 3)), np.arange(500) / 200)]
    vd = W.virtual_device()
    vd.on_subscribe(U)
    reply = vd.on_write(wm.WRITE_UUID, W.battery_writes()[0].payload)[0].payload
    notes.insert(100, reply)
    notes[300] = notes[300] + reply  # merged with a data frame
    times = np.arange(len(notes)) * 0.005
    seq = W.decoder(cfg)
    a = merged([b for p, t in zip(notes, times, strict=True) for b in seq.feed(U, p, t)])
    bulk = W.decoder(cfg)
    b = merged(bulk.feed_many(U, notes, times))
    assert a.same_samples(b) and len(a) == 500
    assert seq.stats == bulk.stats and seq.stats.other_frames == 2
    assert seq.battery_pct == bulk.battery_pct == 75.0  # 87 % virtual battery -> 3.92 V -> 75 %


def test_encoder_packs_frames_and_flushes():
    cfg = W.make_config(200, frames_per_notification=4)
    enc = W.encoder(cfg)
    notes = enc.encode(np.tile([0.0, 0.0, G], (10, 1)), None, np.arange(10) / 200)
    assert [len(n.payload) for n in notes] == [80, 80]
    assert [n.last_sample_index for n in notes] == [3, 7]
    tail = enc.flush()
    assert len(tail) == 1 and len(tail[0].payload) == 40 and tail[0].last_sample_index == 9
    assert enc.flush() == []


def test_encoder_angles_reflect_tilt_and_yaw():
    enc = W.encoder(W.make_config(100))
    acc = np.array([[0.0, G, 0.0]] * 101)  # rolled 90 degrees
    gyro = np.array([[0.0, 0.0, np.radians(45.0)]] * 101)  # 45 deg/s about z for 1 s
    frames = enc.frames(acc, gyro, np.arange(101) / 100)
    fields = frames.view("<i2").astype(np.int64)
    assert fields[0, 7] * 180 / 32768 == pytest.approx(90.0, abs=0.01)
    assert fields[-1, 9] * 180 / 32768 == pytest.approx(45.0, abs=0.01)


def test_virtual_device_conversation():
    vd = W.virtual_device("WT901BLE68")
    assert not vd.streaming
    vd.on_subscribe(U)
    assert vd.streaming and vd.config.rate_hz == 10.0  # streams at 10 Hz on subscribe
    # register writes while locked are ignored, like the module outside its unlock window
    vd.on_write(wm.WRITE_UUID, wm.command(wm.REG_RATE, 0x0B))
    assert vd.config.rate_hz == 10.0 and vd.ignored_writes == 1
    for w in W.start_writes(W.make_config(200)):
        assert vd.on_write(w.char_uuid, w.payload) == []
    assert vd.config.rate_hz == 200.0 and vd.config.options["bandwidth_hz"] == 98.0
    # register read: one 0x71 frame with registers 0x03..0x0A
    (reply,) = vd.on_write(wm.WRITE_UUID, bytes.fromhex("FFAA270300"))
    assert reply.payload[:6] == bytes.fromhex("5571 0300 0b00")
    dec = W.decoder(W.make_config(200))
    dec.feed(reply.char_uuid, reply.payload, 0.0)
    assert dec.info["reported_rate_hz"] == 200.0
    # the unsaved-vs-saved distinction: change the rate without saving, power-cycle
    vd.on_write(wm.WRITE_UUID, wm.UNLOCK + wm.command(wm.REG_RATE, 0x08))
    assert vd.config.rate_hz == 50.0
    vd.power_cycle()
    assert vd.config.rate_hz == 200.0 and not vd.streaming
    vd.on_subscribe(U)
    vd.on_disconnect()
    assert not vd.streaming and vd.config.rate_hz == 200.0
    # rate "off" stops the stream even while subscribed
    vd.on_subscribe(U)
    vd.on_write(wm.WRITE_UUID, wm.UNLOCK + wm.command(wm.REG_RATE, wm.RATE_CODE_OFF))
    assert not vd.streaming
    # malformed writes are ignored, never raise
    before = vd.ignored_writes
    vd.on_write(wm.WRITE_UUID, b"\x01\x02")
    vd.on_write(wm.NOTIFY_UUID, wm.SAVE)
    assert vd.ignored_writes == before + 2


def test_virtual_device_register_file_tracks_last_sample():
    vd = W.virtual_device()
    vd.on_subscribe(U)
    vd.encode(np.array([[0.0, 0.0, G]]), np.array([[0.0, 0.0, 0.5]]), np.array([0.0]))
    (reply,) = vd.on_write(wm.WRITE_UUID, wm.command(wm.REG_READ, wm.REG_AX))
    fields = np.frombuffer(reply.payload[4:], "<i2")
    assert fields[2] == round(G / wm.ACCEL_MPS2_PER_LSB)
    assert fields[5] == round(0.5 / wm.GYRO_RADS_PER_LSB)


def test_calibration_commands_and_virtual_device_state():
    acc = W.accel_calibration_writes(hold_still_s=4.0)
    assert [w.payload.hex() for w in acc] == ["ffaa6988b5", "ffaa010100", "ffaa010000", "ffaa000000"]
    assert acc[1].delay_after_s == 4.0
    assert [w.payload.hex() for w in W.mag_calibration_writes(True)] == ["ffaa6988b5", "ffaa010700"]
    assert [w.payload.hex() for w in W.mag_calibration_writes(False)] == ["ffaa6988b5", "ffaa010000", "ffaa000000"]
    vd = W.virtual_device()
    vd.on_subscribe(U)
    for w in acc[:2]:
        vd.on_write(w.char_uuid, w.payload)
    assert vd.registers[wm.REG_CALSW] == 1
    for w in acc[2:]:
        vd.on_write(w.char_uuid, w.payload)
    assert vd.registers[wm.REG_CALSW] == 0 and vd.saved_registers[wm.REG_CALSW] == 0
