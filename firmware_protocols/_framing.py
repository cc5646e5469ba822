"""Shared helpers for the protocol modules: hex parsing, packet-to-notification mapping,
counter unwrapping, quantisation and the LSB-first bit packing Polar delta frames use.

Everything here is pure (standard library + NumPy) and protocol-agnostic; each protocol module
documents which helper implements which part of its wire format.
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from ._types import ImuBatch

_HEX_SEPARATORS = re.compile(r"[\s:\-_,]+")


def parse_hex(text: str) -> bytes:
    """Parse hex as BLE explorer apps show it: ``55 61 ..``, ``55:61``, ``55-61``, ``0x5561``.

    A leading ``0x`` (per token) is accepted; separators are spaces, ``:``, ``-``, ``_`` and
    ``,``. Tokens may be single bytes (``0x55 0x61``) or runs (``5561aa``).

    Raises:
        ValueError: naming the offending text when it is not an even number of hex digits.
    """
    tokens = [t for t in _HEX_SEPARATORS.split(text.strip()) if t]
    digits = []
    for token in tokens:
        tok = token[2:] if token[:2].lower() == "0x" else token
        if len(tok) == 1 and len(tokens) > 1:
            tok = "0" + tok  # "0x5" in a list of single bytes means 05
        digits.append(tok)
    joined = "".join(digits)
    if len(joined) % 2:
        raise ValueError(f"{text!r} has an odd number of hex digits ({len(joined)})")
    try:
        return bytes.fromhex(joined)
    except ValueError:
        raise ValueError(f"{text!r} is not hex (expected pairs of 0-9/a-f, e.g. '55 61 00 ff')") from None


def notification_ends(lengths: Sequence[int] | np.ndarray, offset: int = 0) -> np.ndarray:
    """Exclusive end offset of each notification inside the concatenation of all payloads.

    Args:
        lengths: Payload length of each notification, in order.
        offset: Bytes already buffered before the first payload (a partial frame).
    """
    return np.cumsum(np.asarray(lengths, dtype=np.int64)) + offset


def completing_notification(ends: np.ndarray, last_byte_pos: np.ndarray | int) -> np.ndarray:
    """Index of the notification that delivered byte ``last_byte_pos`` (completing a frame)."""
    return np.searchsorted(ends, last_byte_pos, side="right")


def unwrap_counter(values: np.ndarray, bits: int, last_unwrapped: int | None) -> np.ndarray:
    """Unwrap a free-running ``bits``-bit counter into a monotonic int64 sequence.

    Each step is taken modulo ``2**bits`` (so a wrap from ``0xFFFFFFFF`` to ``0`` is +1), which
    assumes consecutive readings are less than half a wrap apart -- true for every counter we
    decode (Movesense ms: 24.8 days per half wrap).

    Args:
        values: Raw counter readings in arrival order.
        bits: Counter width.
        last_unwrapped: The unwrapped value of the reading before ``values[0]`` (None at start).

    Returns:
        Unwrapped int64 values; the first one is ``values[0]`` itself at stream start.
    """
    raw = np.asarray(values, dtype=np.int64)
    if raw.size == 0:
        return raw
    modulus = np.int64(1) << bits
    half = modulus >> 1
    prev = np.empty_like(raw)
    if last_unwrapped is None:
        prev[0] = raw[0]
        base = raw[0]
    else:
        prev[0] = last_unwrapped % modulus
        base = last_unwrapped
    prev[1:] = raw[:-1]
    step = (raw - prev) % modulus
    # a step of more than half a wrap is a counter that went backwards (reordering), keep the sign
    step = np.where(step >= half, step - modulus, step)
    return base + np.cumsum(step)


def quantize(values: np.ndarray, lsb_per_unit: float, bits: int = 16) -> np.ndarray:
    """Round ``values * lsb_per_unit`` to the nearest integer, saturating at a signed ``bits`` range.

    This is what a sensor's ADC does at full scale: values beyond range clip, they do not wrap.
    """
    lo = -(1 << (bits - 1))
    hi = (1 << (bits - 1)) - 1
    scaled = np.rint(np.asarray(values, dtype=np.float64) * lsb_per_unit)
    scaled = np.nan_to_num(scaled, nan=0.0, posinf=hi, neginf=lo)
    return np.clip(scaled, lo, hi).astype(np.int64)


def pack_signed_lsb_first(values: np.ndarray, width: int) -> bytes:
    """Pack integers as consecutive ``width``-bit two's-complement fields, LSB-first.

    Bit ``i`` of the stream is bit ``i % 8`` of byte ``i // 8`` (the Polar SDK's delta-frame
    convention); the last byte is zero-padded.
    """
    v = np.asarray(values, dtype=np.int64).ravel()
    if width == 0 or v.size == 0:
        return b""
    mask = (np.int64(1) << width) - 1
    u = v & mask
    bits = ((u[:, None] >> np.arange(width, dtype=np.int64)) & 1).astype(np.uint8).ravel()
    return np.packbits(bits, bitorder="little").tobytes()


def unpack_signed_lsb_first(data: bytes | memoryview, width: int, count: int) -> np.ndarray:
    """Inverse of `pack_signed_lsb_first`: ``count`` signed ``width``-bit fields (int64)."""
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    if width == 0:
        return np.zeros(count, dtype=np.int64)
    raw = np.frombuffer(data, dtype=np.uint8)
    bits = np.unpackbits(raw, bitorder="little")[: width * count].reshape(count, width).astype(np.int64)
    u = bits @ (np.int64(1) << np.arange(width, dtype=np.int64))
    sign = np.int64(1) << (width - 1)
    return np.where(u & sign, u - (sign << 1), u)


def min_signed_width(values: np.ndarray) -> int:
    """Smallest two's-complement bit width that holds every value (0 for all zeros)."""
    v = np.asarray(values, dtype=np.int64)
    if v.size == 0:
        return 0
    hi = int(v.max())
    lo = int(v.min())
    if hi == 0 and lo == 0:
        return 0
    need_hi = hi.bit_length() + 1 if hi > 0 else 1
    need_lo = (-lo - 1).bit_length() + 1 if lo < 0 else 1
    return max(need_hi, need_lo)


def batch_from_notifications(
    accel_mps2: np.ndarray,
    gyro_rads: np.ndarray | None,
    sensor_time_s: np.ndarray | None,
    arrival_time_s: np.ndarray,
    rate_hz: float | None,
) -> list[ImuBatch]:
    """One merged `ImuBatch` (with per-sample arrival times) for a bulk ``feed_many`` result."""
    if accel_mps2.shape[0] == 0:
        return []
    arrival = np.ascontiguousarray(arrival_time_s, dtype=np.float64)
    return [ImuBatch(float(arrival[-1]), accel_mps2, gyro_rads, sensor_time_s, rate_hz, arrival)]


def finite_within(values: np.ndarray, limit: float) -> bool:
    """True when every value is finite and ``|value| <= limit``."""
    if values.size == 0:
        return True
    return bool(np.isfinite(values).all()) and float(np.abs(values).max()) <= limit


def is_close_to(value: float, choices: Sequence[float], rel: float = 1e-6) -> float | None:
    """The element of ``choices`` equal to ``value`` within ``rel``, else None."""
    for c in choices:
        if math.isclose(value, c, rel_tol=rel, abs_tol=1e-9):
            return c
    return None


#: A forward sensor-time jump that exceeds the host clock's advance by more than
#: ``max(HOST_JUMP_TOLERANCE_S, HOST_JUMP_TOLERANCE_REL x host advance)`` plus the packet's own
#: duration is not supported by the host clock (a corrupted timestamp until confirmed).
HOST_JUMP_TOLERANCE_S = 1.0
HOST_JUMP_TOLERANCE_REL = 0.02


def host_supports_jump(advance_s: float, host_advance_s: float, packet_s: float, max_jump_s: float) -> bool:
    """Is a sensor-time advance of ``advance_s`` plausible after ``host_advance_s`` of host time?

    Any advance over ``max_jump_s`` is not; a step back (the caller's ordering rules decide) or
    an unusable host time is.
    """
    if advance_s > max_jump_s:
        return False
    if advance_s <= 0 or not math.isfinite(host_advance_s):
        return True
    tol_s = max(HOST_JUMP_TOLERANCE_S, HOST_JUMP_TOLERANCE_REL * host_advance_s) + packet_s
    return advance_s - host_advance_s <= tol_s


__all__ = [
    "HOST_JUMP_TOLERANCE_REL",
    "HOST_JUMP_TOLERANCE_S",
    "host_supports_jump",
    "Resolution",
    "batch_from_notifications",
    "completing_notification",
    "decode_delta_frames",
    "delta_layout",
    "delta_layouts",
    "extract_fields",
    "encode_delta_frame",
    "finite_within",
    "is_close_to",
    "min_signed_width",
    "notification_ends",
    "pack_signed_lsb_first",
    "parse_hex",
    "quantize",
    "unpack_signed_lsb_first",
    "unwrap_counter",
]


def delta_layout(content: bytes | memoryview, channels: int, resolution_bits: int,
                 max_samples: int = 4096) -> tuple[list[int], list[tuple[int, int, int]]] | None:
    """Structure of a Polar PMD delta ("compressed") payload, or None if malformed.

    Layout (polar-ble-sdk ``BlePMDClient.parseDeltaFramesAll``): a reference sample of
    ``channels`` little-endian signed values of ceil(resolution/8) bytes each, then blocks
    ``[delta_bit_width u8][sample_count u8][ceil(width*count*channels/8) bytes]`` whose
    ``width``-bit two's-complement deltas are read LSB-first; sample[n] = sample[n-1] + delta.

    Stricter than the SDK on purpose: a payload that does not end exactly at a block boundary,
    a block with width 0 or wider than 32 bits, or more than ``max_samples`` samples is
    malformed (truncated or corrupt); the SDK would silently decode part of it and then
    misplace the frame's timestamp.

    Returns:
        ``(reference values, [(width, count, byte offset of the packed bits), ...])``.
    """
    ref_bytes = (resolution_bits + 7) // 8
    off = channels * ref_bytes
    if len(content) < off:
        return None
    if ref_bytes == 2 and channels == 3:
        ref = list(struct.unpack_from("<3h", content))
    else:
        ref = [int.from_bytes(bytes(content[i * ref_bytes : (i + 1) * ref_bytes]), "little", signed=True)
               for i in range(channels)]
    blocks: list[tuple[int, int, int]] = []
    total = 1
    end = len(content)
    while off < end:
        if off + 2 > end:
            return None
        width = content[off]
        count = content[off + 1]
        off += 2
        nbytes = (width * count * channels + 7) // 8
        if width == 0 or width > 32 or count == 0 or off + nbytes > end:
            return None
        total += count
        if total > max_samples:
            return None
        blocks.append((width, count, off))
        off += nbytes
    return ref, blocks


def delta_layouts(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray, channels: int, resolution_bits: int,
                  max_samples: int = 4096) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`delta_layout` of many payloads at once: the same verdicts and blocks, one NumPy pass per block.

    Args:
        buf: uint8 array holding the payloads, padded with at least 2 bytes past the last one.
        starts: Offset in ``buf`` of each payload (the reference sample's first byte).
        lengths: Byte length of each payload.
        channels: Values per sample.
        resolution_bits: Reference value width; ``channels * ceil(resolution_bits / 8)`` bytes.
        max_samples: As in `delta_layout`.

    Returns:
        ``(ok, frame, width, count, byte)``: ``ok[i]`` is False where `delta_layout` returns None
        for payload ``i``; the blocks of the well-formed payloads, ordered by payload and then by
        position, as ``starts`` index, bit width, sample count and offset in ``buf`` of the packed
        bits. Step ``k`` of the loop reads block ``k`` of every payload still going.
    """
    starts = np.asarray(starts, dtype=np.int64)
    lengths = np.asarray(lengths, dtype=np.int64)
    off = np.full(starts.shape[0], channels * ((resolution_bits + 7) // 8), dtype=np.int64)
    ok = lengths >= off
    total = np.ones(starts.shape[0], dtype=np.int64)
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    active = np.flatnonzero(ok & (off < lengths))
    while active.size:
        o, end = off[active], lengths[active]
        pos = starts[active] + o  # o < end, so pos + 1 is inside the padded buffer
        width = buf[pos].astype(np.int64)
        count = buf[pos + 1].astype(np.int64)
        nbytes = (width * count * channels + 7) // 8
        tot = total[active] + count
        good = ((o + 2 <= end) & (width != 0) & (width <= 32) & (count != 0) & (o + 2 + nbytes <= end)
                & (tot <= max_samples))
        ok[active[~good]] = False
        active, o, width, count, nbytes, tot, pos = (
            x[good] for x in (active, o, width, count, nbytes, tot, pos))
        parts.append((active, width, count, pos + 2))
        off[active] = o + 2 + nbytes
        total[active] = tot
        active = active[off[active] < lengths[active]]
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return ok, empty, empty, empty, empty
    frame, width, count, byte = (np.concatenate(x) for x in zip(*parts, strict=True))
    order = np.argsort(frame, kind="stable")  # blocks were found by position: stable keeps that order
    keep = ok[frame[order]]
    order = order[keep]
    return ok, frame[order], width[order], count[order], byte[order]


def extract_fields(buf: np.ndarray, bit_offsets: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """Signed ``widths``-bit LSB-first fields starting at ``bit_offsets`` of ``buf`` (vectorised).

    ``buf`` is a uint8 array padded with at least 16 zero bytes past the last field; widths are
    1..32. Each field is cut from the little-endian 64-bit word that starts at its first byte
    (shift <= 7, so 7 + 32 bits always fit): a view of ``buf`` as overlapping u64 words, one per
    byte offset, makes that word one gather; shifting the field to the top and back sign-extends it.
    """
    buf = np.ascontiguousarray(buf, dtype=np.uint8)
    bit_offsets = np.asarray(bit_offsets, dtype=np.int64)
    widths = np.asarray(widths, dtype=np.int64)
    words = np.ndarray((buf.shape[0] - 7,), dtype="<u8", buffer=buf, strides=(1,))  # word i = bytes i..i+7
    word = words.take(bit_offsets >> 3)
    word >>= bit_offsets.view(np.uint64) & np.uint64(7)
    top = np.uint64(64) - widths.view(np.uint64)
    word <<= top
    out = word.view(np.int64)
    out >>= top.view(np.int64)
    return out


def decode_delta_frames(content: bytes | memoryview, channels: int, resolution_bits: int,
                        max_samples: int = 4096) -> np.ndarray | None:
    """Polar PMD delta payload -> ``(n, channels)`` int64 samples, or None if malformed (`delta_layout`)."""
    layout = delta_layout(content, channels, resolution_bits, max_samples)
    if layout is None:
        return None
    ref, blocks = layout
    parts = [np.array(ref, dtype=np.int64)[None, :]]
    for width, count, off in blocks:
        nbytes = (width * count * channels + 7) // 8
        deltas = unpack_signed_lsb_first(content[off : off + nbytes], width, count * channels)
        parts.append(deltas.reshape(count, channels))
    stacked = np.concatenate(parts) if len(parts) > 1 else parts[0]
    return np.cumsum(stacked, axis=0)


def encode_delta_frame(samples: np.ndarray, resolution_bits: int, max_block: int = 255) -> bytes:
    """Inverse of `decode_delta_frames`: reference sample + minimal-width delta blocks."""
    s = np.asarray(samples, dtype=np.int64)
    ref_bytes = (resolution_bits + 7) // 8
    out = bytearray()
    for v in s[0].tolist():
        out += int(v).to_bytes(ref_bytes, "little", signed=True)
    deltas = np.diff(s, axis=0)
    for start in range(0, deltas.shape[0], max_block):
        block = deltas[start : start + max_block]
        width = max(1, min_signed_width(block))
        out += bytes((width, block.shape[0]))
        out += pack_signed_lsb_first(block.ravel(), width)
    return bytes(out)


class Resolution(NamedTuple):
    """Quantisation step of one stream configuration: what "within one LSB" means in SI units.

    Attributes:
        accel_mps2: One accelerometer LSB (m/s^2).
        gyro_rads: One gyro LSB (rad/s), or 0 without gyro.
        time_s: Resolution of reconstructed sensor time (s), or 0 when the sensor has no clock.
    """

    accel_mps2: float
    gyro_rads: float
    time_s: float
