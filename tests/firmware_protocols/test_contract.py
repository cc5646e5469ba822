"""The contract every registered protocol keeps (firmware_protocols/_base.py), checked for all of them.

* bytes from the air never raise: random bytes and mutated real streams (truncated, corrupted,
  duplicated, dropped, reordered, garbage) decode without exceptions and without impossible
  values (non-finite, beyond full scale, sensor time not increasing);
* splitting/merging notifications changes nothing; ``feed_many`` equals sequential ``feed``;
* encode -> decode round trips within one LSB for every rate x range (saturating at full scale);
* strict mode raises `ProtocolError`;
* the hex test vectors in firmware_protocols/vectors/*.json decode to their expected values;
* the virtual device follows the host's start/stop writes.
"""

from __future__ import annotations

import importlib
import math

import numpy as np
import pytest
from fp_testkit import (
    G,
    all_configs,
    assert_possible,
    feed_all,
    load_vectors,
    make_samples,
    merged,
    mutate,
    same_samples,
    vector_files,
)
from hypothesis import given
from hypothesis import strategies as st

import firmware_protocols as fp
from firmware_protocols import ProtocolError, StreamConfig
from firmware_protocols._framing import parse_hex

PROTOCOLS = sorted(fp.PROTOCOLS.values(), key=lambda p: p.name)
IDS = [p.name for p in PROTOCOLS]


def _encode_stream(protocol, config, n, rng, *, extremes=True):
    acc, gyro, t = make_samples(config, n, rng, extremes=extremes)
    enc = protocol.encoder(config)
    notes = enc.encode(acc, gyro, t) + enc.flush()
    return notes, (acc, gyro, t)


def _preamble(protocol, config):
    """Notifications a host sees before data (e.g. Polar START responses carrying FACTOR)."""
    hook = getattr(protocol, "preamble_notifications", None)
    return list(hook(config)) if hook else []


def test_registry_has_all_five_families():
    assert set(fp.PROTOCOLS) >= {
        "witmotion", "polar_h10", "polar_verity_sense", "metawear", "metawear_fusion", "movesense", "thingy52",
    }
    for p in PROTOCOLS:
        assert fp.get_protocol(p.name.upper()) is p
        assert p.verified_on_hardware is False  # we have no devices; docstrings say so too
        assert "Verified on hardware: **no**" in (importlib.import_module(p.__module__).__doc__ or "")


def test_get_protocol_unknown_lists_known():
    with pytest.raises(KeyError, match="witmotion"):
        fp.get_protocol("fitbit")


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=IDS)
@given(data=st.lists(st.tuples(st.integers(0, 2), st.binary(max_size=260)), max_size=25))
def test_random_bytes_never_raise(protocol, data):
    config = protocol.default_config()
    dec = protocol.decoder(config)
    chars = [*protocol.notify_uuids, "00002a19-0000-1000-8000-00805f9b34fb"]
    out = []
    for i, (which, payload) in enumerate(data):
        out.extend(dec.feed(chars[which % len(chars)], payload, 0.01 * i))
    assert_possible(protocol, config, out)
    assert dec.stats.notifications == len(data)


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=IDS)
@given(seed=st.integers(0, 2**32 - 1), n_mut=st.integers(0, 12))
def test_mutated_streams_never_raise_and_bulk_equals_sequential(protocol, seed, n_mut):
    rng = np.random.default_rng(seed)
    configs = all_configs(protocol)
    config = configs[int(rng.integers(0, len(configs)))]
    notes, _ = _encode_stream(protocol, config, int(rng.integers(1, 80)), rng)
    pre = _preamble(protocol, config)
    char = notes[0].char_uuid if notes else protocol.notify_uuids[0]
    payloads = mutate([nt.payload for nt in notes], rng, n_mut)
    times = np.cumsum(rng.uniform(0.001, 0.05, len(payloads)))
    seq = protocol.decoder(config)
    feed_all(seq, pre)
    out_seq = []
    for p, t in zip(payloads, times, strict=True):
        out_seq.extend(seq.feed(char, p, float(t)))
    assert_possible(protocol, config, out_seq)
    bulk = protocol.decoder(config)
    feed_all(bulk, pre)
    cut = int(rng.integers(0, len(payloads) + 1))
    out_bulk = bulk.feed_many(char, payloads[:cut], times[:cut]) + bulk.feed_many(char, payloads[cut:], times[cut:])
    assert same_samples(merged(out_seq), merged(out_bulk))
    assert seq.stats == bulk.stats


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=IDS)
@given(seed=st.integers(0, 2**32 - 1))
def test_split_and_merged_notifications_give_identical_samples(protocol, seed):
    rng = np.random.default_rng(seed)
    configs = all_configs(protocol)
    config = configs[int(rng.integers(0, len(configs)))]
    notes, _ = _encode_stream(protocol, config, int(rng.integers(1, 120)), rng)
    pre = _preamble(protocol, config)
    ref = protocol.decoder(config)
    feed_all(ref, pre)
    expected = merged(feed_all(ref, notes))
    framing = getattr(protocol, "stream_framing", "packets")
    dec = protocol.decoder(config)
    feed_all(dec, pre)
    if framing == "bytes":
        # any re-chunking of the byte stream: same samples (host times differ by construction)
        stream = b"".join(nt.payload for nt in notes)
        cuts = sorted(set(rng.integers(0, len(stream) + 1, int(rng.integers(0, 2 * len(notes) + 2))).tolist()))
        edges = [0, *cuts, len(stream)]
        chunks = [stream[a:b] for a, b in zip(edges, edges[1:], strict=False)]
        got = []
        for i, c in enumerate(chunks):
            got.extend(dec.feed(notes[0].char_uuid, c, float(i)))
        assert same_samples(expected, merged(got), host_times=False)
    else:
        regroup = getattr(protocol, "regroup_notifications", None)
        if regroup is not None:
            # the protocol's own continuation scheme (e.g. Movesense DATA_PART2) re-split
            got = feed_all(dec, regroup(notes, rng))
            assert same_samples(expected, merged(got), host_times=False)
        else:
            got = feed_all(dec, notes)
            assert same_samples(expected, merged(got))
    # bulk decoding in arbitrary groups equals one-at-a-time decoding
    bulk = protocol.decoder(config)
    feed_all(bulk, pre)
    times = 0.01 * np.arange(len(notes))
    out = []
    i = 0
    while i < len(notes):
        k = int(rng.integers(1, 40))
        group = notes[i : i + k]
        if len({g.char_uuid for g in group}) == 1:
            out.extend(bulk.feed_many(group[0].char_uuid, [g.payload for g in group], times[i : i + k]))
        else:
            out.extend(feed_all(bulk, group, times[i : i + k]))
        i += k
    assert same_samples(expected, merged(out))


def _check_round_trip(protocol, config, rng, n=60):
    notes, (acc, gyro, t) = _encode_stream(protocol, config, n, rng)
    dec = protocol.decoder(config)
    feed_all(dec, _preamble(protocol, config))
    got = merged(feed_all(dec, notes))
    assert got is not None, config
    assert len(got) == n, (config, len(got))
    res = protocol.resolution(config)
    acc_lim, gyro_lim = protocol.limits(config)
    # the sensor saturates at its nominal range or at its i16 full scale, whichever is lower
    acc_fs = min(config.accel_range_g * G, acc_lim)
    want_acc = np.clip(acc, -acc_fs, acc_fs)
    assert np.abs(got.accel_mps2 - want_acc).max() <= res.accel_mps2 * 1.0001 + 1e-9, config
    if config.gyro_range_dps is None:
        assert got.gyro_rads is None
    else:
        gyro_fs = min(math.radians(config.gyro_range_dps), gyro_lim)
        assert got.gyro_rads is not None
        assert np.abs(got.gyro_rads - np.clip(gyro, -gyro_fs, gyro_fs)).max() <= res.gyro_rads * 1.0001 + 1e-9
    if protocol.has_sensor_clock:
        assert got.sensor_time_s is not None
        assert np.abs(got.sensor_time_s - t).max() <= res.time_s + 1e-9, config
    else:
        assert got.sensor_time_s is None
    assert dec.stats.bad_frames == 0 and dec.stats.skipped_bytes == 0


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=IDS)
def test_round_trip_every_rate_and_range(protocol):
    rng = np.random.default_rng(7)
    configs = all_configs(protocol)
    assert configs
    for config in configs:
        _check_round_trip(protocol, config, rng)


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=IDS)
def test_round_trip_continues_across_encode_calls(protocol):
    """Consecutive encode calls continue one stream (counters, deltas, packing)."""
    rng = np.random.default_rng(11)
    config = protocol.make_config(protocol.rates_hz[-1])
    acc, gyro, t = make_samples(config, 301, rng, extremes=False)
    enc = protocol.encoder(config)
    notes = []
    for a, b in ((0, 1), (1, 150), (150, 151), (151, 301)):
        notes += enc.encode(acc[a:b], None if gyro is None else gyro[a:b], t[a:b])
    notes += enc.flush()
    dec = protocol.decoder(config)
    feed_all(dec, _preamble(protocol, config))
    got = merged(feed_all(dec, notes))
    # sensors that pack samples never send a partly filled packet (MetaWear: 3 per packet)
    assert got is not None and 299 <= len(got) <= 301
    res = protocol.resolution(config)
    assert np.abs(got.accel_mps2 - acc[: len(got)]).max() <= res.accel_mps2 * 1.0001 + 1e-9


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=IDS)
def test_strict_mode_raises_protocol_error(protocol):
    rng = np.random.default_rng(3)
    config = protocol.default_config()
    notes, _ = _encode_stream(protocol, config, 40, rng, extremes=False)
    data_notes = [n for n in notes if n.payload]
    first, second = data_notes[0], data_notes[1]
    strict = protocol.decoder(config, strict=True)
    feed_all(strict, _preamble(protocol, config))
    with pytest.raises(ProtocolError) as info:
        strict.feed(first.char_uuid, first.payload[:-1], 0.0)
        strict.feed(second.char_uuid, second.payload, 0.01)
    assert info.value.sensor == protocol.name
    # the lenient decoder counts the same problem instead
    lenient = protocol.decoder(config)
    feed_all(lenient, _preamble(protocol, config))
    lenient.feed(first.char_uuid, first.payload[:-1], 0.0)
    lenient.feed(second.char_uuid, second.payload, 0.01)
    assert lenient.stats.bad_frames + lenient.stats.resyncs >= 1


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=IDS)
def test_virtual_device_follows_start_and_stop_writes(protocol):
    rng = np.random.default_rng(5)
    vd = protocol.virtual_device()
    assert vd.config.rate_hz == protocol.default_rate_hz  # power-on defaults
    # the rate a lifter would use: the fastest one up to ~200 Hz
    config = protocol.make_config(max(r for r in protocol.rates_hz if r <= 210))
    dec = protocol.decoder(config)
    replies = []
    for uuid in protocol.notify_uuids:
        replies += vd.on_subscribe(uuid)
    for w in protocol.start_writes(config):
        replies += vd.on_write(w.char_uuid, w.payload)
    feed_all(dec, replies)
    assert vd.streaming
    assert vd.config.rate_hz == config.rate_hz
    assert vd.config.accel_range_g == config.accel_range_g
    assert vd.config.gyro_range_dps == config.gyro_range_dps
    acc, gyro, t = make_samples(config, 300, rng, extremes=False)
    got = merged(feed_all(dec, vd.encode(acc, gyro, t)))
    assert got is not None and len(got) >= 200  # packing sensors hold back a partly filled packet
    res = protocol.resolution(config)
    assert np.abs(got.accel_mps2 - acc[: len(got)]).max() <= res.accel_mps2 * 1.0001 + 1e-9
    for w in protocol.stop_writes(config):
        vd.on_write(w.char_uuid, w.payload)
    for uuid in protocol.notify_uuids:
        vd.on_unsubscribe(uuid)
    assert not vd.streaming


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=IDS)
def test_advertisement_and_profile(protocol):
    uuids = {fp.normalize_uuid(c.uuid) for s in protocol.services for c in s.characteristics}
    for u in protocol.notify_uuids:
        assert fp.normalize_uuid(u) in uuids
    for config in all_configs(protocol):
        for w in protocol.start_writes(config) + protocol.stop_writes(config):
            assert fp.normalize_uuid(w.char_uuid) in uuids
            assert w.delay_after_s >= 0
    if protocol.advertised_service_uuids:
        assert fp.match_advertisement(None, [protocol.advertised_service_uuids[0].upper()]) is protocol
    assert fp.match_advertisement("Some Headphones", []) is None


VECTORS = [(sensor, v) for sensor in vector_files() for v in load_vectors(sensor)]


@pytest.mark.parametrize(("sensor", "vector"), VECTORS, ids=[f"{s}:{v['name']}" for s, v in VECTORS])
def test_hex_vectors(sensor, vector):
    assert vector["origin"].startswith(("derived from", "captured from"))
    protocol = fp.get_protocol(sensor)
    config = StreamConfig.from_dict({"options": {}, **vector["config"]})
    dec = protocol.decoder(config)
    out = []
    for i, note in enumerate(vector["notifications"]):
        out.extend(dec.feed(note["char"], parse_hex(note["hex"]), 0.01 * i))
    got = merged(out)
    expected = vector["expected"]
    if not expected:
        assert got is None
    else:
        assert got is not None and len(got) == len(expected)
        want_acc = np.array([e["accel_mps2"] if "accel_mps2" in e else np.array(e["accel_g"]) * G for e in expected])
        np.testing.assert_allclose(got.accel_mps2, want_acc, rtol=0, atol=1e-9)
        if expected[0]["gyro_dps"] is None:
            assert got.gyro_rads is None
        else:
            want_gyro = np.radians(np.array([e["gyro_dps"] for e in expected]))
            np.testing.assert_allclose(got.gyro_rads, want_gyro, rtol=0, atol=1e-9)
        if expected[0]["sensor_time_s"] is None:
            assert got.sensor_time_s is None
        else:
            want_t = np.array([e["sensor_time_s"] for e in expected])
            np.testing.assert_allclose(got.sensor_time_s, want_t, rtol=0, atol=1e-9)
    stats = dec.stats.as_dict()
    for key, value in vector.get("stats", {}).items():
        assert stats[key] == value, (key, stats)
    if "battery_pct" in vector:
        assert dec.battery_pct == vector["battery_pct"]
    for key, value in vector.get("info", {}).items():
        assert dec.info[key] == (pytest.approx(value) if isinstance(value, float | list) else value), key
