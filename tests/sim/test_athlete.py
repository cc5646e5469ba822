"""The athlete/fatigue model reproduces the literature targets it cites (vbt.sim.athlete)."""

from __future__ import annotations

import numpy as np
import pytest

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


@pytest.fixture(scope="module")
def athletes() -> list[Athlete]:
    return [Athlete.random(1000 + i) for i in range(60)]


def _noise_free_trace(prof, p, mvt):
    st, v = FatigueState(), []
    while st.capacity >= p and len(v) < 200:
        c = st.capacity
        v.append(prof.velocity(p / c, mvt))
        st.spend(prof, rep_cost(prof, p, c, 1.0))
        st.recover(prof, 4.0, in_set=True)
    return np.array(v)


def test_same_seed_same_athlete_and_round_trip():
    a, b = Athlete.random(5), Athlete.random(5)
    assert a.to_dict() == b.to_dict() and a.athlete_id == "sim-5"
    again = Athlete.from_dict(a.to_dict())
    assert again.to_dict() == a.to_dict()
    assert Athlete.random(6).to_dict() != a.to_dict()


@pytest.mark.parametrize("exercise", EXERCISES)
def test_reps_to_failure_follow_the_epley_relation(athletes, exercise):
    for p in (0.6, 0.7, 0.8, 0.9):
        n = [count_reps(a.profiles[exercise], p, FatigueState(), a.profiles[exercise].mvt_mps) for a in athletes]
        expected = population_reps_to_failure(exercise, p)
        assert np.mean(n) == pytest.approx(expected, rel=0.25), f"{exercise} at {p:.0%}"
        # athletes differ (Richens & Cleather 2014: +/-20-30 %)
        if p <= 0.8:
            assert np.std(n) / np.mean(n) > 0.1


def test_first_velocity_drop_comes_later_in_the_squat_than_in_the_bench(athletes):
    # Izquierdo 2006: first clear drop after 34-40 % of reps (bench) vs 48-69 % (squat).
    # The squat cannot reach 48 % here without breaking the load independence of velocity at a
    # given RIR (Morán-Navarro 2019, pinned below): a lag long enough for 0.45-0.47 pushes the CV
    # at RIR 4-8 above 8 % and reps at 90 % above Epley + 30 % (athlete.py parameter table).
    onset = {}
    for ex in ("bench", "squat"):
        vals = []
        for a in athletes:
            v = _noise_free_trace(a.profiles[ex], 0.7, a.profiles[ex].mvt_mps)
            loss = v[0] - v
            vals.append(np.argmax(loss >= 0.2 * loss[-1]) / (len(v) - 1))
        onset[ex] = float(np.mean(vals))
    assert 0.30 <= onset["bench"] <= 0.45
    assert 0.40 <= onset["squat"] <= 0.69
    assert onset["squat"] > onset["bench"] + 0.05


def test_velocity_loss_at_failure_is_larger_in_the_bench(athletes):
    rng = np.random.default_rng(0)
    vl = {"bench": [], "squat": []}
    last_above_mvt = {"bench": [], "squat": []}
    for a in athletes:
        for ex in vl:
            day = DayState.random(rng)
            prof = a.profiles[ex]
            out = plan_set(a, day, ex, round_load(0.7 * prof.one_rm_kg), rng, to_failure=True)
            v = np.array([r.mcv_mps for r in out.reps])
            vl[ex].append(100 * (1 - v[-1] / v[:2].max()))
            last_above_mvt[ex].append(v[-1] - out.mvt_day_mps)
    # arithmetic anchor (science.md §4.4): ~74 % bench vs ~62 % squat at 70 %; squat lower
    assert 55 <= np.mean(vl["bench"]) <= 80
    assert 35 <= np.mean(vl["squat"]) <= 65
    assert np.mean(vl["bench"]) > np.mean(vl["squat"]) + 5
    # the last rep of a set to failure lands near the velocity of a 1RM single
    for ex in vl:
        assert -0.03 < np.mean(last_above_mvt[ex]) < 0.1


def _fresh_set_to_failure(a, ex, pct, rng):
    """One set to failure on its own day (fresh), as in the studies' designs: (MCVs, true RIRs)."""
    out = plan_set(a, DayState.random(rng), ex, round_load(pct * a.profiles[ex].one_rm_kg), rng, to_failure=True)
    return np.array([r.mcv_mps for r in out.reps]), np.array([r.rir for r in out.reps])


@pytest.mark.parametrize("exercise", ["bench", "squat", "ohp", "row"])
def test_velocity_at_a_given_rir_does_not_depend_on_load(athletes, exercise):
    # Morán-Navarro 2019 [V]: velocities at 2/4/6/8 RIR do not depend on the load (65/75/85 %1RM,
    # separate sessions) in the bench, full squat, shoulder press and prone bench pull; CV 4.4-8.0 %.
    # Measured the same way: each athlete's CV across the three loads, with day-to-day and
    # rep-to-rep variation, averaged over athletes.
    rng = np.random.default_rng(11)
    cvs: dict[int, list[float]] = {2: [], 4: [], 6: []}
    for a in athletes[:40]:
        at = []
        for pct in (0.65, 0.75, 0.85):
            v, rir = _fresh_set_to_failure(a, exercise, pct, rng)
            at.append(dict(zip(rir.tolist(), v.tolist(), strict=True)))
        for r, out in cvs.items():
            vals = [d[r] for d in at if r in d]
            if len(vals) >= 2:
                out.append(np.std(vals, ddof=1) / np.mean(vals))
    for r, out in cvs.items():
        assert 0.044 <= np.mean(out) <= 0.080, f"{exercise} RIR {r}: CV {np.mean(out):.3f}"


def test_velocity_falls_steadily_near_failure_without_a_last_rep_cliff(athletes):
    # Individual RIR-velocity relations are fitted as straight lines near failure (Jukic 2024,
    # Martínez-Rubio 2025): the last rep's drop is about the size of the drops before it, and the
    # last rep lands just above the velocity of a 1RM single (reps are discrete).
    for ex in ("bench", "squat", "deadlift", "ohp", "row"):
        last, before = [], []
        for a in athletes:
            prof = a.profiles[ex]
            v = _noise_free_trace(prof, 0.75, prof.mvt_mps)
            last.append(v[-2] - v[-1])
            before.append((v[-5] - v[-2]) / 3)
        ratio = np.median(np.array(last) / np.array(before))
        assert 0.8 <= ratio <= 1.3, f"{ex}: last-rep drop {ratio:.2f} x the mean drop of RIR 4 -> 1"


def test_individual_share_of_reps_follows_velocity_loss(athletes):
    # IJSPP 2020 (Smith bench, sets to failure at 50-80 % on separate days) [V]: individual
    # %Rep-VL fits R^2 0.97-0.99; between-subject CV of %Rep at a given VL 5-20 %. The simulator
    # stays a little below 0.97 even without rep noise: with the last rep at the MVT, the VL at
    # failure (1 - MVT / v1) is larger at light loads, which one curve per athlete cannot absorb.
    rng = np.random.default_rng(12)
    r2, at_vl = [], {20: [], 30: [], 40: []}
    for a in athletes[:40]:
        vl, share = [], []
        for pct in (0.5, 0.6, 0.7, 0.8):
            v, _ = _fresh_set_to_failure(a, "bench", pct, rng)
            vl += list(100 * (1 - v / v.max()))
            share += list(100 * np.arange(1, len(v) + 1) / len(v))
        x, y = np.array(vl), np.array(share)
        c = np.polyfit(x, y, 2)
        r2.append(1 - np.sum((y - np.polyval(c, x)) ** 2) / np.sum((y - y.mean()) ** 2))
        for k, out in at_vl.items():
            out.append(np.polyval(c, k))
    assert np.median(r2) >= 0.94
    for k, out in at_vl.items():
        assert 0.05 <= np.std(out) / np.mean(out) <= 0.20, f"CV of %Rep at VL {k} %"


def test_rir_labels_count_the_reps_left():
    rng = np.random.default_rng(3)
    a = Athlete.random(42)
    for rule in ({"to_failure": True}, {"stop_rir": 3}, {"target_reps": 4}):
        day = DayState.random(np.random.default_rng(1))
        prof = a.profiles["bench"]
        load = round_load(0.75 * prof.one_rm_kg)
        out = plan_set(a, day, "bench", load, rng, **rule)
        rirs = [r.rir for r in out.reps]
        assert rirs == list(range(rirs[0], rirs[0] - len(rirs), -1))
        assert rirs[0] + 1 == out.reps_possible or rule.get("target_reps")
        if rule.get("to_failure"):
            assert rirs[-1] == 0 and len(rirs) == out.reps_possible
        if rule.get("stop_rir"):
            assert rirs[-1] == min(3, out.reps_possible - 1)


def test_second_set_to_failure_after_two_minutes_has_fewer_reps(athletes):
    ratios = []
    rng = np.random.default_rng(7)
    for a in athletes:
        day = DayState.random(rng)
        prof = a.profiles["squat"]
        load = round_load(0.75 * prof.one_rm_kg)
        n1 = len(plan_set(a, day, "squat", load, rng, to_failure=True).reps)
        day.rest(a, 120.0)
        n2 = len(plan_set(a, day, "squat", load, rng, to_failure=True).reps)
        ratios.append(n2 / n1)
    assert 0.6 <= np.mean(ratios) <= 0.9  # Pérez-Castilla 2024 design: reps fall across sets


def test_velocity_is_not_one_line_of_rir_for_everyone(athletes):
    # The RIR estimator must not be able to read the simulator: velocity-vs-RIR slopes differ.
    # (Jukic 2024, Martínez-Rubio 2025: individual RIR-velocity relations beat a general one.)
    slopes, v_rir2 = [], []
    for a in athletes[:40]:
        prof = a.profiles["squat"]
        v = _noise_free_trace(prof, 0.75, prof.mvt_mps)
        rir = np.arange(len(v))[::-1]
        slopes.append(np.polyfit(rir[-5:], v[-5:], 1)[0])
        v_rir2.append(v[-3])
    assert np.std(slopes) / abs(np.mean(slopes)) > 0.15
    assert np.std(v_rir2) > 0.04


@pytest.mark.parametrize("rule", [{"target_reps": 3}, {"stop_rir": 2}, {"to_failure": True}])
def test_a_load_too_heavy_today_is_one_failed_attempt(rule):
    a = Athlete.random(3)
    day = DayState.random(np.random.default_rng(0))
    prof = a.profiles["squat"]
    out = plan_set(a, day, "squat", round_load(1.2 * prof.one_rm_kg), np.random.default_rng(1), **rule)
    assert out.reps == [] and out.failed is not None and out.stop_reason == "failure"
