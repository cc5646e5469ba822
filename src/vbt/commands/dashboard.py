"""``vbt dashboard``: the live dashboard for a real or a virtual sensor.

    vbt dashboard                                   # pick a sensor in the window (Scan, Connect)
    vbt dashboard --sensor WT901BLE68 --exercise squat --load-kg 140
    vbt dashboard --virtual witmotion               # a simulated lifter on an emulated sensor

The window shows the sensor picker and link health, exercise / load / target-RIR inputs, the
set view (one bar per rep, velocity loss, RIR, STOP), the live velocity trace, this session's
sets and earlier sets from the history database. It needs a display; without one, use
``vbt record`` to record and ``vbt replay --headless`` / ``vbt analyze`` to analyse.
"""

from __future__ import annotations

import argparse
from typing import Any

from vbt.commands._common import add_db_option, positive_float
from vbt.commands.replay import add_display_options, add_fatigue_options
from vbt.errors import VbtError


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``vbt dashboard`` to the CLI."""
    parser = subparsers.add_parser(
        "dashboard",
        help="open the live dashboard for a Bluetooth sensor (or a virtual one)",
        description="Open the live dashboard: connect a sensor, see every rep's velocity, the velocity loss, "
        "reps in reserve and a clear STOP at 1-2 reps in reserve.",
    )
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--sensor", default=None, metavar="NAME|ADDRESS",
                     help="connect to this sensor at start (see `vbt scan`)")
    who.add_argument("--virtual", default=None, metavar="SENSOR",
                     help="connect to a virtual sensor doing a simulated set (witmotion, polar, metawear, "
                          "movesense, thingy52)")
    parser.add_argument("--protocol", default=None, metavar="NAME", help="force the protocol of --sensor")
    add_live_lift_options(parser, exercises="squat, front-squat, bench, incline-bench, deadlift, ohp, row or generic")
    add_fatigue_options(parser)
    parser.add_argument("--athlete", default=None, metavar="NAME", help="whose history is shown")
    add_db_option(parser)
    parser.add_argument("--no-save", action="store_true",
                        help="do not store this session's sets in the history database (a real sensor's "
                             "sets are stored when it disconnects; virtual sensors' never)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the simulated lifter of --virtual (default 0)")
    parser.add_argument("--faults", choices=("none", "typical", "harsh"), default="none",
                        help="link faults of --virtual (default none)")
    parser.add_argument("--recordings-dir", type=str, default=None, metavar="DIR",
                        help="where the Record button writes (default: the current folder)")
    add_display_options(parser)
    return parser


def add_live_lift_options(parser: argparse.ArgumentParser, *, exercises: str) -> None:
    """``--exercise`` (default squat) and ``--load-kg`` for live sessions (no recording to default to)."""
    parser.add_argument("--exercise", default="squat", metavar="NAME",
                        help=f"what is lifted: {exercises} (default squat; changeable in the window)")
    parser.add_argument("--load-kg", type=positive_float, default=None, metavar="KG",
                        help="bar + plates in kg (enables power; default unknown)")


def lift_from(args: argparse.Namespace) -> Any:
    """The `LiftInfo` the options ask for (exercise validated against the catalogue)."""
    from vbt.pipeline.settings import resolve_exercise
    from vbt.ui.messages import LiftInfo

    return LiftInfo(resolve_exercise(args.exercise).name, args.load_kg, args.target_rir)


def require_display(command: str) -> None:
    """Raise a one-line error when no window can be opened."""
    from vbt.ui.app import display_available

    if not display_available():
        raise VbtError(f"{command}: no display to open the dashboard on (no usable DISPLAY/WAYLAND_DISPLAY); "
                       "record with `vbt record`, then see the reps with `vbt replay FILE --headless` "
                       "or `vbt analyze FILE`")


def run(args: argparse.Namespace) -> int:
    """Run ``vbt dashboard`` (needs a display)."""
    from pathlib import Path

    lift = lift_from(args)
    virtual = None
    if args.virtual is not None:
        from vbt.ble.environment import parse_virtual_names

        virtual = parse_virtual_names([args.virtual])[0]
    if args.vl_cutoff is not None:
        from vbt.fatigue.tracker import validate_vl_cutoff

        validate_vl_cutoff(args.vl_cutoff)
    require_display("vbt dashboard")
    from vbt.ui.controller import virtual_choices
    from vbt.ui.launch import build_dashboard, run_dashboard
    from vbt.ui.messages import SensorChoice

    dash = build_dashboard(lift=lift, db_path=args.db, athlete=args.athlete, seed=args.seed, faults=args.faults,
                           vl_cutoff_pct=args.vl_cutoff, sound=not args.no_sound, fps=args.fps,
                           save_live_sets=False if args.no_save else None,
                           recordings_dir=Path(args.recordings_dir) if args.recordings_dir else None)
    if virtual is not None:
        choice = next(c for c in virtual_choices() if c.protocol == virtual)
        dash.window.sensor_panel.set_choices([choice, *virtual_choices()])
        dash.backend.connect_sensor(choice)
    elif args.sensor is not None:
        choice = SensorChoice(args.sensor, "ble", args.protocol or "", args.sensor)
        dash.window.sensor_panel.set_choices([choice, *virtual_choices()])
        dash.backend.connect_sensor(choice)
    return run_dashboard(dash)
