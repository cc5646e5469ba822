"""The dashboard under load: replay a 200 Hz recording at 10x through the whole window.

    python benchmarks/replay_speed.py                    # ohp_witmotion_200hz at 10x
    python benchmarks/replay_speed.py FILE --speed 5

Runs the real dashboard offscreen with the real clock: `ReplaySource` paced at ``--speed``,
the session on the worker thread, the bridge draining at 30 frames/s, every widget redrawing.
Prints how long the replay took against the ideal (recording length / speed), whether every
trace sample the worker produced reached the screen's buffer ("drops no samples"), the frames
drawn, and the longest gap between two frames (how long the UI thread was ever unresponsive).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", nargs="?", type=Path, default=ROOT / "recordings" / "ohp_witmotion_200hz.jsonl.gz")
    parser.add_argument("--speed", type=float, default=10.0)
    parser.add_argument("--fps", type=float, default=30.0)
    args = parser.parse_args(argv)

    from vbt.analysis import analyze_path
    from vbt.recording.reader import open_recording
    from vbt.ui.launch import build_dashboard, run_until

    duration_s = open_recording(args.file).duration_s
    dash = build_dashboard(offscreen=True, db_path=False, sound=False, fps=args.fps, size=(1600, 1000))
    dash.window.show()
    t0 = time.perf_counter()
    dash.window.open_replay(args.file, speed=args.speed)
    run_until(dash, lambda: dash.model.finished is not None, timeout_s=3600)
    wall_s = time.perf_counter() - t0
    model, bridge = dash.model, dash.bridge
    sent = dash.backend.controller.translator_stats["trace_points"]
    same = model.finished.result.to_dict() == analyze_path(args.file).to_dict()
    dash.close()
    ideal_s = duration_s / args.speed
    print(f"{args.file.name}: {duration_s:.1f} s of recording at {args.speed:g}x, dashboard at {args.fps:g} fps")
    print(f"  wall time         {wall_s:6.2f} s (ideal {ideal_s:.2f} s, {100 * (wall_s / ideal_s - 1):+.0f} %)")
    print(f"  trace samples     {model.trace.total} on screen of {sent} produced "
          f"({'none dropped' if model.trace.total == sent else 'DROPPED'})")
    print(f"  final result      {'equals' if same else 'DIFFERS from'} vbt analyze")
    print(f"  frames drawn      {bridge.frames} ({bridge.frames / wall_s:.1f}/s) for {bridge.received} messages")
    print(f"  longest UI stall  {1000 * bridge.max_drain_gap_s:6.0f} ms between two frames")
    return 0 if model.trace.total == sent and same else 1


if __name__ == "__main__":
    raise SystemExit(main())
