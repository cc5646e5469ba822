"""MetaWear specifics: command bytes per chip, packed vs single choice, fusion, virtual-board conversations.

Byte literals are derived from MetaWear-SDK-Cpp (see firmware_protocols/metawear.py); no
hardware capture exists yet.
"""

from __future__ import annotations

import numpy as np
import pytest
from fp_testkit import G, feed_all, merged

import firmware_protocols as fp
from firmware_protocols import Notification
from firmware_protocols import metawear as mw

MW = fp.get_protocol("metawear")
FUSION = fp.get_protocol("metawear_fusion")


def hexes(writes):
    return [w.payload.hex(" ") for w in writes]


def test_acc_only_100hz_uses_single_samples_like_the_sdk():
    writes = MW.start_writes(MW.make_config(100, 2, False))
    assert hexes(writes) == ["03 03 28 03", "03 04 01", "03 02 01 00", "03 01 01"]
    assert all(not w.response for w in writes)  # the SDK writes without response
    assert hexes(MW.stop_writes(MW.make_config(100, 2, False))) == ["03 01 00", "03 02 00 01", "03 04 00"]


def test_acc_and_gyro_above_budget_use_packed_signals_and_fast_interval():
    writes = MW.start_writes(MW.make_config(200, 16, 2000))
    assert hexes(writes) == [
        "11 09 06 00 06 00 00 00 58 02",
        "03 03 29 0c", "13 03 29 00",
        "03 1c 01", "13 07 01",
        "03 02 01 00", "13 02 01 00",
        "03 01 01", "13 01 01",
    ]
    s = MW.start_writes(MW.make_config(200, 4, 250, chip="bmi270"))
    assert hexes(s)[1:5] == ["03 03 a9 01", "13 03 29 03", "03 05 01", "13 05 01"]
    with pytest.raises(ValueError, match="chip 'bmi999'"):
        MW.start_writes(MW.make_config(100, 2, chip="bmi999"))


def test_bmi270_default_conf_byte_matches_sdk_default():
    assert mw.acc_conf(100, "bmi270") == 0xA8  # BMI270_DEFAULT_CONFIG starts a8 02
    assert mw.acc_conf(100, "bmi160") == 0x28  # BMI160_DEFAULT_CONFIG starts 28 03


def test_fusion_start_and_stop_sequences():
    writes = FUSION.start_writes(FUSION.make_config(100, 16))
    assert hexes(writes) == [
        "19 02 02 13",
        "03 03 28 0c", "13 03 28 00",
        "19 09 01", "19 0a 01",
        "03 02 01 00", "13 02 01 00", "03 01 01", "13 01 01",
        "19 03 60 00", "19 01 01",
    ]
    assert hexes(FUSION.stop_writes(FUSION.make_config(100, 16)))[:2] == ["19 01 00", "19 03 00 7f"]
    assert FUSION.matches("MetaWear") is False  # the plain entry owns the advertisement
    assert fp.match_advertisement("MetaWear") is MW


def test_battery_and_module_info_reads():
    assert hexes(MW.battery_writes()) == ["11 8c"]
    assert hexes(MW.module_info_writes()) == ["03 80", "13 80"]


def test_virtual_board_conversation():
    vd = MW.virtual_device()
    vd.on_subscribe(mw.NOTIFY_UUID)
    (info,) = vd.on_write(mw.COMMAND_UUID, bytes.fromhex("0380"))
    assert info.payload == bytes.fromhex("03 80 01 01")
    (absent,) = vd.on_write(mw.COMMAND_UUID, bytes.fromhex("1580"))
    assert absent.payload == bytes.fromhex("15 80")  # <= 2 bytes: module not present
    (bat,) = vd.on_write(mw.COMMAND_UUID, mw.BATTERY_READ)
    dec = MW.decoder()
    dec.feed(bat.char_uuid, bat.payload, 0.0)
    assert dec.battery_pct == 87.0 and 3.3 < dec.info["battery_v"] < 4.2
    # configured and subscribed but not enabled/started: nothing streams yet
    cfg = MW.make_config(200, 8, 500)
    writes = MW.start_writes(cfg)
    for w in writes[:-2]:
        vd.on_write(w.char_uuid, w.payload)
    assert not vd.streaming
    for w in writes[-2:]:
        vd.on_write(w.char_uuid, w.payload)
    assert vd.streaming and vd.config.rate_hz == 200 and vd.config.gyro_range_dps == 500
    assert vd.connection_params == bytes.fromhex("06 00 06 00 00 00 58 02")
    notes = vd.encode(np.tile([0.0, 0.0, G], (6, 1)), np.zeros((6, 3)), np.arange(6) / 200)
    assert [n.payload[:2].hex() for n in notes] == ["031c", "1307", "031c", "1307"]
    vd.on_write(mw.COMMAND_UUID, bytes.fromhex("7701"))  # unknown module: ignored
    assert vd.ignored_writes == 1


def test_fifo_pairing_drops_samples_of_a_stream_that_lost_its_partner():
    cfg = MW.make_config(100, 2, 2000)
    dec = MW.decoder(cfg)
    acc = Notification(mw.NOTIFY_UUID, bytes.fromhex("03 04 00 40 00 00 00 00"))
    gyro = Notification(mw.NOTIFY_UUID, bytes.fromhex("13 05 A4 00 00 00 00 00"))
    assert feed_all(dec, [acc] * 250) == []  # no gyro for 2.5 s at 100 Hz
    assert dec.info["unpaired_samples"] == 50
    got = merged(feed_all(dec, [gyro] * 3))
    assert len(got) == 3 and got.gyro_rads[0, 0] == pytest.approx(np.radians(10.0))


def test_fusion_encoder_gravity_estimate_is_plausible():
    cfg = FUSION.make_config(100, 16)
    enc = FUSION.encoder(cfg)
    t = np.arange(200) / 100
    notes = enc.encode(np.tile([0.0, G, 0.0], (200, 1)), None, t)
    grav = np.frombuffer(notes[-2].payload[2:], "<f4")
    lin = np.frombuffer(notes[-1].payload[2:], "<f4")
    assert notes[-2].payload[:2] == bytes.fromhex("1909")
    assert np.linalg.norm(grav) == pytest.approx(G, rel=1e-6)
    assert np.abs(lin).max() < 1e-5  # at rest the linear acceleration is ~0
    dec = FUSION.decoder(cfg)
    got = merged(feed_all(dec, notes))
    assert len(got) == 200 and np.allclose(got.accel_mps2, [0.0, G, 0.0], atol=1e-5)
