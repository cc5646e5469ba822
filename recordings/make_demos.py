"""Regenerate the bundled demo recordings and their index (recordings/README.md).

    python recordings/make_demos.py            # rewrite every demo + README.md
    python recordings/make_demos.py --check    # regenerate in a temp folder and compare labels

Every demo is made by `vbt simulate` (synthetic, deterministic from its seed); the exact
command of each file is in its header (``extra.command``) and in README.md. Files written by a
different simulator version differ; the labels always describe their own recording.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: (file name, what it shows, vbt simulate arguments without --out)
DEMOS: list[tuple[str, str, str]] = [
    ("demo_squat.jsonl.gz",
     "Quick-start demo: one squat set of 9 reps stopped near 2 reps in reserve (the STOP flag should fire)",
     "--exercise squat --load-pct 78 --stop-rir 2 --sensor witmotion --rate 100 --seed 15"),
    ("squat_3sets_polar_h10_50hz.jsonl.gz",
     "Multi-set session: 3 squat sets, 2 min rests, each stopped at 2 RIR; accelerometer only",
     "--exercise squat --sets 3 --rest 120 --load-pct 75 --stop-rir 2 --sensor polar --rate 50 --seed 21"),
    ("bench_failed_attempt_witmotion_50hz.jsonl.gz",
     "Bench press to failure, last attempt fails and is lowered onto the safeties",
     "--exercise bench --load-pct 80 --to-failure --failed-attempt --sensor witmotion --rate 50 --seed 32"),
    ("bench_paused_metawear_100hz.jsonl.gz",
     "Paused bench press (pause on the chest every rep), 5 easy reps",
     "--exercise bench --load-pct 70 --reps 5 --paused --sensor metawear --rate 100 --seed 43"),
    ("deadlift_polar_h10_25hz.jsonl.gz",
     "Deadlift at 25 Hz without gyro, stopped at 1 RIR; concentric-first reps from the floor",
     "--exercise deadlift --load-pct 80 --stop-rir 1 --sensor polar --rate 25 --seed 54"),
    ("deadlift_drop_movesense_104hz.jsonl.gz",
     "Deadlift, harsh sensor and link; the bar is dropped from lockout at the end (free fall, bounce)",
     "--exercise deadlift --load-pct 70 --reps 5 --drop --sensor movesense --rate 104 --faults harsh --seed 65"),
    ("ohp_witmotion_200hz.jsonl.gz",
     "Standing overhead press at 200 Hz, from the rack position (first movement is concentric)",
     "--exercise ohp --load-pct 75 --stop-rir 2 --sensor witmotion --rate 200 --seed 76"),
    ("row_thingy52_100hz.jsonl.gz",
     "Bent-over row: pick-up and hinge before the reps and stand-up after them are not reps",
     "--exercise row --load-pct 75 --stop-rir 2 --sensor thingy52 --rate 100 --seed 87"),
    ("squat_samples_harsh_100hz.jsonl.gz",
     "Squat to failure (no failed attempt) as decoded samples, harsh sensor and link",
     "--exercise squat --load-pct 85 --to-failure --no-failed-attempt --rate 100 --faults harsh --seed 98"),
]


def make(folder: Path) -> None:
    from vbt.cli import main

    for name, _, args in DEMOS:
        code = main(["simulate", *shlex.split(args), "--out", str(folder / name), "--force"])
        if code:
            raise SystemExit(f"vbt simulate failed for {name} (exit {code})")


def _labels(folder: Path, name: str) -> dict:
    return json.loads((folder / name.replace(".jsonl.gz", ".labels.json")).read_text(encoding="utf-8"))


def readme(folder: Path) -> str:
    from vbt.recording.reader import read_header

    rows = []
    for name, _what, _ in DEMOS:
        h = read_header(folder / name)
        lab = _labels(folder, name)
        sets = lab["sets"]
        reps = " + ".join(str(len(s["reps"])) for s in sets)
        failed = "yes" if any(s["failed_attempts"] for s in sets) else "no"
        load = f"{sets[0]['load_kg']:g} kg ({sets[0]['load_pct_1rm']:.0f} %)"
        rule = {"stop_rir": f"stop at {sets[0]['stop_rir']} RIR", "failure": "to failure",
                "target_reps": f"{sets[0]['target_reps']} reps"}[sets[0]["stop_rule"]]
        gyro = "yes" if lab["recording"]["gyro"] else "no"
        size_kb = (folder / name).stat().st_size / 1024
        rows.append(f"| [{name}]({name}) | {h.exercise} | {h.sensor} | {h.rate_hz:g} | {gyro} | {load} | "
                    f"{len(sets)} | {reps} ({rule}) | {failed} | {h.extra.get('faults', '')} | {size_kb:.0f} kB |")
    cmds = "\n".join(f"# {what}\nvbt simulate {args} --out recordings/{name}" for name, what, args in DEMOS)
    whats = "\n".join(f"- **{name}** -- {what}." for name, what, _ in DEMOS)
    return f"""# Bundled demo recordings (synthetic)

**Every file here is synthetic**: made by `vbt simulate`, the physics-based simulator
(docs/simulator.md), not recorded from a person. Each recording's header says
`"synthetic": true` and keeps the seed, the simulator version and the command that made it;
each `X.labels.json` next to `X.jsonl.gz` holds the ground truth: every rep's true concentric
start/end, MCV, MPV, peak velocity, ROM and reps in reserve, failed attempts, and non-rep events
(unrack, walkout, rerack, set-down, re-grip, pick-up...). Use them to try `vbt` without a
sensor and as regression inputs; accuracy claims are checked on real recordings.

Licence: made by the vbt-monitor developers, under the same licence as the code (MIT).

| File | Exercise | Sensor format | Rate (Hz) | Gyro | Load | Sets | Reps | Failed attempt | Faults | Size |
|---|---|---|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

"Sensor format" is the wire format of the raw notifications stored in the file (decoded by the
same decoder as a live sensor); `simulated` means decoded samples (no packet format). Loads are
% of the simulated athlete's 1RM.

{whats}

## Quick start

```sh
vbt replay recordings/demo_squat.jsonl.gz       # the dashboard, as if the sensor were live
vbt analyze recordings/demo_squat.jsonl.gz      # reps, velocities, velocity loss, RIR and the STOP flag
```

## How they were made

Regenerate all of them (and this file) with `python recordings/make_demos.py`. Individually:

```sh
{cmds}
```
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="regenerate in a temporary folder and compare the labels")
    args = ap.parse_args(argv)
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            make(Path(tmp))
            bad = [name for name, _, _ in DEMOS
                   if _labels(Path(tmp), name)["sets"] != _labels(HERE, name)["sets"]]
        if bad:
            print(f"out of date (re-run make_demos.py): {', '.join(bad)}")
            return 1
        print(f"all {len(DEMOS)} demos reproduce their labels")
        return 0
    make(HERE)
    (HERE / "README.md").write_text(readme(HERE), encoding="utf-8")
    total = sum((HERE / n).stat().st_size + (HERE / n.replace(".jsonl.gz", ".labels.json")).stat().st_size
                for n, _, _ in DEMOS)
    print(f"wrote {len(DEMOS)} demos + README.md ({total / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
