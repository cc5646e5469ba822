"""Corrupted sensor timestamps vs genuine gaps, judged against the host's arrival times.

Movesense and Polar PMD (H10 ACC; Verity Sense ACC + GYRO) carry a sensor timestamp per packet.
One notification whose timestamp bytes are corrupted to +5 s used to be accepted at once, and
every following (correct) packet was then "not after the last sample" and dropped until real
time caught up: ~5 s of data lost for one bad stamp. The decoders now hold a forward jump that
the host's arrival times do not support until the next packet confirms it (module docstrings:
"Forward jumps are checked against the host's arrival times").

Streams are built with each module's encoder; host arrival times follow the sensor clock (with
an offset, 0.5 % clock drift and 20-50 ms of latency) unless a test says otherwise.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest
from fp_testkit import assert_possible, feed_all, make_samples, merged, same_samples
from hypothesis import given
from hypothesis import strategies as st

import firmware_protocols as fp
from firmware_protocols import ProtocolError
from firmware_protocols import movesense as ms
from firmware_protocols import polar_pmd as pm

MS = fp.get_protocol("movesense")
H10 = fp.get_protocol("polar_h10")
VERITY = fp.get_protocol("polar_verity_sense")

#: (protocol, config, samples per packet/frame, measurement type byte to corrupt or None)
CASES = {
    "movesense": (MS, MS.make_config(104, 8, 2000), 8, None),
    "polar_h10": (H10, H10.make_config(200, 8), 36, pm.TYPE_ACC),
    "verity_acc": (VERITY, VERITY.make_config(52, 8, 2000), 36, pm.TYPE_ACC),
    "verity_gyro": (VERITY, VERITY.make_config(52, 8, 2000), 36, pm.TYPE_GYRO),
}


def _encode(protocol, config, t):
    rng = np.random.default_rng(0)
    acc, gyro, _ = make_samples(config, len(t), rng, extremes=False)
    enc = protocol.encoder(config)
    return enc.encode(acc, gyro, t) + enc.flush()


def _host_times(notes, t, *, seed=1):
    """Arrival: host clock (offset, 0.5 % fast) when the packet's last sample was taken, plus latency."""
    rng = np.random.default_rng(seed)
    last = np.array([t[n.last_sample_index] for n in notes])
    host = 1000.0 + 1.005 * last + rng.uniform(0.02, 0.05, len(notes))
    return np.maximum.accumulate(host)  # notifications arrive in order


def _preamble(protocol, config):
    hook = getattr(protocol, "preamble_notifications", None)
    return list(hook(config)) if hook else []


def _decode(protocol, config, notes, host, *, strict=False):
    dec = protocol.decoder(config, strict=strict)
    feed_all(dec, _preamble(protocol, config))
    out = []
    for note, h in zip(notes, host, strict=True):
        out.extend(dec.feed(note.char_uuid, note.payload, float(h)))
    return dec, merged(out)


def _decode_bulk(protocol, config, notes, host, chunk=25):
    dec = protocol.decoder(config)
    feed_all(dec, _preamble(protocol, config))
    out = []
    for i in range(0, len(notes), chunk):
        group = notes[i : i + chunk]
        out.extend(dec.feed_many(group[0].char_uuid, [g.payload for g in group], host[i : i + chunk]))
    return dec, merged(out)


def _is_data(protocol, payload, mtype):
    if protocol is MS:
        return payload[0] == ms.RESP_DATA
    return payload[0] & 0x3F == mtype


def _shift_stamp(protocol, payload: bytes, seconds: float) -> bytes:
    """The notification with its timestamp field moved by ``seconds`` (everything else intact)."""
    p = bytearray(payload)
    if protocol is MS:
        ts = struct.unpack_from("<I", p, 2)[0]
        struct.pack_into("<I", p, 2, (ts + round(seconds * 1000)) % (1 << 32))
    else:
        ts = struct.unpack_from("<Q", p, 1)[0]
        struct.pack_into("<Q", p, 1, ts + round(seconds * 1e9))
    return bytes(p)


def _corrupt(protocol, notes, mtype, which, seconds):
    """Shift the stamp of the ``which``-th data notification (of type ``mtype``); returns (notes, its sample count)."""
    idx = [i for i, n in enumerate(notes) if _is_data(protocol, n.payload, mtype)]
    k = idx[which]
    size = notes[k].last_sample_index - notes[idx[which - 1]].last_sample_index
    bad = list(notes)
    bad[k] = type(notes[k])(notes[k].char_uuid, _shift_stamp(protocol, notes[k].payload, seconds),
                            notes[k].last_sample_index)
    return bad, size


def _assert_times_are_true_times(protocol, config, got, t):
    """Every emitted sample sits at one of the true sample times (nothing is mis-timed)."""
    res = protocol.resolution(config).time_s
    j = np.clip(np.searchsorted(t, got.sensor_time_s), 1, len(t) - 1)
    nearest = np.minimum(np.abs(t[j] - got.sensor_time_s), np.abs(t[j - 1] - got.sensor_time_s))
    assert nearest.max() <= res + 1e-9
    assert np.all(np.diff(got.sensor_time_s) > 0)


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("shift_s", [5.0, -5.0])
def test_one_corrupted_timestamp_loses_at_most_that_notification(case, shift_s):
    protocol, config, per_packet, mtype = CASES[case]
    t = 50.0 + np.arange(int(20 * config.rate_hz)) / config.rate_hz  # 20 s of samples
    notes = _encode(protocol, config, t)
    host = _host_times(notes, t)
    dec0, clean = _decode(protocol, config, notes, host)
    assert clean is not None and len(clean) == len(t) and dec0.stats.bad_frames == 0
    bad_notes, size = _corrupt(protocol, notes, mtype, 8, shift_s)
    assert 0 < size <= per_packet  # delta frames are split when they would not fit the MTU
    dec, got = _decode(protocol, config, bad_notes, host)
    assert got is not None
    assert len(clean) - len(got) <= size, f"lost {len(clean) - len(got)} samples for one {size}-sample packet"
    if shift_s > 0:
        assert dec.stats.bad_frames == 1  # held as an unsupported forward jump, then dropped
    else:
        assert dec.stats.out_of_order == 1 and dec.stats.bad_frames == 0
    _assert_times_are_true_times(protocol, config, got, t)
    assert_possible(protocol, config, [got])
    # the bulk path agrees sample for sample (and arrival for arrival)
    bulk, got_bulk = _decode_bulk(protocol, config, bad_notes, host)
    assert same_samples(got, got_bulk) and bulk.stats == dec.stats


@pytest.mark.parametrize("case", ["movesense", "polar_h10", "verity_acc"])
def test_corrupted_timestamp_is_a_typed_error_in_strict_mode(case):
    protocol, config, _, mtype = CASES[case]
    t = 50.0 + np.arange(int(5 * config.rate_hz)) / config.rate_hz
    notes = _encode(protocol, config, t)
    host = _host_times(notes, t)
    bad_notes, _ = _corrupt(protocol, notes, mtype, 3, 5.0)
    with pytest.raises(ProtocolError, match="held until confirmed") as info:
        _decode(protocol, config, bad_notes, host, strict=True)
    assert info.value.sensor == protocol.name


@pytest.mark.parametrize("case", ["movesense", "polar_h10", "verity_acc"])
def test_genuine_five_second_gap_with_matching_host_times_is_accepted_at_once(case):
    protocol, config, per_packet, _ = CASES[case]
    n = 30 * per_packet
    t = 50.0 + np.arange(n) / config.rate_hz
    t[12 * per_packet :] += 5.0  # the sensor paused for 5 s (at a packet boundary)
    notes = _encode(protocol, config, t)
    host = _host_times(notes, t)  # the host waited through the pause too
    dec, got = _decode(protocol, config, notes, host)
    assert got is not None and len(got) == n
    assert dec.stats.bad_frames == 0 and dec.stats.out_of_order == 0
    np.testing.assert_allclose(got.sensor_time_s, t, rtol=0, atol=protocol.resolution(config).time_s + 1e-9)
    # the first packet after the pause arrives with the pause's end, not one packet later
    first_after = int(np.argmax(got.sensor_time_s > t[12 * per_packet - 1] + 1.0))
    assert got.arrival_times()[first_after] < 1000.0 + 1.005 * t[-1]


@pytest.mark.parametrize(
    ("protocol", "config"),
    [(MS, MS.make_config(104, 8, 2000)), (H10, H10.make_config(200, 8)), (H10, H10.make_config(25, 8)),
     (VERITY, VERITY.make_config(52, 8, 2000))],
    ids=["movesense", "polar_h10_200hz", "polar_h10_25hz", "verity"],
)
@pytest.mark.parametrize("group", [3, 8])
def test_batched_host_times_are_not_held(protocol, config, group):
    """Several notifications delivered at once (same host time), and a 4 s stall then a burst."""
    t = 50.0 + np.arange(int(30 * config.rate_hz)) / config.rate_hz
    notes = _encode(protocol, config, t)
    host = _host_times(notes, t)
    for i in range(0, len(host), group):  # each group arrives with its last notification
        host[i : i + group] = host[min(i + group, len(host)) - 1]
    stall = (host >= host[len(host) // 2]) & (host < host[len(host) // 2] + 4.0)
    host[stall] = host[stall].max()  # a 4 s stall: everything queued arrives together
    dec, got = _decode(protocol, config, notes, host)
    assert got is not None and len(got) == len(t)
    assert dec.stats.bad_frames == 0 and dec.stats.out_of_order == 0


@pytest.mark.parametrize("case", ["movesense", "polar_h10", "verity_acc"])
def test_real_jump_the_host_clock_does_not_show_is_confirmed_without_loss(case):
    """The sensor's buffer overflowed during a link stall: a 5 s hole in sensor time, but the packets
    before and after it arrive back to back. The first packet after the hole is held, the next one
    confirms it, and the held packet's samples still go out (in order)."""
    protocol, config, per_packet, _ = CASES[case]
    n = 30 * per_packet
    t = 50.0 + np.arange(n) / config.rate_hz
    cut = 12 * per_packet
    t[cut:] += 5.0
    notes = _encode(protocol, config, t)
    host = _host_times(notes, t)
    before = np.array([n_.last_sample_index < cut for n_ in notes])
    # delivered late, just before the first packet after the hole
    host[before] = host[~before][0] - 0.01 * np.arange(before.sum())[::-1] - 0.01
    dec, got = _decode(protocol, config, notes, host)
    assert dec.stats.bad_frames == (2 if protocol is VERITY else 1)  # held once per stream (ACC, GYRO)
    assert got is not None and len(got) == n
    np.testing.assert_allclose(got.sensor_time_s, t, rtol=0, atol=protocol.resolution(config).time_s + 1e-9)
    bulk, got_bulk = _decode_bulk(protocol, config, notes, host, chunk=10)
    assert same_samples(got, got_bulk) and bulk.stats == dec.stats


@pytest.mark.parametrize("case", ["movesense", "polar_h10"])
def test_reset_after_reconnect_accepts_any_timestamp(case):
    protocol, config, _, _ = CASES[case]
    t = 50.0 + np.arange(int(3 * config.rate_hz)) / config.rate_hz
    notes = _encode(protocol, config, t)
    half = len(notes) // 2
    dec = protocol.decoder(config)
    feed_all(dec, notes[:half], 0.01 * np.arange(half))
    dec.reset()  # reconnected: the sensor clock may be anywhere now
    later = [type(x)(x.char_uuid, _shift_stamp(protocol, x.payload, 30.0), x.last_sample_index) for x in notes[half:]]
    got = merged(feed_all(dec, later, 0.01 * (half + np.arange(len(later)))))
    assert got is not None and dec.stats.bad_frames == 0
    assert len(got) == t.shape[0] - notes[half - 1].last_sample_index - 1


@pytest.mark.parametrize("case", ["movesense", "polar_h10", "verity_acc"])
@given(seed=st.integers(0, 2**32 - 1))
def test_random_stamp_shifts_and_batching_keep_the_contract(case, seed):
    """Random stamp shifts, gaps and host batching: never raises, sensor time increases, bulk == sequential."""
    protocol, config, per_packet, mtype = CASES[case]
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 25)) * per_packet
    t = 50.0 + np.arange(n) / config.rate_hz
    for _ in range(int(rng.integers(0, 3))):  # genuine gaps
        t[int(rng.integers(1, n)) :] += float(rng.choice([0.5, 2.0, 5.0, 70.0]))
    notes = _encode(protocol, config, t)
    host = _host_times(notes, t, seed=seed)
    if rng.random() < 0.5:
        group = int(rng.integers(2, 10))
        for i in range(0, len(host), group):
            host[i : i + group] = host[min(i + group, len(host)) - 1]
    data_idx = [i for i, x in enumerate(notes) if _is_data(protocol, x.payload, mtype)]
    for _ in range(int(rng.integers(0, 4))):
        k = data_idx[int(rng.integers(0, len(data_idx)))]
        shift = float(rng.choice([5.0, -5.0, 1.5, 30.0, 90.0, -0.05]))
        notes[k] = type(notes[k])(notes[k].char_uuid, _shift_stamp(protocol, notes[k].payload, shift),
                                  notes[k].last_sample_index)
    dec, got = _decode(protocol, config, notes, host)
    assert_possible(protocol, config, [] if got is None else [got])
    bulk, got_bulk = _decode_bulk(protocol, config, notes, host, chunk=int(rng.integers(1, 30)))
    assert same_samples(got, got_bulk) and bulk.stats == dec.stats
