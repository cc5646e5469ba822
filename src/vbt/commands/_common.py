"""Option helpers shared by several subcommands (one definition of each option)."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from vbt.errors import InputFileError, UnknownExerciseError, UnsupportedSensorError, UsageError, VbtError


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a number above 0")
    return value


def add_exercise_option(parser: argparse.ArgumentParser, *, default: str | None = None) -> None:
    parser.add_argument(
        "--exercise",
        default=default,
        metavar="NAME",
        help="squat, front-squat, bench, incline-bench, deadlift, ohp, row, or generic "
        "(default: the recording's own, else generic)",
    )


def add_load_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--load-kg", type=positive_float, default=None, metavar="KG",
        help="bar + plates in kg (enables power; default: the recording's own)",
    )


def add_csv_unit_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--acc-unit", choices=("g", "mps2"), default="g",
                        help="unit of ax, ay, az in a CSV input (default g)")
    parser.add_argument("--gyro-unit", choices=("dps", "rads"), default="dps",
                        help="unit of gx, gy, gz in a CSV input (default deg/s)")


def add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, default=None, metavar="PATH",
                        help="athlete-history database (default: the per-user standard location)")


def existing_file(path: Path, *, what: str = "input") -> Path:
    """Check that ``path`` is a readable, non-empty regular file; raise `InputFileError` otherwise."""
    if not path.exists():
        raise InputFileError(path, "does not exist", f"check the {what} path")
    if path.is_dir():
        raise InputFileError(path, "is a directory", f"give a {what} file inside it")
    if path.stat().st_size == 0:
        raise InputFileError(path, "is empty", f"give a non-empty {what} file")
    return path


def require(condition: bool, option: str, value: object, hint: str) -> None:
    """Raise `UsageError` unless ``condition`` holds."""
    if not condition:
        raise UsageError(option, value, hint)


def about_input(err: VbtError, path: Path, *, exercise_option: str | None = None) -> VbtError:
    """``err`` restated as a problem of the input file ``path``, so the one error line names it.

    An exercise or sensor the *recording's header* names but this vbt does not know is not a
    bad option: `UnknownExerciseError` would blame ``--exercise`` the user never gave. Other
    errors that do not mention the file get its name in front (several inputs: which one failed).

    Args:
        err: What went wrong while reading or analysing ``path``.
        path: The input file.
        exercise_option: The ``--exercise`` value the user gave (None: the header's was used).
    """
    if isinstance(err, UnknownExerciseError) and exercise_option is None:
        return InputFileError(path, f"names exercise {err.name!r}, which this vbt does not know",
                              "pass --exercise with one of: " + ", ".join(err.known))
    if isinstance(err, UnsupportedSensorError):
        return InputFileError(path, f"comes from sensor {err.name!r}, which this vbt cannot decode",
                              "upgrade vbt-monitor (this one decodes " + ", ".join(err.known) + ")")
    if getattr(err, "path", None) is not None or str(path) in str(err):  # names its own file (input, database)
        return err
    wrapped = VbtError(f"{path}: {err}")
    wrapped.exit_code = err.exit_code
    return wrapped
