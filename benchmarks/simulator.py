"""Simulator figures: speed, literature targets of the athlete model, geometry floor, link stats.

    /work/venv/bin/python benchmarks/simulator.py [--athletes 200] [--corpus 100]

Prints:
* simulation speed for a one-hour, 15-set session at 200 Hz (samples mode and WitMotion packets);
* reps to failure at 60-90 %1RM vs the Epley relation (mean and 10-90 % range per lift);
* share of reps done when velocity first clearly drops (Izquierdo 2006: bench 34-40 %, squat
  48-69 %), velocity loss at failure at 70 % 1RM (bench > squat), reps in a second set to failure
  after 2 min rest relative to the first;
* over a random corpus (`random_scenario`, typical faults): reps per set, share of sets with a
  failed attempt, event counts, and the MCV difference between the sensor point and the bar
  centre (the part of the error no single sleeve IMU can remove), delivered-sample share.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

import numpy as np


def speed() -> None:
    from vbt.sim import Athlete, Scenario, SetPlan, simulate

    ath = Athlete.random(1)
    sets = [SetPlan("squat", load_pct=75, to_failure=(i % 3 == 0), stop_rir=None if i % 3 == 0 else 2,
                    rest_before_s=None if i == 0 else 200.0) for i in range(15)]
    for sensor in ("samples", "witmotion"):
        t0 = time.perf_counter()
        r = simulate(Scenario(ath, sets, rate_hz=200, sensor=sensor, faults="typical"), seed=1)
        dt = time.perf_counter() - t0
        n = len(r.packets) if r.packets is not None else len(r.batches)
        print(f"speed: {r.duration_s / 60:.0f} min session, 15 sets, 200 Hz, {sensor}: {dt:.2f} s "
              f"({n} {'packets' if r.packets is not None else 'batches'})")


def athlete_targets(n: int) -> None:
    from vbt.sim.athlete import (
        EXERCISES,
        Athlete,
        DayState,
        FatigueState,
        count_reps,
        plan_set,
        population_reps_to_failure,
        rep_cost,
        round_load,
    )

    athletes = [Athlete.random(10_000 + i) for i in range(n)]
    print(f"\nreps to failure (fresh), {n} athletes: mean [10-90 %] vs Epley mean")
    for ex in EXERCISES:
        cells = []
        for p in (0.6, 0.7, 0.8, 0.9):
            reps = [count_reps(a.profiles[ex], p, FatigueState(), a.profiles[ex].mvt_mps) for a in athletes]
            cells.append(f"{p:.0%}: {np.mean(reps):4.1f} [{np.percentile(reps, 10):.0f}-{np.percentile(reps, 90):.0f}]"
                         f" vs {population_reps_to_failure(ex, p):4.1f}")
        print(f"  {ex:9s} " + " | ".join(cells))
    rng = np.random.default_rng(0)
    print("\nwithin-set fatigue at 70 % 1RM:")
    for ex in ("bench", "squat", "deadlift", "ohp", "row"):
        onset, vl, ratio, last = [], [], [], []
        for a in athletes:
            prof = a.profiles[ex]
            st, v = FatigueState(), []
            while st.capacity >= 0.7 and len(v) < 200:
                c = st.capacity
                v.append(prof.velocity(0.7 / c, prof.mvt_mps))
                st.spend(prof, rep_cost(prof, 0.7, c, 1.0))
                st.recover(prof, 4.0, in_set=True)
            v = np.array(v)
            loss = v[0] - v
            onset.append(np.argmax(loss >= 0.2 * loss[-1]) / max(len(v) - 1, 1))
            day = DayState.random(rng)
            load = round_load(0.7 * prof.one_rm_kg)
            o1 = plan_set(a, day, ex, load, rng, to_failure=True)
            mcv = np.array([r.mcv_mps for r in o1.reps])
            if len(mcv) >= 2:
                vl.append(100 * (1 - mcv[-1] / mcv[:2].max()))
                last.append(mcv[-1] - o1.mvt_day_mps)
            day.rest(a, 120.0)
            o2 = plan_set(a, day, ex, load, rng, to_failure=True)
            if o1.reps:
                ratio.append(len(o2.reps) / len(o1.reps))
        print(f"  {ex:9s} first clear drop at {np.mean(onset):.0%} of reps | VL at failure {np.mean(vl):.0f} % "
              f"[{np.percentile(vl, 10):.0f}-{np.percentile(vl, 90):.0f}] | last rep - MVT {np.mean(last):+.3f} m/s"
              f" | set 2 / set 1 reps after 2 min {np.mean(ratio):.2f}")


def corpus(n: int) -> None:
    from vbt.sim import random_scenario, simulate

    reps, failed, diffs, delivered = [], 0, [], []
    events: Counter[str] = Counter()
    t0 = time.perf_counter()
    for i in range(n):
        sc = random_scenario(np.random.default_rng(50_000 + i), faults="typical")
        r = simulate(sc, seed=50_000 + i)
        s = r.labels.sets[0]
        reps.append(len(s.reps))
        failed += bool(s.failed_attempts)
        events.update(e.kind for e in s.events)
        diffs += [rep.sensor_mean_velocity_mps - rep.mean_velocity_mps for rep in s.reps]
        n_sent = len(r.sensor_true_times())
        n_got = sum(len(b) for b in r.batches)
        delivered.append(n_got / n_sent)
    dt = time.perf_counter() - t0
    d = np.array(diffs)
    print(f"\nrandom corpus: {n} sets in {dt:.1f} s; reps/set mean {np.mean(reps):.1f} [{min(reps)}-{max(reps)}], "
          f"{failed} with a failed attempt")
    print(f"  events: {dict(events)}")
    print(f"  sensor-point minus bar-centre MCV: mean {d.mean():+.4f}, SD {d.std():.4f}, "
          f"95 % |.| {np.percentile(np.abs(d), 95):.4f} m/s")
    print(f"  delivered samples: median {np.median(delivered):.3f}, min {np.min(delivered):.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--athletes", type=int, default=200)
    ap.add_argument("--corpus", type=int, default=100)
    args = ap.parse_args()
    speed()
    athlete_targets(args.athletes)
    corpus(args.corpus)


if __name__ == "__main__":
    main()
