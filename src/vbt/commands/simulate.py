"""``vbt simulate``: write a synthetic, physics-based recording and its ground-truth labels.

    vbt simulate --exercise squat --load-pct 80 --stop-rir 2 --out squat.jsonl.gz
    vbt simulate --exercise bench --sets 3 --to-failure --sensor witmotion --rate 200 --out b.jsonl.gz
    vbt simulate --exercise deadlift --reps 5 --no-gyro --sensor polar --rate 100 --faults harsh --out d.jsonl

Writes FILE.jsonl[.gz] (raw notifications in the chosen sensor's format, or decoded samples
with ``--sensor samples``) and FILE.labels.json (every rep's true concentric start/end, MCV,
MPV, peak velocity, ROM and reps in reserve; failed attempts; unrack/rerack and other events;
the athlete, sensor and link parameters). The header says ``synthetic: true`` and keeps the
seed, the simulator version and the full command that reproduces the file. The same options
and seed always give the same files. See docs/simulator.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
from pathlib import Path
from typing import Any

from vbt.commands._common import positive_float
from vbt.errors import OutputFileError, RecordingWriteError, UsageError

_OUT_SUFFIXES = (".jsonl", ".jsonl.gz")
_EXERCISES = ("squat", "bench", "deadlift", "ohp", "row")
_NOTHING_WRITTEN = "nothing was written (an existing file is unchanged); fix that or choose another --out"


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``vbt simulate`` and its options to the CLI."""
    parser = subparsers.add_parser(
        "simulate",
        help="write a synthetic recording of simulated sets, with ground-truth labels",
        description="Simulate barbell sets (athlete fatigue, bar kinematics, IMU errors, Bluetooth link) and "
        "write a recording plus FILE.labels.json with the true value of every rep. Deterministic from --seed.",
    )
    parser.add_argument("--exercise", required=True, metavar="NAME", help="squat, bench, deadlift, ohp or row")
    parser.add_argument("--sets", type=int, default=1, metavar="N", help="number of sets (default 1)")
    parser.add_argument("--rest", type=positive_float, default=180.0, metavar="S",
                        help="rest between sets in seconds (default 180)")
    rule = parser.add_mutually_exclusive_group()
    rule.add_argument("--reps", type=int, default=None, metavar="N",
                      help="stop after N reps (a failed attempt if the athlete cannot do them)")
    rule.add_argument("--to-failure", action="store_true", help="every set to failure")
    rule.add_argument("--stop-rir", type=int, default=None, metavar="K",
                      help="stop when K reps are left in reserve (default 2)")
    fail = parser.add_mutually_exclusive_group()
    fail.add_argument("--failed-attempt", dest="failed_attempt", action="store_true", default=None,
                      help="with --to-failure: end each set with an attempt that fails (default: 50 %% chance)")
    fail.add_argument("--no-failed-attempt", dest="failed_attempt", action="store_false",
                      help="with --to-failure: stop after the last completed rep")
    load = parser.add_mutually_exclusive_group()
    load.add_argument("--load-pct", type=positive_float, default=None, metavar="P",
                      help="load in %% of the athlete's 1RM (default 75)")
    load.add_argument("--load-kg", type=positive_float, default=None, metavar="KG", help="load in kg (bar + plates)")
    parser.add_argument("--rate", type=positive_float, default=100.0, metavar="HZ",
                        help="sensor sample rate (default 100; must be one the sensor supports)")
    parser.add_argument("--no-gyro", action="store_true", help="accelerometer only")
    parser.add_argument("--sensor", default="samples", metavar="NAME",
                        help="samples (decoded samples), or a sensor whose packet format to write: witmotion, "
                        "polar (H10), verity, metawear, movesense, thingy52 (default samples)")
    parser.add_argument("--faults", choices=("none", "typical", "harsh"), default="typical",
                        help="sensor and link imperfections (default typical; none = ideal sensor and link)")
    parser.add_argument("--seed", type=int, default=1, metavar="S", help="random seed (default 1)")
    parser.add_argument("--athlete-seed", type=int, default=None, metavar="A",
                        help="seed of the simulated athlete (default: --seed); reuse it to keep the same person")
    tempo = parser.add_mutually_exclusive_group()
    tempo.add_argument("--paused", action="store_true", default=None, help="pause every rep at the bottom")
    tempo.add_argument("--touch-and-go", action="store_true", default=None, help="touch-and-go / bounce every rep")
    parser.add_argument("--drop", action="store_true",
                        help="deadlift/row: drop the bar from lockout at the end of the set")
    parser.add_argument("--out", type=Path, required=True, metavar="FILE.jsonl[.gz]",
                        help="recording to write (.jsonl.gz is compressed); labels go to FILE.labels.json")
    parser.add_argument("--force", action="store_true", help="replace existing output files")
    return parser


def canonical_command(args: argparse.Namespace) -> str:
    """The full command line that reproduces this run (every effective option spelled out)."""
    parts = ["vbt", "simulate", "--exercise", args.exercise, "--sets", str(args.sets)]
    if args.sets > 1:
        parts += ["--rest", f"{args.rest:g}"]
    if args.reps is not None:
        parts += ["--reps", str(args.reps)]
    elif args.to_failure:
        parts += ["--to-failure"]
        if args.failed_attempt is True:
            parts += ["--failed-attempt"]
        elif args.failed_attempt is False:
            parts += ["--no-failed-attempt"]
    else:
        parts += ["--stop-rir", str(2 if args.stop_rir is None else args.stop_rir)]
    if args.load_kg is not None:
        parts += ["--load-kg", f"{args.load_kg:g}"]
    else:
        parts += ["--load-pct", f"{75.0 if args.load_pct is None else args.load_pct:g}"]
    parts += ["--rate", f"{args.rate:g}"]
    if args.no_gyro:
        parts += ["--no-gyro"]
    parts += ["--sensor", args.sensor, "--faults", args.faults, "--seed", str(args.seed)]
    if args.athlete_seed is not None:
        parts += ["--athlete-seed", str(args.athlete_seed)]
    if args.paused:
        parts += ["--paused"]
    if args.touch_and_go:
        parts += ["--touch-and-go"]
    if args.drop:
        parts += ["--drop"]
    parts += ["--out", args.out.name]
    return shlex.join(parts)


def build_scenario(args: argparse.Namespace) -> Any:
    """The `vbt.sim.Scenario` the options describe (raises `UsageError` for unusable values)."""
    from firmware_protocols import PROTOCOLS
    from vbt.errors import UnsupportedSensorError
    from vbt.sim import SAMPLES, Athlete, Scenario, SetPlan, check_exercise, resolve_sensor

    exercise = check_exercise(args.exercise)
    if not 1 <= args.sets <= 20:
        raise UsageError("--sets", args.sets, "give 1 to 20 sets")
    if args.reps is not None and not 1 <= args.reps <= 50:
        raise UsageError("--reps", args.reps, "give 1 to 50 reps")
    if args.stop_rir is not None and not 0 <= args.stop_rir <= 10:
        raise UsageError("--stop-rir", args.stop_rir, "give 0 to 10 reps in reserve")
    if args.load_pct is not None and not 30 <= args.load_pct <= 100:
        raise UsageError("--load-pct", args.load_pct, "give 30 to 100 (% of 1RM)")
    if args.failed_attempt is not None and not args.to_failure:
        raise UsageError("--failed-attempt", args.failed_attempt, "only with --to-failure (--reps N beyond the "
                         "athlete's capacity also ends in a failed attempt)")
    if args.drop and exercise not in ("deadlift", "row"):
        raise UsageError("--drop", exercise, "only a deadlift or row is dropped from lockout")
    sensor = resolve_sensor(args.sensor)
    if sensor != SAMPLES:
        if sensor not in PROTOCOLS:
            raise UnsupportedSensorError(args.sensor, [*PROTOCOLS, SAMPLES])
        proto = PROTOCOLS[sensor]
        if proto.rates_hz and float(args.rate) not in proto.rates_hz:
            raise UsageError("--rate", args.rate, f"{sensor} streams at {', '.join(f'{r:g}' for r in proto.rates_hz)} Hz")
    elif not 10 <= args.rate <= 1000:
        raise UsageError("--rate", args.rate, "give 10 to 1000 Hz")
    athlete = Athlete.random(args.seed if args.athlete_seed is None else args.athlete_seed)
    stop_rir = None
    if args.reps is None and not args.to_failure:
        stop_rir = 2 if args.stop_rir is None else args.stop_rir
    sets = [
        SetPlan(
            exercise=exercise, load_pct=None if args.load_kg is not None else (args.load_pct or 75.0),
            load_kg=args.load_kg, reps=args.reps, to_failure=bool(args.to_failure), stop_rir=stop_rir,
            failed_attempt=args.failed_attempt if args.to_failure else None,
            rest_before_s=None if i == 0 else float(args.rest), paused=args.paused,
            touch_and_go=args.touch_and_go, ending="drop" if args.drop else None,
        )
        for i in range(args.sets)
    ]
    return Scenario(athlete=athlete, sets=sets, rate_hz=float(args.rate), gyro=not args.no_gyro, sensor=sensor,
                    faults=args.faults, label=f"{exercise}, {args.sets} set(s)",
                    options={"command": canonical_command(args)})


def run(args: argparse.Namespace) -> int:
    """Simulate, write the recording and labels atomically, print one line; returns 0."""
    from vbt.recording.writer import describe_os_error
    from vbt.sim import describe, labels_path_for, simulate

    out: Path = args.out
    if not out.name.lower().endswith(_OUT_SUFFIXES):
        raise UsageError("--out", str(out), "name the recording FILE.jsonl or FILE.jsonl.gz (compressed)")
    if out.is_dir():
        raise UsageError("--out", str(out), "that is a folder; give a file name such as squat.jsonl.gz")
    labels = labels_path_for(out)
    for path in (out, labels):
        if path.exists() and not args.force:
            raise UsageError("--out", str(out), f"{path} exists; pass --force to replace it or choose another name")
    scenario = build_scenario(args)
    result = simulate(scenario, seed=args.seed)

    gz = ".gz" if out.name.lower().endswith(".gz") else ""
    tmp = out.with_name(f".{out.name}.part-{os.getpid()}{gz}")
    tmp_labels = labels.with_name(f".{labels.name}.part-{os.getpid()}")
    try:
        result.write(tmp, tmp_labels, names=(out.name, labels.name))
        os.replace(tmp, out)
        os.replace(tmp_labels, labels)
    except RecordingWriteError as err:
        _remove(tmp, tmp_labels)
        raise OutputFileError(out, err.reason, _NOTHING_WRITTEN) from None
    except OSError as err:
        _remove(tmp, tmp_labels)
        raise OutputFileError(out, describe_os_error(err), _NOTHING_WRITTEN) from None
    except BaseException:
        _remove(tmp, tmp_labels)
        raise
    print(f"simulated {describe(result)} -> {out} + {labels.name}")
    return 0


def _remove(*paths: Path) -> None:
    for p in paths:
        with contextlib.suppress(OSError):
            p.unlink()
