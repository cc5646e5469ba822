"""``vbt replay``: play a recording through the live path -- in the dashboard, or in the terminal.

    vbt replay recordings/demo_squat.jsonl.gz                 # the dashboard, real time
    vbt replay set.jsonl.gz --speed 4                          # 4x; --max: as fast as possible
    vbt replay set.jsonl.gz --headless --format json           # live path's result, analyze contract
    vbt replay set.jsonl.gz --screenshot set.png               # the final set view as an image

The replay runs the recording's raw packets through the same decoder -> streaming pipeline ->
fatigue tracker path a live sensor uses, so what it shows is what a lifter would have seen.
``--headless --format json`` prints that path's final result in the ``vbt analyze`` contract:
anyone can check that live and offline analysis agree.

With no display (no ``DISPLAY``/``WAYLAND_DISPLAY`` on Linux, or Qt cannot open a window) the
command prints the per-rep report instead -- the same table ``vbt analyze`` prints -- and
exits 0, so the README's quick start works over SSH and in CI.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from vbt.commands._common import (
    about_input,
    add_exercise_option,
    add_load_option,
    existing_file,
    positive_float,
)
from vbt.errors import UsageError

#: Replay speeds the dashboard offers; ``--speed`` may be any value in this range.
MIN_SPEED, MAX_SPEED = 0.5, 10.0


def add_fatigue_options(parser: argparse.ArgumentParser) -> None:
    """``--target-rir`` and ``--vl-cutoff`` (shared by replay, dashboard and demo)."""
    parser.add_argument("--target-rir", type=int, default=2, choices=(1, 2, 3),
                        help="reps in reserve at which STOP shows (default 2)")
    parser.add_argument("--vl-cutoff", type=positive_float, default=None, metavar="PCT",
                        help="stop at this velocity loss in percent instead of the RIR estimate")


def add_display_options(parser: argparse.ArgumentParser) -> None:
    """Options of every command that opens the dashboard."""
    parser.add_argument("--no-sound", action="store_true", help="no sound when STOP shows")
    parser.add_argument("--fps", type=positive_float, default=30.0, help="redraw rate of the dashboard (default 30)")


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``vbt replay`` to the CLI."""
    parser = subparsers.add_parser(
        "replay",
        help="replay a recording in the dashboard (or its per-rep report without a display)",
        description="Replay a recording through the live path: the dashboard when a display exists, "
        "else the per-rep report in the terminal.",
    )
    parser.add_argument("file", type=Path, metavar="FILE", help="a vbt recording (.jsonl/.jsonl.gz) or a CSV file")
    speed = parser.add_mutually_exclusive_group()
    speed.add_argument("--speed", type=positive_float, default=1.0, metavar="X",
                       help=f"playback speed {MIN_SPEED:g}-{MAX_SPEED:g} (default 1 = real time)")
    speed.add_argument("--max", action="store_true", help="replay as fast as possible")
    parser.add_argument("--headless", action="store_true",
                        help="no window: print the live path's final result (see --format)")
    parser.add_argument("--format", choices=("table", "json", "csv"), default="table",
                        help="output of --headless and of runs without a display (default table)")
    parser.add_argument("--screenshot", type=Path, default=None, metavar="PNG",
                        help="render the final set view to this image (no window)")
    parser.add_argument("--set", type=int, default=None, metavar="N", dest="set_index",
                        help="set to show in --screenshot (default: the last)")
    parser.add_argument("--quit-when-done", action="store_true", help="close the dashboard at the end of the recording")
    add_exercise_option(parser)
    add_load_option(parser)
    add_fatigue_options(parser)
    parser.add_argument("--acc-unit", choices=("g", "mps2"), default="g", help="unit of ax, ay, az in a CSV input")
    parser.add_argument("--gyro-unit", choices=("dps", "rads"), default="dps", help="unit of gx, gy, gz in a CSV input")
    add_display_options(parser)
    return parser


def _check(args: argparse.Namespace) -> None:
    existing_file(args.file, what="recording")
    if not args.max and not (MIN_SPEED <= args.speed <= MAX_SPEED):
        raise UsageError("--speed", args.speed, f"give {MIN_SPEED:g} to {MAX_SPEED:g}, or --max for as fast as possible")
    if args.set_index is not None and args.set_index < 1:
        raise UsageError("--set", args.set_index, "sets are numbered from 1")
    if args.exercise is not None:
        from vbt.pipeline.settings import resolve_exercise

        args.exercise = resolve_exercise(args.exercise).name
    if args.vl_cutoff is not None:
        from vbt.fatigue.tracker import validate_vl_cutoff

        validate_vl_cutoff(args.vl_cutoff)
    if args.screenshot is not None:
        from vbt.ui.screenshot import check_output_path

        check_output_path(args.screenshot)


def print_result(result: Any, fmt: str, *, file: Any = None) -> None:
    """Print an `AnalysisResult` exactly as ``vbt analyze`` does (table, json or csv)."""
    import csv
    import json

    from vbt.commands.analyze import CSV_COLUMNS, format_table, rep_rows

    out = file or sys.stdout
    if fmt == "json":
        print(json.dumps(result.to_dict(), separators=(",", ":")), file=out, flush=True)
    elif fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        writer.writerows(rep_rows(result))
        out.flush()
    else:
        print(format_table(result), file=out, flush=True)


def run(args: argparse.Namespace) -> int:
    """Run ``vbt replay``: the dashboard, or the headless report/screenshot."""
    _check(args)
    headless = args.headless or args.screenshot is not None
    if not headless:
        from vbt.ui.app import display_available

        if not display_available():
            print("vbt: no display, so no dashboard: printing the set's per-rep report instead "
                  "(--headless chooses this explicitly)", file=sys.stderr)
            headless = True
    if headless:
        return _run_headless(args)
    return _run_dashboard(args)


def _run_headless(args: argparse.Namespace) -> int:
    from vbt.errors import VbtError
    from vbt.ui.headless import replay_headless

    try:
        run_ = asyncio.run(replay_headless(
            args.file, exercise=args.exercise, load_kg=args.load_kg, target_rir=args.target_rir,
            vl_cutoff_pct=args.vl_cutoff, acc_unit=args.acc_unit, gyro_unit=args.gyro_unit,
        ))
    except VbtError as err:
        problem = about_input(err, args.file, exercise_option=args.exercise)
        if problem is err:
            raise
        raise problem from err
    for warning in run_.warnings:
        print(f"vbt: warning: {args.file}: {warning}", file=sys.stderr)
    print_result(run_.result, args.format)
    if args.screenshot is not None:
        write_screenshot(run_, args.screenshot, args.set_index)
    return 0


def write_screenshot(run_: Any, path: Path, set_index: int | None) -> None:
    """Render the chosen (default: last) set of a headless run; one line on stderr."""
    from vbt.ui.screenshot import render_set_view

    model = run_.model
    if set_index is None:
        state = model.current_set
    else:
        state = model.set_by_index(set_index)
        if state is None:
            known = ", ".join(str(s.index) for s in model.sets) or "none"
            raise UsageError("--set", set_index, f"the recording has sets {known}")
    render_set_view(state, path, lift=run_.lift)
    what = "no reps found" if state is None else f"set {state.index}, {len(state.reps)} reps"
    print(f"vbt: set view written to {path} ({what})", file=sys.stderr)


def _run_dashboard(args: argparse.Namespace) -> int:
    from vbt.ui import messages as m
    from vbt.ui.launch import build_dashboard, run_dashboard

    lift = None
    if args.exercise is not None or args.load_kg is not None or args.target_rir != 2:
        from vbt.recording.reader import read_header
        from vbt.ui.headless import lift_for

        try:
            header = read_header(args.file)
        except Exception:  # noqa: BLE001 - CSV files have no header; the options decide
            header = None
        lift = lift_for(header, exercise=args.exercise, load_kg=args.load_kg, target_rir=args.target_rir)
        lift = m.LiftInfo(lift.exercise, lift.load_kg, args.target_rir)
    dash = build_dashboard(lift=lift, sound=not args.no_sound, fps=args.fps, vl_cutoff_pct=args.vl_cutoff)
    dash.window.open_replay(args.file, speed=None if args.max else args.speed)
    return run_dashboard(dash, quit_when_done=args.quit_when_done)
