"""Decode throughput of every registered sensor protocol, on one core.

For each protocol it encodes a realistic stream (a lifter's bar: gravity plus repeated
up/down accelerations, bar roll, sensor noise) at the configuration vbt uses for that sensor,
then times

* ``feed``      -- one notification at a time, as the live path calls it;
* ``feed_many`` -- all notifications in one call, as offline replay/analysis calls it;

and prints samples per second. Target (issue 5): ``feed_many`` >= 1,000,000 samples/s for
the WitMotion and Polar decoders, so decoding is never the bottleneck of the live path or of
replay.

Usage::

    python benchmarks/decode.py            # ~200k samples per protocol
    python benchmarks/decode.py --quick    # 20k samples per protocol (smoke run)
"""

from __future__ import annotations

import os

# one core: no threaded BLAS anywhere (set before NumPy is imported)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import firmware_protocols as fp  # noqa: E402

TARGET_SAMPLES_PER_S = 1_000_000
TARGET_PROTOCOLS = ("witmotion", "polar_h10", "polar_verity_sense")


def lifting_signal(n: int, rate_hz: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Specific force (m/s^2), angular rate (rad/s) and times of a set of reps with noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / rate_hz
    rep_hz = 0.4  # one rep every 2.5 s
    vertical = 6.0 * np.sin(2 * math.pi * rep_hz * t) * (np.sin(2 * math.pi * 0.05 * t) > -0.3)
    roll = 0.2 * np.sin(2 * math.pi * 0.3 * t)
    acc = np.column_stack([
        0.4 * np.sin(2 * math.pi * 0.9 * t),
        fp.STANDARD_GRAVITY_MPS2 * np.sin(roll),
        fp.STANDARD_GRAVITY_MPS2 * np.cos(roll) + vertical,
    ]) + rng.normal(0.0, 0.05, (n, 3))
    gyro = np.column_stack([
        np.gradient(roll, t) if n > 1 else np.zeros(n),
        0.05 * np.sin(2 * math.pi * rep_hz * t),
        0.02 * np.cos(2 * math.pi * 0.2 * t),
    ]) + rng.normal(0.0, 0.005, (n, 3))
    return acc, gyro, 10.0 + t


def vbt_config(protocol: type[fp.SensorProtocol]) -> fp.StreamConfig:
    """The configuration vbt streams with: the fastest rate up to ~200 Hz, default ranges."""
    rate = max(r for r in protocol.rates_hz if r <= 210)
    return protocol.make_config(rate)


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def bench(protocol: type[fp.SensorProtocol], n: int, repeats: int) -> dict[str, object]:
    config = vbt_config(protocol)
    acc, gyro, t = lifting_signal(n, config.rate_hz)
    enc = protocol.encoder(config)
    notes = enc.encode(acc, gyro if config.gyro_range_dps is not None else None, t) + enc.flush()
    by_char: dict[str, list[bytes]] = {}
    for note in notes:
        by_char.setdefault(note.char_uuid, []).append(note.payload)
    (char, payloads), = by_char.items()
    host = np.arange(len(payloads)) * (1.0 / max(len(payloads) / (n / config.rate_hz), 1.0))
    expected = len(protocol.decoder(config).feed_many(char, payloads, host)[0])

    def run_bulk() -> None:
        dec = protocol.decoder(config)
        out = dec.feed_many(char, payloads, host)
        assert len(out[0]) == expected

    per_note = payloads[: min(len(payloads), 60_000)]
    per_note_host = host[: len(per_note)].tolist()
    per_note_samples = len(protocol.decoder(config).feed_many(char, per_note, host[: len(per_note)])[0])

    def run_feed() -> None:
        dec = protocol.decoder(config)
        feed = dec.feed
        for payload, h in zip(per_note, per_note_host, strict=True):
            feed(char, payload, h)

    bulk_s = best_of(run_bulk, repeats)
    feed_s = best_of(run_feed, max(1, repeats - 1))
    return {
        "protocol": protocol.name,
        "config": f"{config.rate_hz:g} Hz, +/-{config.accel_range_g:g} g"
        + (f", {config.gyro_range_dps:g} dps" if config.gyro_range_dps else ", no gyro"),
        "notifications": len(payloads),
        "bytes_per_note": sum(map(len, payloads)) / len(payloads),
        "samples": expected,
        "feed": per_note_samples / feed_s,
        "feed_many": expected / bulk_s,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20k samples per protocol, one repeat")
    parser.add_argument("--samples", type=int, default=None, help="samples per protocol (default 200000)")
    args = parser.parse_args()
    n = args.samples or (20_000 if args.quick else 200_000)
    repeats = 1 if args.quick else 3
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    print(f"decode throughput, one core, {n} samples per protocol, best of {repeats}")
    print(f"{'protocol':<20} {'configuration':<28} {'notes':>8} {'B/note':>7} "
          f"{'feed (samples/s)':>17} {'feed_many (samples/s)':>22}  target")
    ok = True
    for name in sorted(fp.PROTOCOLS):
        r = bench(fp.PROTOCOLS[name], n, repeats)
        target = ""
        if name in TARGET_PROTOCOLS:
            met = r["feed_many"] >= TARGET_SAMPLES_PER_S  # type: ignore[operator]
            ok &= bool(met)
            target = ">= 1e6 " + ("met" if met else "MISSED")
        print(f"{r['protocol']:<20} {r['config']:<28} {r['notifications']:>8} {r['bytes_per_note']:>7.1f} "
              f"{r['feed']:>17,.0f} {r['feed_many']:>22,.0f}  {target}")
    print("all targets met" if ok else "some targets missed (machine load matters: rerun on an idle core)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
