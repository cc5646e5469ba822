"""Thingy:52 specifics: the motion config struct, range limits, virtual-device conversations.

Byte literals are derived from the firmware's ble_tms.h layout (see firmware_protocols/thingy52.py);
no hardware capture exists yet.
"""

from __future__ import annotations

import numpy as np
from fp_testkit import G, feed_all, merged

import firmware_protocols as fp
from firmware_protocols import thingy52 as th

TH = fp.get_protocol("thingy52")


def test_start_writes_the_whole_config_struct():
    (w,) = TH.start_writes(TH.make_config(100))
    assert w.payload == bytes.fromhex("E8 03 F4 01 F4 01 64 00 01") and w.char_uuid == th.CONFIG_UUID
    assert TH.start_writes(TH.make_config(200))[0].payload[6:8] == bytes.fromhex("C8 00")
    assert TH.stop_writes(TH.make_config(200)) == []


def test_parse_config_rejects_wrong_size_and_out_of_range():
    assert th.parse_config(bytes.fromhex("E8 03 F4 01 F4 01 64 00 01")) == (1000, 500, 500, 100, 1)
    assert th.parse_config(bytes.fromhex("E8 03 F4 01 F4 01 64 00")) is None
    assert th.parse_config(th.config_bytes(300)) is None  # above 200 Hz
    assert th.parse_config(th.config_bytes(100, wake_on_motion=2)) is None


def test_accel_limit_option_admits_other_firmware_ranges():
    frame = bytes.fromhex("34 08 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00")  # 2.05 g
    strict_range = TH.decoder(TH.make_config(100))
    assert strict_range.feed(th.RAW_UUID, frame, 0.0) == [] and strict_range.stats.bad_frames == 1
    wide = TH.decoder(TH.make_config(100, accel_limit_g=8))
    (batch,) = wide.feed(th.RAW_UUID, frame, 0.0)
    assert batch.accel_mps2[0, 0] == 2100 / 1024 * G


def test_virtual_thingy_conversation():
    vd = TH.virtual_device()
    assert vd.read(th.CONFIG_UUID) == bytes.fromhex("E8 03 F4 01 F4 01 0A 00 01")  # 10 Hz at power-on
    assert vd.read("2a19") == bytes([87])
    assert not vd.streaming
    vd.on_subscribe(th.RAW_UUID)
    assert vd.streaming and vd.config.rate_hz == 10
    vd.on_write(th.CONFIG_UUID, th.config_bytes(300))
    vd.on_write(th.CONFIG_UUID, b"\x01\x02")
    assert vd.rejected_writes == 2 and vd.config.rate_hz == 10
    vd.on_write(th.CONFIG_UUID, th.config_bytes(200))
    assert vd.config.rate_hz == 200
    vd.on_disconnect()
    assert not vd.streaming and vd.config.rate_hz == 200  # the config is kept (stored in flash)
    notes = vd.encode(np.tile([0.0, 0.0, 3 * G], (4, 1)), None, np.arange(4) / 200)
    got = merged(feed_all(TH.decoder(TH.make_config(200)), notes))
    assert np.allclose(got.accel_mps2[:, 2], 2048 / 1024 * G)  # saturated at +/-2 g, like the chip
