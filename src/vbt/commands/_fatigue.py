"""Fatigue and history options shared by the commands that analyse sets (`vbt analyze`, live ones).

One definition of ``--target-rir``, ``--vl-cutoff``, ``--athlete`` and ``--save`` (``--db`` lives in
`vbt.commands._common`), and the two steps a command needs around its analysis::

    add_fatigue_options(parser)                  # in register()
    tracker = make_tracker(args, exercise)       # before analysing: personalised when asked
    ... analyse, calling tracker.assess(set_result) per set ...
    save_analysis(args, result, recording_path, started_at, tracker)   # after, when --save

Personalisation reads the history database only when the user names an athlete or asks to
save: an analysis never depends on hidden state the user did not ask for.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from vbt.commands._common import positive_float

if TYPE_CHECKING:
    from vbt.fatigue.tracker import FatigueTracker
    from vbt.pipeline.results import AnalysisResult


def add_fatigue_options(parser: argparse.ArgumentParser, *, with_save: bool = True, with_target: bool = True) -> None:
    """Add ``--target-rir`` (unless the command has it), ``--vl-cutoff``, ``--athlete`` and ``--save``."""
    if with_target:
        parser.add_argument("--target-rir", type=int, default=2, choices=(1, 2, 3), metavar="N",
                            help="reps in reserve at which STOP fires: 1, 2 or 3 (default 2)")
    parser.add_argument("--vl-cutoff", type=positive_float, default=None, metavar="PCT",
                        help="fire STOP at this velocity loss in %% instead (for lifters who train by VL)")
    parser.add_argument("--athlete", default=None, metavar="NAME",
                        help="personalise the RIR estimate from NAME's saved sets (and save under NAME)")
    if with_save:
        parser.add_argument("--save", action="store_true",
                            help="store the analysed sets in the history database, linked to the recording")


def wants_tracker(args: argparse.Namespace) -> bool:
    """True when the fatigue options ask for more than the default tracker (cut-off, athlete, save)."""
    return (getattr(args, "vl_cutoff", None) is not None or getattr(args, "athlete", None) is not None
            or bool(getattr(args, "save", False)))


def make_tracker(args: argparse.Namespace, exercise: str | None, *, load_kg: float | None = None) -> FatigueTracker:
    """The fatigue tracker the options ask for (personalised when ``--athlete``/``--save`` and a database exist).

    Raises:
        UnknownExerciseError, UsageError: bad exercise or option values.
        HistoryDbError: the database exists but cannot be read (locked, newer schema, not ours).
    """
    from vbt.fatigue.history import HistoryDb, default_db_path
    from vbt.fatigue.tracker import FatigueTracker

    kwargs = {"load_kg": load_kg, "target_rir": args.target_rir, "vl_cutoff_pct": args.vl_cutoff}
    name = exercise or "generic"
    if getattr(args, "athlete", None) is None and not getattr(args, "save", False):
        return FatigueTracker(name, **kwargs)
    path = args.db if getattr(args, "db", None) is not None else default_db_path()
    if not Path(path).exists():
        return FatigueTracker(name, **kwargs)
    with HistoryDb(path, create=False) as db:
        athlete = db.resolve_athlete(args.athlete)
        return FatigueTracker.for_athlete(db, athlete, name, **kwargs)


def save_analysis(
    args: argparse.Namespace,
    result: AnalysisResult,
    recording_path: str | Path | None,
    started_at: str | None,
    tracker: FatigueTracker,
) -> list[int]:
    """Store ``result`` when ``--save`` was given; returns the set ids (empty without ``--save``)."""
    if not getattr(args, "save", False):
        return []
    from vbt.fatigue.history import HistoryDb

    with HistoryDb(getattr(args, "db", None)) as db:
        athlete = db.resolve_athlete(args.athlete)
        return db.save_analysis(
            result, athlete=athlete, recording_path=recording_path, started_at=started_at,
            settings=tracker.settings_dict(),
        )


__all__ = ["add_fatigue_options", "make_tracker", "save_analysis", "wants_tracker"]
