"""``vbt demo``: the dashboard streaming a virtual sensor doing a simulated set -- no hardware.

    vbt demo                                        # a squat set on a virtual WitMotion sensor
    vbt demo --exercise bench --sensor polar_h10 --seed 3
    vbt demo --screenshot demo.png --duration 60    # headless check: run, then save the window

A simulated lifter (`vbt.sim`) lifts; a virtual sensor on the in-process Bluetooth stack
(`vbt.ble`) streams it in its real wire format; the dashboard connects to it with the same
`BleSource` a real sensor uses. Without a display the demo prints the set's per-rep report
instead (the same table ``vbt analyze`` prints). ``--screenshot`` runs on simulated time, so
a minute of lifting takes seconds, and saves the dashboard as it looks at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from vbt.commands._common import positive_float
from vbt.commands.dashboard import add_live_lift_options, lift_from
from vbt.commands.replay import add_display_options, add_fatigue_options, print_result

DEFAULT_SENSOR = "witmotion"
#: The demo lifter goes to 1 rep in reserve, so the STOP flag -- the product's point -- shows.
DEFAULT_STOP_RIR = 1


def demo_feed(exercise: str, stop_rir: int):  # noqa: ANN201 - (protocol, seed) -> SampleFeed
    """Feed factory for the demo's virtual sensor: one simulated set ending ``stop_rir`` short of failure."""

    def make(protocol: Any, seed: int) -> Any:
        from vbt.ble.feeds import SimulatedFeed
        from vbt.sources.ble import recommended_config

        # Simulated at the configuration the dashboard's BleSource will request.
        return SimulatedFeed.for_stream(recommended_config(protocol), exercise=exercise, seed=seed,
                                        stop_rir=stop_rir)

    return make


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``vbt demo`` to the CLI."""
    parser = subparsers.add_parser(
        "demo",
        help="see the dashboard with a simulated lifter on a virtual sensor (no hardware needed)",
        description="Open the dashboard streaming a virtual Bluetooth sensor doing a simulated set. "
        "Without a display, print the set's per-rep report instead.",
    )
    add_live_lift_options(parser, exercises="squat, bench, deadlift, ohp or row")
    add_fatigue_options(parser)
    parser.add_argument("--sensor", default=DEFAULT_SENSOR, metavar="NAME",
                        help=f"which sensor family to emulate (default {DEFAULT_SENSOR})")
    parser.add_argument("--seed", type=int, default=0, help="seed of the simulated lifter and set (default 0)")
    parser.add_argument("--stop-rir", type=int, default=DEFAULT_STOP_RIR, choices=range(0, 6), metavar="N",
                        help=f"the simulated lifter stops with N reps in reserve (default {DEFAULT_STOP_RIR}: "
                             "close enough to failure for STOP to show)")
    parser.add_argument("--faults", choices=("none", "typical", "harsh"), default="none",
                        help="Bluetooth link faults to emulate (default none)")
    parser.add_argument("--screenshot", type=Path, default=None, metavar="PNG",
                        help="run offscreen on simulated time and save the dashboard window to this image")
    parser.add_argument("--duration", type=positive_float, default=None, metavar="S",
                        help="simulated seconds to run with --screenshot or without a display "
                             "(default: the whole simulated set)")
    parser.add_argument("--format", choices=("table", "json", "csv"), default="table",
                        help="report format without a display (default table)")
    add_display_options(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``vbt demo``: the dashboard, an offscreen screenshot, or the headless report."""
    from vbt.ble.environment import parse_virtual_names

    lift = lift_from(args)
    protocol = parse_virtual_names([args.sensor])[0]
    if args.vl_cutoff is not None:
        from vbt.fatigue.tracker import validate_vl_cutoff

        validate_vl_cutoff(args.vl_cutoff)
    if args.screenshot is not None:
        from vbt.ui.screenshot import check_output_path

        check_output_path(args.screenshot)
        return _screenshot(args, lift, protocol)
    from vbt.ui.app import display_available

    if not display_available():
        print("vbt: no display, so no dashboard: printing the simulated set's per-rep report instead",
              file=sys.stderr)
        from vbt.ui.headless import virtual_headless

        run_ = asyncio.run(virtual_headless(protocol, exercise=lift.exercise, load_kg=lift.load_kg,
                                            target_rir=lift.target_rir, vl_cutoff_pct=args.vl_cutoff,
                                            seed=args.seed, faults=args.faults, duration_s=args.duration,
                                            feed=demo_feed(lift.exercise, args.stop_rir)))
        print_result(run_.result, args.format)
        return 0
    from vbt.ui.controller import virtual_choices
    from vbt.ui.launch import build_dashboard, run_dashboard

    dash = build_dashboard(lift=lift, seed=args.seed, faults=args.faults, vl_cutoff_pct=args.vl_cutoff,
                           sound=not args.no_sound, fps=args.fps, db_path=False,
                           virtual_feed=demo_feed(lift.exercise, args.stop_rir))
    choice = next(c for c in virtual_choices() if c.protocol == protocol)
    dash.window.sensor_panel.set_choices([choice, *virtual_choices()])
    dash.backend.connect_sensor(choice)
    return run_dashboard(dash)


def _screenshot(args: argparse.Namespace, lift: Any, protocol: str) -> int:
    """Run the whole dashboard offscreen on simulated time, then save the window."""
    from vbt.clock import FakeClock
    from vbt.ui.controller import virtual_choices
    from vbt.ui.launch import build_dashboard, run_until
    from vbt.ui.screenshot import grab_widget

    clock = FakeClock(until_idle=True)
    dash = build_dashboard(lift=lift, clock=clock, seed=args.seed, faults=args.faults, vl_cutoff_pct=args.vl_cutoff,
                           sound=False, fps=args.fps, db_path=False, offscreen=True, size=(1600, 1000),
                           virtual_feed=demo_feed(lift.exercise, args.stop_rir))
    try:
        dash.window.show()  # laid out and drawn all along, as for a person watching
        choice = next(c for c in virtual_choices() if c.protocol == protocol)
        dash.window.sensor_panel.set_choices([choice, *virtual_choices()])
        dash.backend.connect_sensor(choice)
        dash.backend.wait_idle()
        controller = dash.backend.controller
        duration = args.duration if args.duration is not None else (controller.virtual_duration_s or 60.0)
        run_until(dash, lambda: clock.monotonic() >= duration or dash.model.finished is not None)
        dash.backend.disconnect()
        dash.backend.wait_idle()
        run_until(dash, lambda: dash.model.finished is not None)
        grab_widget(dash.window, args.screenshot)
    finally:
        dash.close()
    state = dash.model.current_set
    what = "no reps found" if state is None else f"set {state.index}, {len(state.reps)} reps"
    print(f"vbt: dashboard written to {args.screenshot} ({what})", file=sys.stderr)
    return 0
