"""``vbt history``: list saved sessions and sets, show one set's analyses side by side, edit marks.

Examples::

    vbt history                          # every saved set, newest first
    vbt history --athlete Ana --exercise squat
    vbt history --sessions               # one line per session (recording)
    vbt history --set 12                 # set 12, every stored analysis side by side
    vbt history --mark-failure 12        # set 12 was taken to failure (personalises the RIR estimate)
    vbt history --delete-rep 12 3        # rep 3 of set 12 was not a rep (kept across re-analyses)
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from vbt.commands._common import add_db_option


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "history",
        help="list saved sessions and sets; compare re-analyses; mark sets to failure",
        description="List the sessions and sets saved in the athlete-history database (`vbt analyze --save`), "
        "show one set with every stored analysis side by side, and record what the analysis cannot know: "
        "that a set went to failure, or that a rep was not a rep.",
    )
    add_db_option(p)
    p.add_argument("--athlete", metavar="NAME", help="only this athlete")
    p.add_argument("--exercise", metavar="NAME", help="only sessions with this exercise")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="show at most N rows")
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format (default table)")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--sessions", action="store_true", help="one line per session instead of per set")
    what.add_argument("--set", type=int, metavar="ID", dest="set_id", help="show set ID with all its analyses")
    what.add_argument("--mark-failure", type=int, metavar="ID", help="record that set ID was taken to failure")
    what.add_argument("--unmark-failure", type=int, metavar="ID", help="record that set ID was not taken to failure")
    what.add_argument("--delete-rep", type=int, nargs=2, metavar=("ID", "REP"),
                      help="rep REP of set ID was not a real rep: leave it out of counts and velocity loss")
    what.add_argument("--restore-rep", type=int, nargs=2, metavar=("ID", "REP"), help="undo --delete-rep")
    return p


def run(args: argparse.Namespace) -> int:
    from vbt.fatigue.history import HistoryDb, default_db_path

    path = args.db if args.db is not None else default_db_path()
    if not path.exists() and args.db is None:  # a --db that is not there is a typo: HistoryDb says so
        print(f"no history yet ({path}): save analysed sets with `vbt analyze RECORDING --save`")
        return 0
    with HistoryDb(path, create=False) as db:
        if args.mark_failure is not None or args.unmark_failure is not None:
            set_id = args.mark_failure if args.mark_failure is not None else args.unmark_failure
            db.mark_to_failure(set_id, args.mark_failure is not None)
            state = "taken to failure" if args.mark_failure is not None else "not taken to failure"
            print(f"set {set_id}: marked {state}")
            return 0
        if args.delete_rep or args.restore_rep:
            set_id, rep = args.delete_rep or args.restore_rep
            db.exclude_rep(set_id, rep, excluded=bool(args.delete_rep))
            print(f"set {set_id}: rep {rep} {'deleted' if args.delete_rep else 'restored'}")
            return 0
        if args.set_id is not None:
            return _show_set(db, args.set_id, args.format)
        if args.sessions:
            rows = db.sessions(athlete=args.athlete, exercise=args.exercise, limit=args.limit)
            if args.format == "json":
                for r in rows:
                    print(json.dumps(_asdict(r)))
                return 0
            if not rows:
                print("no sessions match")
                return 0
            print(_table(
                ["session", "started", "athlete", "sets", "exercises", "recording"],
                [[r.id, r.started_at, r.athlete, r.n_sets, ",".join(r.exercises), r.recording_path or "-"]
                 for r in rows],
            ))
            return 0
        sets = db.sets(athlete=args.athlete, exercise=args.exercise, limit=args.limit)
        if args.format == "json":
            for s in sets:
                print(json.dumps(_asdict(s)))
            return 0
        if not sets:
            print("no sets match")
            return 0
        print(_table(
            ["set", "date", "athlete", "exercise", "load kg", "reps", "best m/s", "VL %", "RIR", "failure",
             "algorithm", "analyses"],
            [[s.id, s.performed_at.replace("T", " ")[:16], s.athlete, s.exercise, _f(s.load_kg, 1), s.n_reps,
              _f(s.best_velocity_mps, 2), _f(s.velocity_loss_pct, 0), _f(s.rir_estimate, 1),
              {True: "yes", False: "no", None: "?"}[s.to_failure], s.algorithm_version or "-", s.n_analyses]
             for s in sets],
        ))
    return 0


def _show_set(db: Any, set_id: int, fmt: str) -> int:
    info = db.set_info(set_id)
    analyses = db.analyses(set_id)
    if fmt == "json":
        print(json.dumps({
            "set": _asdict(info),
            "analyses": [
                {"id": a.id, "algorithm_version": a.algorithm_version, "settings": a.settings,
                 "created_at": a.created_at,
                 "deleted_reps": sorted(db.excluded_rep_indices(set_id, a.set_result)),
                 "result": a.set_result.to_dict()}
                for a in analyses
            ],
        }))
        return 0
    print(f"set {info.id}: {info.athlete}, {info.exercise}"
          + (f" {info.load_kg:g} kg" if info.load_kg else "")
          + f", {info.performed_at.replace('T', ' ')}, to failure: {_yn(info.to_failure)}")
    print(f"recording: {info.recording_path or '-'} ({info.start_s:.1f}-{info.end_s:.1f} s)")
    if not analyses:
        print("no analysis stored")
        return 0
    # Side by side: one column group per analysis (A/B re-analysis, anchors.md §7 item 7).
    header = ["rep"]
    for a in analyses:
        tag = f"{a.algorithm_version}#{a.id}"
        header += [f"{tag} MCV", "VL %", "RIR", "flag"]
    n_max = max((max((r.index for r in a.set_result.reps), default=0) for a in analyses), default=0)
    rows = []
    for i in range(1, n_max + 1):
        row: list[Any] = [i]
        for a in analyses:
            deleted = db.excluded_rep_indices(set_id, a.set_result)
            rep = next((r for r in a.set_result.reps if r.index == i), None)
            if rep is None:
                row += ["", "", "", ""]
                continue
            mark = " (deleted)" if i in deleted else ("?" if rep.quality < 0.5 else "")
            rir = _f(rep.rir_estimate, 1)
            if rep.rir_interval is not None:
                rir += f" [{rep.rir_interval[0]:.0f}-{rep.rir_interval[1]:.0f}]"
            row += [_f(rep.mean_velocity_mps, 3) + mark, _f(rep.velocity_loss_pct, 0), rir, rep.flag]
        rows.append(row)
    print(_table(header, rows))
    for a in analyses:
        settings = ", ".join(f"{k}={v}" for k, v in sorted(a.settings.items())) or "defaults"
        print(f"{a.algorithm_version}#{a.id} ({a.created_at}; {settings}): "
              f"VL {_f(a.set_result.velocity_loss_pct, 0)} %, RIR {_f(a.set_result.rir_estimate, 1)}"
              + (f", {len(a.set_result.failed_attempts)} failed attempt(s)" if a.set_result.failed_attempts else ""))
        for note in a.set_result.notes:
            print(f"  - {note}")
    return 0


def _asdict(row: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(row)


def _yn(value: bool | None) -> str:
    return {True: "yes", False: "no", None: "unknown"}[value]


def _f(x: float | None, nd: int) -> str:
    return "-" if x is None else f"{x:.{nd}f}"


def _table(header: list[str], rows: list[list[Any]]) -> str:
    """Plain left-aligned text table (no dependency; readable in any terminal)."""
    cells = [[str(c) for c in header]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
