"""``vbt import``: turn a generic IMU CSV file into a vbt recording (samples body).

    vbt import phone_log.csv --out squat_set1.jsonl.gz --exercise squat --load-kg 100
    vbt import wit.csv --acc-unit mps2 --gyro-unit rads --athlete Ana --out wit.jsonl

The CSV format (``t`` in s; ``ax, ay, az`` in g; optional ``gx, gy, gz`` in deg/s) is described in
docs/recording.md and `vbt.recording.csv_import`. The recording keeps the CSV's time axis and
its exact values (converted to m/s^2 and rad/s), so `vbt analyze` gives the same result on the
CSV and on the recording. The output is written to a temporary file and renamed when complete:
a failed import never leaves a half-written recording, and ``--force`` replaces an existing
file only once the new one is whole.

Prints one line: samples, duration, estimated rate, gyro yes/no and any warnings.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from pathlib import Path
from typing import Any

from vbt.commands._common import add_csv_unit_options, add_exercise_option, add_load_option, existing_file
from vbt.errors import OutputFileError, RecordingWriteError, UsageError

_OUT_SUFFIXES = (".jsonl", ".jsonl.gz")
_NOTHING_WRITTEN = "nothing was written (an existing file is unchanged); fix that or choose another --out"


def register(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "import",
        help="convert a generic IMU CSV file (t, ax, ay, az[, gx, gy, gz]) into a vbt recording",
        description="Convert a CSV of IMU samples into a vbt recording (decoded-samples body). "
        "Header row required: t (seconds), ax, ay, az (g, or m/s^2 with --acc-unit mps2), and "
        "optionally gx, gy, gz (deg/s, or rad/s with --gyro-unit rads). Repeated timestamps, "
        "irregular spacing and gaps are fine; other columns are ignored.",
    )
    parser.add_argument("csv", type=Path, metavar="CSV", help="the CSV file (.csv or .csv.gz)")
    parser.add_argument("--out", type=Path, required=True, metavar="FILE.jsonl[.gz]",
                        help="the recording to write (.jsonl.gz is compressed)")
    add_csv_unit_options(parser)
    add_exercise_option(parser)
    add_load_option(parser)
    parser.add_argument("--athlete", default=None, metavar="NAME", help="who lifted (stored in the recording)")
    parser.add_argument("--notes", default="", metavar="TEXT", help="free text stored in the recording")
    parser.add_argument("--force", action="store_true", help="replace --out if it already exists")
    return parser


def run(args: argparse.Namespace) -> int:
    from vbt.pipeline.settings import resolve_exercise
    from vbt.recording.csv_import import read_csv_samples
    from vbt.recording.writer import RecordingWriter, describe_os_error

    out: Path = args.out
    if not out.name.lower().endswith(_OUT_SUFFIXES):
        raise UsageError("--out", str(out), "name the recording FILE.jsonl or FILE.jsonl.gz (compressed)")
    if out.is_dir():
        raise UsageError("--out", str(out), "that is a folder; give a file name such as set1.jsonl.gz")
    csv_path = existing_file(args.csv, what="CSV")
    if out.exists() and out.resolve() == csv_path.resolve():
        raise UsageError("--out", str(out), "that is the input file; give another name")
    if out.exists() and not args.force:
        raise UsageError("--out", str(out), "the file exists; pass --force to replace it or choose another name")
    exercise = resolve_exercise(args.exercise).name if args.exercise else None

    samples = read_csv_samples(csv_path, acc_unit=args.acc_unit, gyro_unit=args.gyro_unit)
    header = samples.recording_header(exercise=exercise, load_kg=args.load_kg, athlete=args.athlete,
                                      notes=args.notes)
    # same folder, so the final rename is atomic; the suffix keeps gzip on for .gz outputs
    tmp = out.with_name(f".{out.name}.part-{os.getpid()}{'.gz' if out.name.lower().endswith('.gz') else ''}")
    try:
        # origin 0: the recording keeps the CSV's own time axis, exactly
        with RecordingWriter(tmp, header, origin_s=0.0, line_flush=False) as writer:
            for batch in samples.batches():
                writer.write_samples(batch)
        os.replace(tmp, out)
    except RecordingWriteError as err:
        _remove(tmp)
        raise OutputFileError(out, err.reason, _NOTHING_WRITTEN) from None
    except OSError as err:  # the final rename
        _remove(tmp)
        raise OutputFileError(out, describe_os_error(err), _NOTHING_WRITTEN) from None
    except BaseException:
        _remove(tmp)
        raise

    rate = f"~{samples.rate_hz:g} Hz" if samples.rate_hz else "rate unknown"
    line = (f"imported {len(samples)} samples, {samples.duration_s:.1f} s, {rate}, "
            f"gyro: {'yes' if samples.has_gyro else 'no'} -> {out}")
    if samples.warnings:
        n = len(samples.warnings)
        line += f" ({n} warning{'s' if n > 1 else ''}: {'; '.join(samples.warnings)})"
    print(line)
    return 0


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
