"""``vbt profile``: an athlete's load-velocity profile, e1RM, personal MVT and stop targets.

Fitted from the sets saved in the history database (`vbt.fatigue.profile`): the individual
load-velocity line through each set's best-of-first-two-reps velocity, the estimated 1RM where it
reaches the MVT (with its uncertainty), the personal MVT from sets taken to failure, and -- the
RIR-target mode of anchors.md §7 -- the velocity loss at which a set at 60-90 %1RM reaches the
target reps in reserve for this lifter.

Examples::

    vbt profile --athlete Ana
    vbt profile --athlete Ana --exercise bench --target-rir 1 --format json
"""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

from vbt.commands._common import add_db_option

#: %1RM rows of the stop-target table.
TABLE_FRACTIONS = (0.6, 0.7, 0.8, 0.9)


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "profile",
        help="fit and show an athlete's load-velocity profile, e1RM and personal MVT",
        description="Fit the athlete's load-velocity profile per exercise from the saved sets: estimated 1RM "
        "with its uncertainty, personal velocity at failure (MVT) from sets taken to failure, and the "
        "velocity loss at which to stop for the target reps in reserve.",
    )
    add_db_option(p)
    p.add_argument("--athlete", metavar="NAME", help="athlete (default: the stored default or the only one)")
    p.add_argument("--exercise", metavar="NAME", help="only this exercise (default: every logged one)")
    p.add_argument("--target-rir", type=int, default=2, metavar="N", help="reps in reserve for the stop table (1-3)")
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format (default table)")
    return p


def run(args: argparse.Namespace) -> int:
    from vbt.fatigue.catalogue import canonical_name, lookup
    from vbt.fatigue.history import HistoryDb
    from vbt.fatigue.tracker import validate_target_rir

    target = validate_target_rir(args.target_rir)
    with HistoryDb(args.db, create=False) as db:
        athlete = db.resolve_athlete(args.athlete)
        if args.exercise is not None:
            exercises = [canonical_name(args.exercise)]
        else:
            exercises = sorted({s.exercise for s in db.sets(athlete=athlete)})
        if not exercises:
            print(f"no sets saved for {athlete}: save some with `vbt analyze RECORDING --save --athlete NAME`")
            return 0
        out = []
        for name in exercises:
            entry = lookup(name)
            profile = db.profile(athlete, name)
            out.append(_describe(athlete, entry, profile, target))
    if args.format == "json":
        for item in out:
            print(json.dumps(item))
        return 0
    print("\n\n".join(_render(item) for item in out))
    return 0


def _describe(athlete: str, entry: Any, profile: Any, target: int) -> dict[str, Any]:
    lv = profile.load_velocity
    e1rm = None
    if profile.e1rm_kg is not None:
        sd = profile.e1rm_sd_kg
        e1rm = {"kg": profile.e1rm_kg, "sd_kg": sd, "low95_kg": profile.e1rm_kg - 1.96 * sd,
                "high95_kg": profile.e1rm_kg + 1.96 * sd}
    rows = []
    for frac in TABLE_FRACTIONS:
        v1, v_at = profile.velocity_at_rir(entry, target, frac)
        rows.append({
            "fraction_1rm": frac,
            "load_kg": None if profile.e1rm_kg is None else frac * profile.e1rm_kg,
            "first_rep_mps": v1,
            "velocity_at_target_mps": v_at,
            "velocity_loss_at_target_pct": 100.0 * (1.0 - v_at / v1) if v1 > 0 else None,
            "typical_reps_to_failure": _reps(profile, frac),
        })
    return {
        "athlete": athlete,
        "exercise": entry.name,
        "title": entry.title,
        "sets": profile.n_sets,
        "sets_to_failure": profile.n_failure_sets,
        "personal": profile.personal,
        "mvt_mps": profile.mvt_mps,
        "mvt_sd_mps": profile.mvt_sd_mps,
        "mvt_day_to_day_sd_mps": profile.within_mvt_sd_mps,
        "population_mvt_mps": entry.mvt.value,
        "population_mvt_sd_mps": entry.mvt.sd,
        "load_velocity": None if lv is None else {
            "intercept_mps": lv.intercept_mps, "slope_mps_per_kg": lv.slope_mps_per_kg, "r2": lv.r2,
            "points": lv.n_points, "load_min_kg": lv.load_range_kg[0], "load_max_kg": lv.load_range_kg[1],
            "residual_sd_mps": lv.residual_sd_mps,
        },
        "e1rm": e1rm,
        "curvature": profile.gamma_median(),
        "reps_vs_typical": math.exp(profile.reps_log_ratio),
        "target_rir": target,
        "stop_targets": rows,
        "notes": list(profile.notes),
    }


def _reps(profile: Any, frac: float) -> float:
    from vbt.fatigue.catalogue import reps_to_failure

    return reps_to_failure(frac) * math.exp(profile.reps_log_ratio)


def _render(d: dict[str, Any]) -> str:
    lines = [f"{d['athlete']} -- {d['title']} ({d['exercise']}): {d['sets']} set(s), {d['sets_to_failure']} to failure"]
    if d["personal"]:
        lines.append(
            f"  MVT (last possible rep): {d['mvt_mps']:.2f} +/- {d['mvt_sd_mps']:.2f} m/s, personal "
            f"(day to day +/- {d['mvt_day_to_day_sd_mps']:.2f}; population {d['population_mvt_mps']:.2f} "
            f"+/- {d['population_mvt_sd_mps']:.2f})"
        )
    else:
        lines.append(
            f"  MVT (last possible rep): {d['mvt_mps']:.2f} +/- {d['mvt_sd_mps']:.2f} m/s, population value "
            "(log a set to failure to personalise: `vbt history --mark-failure ID`)"
        )
    lv = d["load_velocity"]
    if lv is not None:
        r2 = "" if lv["r2"] is None else f", r2 {lv['r2']:.3f}"
        lines.append(
            f"  load-velocity: v = {lv['intercept_mps']:.3f} {lv['slope_mps_per_kg']:+.5f} x load m/s "
            f"({lv['points']} sets, {lv['load_min_kg']:g}-{lv['load_max_kg']:g} kg{r2})"
        )
    else:
        lines.append("  load-velocity: not enough loads logged (needs sets at two or more loads with --load-kg)")
    if d["e1rm"] is not None:
        e = d["e1rm"]
        lines.append(
            f"  e1RM: {e['kg']:.1f} kg +/- {e['sd_kg']:.1f} (95 %: {max(e['low95_kg'], 0):.0f}-{e['high95_kg']:.0f} kg)"
        )
    lines.append(f"  fatigue curve: curvature {d['curvature']:.2f}, reps to failure x{d['reps_vs_typical']:.2f} vs typical")
    lines.append(f"  stop at {d['target_rir']} reps in reserve:")
    header = ["%1RM", "load kg", "reps possible", "first rep m/s", f"m/s at {d['target_rir']} RIR", "VL %"]
    rows = [
        [f"{100 * r['fraction_1rm']:.0f} %", "-" if r["load_kg"] is None else f"{r['load_kg']:.0f}",
         f"{r['typical_reps_to_failure']:.0f}", f"{r['first_rep_mps']:.2f}", f"{r['velocity_at_target_mps']:.2f}",
         "-" if r["velocity_loss_at_target_pct"] is None else f"{r['velocity_loss_at_target_pct']:.0f}"]
        for r in d["stop_targets"]
    ]
    from vbt.commands.history import _table

    lines.extend("    " + line for line in _table(header, rows).splitlines())
    lines.extend(f"  note: {n}" for n in d["notes"])
    return "\n".join(lines)
