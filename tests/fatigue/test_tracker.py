"""FatigueTracker: reference rep, VL, flags, deletion, causality, idempotence, options."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vbt.errors import UnknownExerciseError, UsageError
from vbt.fatigue.catalogue import reps_to_failure
from vbt.fatigue.profile import SetRecord, fit_profile
from vbt.fatigue.tracker import FatigueTracker, failed_attempt_credibility, reference_rep, velocity_loss_pct
from vbt.pipeline.results import FLAG_CONTINUE, FLAG_FAILURE, FLAG_STOP


def fields(s):
    return [(r.velocity_loss_pct, r.rir_estimate, r.rir_interval, r.flag) for r in s.reps]


def test_reference_is_best_of_first_two_trusted(make_set):
    s = make_set([0.60, 0.63, 0.70, 0.5])
    assert reference_rep(s.reps).index == 2  # rep 3 is faster but not among the first two
    s = make_set([0.60, 0.63, 0.70], qualities=[1, 0.3, 1])
    assert reference_rep(s.reps).index == 3  # low-quality rep 2 is skipped, rep 3 is second trusted
    assert reference_rep(s.reps, excluded={1}).index == 3
    assert reference_rep(make_set([0.5], qualities=[0.2]).reps) is None


def test_velocity_loss_against_reference(make_set):
    s = make_set([0.50, 0.60, 0.54, 0.45])
    FatigueTracker("squat").assess(s)
    assert [round(r.velocity_loss_pct, 6) for r in s.reps] == [0.0, 0.0, 10.0, 25.0]
    assert s.reference_rep_index == 2
    assert s.velocity_loss_pct == pytest.approx(25.0)
    assert velocity_loss_pct(0.5, 0.6) == pytest.approx(-20.0)


def test_low_quality_rep_never_stays_reference(make_set):
    # rep 1 reads fast because of a glitch; once flagged low quality it is not the baseline
    s = make_set([0.90, 0.60, 0.58, 0.54], qualities=[0.2, 1, 1, 1])
    FatigueTracker("squat").assess(s)
    assert s.reference_rep_index == 2
    assert s.reps[0].velocity_loss_pct is None  # no trusted reference yet after rep 1
    assert s.reps[3].velocity_loss_pct == pytest.approx(10.0)


def test_assess_is_causal(make_set, model_set):
    v = model_set("bench", 0.75, 10)
    full = make_set(v)
    FatigueTracker("bench").assess(full)
    for k in range(1, 11):
        part = make_set(v[:k])
        FatigueTracker("bench").assess(part)
        assert fields(part) == fields(full)[:k]


def test_assess_is_idempotent_and_keeps_pipeline_notes(make_set, model_set):
    s = make_set(model_set("squat", 0.8, 8)[:6])
    s.notes.append("pipeline: 2 % of samples missing; gaps bridged")
    t = FatigueTracker("squat")
    t.assess(s)
    first = (fields(s), list(s.notes), s.rir_estimate, s.rir_interval)
    t.assess(s)
    t.assess(s)
    assert (fields(s), list(s.notes), s.rir_estimate, s.rir_interval) == first
    assert s.notes[0] == "pipeline: 2 % of samples missing; gaps bridged"
    assert sum(not n.startswith("fatigue: ") for n in s.notes) == 1


def test_flags_along_a_set_to_failure(make_set, model_set):
    n_total = round(reps_to_failure(0.75))
    s = make_set(model_set("squat", 0.75, n_total))
    FatigueTracker("squat").assess(s)
    flags = [r.flag for r in s.reps]
    first_stop = flags.index(FLAG_STOP) + 1
    assert n_total - first_stop in (1, 2)  # the first stop comes at 1-2 reps in reserve
    assert all(f == FLAG_CONTINUE for f in flags[: first_stop - 1])
    assert s.rir_estimate == s.reps[-1].rir_estimate
    # Without a failed attempt "failure" is a prediction and needs P(RIR = 0) >= 0.8; the
    # population priors leave the last rep at ~0.76 (RIR 0 most likely, but not certain).
    est = FatigueTracker("squat").estimate(s.reps)
    assert est.median == 0 and est.prob_at_most(0) < 0.8
    assert flags[-1] == FLAG_STOP
    # The same set ending in a failed attempt is a failure: 0 reps in reserve, known.
    s = make_set(model_set("squat", 0.75, n_total), failed_after=True)
    FatigueTracker("squat").assess(s)
    assert s.reps[-1].flag == FLAG_FAILURE and s.rir_interval == (0.0, 0.0)


def test_stop_is_sticky(make_set, model_set):
    v = list(model_set("squat", 0.75, 10)[:9])
    v.append(v[2])  # a freak fast rep after the stop: no going back to "continue"
    s = make_set(v)
    FatigueTracker("squat").assess(s)
    assert s.reps[-2].flag in (FLAG_STOP, FLAG_FAILURE)
    assert s.reps[-1].flag == FLAG_STOP


def test_target_rir_moves_the_stop(make_set, model_set):
    v = model_set("bench", 0.7, 12)
    firsts = {}
    for target in (1, 2, 3):
        s = make_set(v)
        FatigueTracker("bench", target_rir=target).assess(s)
        firsts[target] = [r.flag for r in s.reps].index(FLAG_STOP) + 1
    assert firsts[3] <= firsts[2] <= firsts[1] and firsts[3] < firsts[1]
    assert 12 - firsts[3] in (2, 3, 4) and 12 - firsts[1] in (1, 2)


def test_failed_attempt_after_last_rep_means_failure(make_set):
    # A last rep slowing towards the squat MVT (0.28 +/- 0.05 m/s), then a failed attempt.
    s = make_set([0.6, 0.5, 0.38, 0.3], failed_after=True)
    FatigueTracker("squat").assess(s)
    last = s.reps[-1]
    assert last.flag == FLAG_FAILURE and last.rir_estimate == 0.0 and last.rir_interval == (0.0, 0.0)
    assert s.rir_estimate == 0.0 and s.rir_interval == (0.0, 0.0)
    assert any("failed attempt after the last rep" in n for n in s.notes)
    # earlier reps untouched by the hindsight
    assert s.reps[0].flag == FLAG_CONTINUE


def test_a_failed_attempt_after_a_fast_rep_is_doubted(make_set):
    # 0.5 m/s is ~4 population SDs above the squat MVT: the velocities say reps were left, so a
    # reported failed attempt is more likely a segmentation error (re-rack, walk-out) than failure.
    s = make_set([0.6, 0.58, 0.55, 0.5], failed_after=True)
    t = FatigueTracker("squat")
    t.assess(s)
    assert failed_attempt_credibility(t.last_estimate(s)) < 0.05
    assert s.reps[-1].flag != FLAG_FAILURE and s.reps[-1].rir_interval != (0.0, 0.0)
    assert s.rir_estimate is None or s.rir_estimate > 1
    assert any("not counted as failure" in n for n in s.notes)
    # ... while a last rep still 0.1 m/s above the MVT keeps the benefit of the doubt
    s = make_set([0.6, 0.55, 0.48, 0.40], failed_after=True)
    FatigueTracker("squat").assess(s)
    assert s.reps[-1].flag == FLAG_FAILURE


def test_failed_attempt_credibility_is_bayes_on_the_likelihood_ratio():
    from vbt.fatigue.estimator import RirEstimate

    est = RirEstimate(rir=None, interval=(0.0, 3.0), probabilities=(0.5, 0.5), prior_probabilities=(0.2, 0.8))
    lr = est.failure_likelihood_ratio()
    assert lr == pytest.approx(4.0)  # posterior odds 1 / prior odds 0.25
    assert failed_attempt_credibility(est, prior=0.5) == pytest.approx(0.8)
    assert failed_attempt_credibility(None, prior=0.8) == 0.8  # no velocity evidence: the prior stands


def test_failed_attempt_before_more_reps_is_only_a_note(make_set):
    s = make_set([0.6, 0.58, 0.55, 0.5])
    s.failed_attempts = make_set([0.6], failed_after=True).failed_attempts  # before rep 2 (t ~ 12-14 s)
    FatigueTracker("squat").assess(s)
    assert s.reps[-1].flag != FLAG_FAILURE or s.reps[-1].rir_estimate != 0.0
    assert any("within the set" in n for n in s.notes)


def test_vl_cutoff_fires_at_the_users_threshold(make_set):
    s = make_set([0.70, 0.69, 0.66, 0.62, 0.59, 0.55], qualities=[1, 1, 1, 1, 0.3, 1])
    FatigueTracker("squat", vl_cutoff_pct=15).assess(s)
    # VL: 0, 1.4, 5.7, 11.4, 15.7 (low quality: ignored), 21.4
    assert [r.flag for r in s.reps] == [FLAG_CONTINUE] * 5 + [FLAG_STOP]
    assert any("15 % velocity loss" in n for n in s.notes)
    assert s.reps[-1].rir_estimate is not None or s.reps[-1].rir_interval is not None


def test_delete_rep_recomputes_reference_and_counts(make_set, model_set):
    v = list(model_set("squat", 0.75, 10)[:6])
    s = make_set([1.2, *v])  # rep 1 is a ghost (e.g. the unrack) that the user deletes
    t = FatigueTracker("squat")
    t.assess(s)
    assert s.reference_rep_index == 1
    t.exclude_rep(s, 1)
    assert t.excluded_reps(s) == {1}
    assert s.reference_rep_index == 2  # best of the first two counted reps (2, 3)
    assert s.reps[0].velocity_loss_pct is None and s.reps[0].rir_estimate is None
    clean = make_set(v)
    FatigueTracker("squat").assess(clean)
    assert [r.rir_estimate for r in s.reps[1:]] == [r.rir_estimate for r in clean.reps]
    assert any("deleted reps not counted: 1" in n for n in s.notes)
    t.exclude_rep(s, 1, excluded=False)
    assert s.reference_rep_index == 1
    with pytest.raises(UsageError, match="has reps"):
        t.exclude_rep(s, 42)


def test_options_are_validated():
    with pytest.raises(UsageError, match="--target-rir"):
        FatigueTracker("squat", target_rir=0)
    with pytest.raises(UsageError, match="--target-rir"):
        FatigueTracker("squat", target_rir=4)
    with pytest.raises(UsageError, match="--vl-cutoff"):
        FatigueTracker("squat", vl_cutoff_pct=120)
    with pytest.raises(UsageError, match="--vl-cutoff"):
        FatigueTracker("squat", vl_cutoff_pct=float("nan"))
    with pytest.raises(UnknownExerciseError):
        FatigueTracker("curl")
    assert FatigueTracker("back-squat").exercise == "squat"


def test_empty_set(make_set):
    s = make_set([])
    FatigueTracker("squat").assess(s)
    assert s.velocity_loss_pct is None and s.rir_estimate is None and s.reference_rep_index is None


def test_profile_of_a_slow_grinder_delays_the_stop(make_set, model_set):
    # A lifter whose last reps are much slower than the population MVT (0.20 vs 0.28 m/s):
    # without a profile the tracker stops (and even calls failure) too early.
    history = [
        SetRecord("squat", tuple(model_set("squat", f, round(reps_to_failure(f)), mvt=0.20)), to_failure=True)
        for f in (0.7, 0.75, 0.8)
    ]
    profile = fit_profile(FatigueTracker("squat").entry, history)
    assert profile.mvt_mps == pytest.approx(0.20, abs=0.02)
    v = model_set("squat", 0.75, 10, mvt=0.20)
    plain, personal = make_set(v), make_set(v)
    FatigueTracker("squat").assess(plain)
    FatigueTracker("squat", profile=profile).assess(personal)
    first = lambda s: [r.flag for r in s.reps].index(FLAG_STOP) + 1  # noqa: E731
    assert first(plain) < first(personal)
    assert 10 - first(personal) in (1, 2)
    errors = lambda s: [abs(r.rir_estimate - (10 - r.index)) for r in s.reps if r.rir_estimate is not None]  # noqa: E731
    assert sum(errors(personal)) / len(errors(personal)) < sum(errors(plain)) / len(errors(plain))
    assert any("personalised from 3 set(s)" in n for n in personal.notes)


def test_profile_for_another_exercise_is_refused():
    from vbt.fatigue.catalogue import lookup
    from vbt.fatigue.profile import population_profile

    with pytest.raises(ValueError, match="profile is for 'bench'"):
        FatigueTracker("squat", profile=population_profile(lookup("bench")))


def test_assessing_a_copy_gives_the_same_answer(make_set, model_set):
    s = make_set(model_set("deadlift", 0.8, 8))
    c = copy.deepcopy(s)
    t = FatigueTracker("deadlift")
    t.assess(s)
    t.assess(c)  # cache hit path
    assert fields(s) == fields(c)


def test_settings_dict_records_provenance():
    from vbt.fatigue.tracker import FATIGUE_VERSION

    d = FatigueTracker("press", target_rir=3, vl_cutoff_pct=25).settings_dict()
    assert d == {"fatigue_version": FATIGUE_VERSION, "exercise": "ohp", "target_rir": 3, "vl_cutoff_pct": 25.0}


def test_for_athlete_personalises_from_the_database(tmp_path, make_set, make_result, model_set):
    from vbt.fatigue.history import HistoryDb

    with HistoryDb(tmp_path / "h.sqlite3") as db:
        for i, frac in enumerate((0.7, 0.75, 0.8)):
            s = make_set(model_set("squat", frac, round(reps_to_failure(frac)), mvt=0.20), failed_after=True)
            db.save_analysis(make_result([s]), athlete="Ana", recording_path=tmp_path / f"r{i}.jsonl")
        ana = FatigueTracker.for_athlete(db, "ana", "back-squat", target_rir=1)
        nobody = FatigueTracker.for_athlete(db, "Cy", "squat")
    assert ana.profile.personal and ana.profile.n_failure_sets == 3
    assert ana.profile.mvt_mps == pytest.approx(0.20, abs=0.02)
    assert ana.target_rir == 1 and ana.exercise == "squat"
    assert not nobody.profile.personal




@given(
    st.lists(
        st.tuples(
            st.one_of(st.floats(-1.0, 3.0), st.just(float("nan")), st.just(float("inf"))),
            st.one_of(st.floats(0.0, 1.0), st.just(float("nan"))),
        ),
        max_size=25,
    ),
    st.sampled_from(["squat", "bench", "deadlift", "ohp", "row", "generic"]),
)
def test_assess_never_raises_and_stays_consistent(reps, exercise):
    from vbt.pipeline.results import RepResult, SetResult

    s = SetResult(index=1, start_s=0.0, end_s=100.0, reps=[
        RepResult(index=i + 1, start_s=3.0 * i, end_s=3.0 * i + 1.0, mean_velocity_mps=v,  # NaN/inf/negative too
                  mean_propulsive_velocity_mps=v, peak_velocity_mps=v, rom_m=0.5, duration_s=1.0,
                  time_to_peak_s=0.4, quality=q)
        for i, (v, q) in enumerate(reps)
    ])
    t = FatigueTracker(exercise)
    t.assess(s)
    for rep in s.reps:
        assert rep.flag in (FLAG_CONTINUE, FLAG_STOP, FLAG_FAILURE)
        if rep.rir_interval is not None:
            lo, hi = rep.rir_interval
            assert 0 <= lo <= hi
            if rep.rir_estimate is not None:
                assert lo - 0.5 <= rep.rir_estimate <= hi + 0.5
