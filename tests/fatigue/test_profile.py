"""Athlete profiles: load-velocity line, e1RM with uncertainty, personal MVT and curve."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vbt.fatigue.catalogue import lookup, reps_to_failure
from vbt.fatigue.estimator import RepObservation, RirEstimator
from vbt.fatigue.profile import (
    SetRecord,
    fit_load_velocity,
    fit_profile,
    population_profile,
    within_mvt_sd,
)


def test_load_velocity_line_exact_points():
    loads = [60, 80, 100, 120]
    v = [1.0 - 0.005 * x for x in loads]
    lv = fit_load_velocity(loads, v)
    assert lv.slope_mps_per_kg == pytest.approx(-0.005)
    assert lv.intercept_mps == pytest.approx(1.0)
    assert lv.r2 == pytest.approx(1.0)
    assert lv.load_at(0.3) == pytest.approx(140.0)
    assert lv.velocity_at(100) == pytest.approx(0.5)
    assert lv.n_points == 4 and lv.load_range_kg == (60.0, 120.0)
    # residual SD is shrunk towards the prior: never claims a perfect line
    assert lv.residual_sd_mps > 0.02


def test_load_velocity_needs_two_loads_and_a_falling_line():
    assert fit_load_velocity([100, 100, 100], [0.5, 0.52, 0.49]) is None
    assert fit_load_velocity([100], [0.5]) is None
    assert fit_load_velocity([60, 100], [0.5, 0.7]) is None  # faster when heavier: not a profile
    assert fit_load_velocity([60, 100], [0.8, 0.5]).r2 is None  # two points: no r^2


def test_e1rm_and_its_uncertainty_shrink_with_more_and_heavier_loads():
    rng = np.random.default_rng(3)
    true_1rm, mvt = 150.0, 0.28
    slope = -(1.6 / true_1rm)

    def v_at(load):
        return mvt + (-slope) * (true_1rm - load)

    narrow = [90, 95, 100]
    wide = [75, 90, 105, 120, 135]
    fit_n = fit_load_velocity(narrow, [v_at(x) + rng.normal(0, 0.02) for x in narrow])
    fit_w = fit_load_velocity(wide, [v_at(x) + rng.normal(0, 0.02) for x in wide])
    e_n, sd_n = fit_n.one_rm(mvt, 0.03)
    e_w, sd_w = fit_w.one_rm(mvt, 0.03)
    assert sd_w < sd_n
    assert abs(e_w - true_1rm) < 2.5 * sd_w
    # without MVT uncertainty the SD falls
    assert fit_w.one_rm(mvt, 0.0)[1] < sd_w


def test_e1rm_delta_method_matches_monte_carlo():
    lv = fit_load_velocity([80, 100, 120, 140], [0.75, 0.6, 0.46, 0.33])
    e, sd = lv.one_rm(0.25, 0.04)
    rng = np.random.default_rng(0)
    ab = rng.multivariate_normal([lv.intercept_mps, lv.slope_mps_per_kg], np.array(lv.cov), 200_000)
    m = rng.normal(0.25, 0.04, 200_000)
    loads = (m - ab[:, 0]) / ab[:, 1]
    assert e == pytest.approx(np.median(loads), rel=0.02)
    assert sd == pytest.approx(np.std(loads), rel=0.15)


def test_population_profile_when_nothing_logged():
    e = lookup("bench")
    p = fit_profile(e, [])
    assert p == population_profile(e)
    assert not p.personal and p.e1rm_kg is None
    assert p.mvt_mps == e.mvt.value
    pri = p.priors()
    assert pri.mvt_sd_mps == pytest.approx(e.mvt.sd) and not pri.personal


def _athlete_sets(exercise, mvt, loads_kg, one_rm, *, gamma=None, reps_scale=1.0, noise=0.0, seed=0):
    rng = np.random.default_rng(seed)
    e = lookup(exercise)
    gamma = e.shape.value if gamma is None else gamma
    out = []
    for load in loads_kg:
        frac = load / one_rm
        n_total = max(2, round(reps_to_failure(frac) * reps_scale))
        v1 = e.velocity_at(frac, mvt_mps=mvt)
        x = np.arange(n_total) / (n_total - 1)
        v = v1 - (v1 - mvt) * x**gamma + rng.normal(0, noise, n_total)
        out.append(SetRecord(e.name, tuple(float(a) for a in v), load_kg=float(load), to_failure=True))
    return out


def test_personal_mvt_recovered_from_sets_to_failure():
    e = lookup("bench")
    sets = _athlete_sets("bench", 0.10, [70, 80, 90], 110, noise=0.01)
    p = fit_profile(e, sets)
    assert p.personal and p.n_failure_sets == 3 and p.n_sets == 3
    assert p.mvt_mps == pytest.approx(0.10, abs=0.02)
    assert p.mvt_sd_mps < e.mvt.sd / 2
    assert p.within_mvt_sd_mps == within_mvt_sd(p.mvt_mps) == 0.02
    # the estimator's MVT prior for the next set: personal mean, personal + day-to-day spread
    pri = p.priors()
    assert pri.personal and pri.mvt_sd_mps == pytest.approx(math.hypot(p.mvt_sd_mps, 0.02))


def test_one_set_shrinks_less_than_three():
    e = lookup("squat")
    one = fit_profile(e, _athlete_sets("squat", 0.20, [120], 160))
    three = fit_profile(e, _athlete_sets("squat", 0.20, [110, 120, 130], 160))
    assert abs(three.mvt_mps - 0.20) < abs(one.mvt_mps - 0.20) + 1e-9
    assert e.mvt.value > one.mvt_mps > 0.20 - 0.01  # pulled part of the way from the prior
    assert three.mvt_sd_mps < one.mvt_sd_mps


def test_sets_not_to_failure_do_not_move_the_mvt_but_build_the_lv_line():
    e = lookup("squat")
    sets = [SetRecord("squat", (v, v - 0.02, v - 0.05), load_kg=load)
            for load, v in ((100, 0.8), (120, 0.65), (140, 0.5))]
    p = fit_profile(e, sets)
    assert not p.personal and p.mvt_mps == e.mvt.value
    assert p.load_velocity is not None and p.e1rm_kg is not None
    assert p.e1rm_kg == pytest.approx(p.load_velocity.load_at(e.mvt.value))
    assert any("no set to failure" in n for n in p.notes)


def test_curvature_and_reps_offset_are_learnt():
    e = lookup("bench")
    # a lifter whose velocity holds then collapses (gamma 3) and who does 40 % more reps than Brzycki
    sets = _athlete_sets("bench", 0.16, [70, 80, 90], 110, gamma=3.0, reps_scale=1.4)
    p = fit_profile(e, sets)
    assert p.gamma_median() >= 2.5
    assert p.reps_log_ratio == pytest.approx(math.log(1.4), abs=0.12)
    assert p.reps_log_sd < e.reps_log_sd.sd


def test_profile_makes_the_next_set_more_accurate():
    e = lookup("bench")
    sets = _athlete_sets("bench", 0.10, [75, 85, 95], 115, gamma=2.5, reps_scale=1.3, noise=0.01, seed=1)
    p = fit_profile(e, sets)
    nxt = _athlete_sets("bench", 0.10, [80], 115, gamma=2.5, reps_scale=1.3, noise=0.01, seed=2)[0]
    v = nxt.velocities_mps
    n_total = len(v)
    errs = {"pop": [], "personal": []}
    for name, est in (("pop", RirEstimator(e)), ("personal", RirEstimator(e, p.priors()))):
        for k in range(2, n_total + 1):
            kw = {}
            if name == "personal":
                frac, sd = p.fraction_1rm(load_kg=80.0)
                kw = {"fraction_1rm": frac, "fraction_1rm_sd": sd}
            r = est.estimate([RepObservation(x) for x in v[:k]], **kw)
            errs[name].append(abs(r.mean - (n_total - k)))
    assert np.mean(errs["personal"]) < 0.6 * np.mean(errs["pop"])


def test_fraction_1rm_from_load_and_from_velocity():
    e = lookup("squat")
    sets = [SetRecord("squat", (v,), load_kg=load) for load, v in ((100, 0.9), (140, 0.6), (180, 0.3))]
    p = fit_profile(e, sets)
    frac, sd = p.fraction_1rm(load_kg=p.e1rm_kg * 0.8)
    assert frac == pytest.approx(0.8) and 0 < sd < 0.2
    frac_v, sd_v = p.fraction_1rm(velocity_mps=p.load_velocity.velocity_at(p.e1rm_kg * 0.7))
    assert frac_v == pytest.approx(0.7) and sd_v > sd
    assert p.fraction_1rm() is None
    assert population_profile(e).fraction_1rm(load_kg=100) is None


def test_velocity_at_rir_gives_load_specific_vl_targets():
    e = lookup("bench")
    p = population_profile(e)
    vl = {}
    for frac in (0.6, 0.75, 0.9):
        v1, v2 = p.velocity_at_rir(e, 2, frac)
        vl[frac] = 1 - v2 / v1
        assert v1 > v2 > p.mvt_mps
    # the VL that means "2 in reserve" is larger at light loads (more room above the MVT)
    assert vl[0.6] > vl[0.75] > vl[0.9]


def test_other_exercises_and_empty_sets_ignored():
    e = lookup("squat")
    sets = [SetRecord("bench", (0.5, 0.3, 0.15), to_failure=True), SetRecord("squat", (), to_failure=True)]
    assert fit_profile(e, sets) == population_profile(e)


# ---------------------------------------------------------------- personal RIR-velocity relation


def _cliff_sets(n_sets=3):
    """Sets to failure whose velocity holds, then collapses on the last rep (a common real pattern)."""
    out = []
    for n_total, v_flat in ((8, 0.45), (10, 0.50), (6, 0.40))[:n_sets]:
        v = [v_flat - 0.01 * i for i in range(n_total - 1)] + [0.15]
        out.append(SetRecord("squat", tuple(v), to_failure=True))
    return out


def test_rir_velocity_table_keeps_a_last_rep_drop():
    from vbt.fatigue.profile import RELATION_MAX_RIR, fit_rir_velocity

    rel = fit_rir_velocity(_cliff_sets(), 0.0, 0.02)
    assert rel.r_max == RELATION_MAX_RIR
    table = np.asarray(rel.velocities_mps)
    assert np.all(np.diff(table) >= -1e-12)  # non-decreasing in RIR
    assert table[0] < 0.25  # the last rep's collapse survives the smoothing
    assert table[1] > 0.30  # ... and one rep before it the bar still moved well
    assert rel.n_points == 7 + 7 + 6  # reps within 6 of failure
    assert float(rel.velocity_at(99)) == table[-1]


def test_rir_velocity_needs_enough_reps_and_a_rising_relation():
    from vbt.fatigue.profile import fit_rir_velocity

    assert fit_rir_velocity([SetRecord("squat", (0.5, 0.4), to_failure=True)], 0.05, 0.02) is None
    faster_at_failure = [SetRecord("squat", (0.3, 0.35, 0.4, 0.45, 0.5, 0.55), to_failure=True)]
    assert fit_rir_velocity(faster_at_failure, 0.05, 0.02) is None


def test_relation_likelihood_prefers_the_true_alignment():
    from vbt.fatigue.estimator import RirVelocityProfile

    rel = RirVelocityProfile(velocities_mps=(0.20, 0.30, 0.36, 0.40, 0.43, 0.45, 0.46), offset_sd_mps=0.01,
                             n_points=20)
    y = np.array([0.40, 0.36, 0.30])  # reps at RIR 3, 2, 1
    rir = np.array([[5, 4, 3], [4, 3, 2], [3, 2, 1], [2, 1, 0]])
    ll = rel.log_likelihood(y, np.full(3, 0.02), rir, v_high_mps=0.6)
    assert int(np.argmax(ll)) == 2


def test_pava_makes_a_table_monotone():
    from vbt.fatigue.profile import _pava

    out = _pava(np.array([0.2, 0.35, 0.3, 0.4]), np.array([1.0, 1.0, 3.0, 1.0]))
    assert np.all(np.diff(out) >= 0)
    assert out[1] == pytest.approx(out[2]) == pytest.approx((0.35 + 0.9) / 4)


def test_relation_says_near_failure_when_velocity_is_below_its_range():
    # Regression: reps slower than the relation's whole 0-6 RIR range must not look "far from failure".
    from vbt.fatigue.estimator import RirVelocityProfile

    rel = RirVelocityProfile(velocities_mps=(0.13, 0.22, 0.29, 0.32, 0.36, 0.37, 0.39), offset_sd_mps=0.02,
                             n_points=20)
    y = np.array([0.21, 0.19])
    rir = np.array([[2, 1], [3, 2], [9, 8], [20, 19]])
    ll = rel.log_likelihood(y, np.full(2, 0.02), rir, v_high_mps=0.21)
    assert int(np.argmax(ll)) == 0
    assert ll[0] - ll[2] > 5 and ll[0] - ll[3] > 5
    # ... while reps faster than the range are best explained by "far from failure"
    fast = rel.log_likelihood(np.array([0.62, 0.60]), np.full(2, 0.02), rir, v_high_mps=0.65)
    assert fast[3] > fast[0] and fast[2] > fast[0]


def test_personal_reps_to_failure_relation_is_learnt_from_sets_to_failure():
    # An athlete doing 40 % more reps than Epley's relation at any first-rep velocity.
    from vbt.fatigue.estimator import rtf_shape
    from vbt.fatigue.profile import RTF_SCALE_POPULATION

    e = lookup("bench")
    mvt = 0.16
    sets = []
    for p in (0.65, 0.75, 0.85):
        v1 = mvt + e.lv_span.value * (1 - p)
        n = round(1 + 1.4 * 30 * (1 / p - 1))
        x = np.linspace(0, 1, n)
        sets.append(SetRecord("bench", tuple(v1 - (v1 - mvt) * x**1.6), to_failure=True))
    prof = fit_profile(e, sets)
    assert prof.rtf_scale is not None
    logs = [math.log((len(s.velocities_mps) - 1) / rtf_shape(e, s.velocities_mps[0], prof.mvt_mps)) for s in sets]
    # shrunk from the population scale towards the athlete's own
    assert math.log(RTF_SCALE_POPULATION) < math.log(prof.rtf_scale) <= max(logs) + 1e-9
    assert prof.rtf_scale > 1.25 * RTF_SCALE_POPULATION
    assert prof.priors().rtf_scale == prof.rtf_scale
    # no set to failure: no personal relation (the load prior is used instead)
    assert fit_profile(e, [SetRecord("bench", sets[0].velocities_mps, to_failure=False)]).rtf_scale is None


def test_relation_separates_each_sets_day_offset():
    # The same relation on three days, 0.03 m/s fast, normal and slow; the slow set is the
    # heaviest (few reps), so it covers only RIR 0-3. Pooling the raw reps would put the relation
    # ~0.015 m/s too high at RIR 4-6, where only the fast and normal days have reps; the mixed
    # model estimates each day's offset from the reps the days share.
    from vbt.fatigue.profile import RELATION_MAX_RIR, fit_rir_velocity

    h = np.array([0.16, 0.21, 0.26, 0.30, 0.34, 0.37, 0.40, 0.43, 0.45, 0.47, 0.49])[: RELATION_MAX_RIR + 1]
    sets, pooled = [], {}
    for offset, n in ((0.03, 11), (0.0, 7), (-0.03, 4)):
        rir = np.arange(n)[::-1]
        v = h[np.minimum(rir, len(h) - 1)] + offset
        sets.append(SetRecord("bench", tuple(v), to_failure=True))
        for r, x in zip(rir, v, strict=True):
            pooled.setdefault(int(r), []).append(x)
    rel = fit_rir_velocity(sets, 0.0, 0.03)
    table = np.asarray(rel.velocities_mps)
    naive = np.array([np.mean(pooled[r]) for r in range(len(h))])
    assert np.max(np.abs(table - h)) < 0.008
    assert np.max(np.abs(naive - h)) > 0.014
