"""``vbt analyze``: find every rep in recordings or CSV files and report velocities and fatigue.

Usage::

    vbt analyze PATH [PATH ...] [--exercise NAME] [--load-kg KG] [--format table|json|csv]
                [--acc-unit g|mps2] [--gyro-unit dps|rads] [--target-rir N]
                [--vl-cutoff PCT] [--athlete NAME] [--save] [--db PATH]

A PATH may be a folder: its recordings (``*.jsonl``, ``*.jsonl.gz``) and CSV files are analysed
in name order. With several inputs a progress bar runs on stderr. ``--format json`` prints one
JSON object per input per line (the `vbt.pipeline.results.AnalysisResult.to_dict` contract);
``csv`` prints one row per rep; ``table`` is for people. An input that cannot be read is
reported on stderr as one line and the others are still analysed (exit status 1 at the end).

`format_table` and `rep_rows` are public: ``vbt replay --headless`` prints the same report.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from vbt.commands._common import (
    about_input,
    add_csv_unit_options,
    add_db_option,
    add_exercise_option,
    add_load_option,
)
from vbt.commands._fatigue import add_fatigue_options
from vbt.errors import InputFileError, VbtError

log = logging.getLogger(__name__)
#: File name patterns a folder argument expands to.
INPUT_SUFFIXES = (".jsonl", ".jsonl.gz", ".csv", ".csv.gz")

#: Columns of ``--format csv`` (one row per rep; failed attempts have an empty index).
CSV_COLUMNS = (
    "source", "set", "rep", "kind", "start_s", "end_s", "mean_velocity_mps", "mean_propulsive_velocity_mps",
    "peak_velocity_mps", "rom_m", "duration_s", "time_to_peak_s", "mean_power_w", "velocity_loss_pct",
    "rir_estimate", "flag", "quality", "quality_reasons", "eccentric_duration_s",
)


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "analyze",
        help="find reps in recordings or CSV files; print velocities, velocity loss and RIR",
        description=(
            "Analyse native recordings (raw packets or decoded samples) or generic CSV files "
            "(t, ax, ay, az [, gx, gy, gz]) with the same pipeline as the live dashboard."
        ),
    )
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH",
                   help="recording (.jsonl/.jsonl.gz), CSV file, or a folder of them")
    add_exercise_option(p)
    add_load_option(p)
    p.add_argument("--format", choices=("table", "json", "csv"), default="table",
                   help="table (people), json (one object per input per line) or csv (one row per rep)")
    add_csv_unit_options(p)
    p.add_argument("--target-rir", type=int, choices=(1, 2, 3), default=2,
                   help="reps in reserve at which a set is flagged STOP (default 2)")
    # --vl-cutoff, --athlete, --save (and --db): personalised fatigue and the history database
    add_fatigue_options(p, with_target=False)
    add_db_option(p)
    return p


def expand_inputs(paths: Iterable[Path]) -> list[Path]:
    """Files to analyse: files as given, folders expanded to their recordings and CSVs.

    Raises:
        InputFileError: a path does not exist, or a folder holds nothing to analyse.
    """
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted(
                f for f in p.iterdir()
                if f.is_file() and f.name.lower().endswith(INPUT_SUFFIXES) and not f.name.endswith(".labels.json")
            )
            if not found:
                raise InputFileError(p, "holds no recordings or CSV files",
                                     "give *.jsonl, *.jsonl.gz or *.csv files")
            out.extend(found)
        elif not p.exists():
            raise InputFileError(p, "does not exist", "check the path")
        else:
            out.append(p)
    return out


def run(args: argparse.Namespace) -> int:
    from vbt.analysis import analyze_path, header_of
    from vbt.commands._fatigue import make_tracker, save_analysis, wants_tracker
    from vbt.pipeline.settings import resolve_exercise

    if args.exercise is not None:
        resolve_exercise(args.exercise)  # unknown names fail before any file is read
    inputs = expand_inputs(args.paths)
    bar = _Progress(len(inputs), sys.stderr) if len(inputs) > 1 else None
    failures = 0
    writer = None
    if args.format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
    for i, path in enumerate(inputs):
        if bar is not None:
            bar.start(i, path)
        try:
            tracker = header = None
            if wants_tracker(args):  # fatigue/history options: a personalised tracker, saving
                header = header_of(path)
                load = args.load_kg if args.load_kg is not None else header.load_kg
                tracker = make_tracker(args, args.exercise or header.exercise, load_kg=load)
            result = analyze_path(
                path, exercise=args.exercise, load_kg=args.load_kg, acc_unit=args.acc_unit,
                gyro_unit=args.gyro_unit, target_rir=args.target_rir, tracker=tracker,
                progress=None if bar is None else bar.update,
            )
            if tracker is not None and header is not None:
                save_analysis(args, result, path, header.started_at or None, tracker)
        except VbtError as err:
            problem = about_input(err, path, exercise_option=args.exercise)
            if len(inputs) == 1:
                if problem is err:
                    raise
                raise problem from err
            failures += 1
            if bar is not None:
                bar.clear()
            log.debug("%s could not be analysed", path, exc_info=True)  # --debug: where it came from
            print(f"vbt: error: {problem}", file=sys.stderr)
            continue
        if bar is not None:
            bar.clear()
        if args.format == "json":
            print(json.dumps(result.to_dict(), separators=(",", ":")), flush=True)
        elif args.format == "csv":
            assert writer is not None
            writer.writerows(rep_rows(result))
            sys.stdout.flush()
        else:
            if i:
                print()
            print(format_table(result), flush=True)
    if bar is not None:
        bar.done()
    return 1 if failures else 0


# --------------------------------------------------------------------------- reports


def _f(x: float | None, nd: int, width: int) -> str:
    return f"{x:{width}.{nd}f}" if x is not None else f"{'-':>{width}}"


def format_table(result) -> str:  # noqa: ANN001 - AnalysisResult (imported lazily)
    """The per-set, per-rep report ``vbt analyze`` prints for people."""
    lines: list[str] = []
    d = result
    load = f", {d.load_kg:g} kg" if d.load_kg is not None else ""
    lines.append(f"{d.source}: {d.exercise}{load}, {d.duration_s:.1f} s at {d.sample_rate_hz:.1f} Hz, "
                 f"{len(d.sets)} set{'s' if len(d.sets) != 1 else ''}, {len(d.reps)} rep{'s' if len(d.reps) != 1 else ''}")
    for st in d.sets:
        vl = "" if st.velocity_loss_pct is None else f", velocity loss {st.velocity_loss_pct:.0f} %"
        rir = "" if st.rir_estimate is None else f", RIR ~{st.rir_estimate:.0f}"
        lines.append("")
        lines.append(f"Set {st.index}  {st.start_s:.1f}-{st.end_s:.1f} s{vl}{rir}")
        lines.append("  rep   start   MCV   MPV    PV   ROM  conc  TTP  power    VL%  RIR  flag      quality")
        lines.append("          (s) (m/s) (m/s) (m/s)   (m)   (s)  (s)    (W)")
        for r in st.reps:
            rir_txt = "-" if r.rir_estimate is None else f"{r.rir_estimate:.0f}"
            q = f"{r.quality:.2f}" + (f" {r.quality_reasons[0]}" if r.quality_reasons and r.quality < 0.95 else "")
            lines.append(
                f"  {r.index:3d} {r.start_s:7.1f} {r.mean_velocity_mps:5.2f} {r.mean_propulsive_velocity_mps:5.2f} "
                f"{r.peak_velocity_mps:5.2f} {r.rom_m:5.2f} {r.duration_s:5.2f} {r.time_to_peak_s:4.2f} "
                f"{_f(r.mean_power_w, 0, 6)} {_f(r.velocity_loss_pct, 1, 6)} {rir_txt:>4}  "
                f"{r.flag.upper() if r.flag != 'continue' else r.flag:8s}  {q}"
            )
        for f in st.failed_attempts:
            rom = "" if f.rom_m is None else f", rose {f.rom_m:.2f} m"
            lines.append(f"    - failed attempt at {f.start_s:.1f} s{rom}")
        for note in st.notes:
            lines.append(f"    note: {note}")
    if not d.sets:
        lines.append("")
        lines.append("No reps found.")
    for w in condensed_warnings(d.warnings):
        lines.append(f"warning: {w}")
    return "\n".join(lines)


_BRIDGED = re.compile(r"^gap of (\d+) ms in the samples at t=([-\d.]+) s \(bridged by interpolation\)$")


def condensed_warnings(warnings: list[str]) -> list[str]:
    """Warnings for people: the short bridged gaps in one line, where the first of them was.

    A lossy link bridges dozens of 50-100 ms gaps in a set; one line each buries what matters.
    (The JSON output keeps every warning.)
    """
    out: list[str] = []
    gaps: list[tuple[int, str]] = []
    at = None
    for w in warnings:
        m = _BRIDGED.match(w)
        if m:
            gaps.append((int(m.group(1)), m.group(2)))
            if at is None:
                at = len(out)
                out.append("")
        else:
            out.append(w)
    if at is not None:
        if len(gaps) == 1:
            out[at] = f"gap of {gaps[0][0]} ms in the samples at t={gaps[0][1]} s (bridged by interpolation)"
        else:
            ms = [g[0] for g in gaps]
            times = ", ".join(g[1] for g in gaps[:6]) + (", ..." if len(gaps) > 6 else "")
            out[at] = (f"{len(gaps)} gaps of {min(ms)}-{max(ms)} ms in the samples, bridged by interpolation "
                       f"(at t={times} s)")
    return out


def rep_rows(result) -> list[list[object]]:  # noqa: ANN001 - AnalysisResult
    """``--format csv`` rows (reps and failed attempts) for one result."""
    rows: list[list[object]] = []
    for st in result.sets:
        for r in st.reps:
            d = r.to_dict()
            rows.append([
                result.source, st.index, r.index, "rep", d["start_s"], d["end_s"], d["mean_velocity_mps"],
                d["mean_propulsive_velocity_mps"], d["peak_velocity_mps"], d["rom_m"], d["duration_s"],
                d["time_to_peak_s"], _blank(d["mean_power_w"]), _blank(d["velocity_loss_pct"]),
                _blank(d["rir_estimate"]), d["flag"], d["quality"], "; ".join(d["quality_reasons"]),
                _blank(d["eccentric_duration_s"]),
            ])
        for f in st.failed_attempts:
            d = f.to_dict()
            rows.append([result.source, st.index, "", "failed", d["start_s"], d["end_s"], "", "", "", _blank(d["rom_m"]),
                         "", "", "", "", "", "failure", "", "", ""])
    return rows


def _blank(x: object) -> object:
    return "" if x is None else x


def format_csv(results: Iterable) -> str:  # noqa: ANN001
    """A whole ``--format csv`` document for several results (header row included)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for res in results:
        w.writerows(rep_rows(res))
    return buf.getvalue()


class _Progress:
    """A one-line progress bar on stderr: ``[3/12] ######....  file.jsonl.gz``."""

    WIDTH = 30

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = total
        self.stream = stream
        self.i = 0
        self.name = ""
        self._last = -1

    def start(self, i: int, path: Path) -> None:
        self.i = i
        self.name = path.name
        self._last = -1
        self.update(0.0)

    def update(self, frac: float) -> None:
        overall = (self.i + min(max(frac, 0.0), 1.0)) / self.total
        filled = int(round(overall * self.WIDTH))
        if filled == self._last:
            return
        self._last = filled
        bar = "#" * filled + "." * (self.WIDTH - filled)
        self.stream.write(f"\r[{self.i + 1}/{self.total}] {bar} {self.name[:40]}")
        self.stream.flush()

    def clear(self) -> None:
        self.stream.write("\r" + " " * (self.WIDTH + 52) + "\r")
        self.stream.flush()

    def done(self) -> None:
        self.stream.write(f"analysed {self.total} inputs\n")
        self.stream.flush()


__all__ = ["CSV_COLUMNS", "expand_inputs", "format_csv", "format_table", "register", "rep_rows", "run"]
