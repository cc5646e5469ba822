"""Polar PMD specifics: command bytes, CP conversations, timestamp rules, ACC/GYRO pairing.

Byte literals are derived from the Polar SDK tables in firmware_protocols/polar_pmd.py's
docstring (and the H10 START example bleakheart uses); no hardware capture exists yet.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest
from fp_testkit import G, feed_all, merged

import firmware_protocols as fp
from firmware_protocols import Notification, ProtocolError
from firmware_protocols import polar_pmd as pm

H10 = fp.get_protocol("polar_h10")
VERITY = fp.get_protocol("polar_verity_sense")


def acc_frame(ts_ns: int, mg_rows) -> bytes:
    return bytes((2,)) + struct.pack("<Q", ts_ns) + b"\x01" + np.asarray(mg_rows, dtype="<i2").tobytes()


def data(payload: bytes) -> Notification:
    return Notification(pm.DATA_UUID, payload)


def test_h10_start_matches_the_known_command():
    (w,) = H10.start_writes(H10.make_config(200, 8))
    assert w.payload == bytes.fromhex("02 02 00 01 C8 00 01 01 10 00 02 01 08 00")
    assert w.char_uuid == pm.CP_UUID and w.response
    assert [x.payload for x in H10.stop_writes(H10.make_config(200, 8))] == [bytes.fromhex("0302")]


def test_verity_sdk_mode_only_when_needed():
    default = VERITY.start_writes(VERITY.default_config())
    assert [w.payload.hex() for w in default] == [
        "0202000134000101100002010800040103",
        "020500013400010110000201d007040103",
    ]
    fast = VERITY.start_writes(VERITY.make_config(208, 16, 500))
    assert [w.payload.hex() for w in fast] == [
        "0209",
        "02020001d0000101100002011000040103",
        "02050001d000010110000201f401040103",
    ]
    assert [w.payload.hex() for w in VERITY.stop_writes(VERITY.make_config(208, 16, 500))] == ["0302", "0305", "0309"]
    assert [w.payload.hex() for w in VERITY.stop_writes(VERITY.make_config(52, 8, False))] == ["0302"]


def test_advertisement_names():
    assert fp.match_advertisement("Polar H10 A1B2C3D4") is H10
    assert fp.match_advertisement("Polar Sense B5C6D7E8") is VERITY
    assert fp.match_advertisement("Polar OH1 123") is None


def test_parse_settings_and_factor():
    params = bytes.fromhex("00 02 1A 00 34 00 01 01 10 00 05 01 00 00 80 3D 04 01 03")
    assert pm.parse_settings(params) == {0: [26, 52], 1: [16], 5: [0.0625], 4: [3]}
    assert pm.parse_settings(bytes.fromhex("00 02 1A 00")) is None  # truncated list
    assert pm.parse_settings(bytes.fromhex("09 01 00")) is None  # unknown setting type


def test_virtual_h10_conversation():
    vd = H10.virtual_device()
    assert vd.read(pm.CP_UUID) == bytes.fromhex("0F 05 00")  # ECG + ACC
    assert vd.read("2a19") == bytes([87])
    # without CP indications enabled the sensor cannot answer (the SDK refuses to send)
    assert vd.on_write(pm.CP_UUID, bytes.fromhex("0102")) == []
    for u in H10.notify_uuids:
        vd.on_subscribe(u)
    (get,) = vd.on_write(pm.CP_UUID, bytes.fromhex("0102"))
    assert get.payload == bytes.fromhex("F0 01 02 00 00 00 04 19 00 32 00 64 00 C8 00 01 01 10 00 02 03 02 00 04 00 08 00")
    (bad,) = vd.on_write(pm.CP_UUID, pm.start_command(2, 208, 8, channels=None))
    assert bad.payload == bytes.fromhex("F0 02 02 08 00")  # invalid sample rate
    (bad_range,) = vd.on_write(pm.CP_UUID, pm.start_command(2, 200, 16, channels=None))
    assert bad_range.payload == bytes.fromhex("F0 02 02 09 00")
    (gyro,) = vd.on_write(pm.CP_UUID, pm.start_command(5, 200, 2000, channels=3))
    assert gyro.payload[3] == pm.STATUS_NOT_SUPPORTED
    (ok,) = vd.on_write(pm.CP_UUID, H10.start_writes(H10.make_config(100, 4))[0].payload)
    assert ok.payload == bytes.fromhex("F0 02 02 00 00")  # the H10 sends no FACTOR
    assert vd.streaming and vd.config.rate_hz == 100 and vd.config.accel_range_g == 4
    (again,) = vd.on_write(pm.CP_UUID, H10.start_writes(H10.make_config(100, 4))[0].payload)
    assert again.payload[3] == pm.STATUS_ALREADY_IN_STATE
    (unknown,) = vd.on_write(pm.CP_UUID, bytes.fromhex("0702"))
    assert unknown.payload[3] == pm.STATUS_INVALID_OPCODE
    vd.on_disconnect()
    assert not vd.streaming and vd.running == {}


def test_virtual_verity_needs_sdk_mode_for_208_hz_and_reports_factors():
    vd = VERITY.virtual_device()
    for u in VERITY.notify_uuids:
        vd.on_subscribe(u)
    assert vd.read(pm.CP_UUID) == bytes.fromhex("0F 6E 02")
    acc_208 = pm.start_command(2, 208, 8, channels=3)
    assert vd.on_write(pm.CP_UUID, acc_208)[0].payload[3] == pm.STATUS_INVALID_SAMPLE_RATE
    assert vd.on_write(pm.CP_UUID, bytes.fromhex("0209"))[0].payload == bytes.fromhex("F0 02 09 00 00")
    (ok,) = vd.on_write(pm.CP_UUID, acc_208)
    assert ok.payload == bytes.fromhex("F0 02 02 00 00 05 01") + struct.pack("<f", 1.0)
    # GYRO at another rate than ACC is refused (one batch pairs them sample for sample)
    assert vd.on_write(pm.CP_UUID, pm.start_command(5, 104, 2000, channels=3))[0].payload[3] == 8
    (g,) = vd.on_write(pm.CP_UUID, pm.start_command(5, 208, 250, channels=3))
    assert struct.unpack("<f", g.payload[-4:])[0] == pytest.approx(250 / 32768)
    assert vd.config.gyro_range_dps == 250 and vd.config.options["gyro_factor"] == pytest.approx(250 / 32768)
    # a decoder fed the same responses learns the factors from them
    dec = VERITY.decoder(VERITY.make_config(208, 8, 250, gyro_factor=1.0))
    feed_all(dec, [ok, g])
    assert dec.info["gyro_factor"] == pytest.approx(250 / 32768)
    assert vd.on_write(pm.CP_UUID, bytes.fromhex("0309"))[0].payload == bytes.fromhex("F0 03 09 00 00")
    assert not vd.streaming


def test_lost_frame_is_not_stretched_over_the_gap():
    dec = H10.decoder(H10.make_config(100, 8))
    frames = [acc_frame(1_000_000_000 + i * 40_000_000, [[0, 0, 1000]] * 4) for i in range(4)]
    got = merged(feed_all(dec, [data(frames[0]), data(frames[1]), data(frames[3])]))
    expected = np.concatenate([0.97 + 0.01 * np.arange(8), 1.09 + 0.01 * np.arange(4)])
    np.testing.assert_allclose(got.sensor_time_s, expected, atol=1e-9)


def test_timestamp_rules_duplicates_reordering_and_jumps():
    dec = H10.decoder(H10.make_config(100, 8))
    f = [acc_frame(10**9 + i * 40_000_000, [[i, 0, 1000]] * 4) for i in range(6)]
    feed_all(dec, [data(f[0]), data(f[2]), data(f[1]), data(f[2])])
    assert dec.stats.out_of_order == 1 and dec.stats.duplicates == 1
    # a flipped high timestamp bit: held as bad, and the stream goes on
    flipped = bytearray(f[3])
    flipped[8] ^= 0x10
    out = feed_all(dec, [data(bytes(flipped)), data(f[3])])
    assert dec.stats.bad_frames == 1 and len(merged(out)) == 4
    # a real jump is confirmed by the next frame: the held first frame of it (placed with the
    # first-frame rule) goes out with the confirming one
    later = [acc_frame(10**9 + 120 * 10**9 + i * 40_000_000, [[0, 0, 1000]] * 4) for i in range(2)]
    out = merged(feed_all(dec, [data(later[0]), data(later[1])]))
    assert dec.stats.bad_frames == 2 and len(out) == 8
    np.testing.assert_allclose(out.sensor_time_s, 120.97 + 0.01 * np.arange(8), atol=1e-9)
    # advancing 1 ms for 4 samples at 100 Hz is impossible
    feed_all(dec, [data(acc_frame(10**9 + 120 * 10**9 + 41_000_000, [[0, 0, 1000]] * 4))])
    assert dec.stats.bad_frames == 3


def test_new_start_resets_the_sdk_rule_but_sensor_time_never_runs_back():
    dec = H10.decoder(H10.make_config(100, 8))
    feed_all(dec, [data(acc_frame(10**9, [[0, 0, 1000]] * 4))])
    feed_all(dec, [Notification(pm.CP_UUID, bytes.fromhex("F0 02 02 00 00"))])
    # 20 ms later with 4 samples: first-frame rule places two of them before the last sample
    out = merged(feed_all(dec, [data(acc_frame(10**9 + 20_000_000, [[0, 0, 1000]] * 4))]))
    np.testing.assert_allclose(out.sensor_time_s, [1.01, 1.02], atol=1e-9)
    assert dec.info["overlapping_samples"] == 2


def test_gyro_pairing_waits_for_gyro_and_drops_unpaired_acc():
    cfg = VERITY.make_config(52, 8, 2000)
    enc = VERITY.encoder(cfg)
    rng = np.random.default_rng(1)
    n = 100
    acc = rng.normal(0, 5, (n, 3))
    gyro = rng.normal(0, 1, (n, 3))
    t = 5.0 + np.arange(n) / 52
    notes = enc.encode(acc, gyro, t) + enc.flush()
    acc_notes = [x for x in notes if x.payload[0] == 2]
    gyro_notes = [x for x in notes if x.payload[0] == 5]
    dec = VERITY.decoder(cfg)
    assert feed_all(dec, acc_notes) == []  # waits for gyro
    got = merged(feed_all(dec, gyro_notes))
    assert len(got) == n
    np.testing.assert_allclose(got.gyro_rads, gyro, atol=VERITY.resolution(cfg).gyro_rads)
    # gyro that starts later: the ACC samples before it cannot be paired
    dec2 = VERITY.decoder(cfg)
    out = merged(feed_all(dec2, acc_notes + gyro_notes[1:]))
    first_gyro_samples = len(pm.decode_delta_frames(gyro_notes[0].payload[10:], 3, 16))
    assert len(out) == n - first_gyro_samples
    assert dec2.info["unpaired_samples"] == first_gyro_samples


def test_encoder_packs_36_samples_per_h10_notification_with_last_sample_timestamps():
    cfg = H10.make_config(200, 8)
    enc = H10.encoder(cfg)
    t = 100.0 + np.arange(80) / 200
    notes = enc.encode(np.tile([0.0, 0.0, G], (80, 1)), None, t)
    assert [len(n.payload) for n in notes] == [226, 226]
    assert [n.last_sample_index for n in notes] == [35, 71]
    assert struct.unpack_from("<Q", notes[1].payload, 1)[0] == round(t[71] * 1e9)
    (tail,) = enc.flush()
    assert tail.last_sample_index == 79 and len(tail.payload) == 10 + 8 * 6
    row = np.frombuffer(notes[0].payload[10:16], "<i2")
    assert row.tolist() == [0, 0, 1000]


def test_delta_frames_are_split_to_fit_the_mtu():
    cfg = VERITY.make_config(52, 2, 250)
    enc = VERITY.encoder(cfg)
    rng = np.random.default_rng(0)
    n = 72
    gyro = np.radians(rng.choice([-250.0, 250.0], (n, 3)))  # worst case: 17-bit deltas
    notes = enc.encode(rng.normal(0, 5, (n, 3)), gyro, np.arange(n) / 52) + enc.flush()
    assert max(len(x.payload) for x in notes) <= pm.DEFAULT_MTU - 3
    assert sum(1 for x in notes if x.payload[0] == 5) > 2
    got = merged(feed_all(VERITY.decoder(cfg), notes))
    assert len(got) == n


def test_strict_mode_raises_on_malformed_frames():
    dec = H10.decoder(H10.make_config(200, 8), strict=True)
    with pytest.raises(ProtocolError, match="shorter than the 10-byte header"):
        dec.feed(pm.DATA_UUID, b"\x02\x00\x01", 0.0)
    with pytest.raises(ProtocolError, match="beyond full scale"):
        dec.feed(pm.DATA_UUID, acc_frame(10**9, [[9000, 0, 0]]), 0.0)


@pytest.mark.parametrize("cut", [0, 17, 40])
def test_bulk_decoding_equals_sequential_through_gyro_gaps_and_late_gyro(cut):
    """feed_many's vectorised pairing reproduces feed: early, stale and interpolated samples alike."""
    cfg = VERITY.make_config(52, 8, 2000)
    enc = VERITY.encoder(cfg)
    rng = np.random.default_rng(4)
    n = 52 * 30
    notes = enc.encode(rng.normal(0, 5, (n, 3)), rng.normal(0, 1, (n, 3)), 100.0 + np.arange(n) / 52) + enc.flush()
    gyro_idx = [i for i, x in enumerate(notes) if x.payload[0] == 5]
    # gyro starts two frames late, and a 12 s stretch of gyro frames is lost mid-stream
    lost = set(gyro_idx[:2]) | set(gyro_idx[10:28])
    payloads = [x.payload for i, x in enumerate(notes) if i not in lost]
    times = np.arange(len(payloads)) * 0.35
    seq = VERITY.decoder(cfg)
    a = merged([b for p, t in zip(payloads, times, strict=True) for b in seq.feed(pm.DATA_UUID, p, t)])
    bulk = VERITY.decoder(cfg)
    b = merged(bulk.feed_many(pm.DATA_UUID, payloads[:cut], times[:cut]) + bulk.feed_many(pm.DATA_UUID, payloads[cut:], times[cut:]))
    assert a.same_samples(b) and seq.stats == bulk.stats and seq.info == bulk.info
    assert seq.info["unpaired_samples"] > 2 * 36  # the late start and the stale stretch were dropped
    assert np.all(np.diff(a.sensor_time_s) > 0)
