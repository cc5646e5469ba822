"""``vbt export``: write the saved reps or sets as CSV (no paywall, no lock-in; anchors.md §5).

One row per rep (default) or per set, with the athlete, session time, exercise, load, every
metric and fatigue field, the algorithm version and the analysis settings (JSON) that produced
them, and the recording the set came from. Only the latest analysis of each set is exported
unless ``--all-versions`` asks for every stored one (to compare algorithm versions).

Examples::

    vbt export > reps.csv
    vbt export --sets --athlete Ana --exercise bench --out bench_sets.csv
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

from vbt.commands._common import add_db_option

REP_COLUMNS = (
    "athlete", "session_id", "set_id", "set_index", "performed_at", "exercise", "load_kg", "to_failure",
    "algorithm_version", "analysis_id", "settings", "rep_index", "deleted", "start_s", "end_s",
    "mean_velocity_mps", "mean_propulsive_velocity_mps", "peak_velocity_mps", "rom_m", "duration_s",
    "time_to_peak_s", "mean_power_w", "quality", "quality_reasons", "velocity_loss_pct", "rir_estimate",
    "rir_low", "rir_high", "flag", "eccentric_duration_s", "recording_path",
)
SET_COLUMNS = (
    "athlete", "session_id", "set_id", "set_index", "performed_at", "exercise", "load_kg", "to_failure",
    "algorithm_version", "analysis_id", "settings", "start_s", "end_s", "reps", "deleted_reps",
    "first_mcv_mps", "best_mcv_mps", "last_mcv_mps", "reference_rep_index", "velocity_loss_pct",
    "rir_estimate", "rir_low", "rir_high", "failed_attempts", "notes", "recording_path",
)


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "export",
        help="write saved reps or sets as CSV",
        description="Write the reps (default) or sets saved in the athlete-history database as CSV, with "
        "the algorithm version and settings of every analysis.",
    )
    add_db_option(p)
    p.add_argument("--sets", action="store_true", help="one row per set instead of per rep")
    p.add_argument("--athlete", metavar="NAME", help="only this athlete")
    p.add_argument("--exercise", metavar="NAME", help="only this exercise")
    p.add_argument("--all-versions", action="store_true",
                   help="every stored analysis of each set, not only the latest")
    p.add_argument("--out", type=Path, default=None, metavar="FILE", help="write to FILE (default: stdout)")
    return p


def run(args: argparse.Namespace) -> int:
    from vbt.errors import InputFileError
    from vbt.fatigue.history import HistoryDb

    with HistoryDb(args.db, create=False) as db:
        triples = db.export_rows(athlete=args.athlete, exercise=args.exercise, all_versions=args.all_versions)
    buf = io.StringIO()
    columns = SET_COLUMNS if args.sets else REP_COLUMNS
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    n = 0
    for row, analysis, deleted in triples:
        base = {
            "athlete": row.athlete, "session_id": row.session_id, "set_id": row.id, "set_index": row.set_index,
            "performed_at": row.performed_at, "exercise": row.exercise, "load_kg": _v(row.load_kg),
            "to_failure": {True: 1, False: 0, None: ""}[row.to_failure],
            "algorithm_version": analysis.algorithm_version, "analysis_id": analysis.id,
            "settings": json.dumps(analysis.settings, sort_keys=True), "recording_path": row.recording_path or "",
        }
        s = analysis.set_result
        if args.sets:
            counted = [r for r in s.reps if r.index not in deleted]
            mcv = [r.mean_velocity_mps for r in counted]
            writer.writerow({
                **base, "start_s": _v(s.start_s), "end_s": _v(s.end_s), "reps": len(counted),
                "deleted_reps": " ".join(str(i) for i in sorted(deleted)),
                "first_mcv_mps": _v(mcv[0] if mcv else None), "best_mcv_mps": _v(max(mcv) if mcv else None),
                "last_mcv_mps": _v(mcv[-1] if mcv else None), "reference_rep_index": _v(s.reference_rep_index),
                "velocity_loss_pct": _v(s.velocity_loss_pct), "rir_estimate": _v(s.rir_estimate),
                "rir_low": _v(s.rir_interval[0] if s.rir_interval else None),
                "rir_high": _v(s.rir_interval[1] if s.rir_interval else None),
                "failed_attempts": len(s.failed_attempts), "notes": " | ".join(s.notes),
            })
            n += 1
            continue
        for r in s.reps:
            writer.writerow({
                **base, "rep_index": r.index, "deleted": int(r.index in deleted), "start_s": _v(r.start_s),
                "end_s": _v(r.end_s), "mean_velocity_mps": _v(r.mean_velocity_mps),
                "mean_propulsive_velocity_mps": _v(r.mean_propulsive_velocity_mps),
                "peak_velocity_mps": _v(r.peak_velocity_mps), "rom_m": _v(r.rom_m), "duration_s": _v(r.duration_s),
                "time_to_peak_s": _v(r.time_to_peak_s), "mean_power_w": _v(r.mean_power_w),
                "quality": _v(r.quality), "quality_reasons": "; ".join(r.quality_reasons),
                "velocity_loss_pct": _v(r.velocity_loss_pct), "rir_estimate": _v(r.rir_estimate),
                "rir_low": _v(r.rir_interval[0] if r.rir_interval else None),
                "rir_high": _v(r.rir_interval[1] if r.rir_interval else None), "flag": r.flag,
                "eccentric_duration_s": _v(r.eccentric_duration_s),
            })
            n += 1
    text = buf.getvalue()
    if args.out is None:
        sys.stdout.write(text)
    else:
        try:
            args.out.write_text(text, encoding="utf-8")
        except OSError as err:
            raise InputFileError(args.out, f"cannot be written ({err.strerror})", "choose another --out path") from err
        print(f"wrote {n} {'set' if args.sets else 'rep'} row(s) to {args.out}", file=sys.stderr)
    return 0


def _v(x: Any) -> Any:
    """CSV cell: empty for missing values, floats with enough digits to round-trip metrics."""
    if x is None:
        return ""
    if isinstance(x, float):
        if x != x:  # NaN
            return ""
        return f"{x:.6g}"
    return x
