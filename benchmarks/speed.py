"""Offline throughput of ``vbt analyze``: a 1-hour, 200 Hz, 6-axis recording end to end.

Builds (once, cached under the system temp directory) a simulated one-hour WitMotion session at
200 Hz with gyro -- sets of squats separated by rests, raw packets exactly as the sensor sends
them -- then times `vbt.analysis.analyze_path` on it: reading and validating the file, decoding
every notification, and the whole pipeline. Target (issue 3): >= 1000x real time on one core,
i.e. <= 3.6 s for the hour, with memory linear in input length (peak memory is measured with
``tracemalloc`` on the first quarter, half and whole of the recording and printed per hour).

Usage::

    python benchmarks/speed.py           # one hour
    python benchmarks/speed.py --quick   # 15 minutes (extrapolated)
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import tracemalloc
from pathlib import Path

from vbt.analysis import analyze_path, analyze_recording
from vbt.recording.reader import Recording, open_recording


def build(minutes: float, path: Path) -> Path:
    """Simulate ``minutes`` of squat sets at 200 Hz (WitMotion packets) and write them."""
    if path.exists():
        return path
    from vbt.sim import Athlete, Scenario, SetPlan, simulate

    # Sets of ~30-60 s with 3-minute rests; the tail pads the session to the full length.
    n_sets = max(1, int(minutes * 60.0 // 215.0))
    sets = [SetPlan("squat", load_pct=70.0 + 2 * (i % 5), stop_rir=2, rest_before_s=180.0) for i in range(n_sets)]
    probe = simulate(Scenario(Athlete.random(3), sets, rate_hz=200.0, gyro=True, sensor="samples", faults="none"), seed=3)
    tail = max(3.0, minutes * 60.0 - probe.duration_s + 3.0)
    scenario = Scenario(Athlete.random(3), sets, rate_hz=200.0, gyro=True, sensor="witmotion", faults="typical",
                        tail_s=tail)
    sim = simulate(scenario, seed=3)
    tmp = path.with_suffix(".tmp.gz")
    sim.write(tmp)
    os.replace(tmp, path)
    for p in tmp.parent.glob(tmp.name.split(".")[0] + "*.labels.json"):
        p.unlink(missing_ok=True)
    return path


def peak_memory_mb(rec: Recording, fraction: float) -> float:
    """Peak traced memory (MB) while analysing the first ``fraction`` of a recording's packets."""
    cols = rec.packet_columns()
    (uuid, (times, payloads)), = cols.items()
    n = int(len(times) * fraction)
    part = Recording.from_packets(rec.header, [(float(t), uuid, p) for t, p in zip(times[:n], payloads[:n], strict=True)])
    tracemalloc.start()
    analyze_recording(part)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="15 minutes instead of 60")
    ap.add_argument("--no-memory", action="store_true", help="skip the memory measurement")
    args = ap.parse_args(argv)
    minutes = 15.0 if args.quick else 60.0
    path = Path(tempfile.gettempdir()) / f"vbt-speed-v2-{minutes:.0f}min-200hz-witmotion.jsonl.gz"
    t0 = time.perf_counter()
    build(minutes, path)
    print(f"input: {path} ({path.stat().st_size / 1e6:.1f} MB, built/cached in {time.perf_counter() - t0:.1f} s)")

    t0 = time.perf_counter()
    rec = open_recording(path)
    t_read = time.perf_counter() - t0
    duration = rec.duration_s
    t0 = time.perf_counter()
    result = analyze_recording(rec)
    t_analyse = time.perf_counter() - t0
    t0 = time.perf_counter()
    analyze_path(path)
    t_total = time.perf_counter() - t0
    print(f"recording: {duration / 60:.1f} min, {len(rec)} packets, {len(result.reps)} reps in {len(result.sets)} sets")
    print(f"read + validate:       {t_read:6.2f} s")
    print(f"decode + pipeline:     {t_analyse:6.2f} s")
    print(f"analyze_path (all):    {t_total:6.2f} s  -> {duration / t_total:,.0f}x real time "
          f"({'meets' if duration / t_total >= 1000 else 'MISSES'} the 1000x target)")
    if not args.no_memory:
        peaks = [(f, peak_memory_mb(rec, f)) for f in (0.25, 0.5, 1.0)]
        for f, mb in peaks:
            print(f"peak memory, first {f:4.0%} ({duration * f / 60:5.1f} min): {mb:7.1f} MB "
                  f"({mb / (duration * f / 3600):6.1f} MB per hour)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

