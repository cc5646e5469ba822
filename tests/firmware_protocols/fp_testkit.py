"""Helpers shared by the firmware_protocols tests: sample generators, feeding, comparisons."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

import firmware_protocols as fp
from firmware_protocols import ImuBatch, SensorProtocol, StreamConfig

G = fp.STANDARD_GRAVITY_MPS2
VECTOR_DIR = Path(fp.__file__).parent / "vectors"


def full_scale(config: StreamConfig) -> tuple[float, float | None]:
    """(accel m/s^2, gyro rad/s or None) full scale of a configuration."""
    gyro = None if config.gyro_range_dps is None else config.gyro_range_dps * math.pi / 180.0
    return config.accel_range_g * G, gyro


def all_configs(protocol: type[SensorProtocol]) -> list[StreamConfig]:
    """Every rate x accel range x gyro range (plus accelerometer-only) the protocol supports."""
    gyros: list[float | None] = list(protocol.gyro_ranges_dps) or [None]
    if protocol.gyro_ranges_dps and getattr(protocol, "accel_only_supported", True):
        gyros.append(None)
    out = []
    for rate in protocol.rates_hz:
        for acc in protocol.accel_ranges_g:
            for gyro in gyros:
                try:
                    out.append(protocol.make_config(rate, acc, False if gyro is None else gyro))
                except ValueError:
                    continue  # a combination the sensor cannot run (documented per protocol)
    return out


def make_samples(
    config: StreamConfig, n: int, rng: np.random.Generator, *, t0: float = 12.5, extremes: bool = True
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Random samples within full scale (plus exact +/- full scale and beyond when ``extremes``)."""
    acc_fs, gyro_fs = full_scale(config)
    acc = rng.uniform(-0.98, 0.98, (n, 3)) * acc_fs
    gyro = None if gyro_fs is None else rng.uniform(-0.98, 0.98, (n, 3)) * gyro_fs
    if extremes and n >= 4:
        acc[0] = [acc_fs, -acc_fs, 0.0]
        acc[1] = [2.0 * acc_fs, -3.0 * acc_fs, G]  # beyond full scale: saturates like the chip
        if gyro is not None and gyro_fs is not None:
            gyro[0] = [gyro_fs, -gyro_fs, 0.0]
            gyro[1] = [5.0 * gyro_fs, -2.0 * gyro_fs, 0.1]
    t = t0 + np.arange(n) / config.rate_hz
    return acc, gyro, t


def feed_all(decoder: fp.Decoder, notes, times=None) -> list[ImuBatch]:
    """Feed notifications (objects with char_uuid/payload) one at a time."""
    out: list[ImuBatch] = []
    for i, note in enumerate(notes):
        t = float(i) * 0.01 if times is None else float(times[i])
        out.extend(decoder.feed(note.char_uuid, note.payload, t))
    return out


def merged(batches: list[ImuBatch]) -> ImuBatch | None:
    return fp.merge_batches(batches)


def same_samples(a: ImuBatch | None, b: ImuBatch | None, *, host_times: bool = True) -> bool:
    """Equal samples (exactly), and equal arrival times when ``host_times``."""
    if a is None or b is None:
        return a is None and b is None

    def eq(x: np.ndarray | None, y: np.ndarray | None) -> bool:
        if x is None or y is None:
            return x is None and y is None
        return x.shape == y.shape and bool(np.array_equal(x, y))

    ok = eq(a.accel_mps2, b.accel_mps2) and eq(a.gyro_rads, b.gyro_rads) and eq(a.sensor_time_s, b.sensor_time_s)
    if host_times:
        ok = ok and eq(a.arrival_times(), b.arrival_times())
    return ok


def assert_possible(protocol: type[SensorProtocol], config: StreamConfig, batches: list[ImuBatch]) -> None:
    """Every emitted value is finite and within the sensor's full scale; sensor time increases.

    ``protocol.limits(config)`` is the largest magnitude the chip can report at that setting
    (the nominal range, or its binary full scale, e.g. 8.192 g for a "+/-8 g" setting, or less
    when the wire format saturates first, e.g. Thingy:52 gyro Q11.5 at 1024 deg/s); it must not
    be far above the nominal range.
    """
    acc_fs, gyro_fs = full_scale(config)
    acc_lim, gyro_lim = protocol.limits(config)  # type: ignore[attr-defined]
    assert 0.99 * acc_fs <= acc_lim <= 1.2 * acc_fs
    last_t = -math.inf
    for b in batches:
        assert np.isfinite(b.accel_mps2).all()
        assert np.abs(b.accel_mps2).max(initial=0.0) <= acc_lim + 1e-9
        if b.gyro_rads is not None:
            assert gyro_fs is not None
            assert 0.5 * gyro_fs <= gyro_lim <= 1.2 * gyro_fs
            assert np.isfinite(b.gyro_rads).all()
            assert np.abs(b.gyro_rads).max(initial=0.0) <= gyro_lim + 1e-9
        if b.sensor_time_s is not None:
            st = b.sensor_time_s
            assert np.isfinite(st).all()
            if len(st):
                assert st[0] > last_t, (st[0], last_t)
                assert (np.diff(st) > 0).all()
                last_t = float(st[-1])
        assert math.isfinite(b.host_time_s)


def mutate(notes: list[bytes], rng: np.random.Generator, count: int) -> list[bytes]:
    """Truncate, corrupt, duplicate, drop, reorder notifications and insert garbage."""
    out = list(notes)
    for _ in range(count):
        if not out:
            out.append(bytes(rng.integers(0, 256, 5, dtype=np.uint8)))
            continue
        k = int(rng.integers(0, len(out)))
        p = bytearray(out[k])
        op = int(rng.integers(0, 7))
        if op == 0 and p:
            out[k] = bytes(p[: int(rng.integers(0, len(p)))])
        elif op == 1 and p:
            p[int(rng.integers(0, len(p)))] ^= 1 << int(rng.integers(0, 8))
            out[k] = bytes(p)
        elif op == 2:
            out.insert(k, bytes(p))
        elif op == 3:
            out.insert(k, bytes(rng.integers(0, 256, int(rng.integers(0, 40)), dtype=np.uint8)))
        elif op == 4:
            out.pop(k)
        elif op == 5 and len(out) > 1:
            k2 = int(rng.integers(0, len(out)))
            out[k], out[k2] = out[k2], out[k]
        elif op == 6 and p:
            out[k] = bytes(p) + bytes(p[: int(rng.integers(1, len(p) + 1))])
    return out


def load_vectors(sensor: str) -> list[dict]:
    data = json.loads((VECTOR_DIR / f"{sensor}.json").read_text())
    assert data["sensor"] == sensor
    return data["vectors"]


def vector_files() -> list[str]:
    return sorted(p.stem for p in VECTOR_DIR.glob("*.json"))
