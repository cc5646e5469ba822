"""Catalogue: every value cited and tagged, aliases resolve, group lines match the published equations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vbt.errors import UnknownExerciseError, UsageError
from vbt.fatigue import catalogue
from vbt.fatigue.catalogue import CATALOGUE, Cited, lookup, reps_to_failure

REQUIRED = ("squat", "front-squat", "bench", "incline-bench", "deadlift", "ohp", "row", "generic")


def test_required_exercises_present():
    assert set(REQUIRED) <= set(CATALOGUE)
    assert catalogue.names()[: len(REQUIRED)] == list(REQUIRED)


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("back-squat", "squat"), ("Back Squat", "squat"), ("back_squat", "squat"),
        ("bench-press", "bench"), ("overhead-press", "ohp"), ("press", "ohp"),
        ("barbell-row", "row"), ("pendlay-row", "row"), ("front-squat", "front-squat"),
        ("incline-bench", "incline-bench"), ("DEADLIFT", "deadlift"),
    ],
)
def test_aliases_resolve(alias, name):
    assert lookup(alias).name == name
    assert catalogue.canonical_name(alias) == name


def test_none_is_generic():
    assert lookup(None).name == "generic"


def test_unknown_exercise_lists_known_names():
    with pytest.raises(UnknownExerciseError) as info:
        lookup("zercher")
    err = info.value
    assert isinstance(err, UsageError)
    assert err.name == "zercher"
    assert set(REQUIRED) <= set(err.known)
    text = str(err)
    assert "zercher" in text and "squat" in text and "\n" not in text


def test_every_number_has_a_citation_and_tag():
    for entry in CATALOGUE.values():
        for fname in ("mvt", "lv_span", "lv_sd", "shape", "reps_log_sd", "rep_noise_cv"):
            value = getattr(entry, fname)
            assert isinstance(value, Cited), (entry.name, fname)
            assert value.tag in catalogue.TAGS
            assert len(value.source) > 10, (entry.name, fname)


def test_cited_rejects_bad_tag_and_nan():
    with pytest.raises(ValueError, match="tag"):
        Cited(1.0, 0.1, "x", "Q")
    with pytest.raises(ValueError, match="finite"):
        Cited(math.nan, 0.1, "x", "V")


@pytest.mark.parametrize(
    ("name", "mvt", "sd"),
    # science.md §4.1: bench 0.16 +/- 0.04 (González-Badillo 2010), deadlift 0.14 +/- 0.05 (Helms 2017),
    # squat between free-weight 0.24 (Banyard 2017) and Smith 0.32 (Sánchez-Medina 2017).
    [("bench", 0.16, 0.05), ("deadlift", 0.14, 0.05), ("squat", 0.28, 0.05), ("ohp", 0.19, 0.05)],
)
def test_mvt_values_match_science_reference(name, mvt, sd):
    e = lookup(name)
    assert e.mvt.value == pytest.approx(mvt)
    assert e.mvt.sd == pytest.approx(sd)


def test_squat_values_span_the_two_verified_sources():
    e = lookup("squat")
    assert 0.24 <= e.mvt.value <= 0.32
    assert e.mvt.value - e.mvt.sd <= 0.24 and e.mvt.value + e.mvt.sd >= 0.32
    assert "Banyard" in e.mvt.source and "Sánchez-Medina" in e.mvt.source


def test_squat_group_line_matches_sanchez_medina_equation():
    # %1RM = -12.87 MV^2 - 46.31 MV + 116.3 (science.md §4.2): solve for MV at 60-90 % and compare
    # the *velocity drop* from 1RM (our line is anchored on our own MVT).
    e = lookup("squat")

    def mv_at(pct):
        a, b, c = -12.87, -46.31, 116.3 - pct
        return (-b - math.sqrt(b * b - 4 * a * c)) / (2 * a)

    v100 = mv_at(100)
    for pct in (60, 70, 80, 90):
        published_drop = mv_at(pct) - v100
        ours = e.velocity_at(pct / 100) - e.velocity_at(1.0)
        assert ours == pytest.approx(published_drop, abs=0.04), pct


def test_bench_group_line_matches_gonzalez_badillo_points():
    e = lookup("bench")
    # 100 % at 0.16, ~80 % at 0.48, ~60 % at 0.80 m/s (science.md §4.2).
    for frac, v in ((1.0, 0.16), (0.8, 0.48), (0.6, 0.80)):
        assert e.velocity_at(frac) == pytest.approx(v, abs=0.01)


@pytest.mark.parametrize("name", REQUIRED)
def test_fraction_from_velocity_inverts_group_line(name):
    e = lookup(name)
    for frac in np.linspace(0.5, 1.0, 6):
        assert e.fraction_1rm_from_velocity(e.velocity_at(frac)) == pytest.approx(frac)
    # personal MVT shifts the line
    assert e.fraction_1rm_from_velocity(e.velocity_at(0.7, mvt_mps=0.4), mvt_mps=0.4) == pytest.approx(0.7)
    # clipped to the plausible range
    assert e.fraction_1rm_from_velocity(5.0) == 0.3
    assert e.fraction_1rm_from_velocity(0.0) == 1.0


def test_reps_to_failure_mean_of_brzycki_and_epley():
    assert reps_to_failure(1.0) == pytest.approx(1.0)
    assert reps_to_failure(0.6) == pytest.approx((15.4 + 21.0) / 2)
    assert reps_to_failure(0.8) == pytest.approx((8.2 + 8.5) / 2)
    assert reps_to_failure(1.1) == 1.0  # never below one rep
    assert reps_to_failure(0.7) > reps_to_failure(0.75) > reps_to_failure(0.9)


def test_velocity_loss_at_failure_depends_on_load_and_exercise():
    # The arithmetic anchor of science.md §4.4: VL at failure ~ 1 - MVT / v_first.
    bench, squat = lookup("bench"), lookup("squat")
    vl = lambda e, f: 1 - e.mvt.value / e.velocity_at(f)  # noqa: E731
    assert vl(bench, 0.7) == pytest.approx(0.74, abs=0.03)
    assert vl(squat, 0.6) > vl(squat, 0.8)
    assert vl(bench, 0.7) > vl(squat, 0.7)


def test_upper_body_curvature_prior_below_lower_body():
    # Izquierdo 2006: velocity starts dropping earlier (share of reps) in the bench than in the squat.
    assert lookup("bench").shape.value < lookup("squat").shape.value


def test_user_doc_table_matches_the_catalogue():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "fatigue.md").read_text(encoding="utf-8")
    rows = {line.split("`")[1]: line for line in doc.splitlines() if line.startswith("| `")}
    for entry in CATALOGUE.values():
        row = rows[entry.name]
        assert f"{entry.mvt.value:.2f} ± {entry.mvt.sd:.2f} [{entry.mvt.tag}]" in row, entry.name
        assert f"{entry.lv_span.value:.2f} [{entry.lv_span.tag}]" in row, entry.name
        assert f"{entry.shape.value:g} [{entry.shape.tag}]" in row, entry.name
