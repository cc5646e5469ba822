"""Movesense GSP specifics: command bytes, DATA_PART2 handling, timestamps, virtual-sensor conversations.

Byte literals are derived from the GSP documentation summarised in firmware_protocols/movesense.py;
no hardware capture exists yet.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest
from fp_testkit import feed_all, merged

import firmware_protocols as fp
from firmware_protocols import Notification, ProtocolError
from firmware_protocols import movesense as ms

MS = fp.get_protocol("movesense")


def data(ts_ms: int, acc_rows, ref: int = 0x63) -> Notification:
    body = struct.pack("<I", ts_ms) + np.asarray(acc_rows, dtype="<f4").tobytes()
    return Notification(ms.NOTIFY_UUID, bytes((2, ref)) + body)


def test_subscribe_matches_the_documented_example():
    (w,) = MS.start_writes(MS.make_config(104))
    assert w.payload == bytes.fromhex("01 63 2F 4D 65 61 73 2F 49 4D 55 36 2F 31 30 34")  # /Meas/IMU6/104
    assert MS.start_writes(MS.make_config(208, 8, False))[0].payload == b"\x01\x63/Meas/Acc/208"
    assert MS.stop_writes(MS.make_config(208))[0].payload == bytes.fromhex("0263")
    assert MS.start_writes(MS.make_config(52, ref=7))[0].payload[:2] == bytes.fromhex("0107")
    with pytest.raises(ValueError, match="reference 0"):
        MS.start_writes(MS.make_config(52, ref=0))


def test_samples_per_packet_follow_13_packets_per_second_within_two_notifications():
    assert ms.samples_per_packet(104, 2) == 8
    assert ms.samples_per_packet(208, 2) == 16
    assert ms.samples_per_packet(416, 2) == 20  # 32 would not fit DATA + DATA_PART2 at MTU 247
    assert ms.samples_per_packet(833, 1) == 40
    assert ms.samples_per_packet(13, 1) == 1


def test_encoder_splits_large_packets_into_data_and_part2():
    cfg = MS.make_config(208, 8, 2000)
    notes = MS.encoder(cfg).encode(np.zeros((16, 3)), np.zeros((16, 3)), 3.0 + np.arange(16) / 208)
    assert [n.payload[0] for n in notes] == [2, 3]
    assert len(notes[0].payload) == 244 and len(notes[0].payload) + len(notes[1].payload) == 4 + 2 * 2 + 16 * 24
    assert [n.last_sample_index for n in notes] == [15, 15]
    assert struct.unpack_from("<I", notes[0].payload, 2)[0] == 3000


def test_orphan_part2_and_unfinished_data_are_bad_frames():
    cfg = MS.make_config(208, 8, 2000)
    notes = MS.encoder(cfg).encode(np.zeros((16, 3)), np.zeros((16, 3)), np.arange(16) / 208)
    dec = MS.decoder(cfg)
    feed_all(dec, [notes[1]])  # PART2 alone
    feed_all(dec, [notes[0], notes[0], notes[1]])  # first part twice: the first is unfinished
    assert dec.stats.bad_frames == 2 and dec.stats.samples == 16
    strict = MS.decoder(cfg, strict=True)
    with pytest.raises(ProtocolError, match="DATA_PART2 without a matching first part"):
        strict.feed(ms.NOTIFY_UUID, notes[1].payload, 0.0)


def test_reordering_and_jumps_keep_sensor_time_increasing():
    cfg = MS.make_config(104, 8, False)
    dec = MS.decoder(cfg)
    rows = [[0.0, 0.0, 9.75]] * 8
    out = feed_all(dec, [data(1000, rows), data(1154, rows), data(1077, rows)])
    assert dec.stats.out_of_order == 1 and len(merged(out)) == 16
    out = feed_all(dec, [data(1000 + 90_000, rows), data(1231, rows)])  # one corrupt stamp 90 s ahead
    assert dec.stats.bad_frames == 1 and len(merged(out)) == 8
    out = feed_all(dec, [data(200_000, rows), data(200_077, rows)])  # a real jump, confirmed
    # the held first packet of the jump was real: its samples go out with the confirming one
    assert dec.stats.bad_frames == 2 and len(merged(out)) == 16
    assert merged(out).sensor_time_s[0] == pytest.approx(200.0)


def test_impossible_values_are_rejected():
    dec = MS.decoder(MS.make_config(104, 2, False))
    feed_all(dec, [data(1000, [[0.0, 0.0, 25.0]]), data(1100, [[float("nan"), 0.0, 0.0]])])
    assert dec.stats.bad_frames == 2 and dec.stats.samples == 0


def test_virtual_sensor_conversation():
    vd = MS.virtual_device()
    vd.on_subscribe(ms.NOTIFY_UUID)
    (hello,) = vd.on_write(ms.WRITE_UUID, bytes.fromhex("0001"))
    assert hello.payload == b"\x01\x01Hello"
    status = lambda n: struct.unpack_from("<H", n.payload, 2)[0]  # noqa: E731
    (bad,) = vd.on_write(ms.WRITE_UUID, b"\x01\x05/Meas/IMU6/100")  # not a Movesense rate
    assert status(bad) == 404
    (ok,) = vd.on_write(ms.WRITE_UUID, ms.subscribe_command("/Meas/IMU6/208"))
    assert ok.payload == bytes.fromhex("01 63 C8 00") and vd.streaming
    assert vd.config.rate_hz == 208 and vd.config.gyro_range_dps == 2000
    assert status(vd.on_write(ms.WRITE_UUID, ms.subscribe_command("/Meas/Acc/52"))[0]) == 409  # ref in use
    assert status(vd.on_write(ms.WRITE_UUID, ms.subscribe_command("/Meas/Acc/52", 2))[0]) == 200
    assert status(vd.on_write(ms.WRITE_UUID, ms.subscribe_command("/Meas/Acc/26", 3))[0]) == 507  # no slot
    assert status(vd.on_write(ms.WRITE_UUID, bytes.fromhex("0209"))[0]) == 404  # unknown reference
    assert vd.on_write(ms.WRITE_UUID, bytes.fromhex("0100")) == [] and vd.ignored_writes == 1  # ref 0
    vd.on_disconnect()
    assert not vd.streaming and vd.subscriptions == {}  # the sensor forgets subscriptions


def test_a_signalling_nan_from_corrupted_bytes_is_rejected_without_a_warning():
    # Corrupted float bytes can form a signalling NaN; converting it warned on stderr in the
    # middle of a live session (the frame was rejected all the same).
    import warnings

    dec = MS.decoder(MS.make_config(104, 2, False))
    note = data(1000, [[0.0, 0.0, 9.8]])
    payload = bytearray(note.payload)
    payload[6:10] = struct.pack("<I", 0x7F800001)  # first float of the first sample
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        feed_all(dec, [Notification(note.char_uuid, bytes(payload))])
    assert dec.stats.bad_frames == 1 and dec.stats.samples == 0
