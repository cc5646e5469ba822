"""Polar PMD bulk path (`feed_many`): the vectorised pieces against their per-frame originals.

* `_framing.delta_layouts` (all payloads at once) gives `_framing.delta_layout`'s verdict and
  blocks for well-formed, truncated, extended and random payloads;
* a stream mixing every frame format the decoder reads (ACC raw i8/i16/i24, ACC delta 0x80/0x81,
  GYRO delta 0x80 and f32 delta 0x81), with mutations, moved timestamps, real pauses and START
  responses between calls, decodes in bulk exactly as one notification at a time.
"""

from __future__ import annotations

import struct

import numpy as np
from fp_testkit import mutate
from hypothesis import given
from hypothesis import strategies as st

import firmware_protocols as fp
from firmware_protocols import polar_pmd as pm
from firmware_protocols._framing import delta_layout, delta_layouts, encode_delta_frame

VERITY = fp.get_protocol("polar_verity_sense")


def _delta_payloads(rng: np.random.Generator, count: int) -> list[bytes]:
    out = []
    for _ in range(count):
        kind = int(rng.integers(0, 5))
        n = int(rng.integers(1, 60))
        samples = np.cumsum(rng.integers(-(1 << int(rng.integers(0, 14))), 1 << 13, (n, 3)), axis=0)
        samples = np.clip(samples, -32768, 32767)
        body = encode_delta_frame(samples, 16, max_block=int(rng.integers(1, 256)))
        if kind == 1:
            body = body[: int(rng.integers(0, len(body) + 1))]
        elif kind == 2:
            body += bytes(rng.integers(0, 256, int(rng.integers(1, 8)), dtype=np.uint8))
        elif kind == 3:
            body = bytes(rng.integers(0, 256, int(rng.integers(0, 40)), dtype=np.uint8))
        elif kind == 4 and body:
            b = bytearray(body)
            b[int(rng.integers(0, len(b)))] ^= 1 << int(rng.integers(0, 8))
            body = bytes(b)
        out.append(body)
    return out


@given(seed=st.integers(0, 2**32 - 1))
def test_delta_layouts_equals_delta_layout(seed):
    rng = np.random.default_rng(seed)
    payloads = _delta_payloads(rng, int(rng.integers(0, 30)))
    max_samples = int(rng.choice([40, 1024]))
    buf = np.frombuffer(b"".join(payloads) + bytes(16), dtype=np.uint8)
    lengths = np.array([len(p) for p in payloads], dtype=np.int64)
    starts = np.cumsum(lengths) - lengths
    ok, frame, width, count, byte = delta_layouts(buf, starts, lengths, 3, 16, max_samples)
    blocks = list(zip(frame.tolist(), width.tolist(), count.tolist(), (byte - starts[frame]).tolist(), strict=True))
    expected_blocks = []
    for i, p in enumerate(payloads):
        layout = delta_layout(p, 3, 16, max_samples)
        assert bool(ok[i]) == (layout is not None)
        if layout is not None:
            expected_blocks += [(i, w, c, o) for w, c, o in layout[1]]
    assert blocks == expected_blocks


def _frame(mtype: int, ftype: int, ts_ns: int, body: bytes) -> bytes:
    return bytes((mtype,)) + struct.pack("<Q", ts_ns) + bytes((ftype,)) + body


def _mixed_stream(rng: np.random.Generator, n_frames: int, rate: float) -> list[bytes]:
    """ACC and GYRO frames in every format the decoder reads, with consistent timestamps."""
    period = 1e9 / rate
    t_acc = t_gyro = 10**10
    out = []
    for _ in range(n_frames):
        n = int(rng.integers(1, 30))
        if rng.random() < 0.5:
            t_acc += round(n * period)
            fmt = int(rng.integers(0, 5))
            if fmt < 3:  # raw i8 / i16 / i24 mG
                width = fmt + 1
                lim = min(8000, (1 << (8 * width - 1)) - 1)
                vals = rng.integers(-lim, lim + 1, (n, 3))
                body = b"".join(int(v).to_bytes(width, "little", signed=True) for v in vals.ravel())
                out.append(_frame(pm.TYPE_ACC, fmt, t_acc, body))
            else:  # delta: 0x80 counts G (x factor x 1000), 0x81 counts mG (x factor)
                lim = 8 if fmt == 3 else 8000
                vals = rng.integers(-lim, lim + 1, (n, 3))
                out.append(_frame(pm.TYPE_ACC, 0x80 | (fmt - 3), t_acc, encode_delta_frame(vals, 16)))
        else:
            t_gyro += round(n * period)
            if rng.random() < 0.5:
                vals = rng.integers(-30000, 30001, (n, 3))
                out.append(_frame(pm.TYPE_GYRO, 0x80, t_gyro, encode_delta_frame(vals, 16)))
            else:  # f32 bit patterns, delta-coded as 32-bit values
                floats = rng.normal(0.0, 3000.0, (n, 3)).astype(np.float32)
                bits = floats.view(np.int32).astype(np.int64)
                out.append(_frame(pm.TYPE_GYRO, 0x81, t_gyro, encode_delta_frame(bits, 32)))
        if rng.random() < 0.05:  # a real pause: both streams jump ahead
            gap = int(rng.choice([2e9, 20e9, 90e9]))
            t_acc += gap
            t_gyro += gap
    return out


def _nudge_stamps(payloads: list[bytes], rng: np.random.Generator, count: int, period_ns: float) -> list[bytes]:
    """Move some frame timestamps: a little ahead or back (less than a frame), far ahead, bit flips."""
    out = list(payloads)
    for _ in range(count):
        if not out:
            break
        k = int(rng.integers(0, len(out)))
        p = bytearray(out[k])
        if len(p) < pm.HEADER_LEN:
            continue
        ts = int.from_bytes(p[1:9], "little")
        op = int(rng.integers(0, 6))
        if op < 3:  # frames hold 1..29 samples: often too little advance for the samples
            ts += int(rng.uniform(-25.0, 10.0) * period_ns)
        elif op == 3:
            ts += int(rng.choice([3e9, 70e9]))
        elif op == 4:
            ts ^= 1 << int(rng.integers(0, 64))
        else:
            ts = 0
        p[1:9] = (ts % (1 << 64)).to_bytes(8, "little")
        out[k] = bytes(p)
    return out


@given(seed=st.integers(0, 2**32 - 1), n_mut=st.integers(0, 10))
def test_bulk_equals_sequential_for_every_frame_format(seed, n_mut):
    rng = np.random.default_rng(seed)
    rate = float(rng.choice([52, 208]))
    gyro = None if rng.random() < 0.2 else 2000
    cfg = VERITY.make_config(rate, 8, gyro)
    payloads = _mixed_stream(rng, int(rng.integers(1, 120)), rate)
    payloads = mutate(_nudge_stamps(payloads, rng, int(rng.integers(0, 20)), 1e9 / rate), rng, n_mut)
    times = np.cumsum(rng.uniform(0.0, 0.3, len(payloads)))
    start = VERITY.preamble_notifications(cfg)
    seq, bulk = VERITY.decoder(cfg), VERITY.decoder(cfg)
    cuts = sorted({0, len(payloads), *rng.integers(0, len(payloads) + 1, 3).tolist()})
    out_seq, out_bulk = [], []
    for a, b in zip(cuts, cuts[1:], strict=False):
        if rng.random() < 0.5:  # START responses: the next frame starts a new SDK-rule history
            for dec in (seq, bulk):
                for note in start:
                    dec.feed(note.char_uuid, note.payload, float(times[a - 1]) if a else 0.0)
        for p, t in zip(payloads[a:b], times[a:b], strict=True):
            out_seq += seq.feed(pm.DATA_UUID, p, float(t))
        out_bulk += bulk.feed_many(pm.DATA_UUID, payloads[a:b], times[a:b])
    a_, b_ = fp.merge_batches(out_seq), fp.merge_batches(out_bulk)
    assert (a_ is None and b_ is None) or (a_ is not None and a_.same_samples(b_))
    if a_ is not None:
        assert np.array_equal(a_.arrival_times(), b_.arrival_times())
    assert seq.stats == bulk.stats
    assert seq.info == bulk.info
