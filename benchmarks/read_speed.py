"""Recording read speed: a 1-hour, 200 Hz WitMotion packet recording (720k lines, gzip).

Target (docs/recording.md): `open_recording` + `packet_columns` in about 1 s or less. Also
prints the samples-body figure (1 hour, 200 Hz, 6-axis) and the writer's cost per line with the
per-line sync flush that makes recordings crash-safe.

The file is written with `RecordingWriter` exactly as a live recording is (one flushed line per
notification; 20-byte WitMotion 0x55 0x61 frames with plausible int16 contents), into a
temporary folder, unless ``--keep DIR`` names a folder to cache it in.

Usage: ``python benchmarks/read_speed.py [--minutes 60] [--repeat 3] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import struct
import tempfile
import time
from pathlib import Path

import numpy as np

from firmware_protocols import ImuBatch
from vbt.recording.format import RecordingHeader
from vbt.recording.reader import open_recording
from vbt.recording.writer import RecordingWriter

WITMOTION_NOTIFY_UUID = "0000ffe4-0000-1000-8000-00805f9a34fb"  # sensors.md section 1 (note the 9a34fb base)
RATE_HZ = 200.0


def make_packet_recording(path: Path, minutes: float, seed: int = 1) -> float:
    """Write the benchmark packet recording; returns seconds spent writing."""
    rng = np.random.default_rng(seed)
    n = int(minutes * 60 * RATE_HZ)
    # host receive times: 5 ms nominal with BLE-like jitter, never backwards
    t = np.cumsum(rng.uniform(0.003, 0.007, n)) + 1234.5
    raw = rng.normal(0.0, 800.0, (n, 9)).clip(-32768, 32767).astype("<i2")
    head = struct.pack("<BB", 0x55, 0x61)
    header = RecordingHeader(body="packets", sensor="witmotion", sensor_model="WT901BLE68",
                             decoder={"name": "witmotion", "version": "1"}, rate_hz=RATE_HZ,
                             exercise="squat", load_kg=100.0, synthetic=True)
    start = time.perf_counter()
    with RecordingWriter(path, header) as writer:
        for k in range(n):
            writer.write_packet(float(t[k]), WITMOTION_NOTIFY_UUID, head + raw[k].tobytes())
    return time.perf_counter() - start


def make_samples_recording(path: Path, minutes: float, seed: int = 2) -> None:
    rng = np.random.default_rng(seed)
    n = int(minutes * 60 * RATE_HZ)
    t = np.arange(n) / RATE_HZ
    acc = rng.normal(0, 1, (n, 3)) + [0, 0, 9.80665]
    gyro = rng.normal(0, 0.3, (n, 3))
    header = RecordingHeader(body="samples", sensor="imported", rate_hz=RATE_HZ)
    with RecordingWriter(path, header, origin_s=0.0, line_flush=False) as writer:
        step = 2000
        for k in range(0, n, step):
            sl = slice(k, k + step)
            writer.write_samples(ImuBatch(float(t[sl][-1]), acc[sl], gyro[sl], t[sl], RATE_HZ))


def timed(fn, repeat: int) -> tuple[float, object]:
    best, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best.append(time.perf_counter() - start)
    return min(best), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=None, help="cache the generated files in this folder")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        packets = folder / f"witmotion_{args.minutes:g}min_200hz.jsonl.gz"
        samples = folder / f"samples_{args.minutes:g}min_200hz.jsonl.gz"
        if not packets.exists():
            write_s = make_packet_recording(packets, args.minutes)
            lines = int(args.minutes * 60 * RATE_HZ)
            print(f"write (flushed per line, gzip): {write_s:.2f} s = {write_s / lines * 1e6:.1f} us/line")
        if not samples.exists():
            make_samples_recording(samples, args.minutes)

        def read_packets() -> int:
            rec = open_recording(packets)
            cols = rec.packet_columns()
            return sum(len(p) for _, p in cols.values())

        def read_samples() -> int:
            rec = open_recording(samples)
            t, _, _ = rec.sample_columns()
            return len(t)

        secs, n = timed(read_packets, args.repeat)
        size_mb = packets.stat().st_size / 1e6
        print(f"packets: {n} lines, {size_mb:.1f} MB gz: open_recording+packet_columns {secs:.2f} s "
              f"(best of {args.repeat}; target <= ~1 s), {n / secs / 1e3:.0f} k lines/s")
        secs, n = timed(read_samples, max(1, args.repeat - 1))
        print(f"samples: {n} lines (6-axis), {samples.stat().st_size / 1e6:.1f} MB gz: "
              f"open_recording+sample_columns {secs:.2f} s")
        rec = open_recording(packets)
        start = time.perf_counter()
        count = sum(1 for _ in rec.iter_items())
        print(f"items: iterating {count} RawPackets takes {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
