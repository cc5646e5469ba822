"""Per-set fatigue assessment: velocity loss, reps-in-reserve estimate and the stop flag.

`FatigueTracker.assess(set_result)` fills the fatigue fields of every rep of a set and of the
set itself. It is *causal*: each rep's fields depend only on that rep and the ones before it,
so calling it after every new rep (live) and once at the end (offline) gives the same answers;
and it is *idempotent*: calling it twice changes nothing.

Reference rep: the fastest of the first two reps that are trustworthy (``quality >=
MIN_REFERENCE_QUALITY``) and not deleted; a low-quality or deleted rep never stays the
reference (the VBTTracker bug in anchors.md §5: deleting a rep left VL on the old baseline).
Velocity loss is ``100 * (v_ref - v_rep) / v_ref`` on MCV (science.md §3; Pareja-Blanco 2017
use the fastest rep; we take the best of the *first two* so a late fast rep cannot move the
baseline after the lifter has already seen their losses).

Flags (`vbt.pipeline.results`):

* ``continue``: estimated more than ``target_rir`` reps in reserve;
* ``stop``: the target zone is reached. Under the estimator's posterior
  (`vbt.fatigue.estimator`) the flag fires when flagging now costs no more than flagging at any
  later rep, with a late flag (the set reaches failure unflagged, or the flag comes at RIR 0)
  costing 1.5 and a flag two or more reps early 3 times a flag one rep early
  (`EstimatorSettings.stop_cost_ratio`, `far_early_cost`; `RirEstimate.should_stop`). A wide
  posterior waits rather than guessing. With a fixed velocity-loss cut-off chosen by the
  lifter, it fires instead when the velocity loss of a trustworthy rep reaches the cut-off. Once
  a set says ``stop`` it never goes back to ``continue`` (velocity only recovers by noise within
  a set);
* ``failure``: estimated 0 reps in reserve with P(RIR = 0) >= 0.8 (a prediction, so it needs a
  clear majority), or a *credible* failed attempt followed the last rep. A genuine failed attempt
  is the one piece of hindsight: it proves the rep before it was the last possible one, so that
  rep's estimate becomes 0 (interval 0-0) once the attempt is seen. Rep segmentation can report
  a failed attempt that was none (a re-rack, a walk-out), so the attempt is weighed against the
  reps' velocities (`failed_attempt_credibility`): after a fast last rep, far from the lifter's
  minimal velocity, it is reported in the notes but does not turn the set into a failure.

A deleted rep (`FatigueTracker.exclude_rep`, e.g. a ghost rep the user removed) does not count
towards reps done and is ignored entirely; a low-quality rep counts as a rep done but its
velocity is weighted down.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from vbt.errors import UsageError
from vbt.fatigue.catalogue import ExerciseEntry, lookup
from vbt.fatigue.estimator import (
    DEFAULT_SETTINGS,
    EstimatorSettings,
    RepObservation,
    RirEstimate,
    RirEstimator,
)
from vbt.fatigue.profile import AthleteProfile
from vbt.pipeline.results import FLAG_CONTINUE, FLAG_FAILURE, FLAG_STOP, RepResult, SetResult

if TYPE_CHECKING:
    from vbt.fatigue.history import HistoryDb

#: Reps below this quality are never used as the velocity-loss reference.
MIN_REFERENCE_QUALITY = 0.5
#: Allowed ``target_rir`` values (the issue: 1-3, default 2).
TARGET_RIR_CHOICES = (1, 2, 3)
#: Prefix of the notes this module writes into `SetResult.notes` (so re-assessing replaces them).
NOTE_PREFIX = "fatigue: "
#: Version of the fatigue algorithm (estimator, priors, flag rule); stored with every saved analysis.
FATIGUE_VERSION = "fatigue-2.0"
#: Prior probability that a failed attempt the analysis reports after the last rep is genuine [D]:
#: rep segmentation occasionally reports one in a set that had none (a re-rack, a walk-out);
#: `benchmarks/fatigue.py` measures how often.
FAILED_ATTEMPT_PRIOR = 0.8

_FLAG_RANK = {FLAG_CONTINUE: 0, FLAG_STOP: 1, FLAG_FAILURE: 2}


def reference_rep(reps: list[RepResult], excluded: frozenset[int] | set[int] = frozenset()) -> RepResult | None:
    """The fastest of the first two trustworthy, not-deleted reps (None when there is none yet).

    A rep without a positive, finite mean velocity is never trustworthy: velocity loss is
    measured relative to the reference and would divide by it.
    """
    trusted = [r for r in reps if r.quality >= MIN_REFERENCE_QUALITY and r.index not in excluded
               and math.isfinite(r.mean_velocity_mps) and r.mean_velocity_mps > 0.0][:2]
    if not trusted:
        return None
    return max(trusted, key=lambda r: r.mean_velocity_mps)


def velocity_loss_pct(reference_mps: float, velocity_mps: float) -> float:
    """100 * (reference - velocity) / reference (negative when faster than the reference)."""
    return 100.0 * (reference_mps - velocity_mps) / reference_mps


def failed_attempt_credibility(estimate: RirEstimate | None, prior: float = FAILED_ATTEMPT_PRIOR) -> float:
    """Probability that a failed attempt reported after the last rep is genuine, given the reps' velocities.

    A genuine failed attempt means the last completed rep was the last possible one (RIR 0). Bayes:
    ``P = prior * LR / (prior * LR + 1 - prior)`` with ``LR`` = how much the velocities favour RIR 0
    over "reps left" (`RirEstimate.failure_likelihood_ratio`). A last rep near the lifter's
    minimal velocity keeps the attempt (LR >= 1); a fast last rep far from failure makes a
    spurious detection the better explanation. Without velocity evidence the prior stands.
    """
    lr = None if estimate is None else estimate.failure_likelihood_ratio()
    if lr is None:
        return prior
    return prior * lr / (prior * lr + 1.0 - prior)


def validate_target_rir(value: int) -> int:
    """Check a target RIR (1, 2 or 3); raise `UsageError` naming ``--target-rir`` otherwise."""
    if value not in TARGET_RIR_CHOICES:
        raise UsageError("--target-rir", value, "use 1, 2 or 3 reps in reserve")
    return int(value)


def validate_vl_cutoff(value: float | None) -> float | None:
    """Check a velocity-loss cut-off in percent (0 < x < 100); raise `UsageError` otherwise."""
    if value is None:
        return None
    if not (math.isfinite(value) and 0.0 < value < 100.0):
        raise UsageError("--vl-cutoff", value, "give a velocity loss in percent between 0 and 100, e.g. 20")
    return float(value)


class FatigueTracker:
    """Assesses sets of one exercise for one lifter.

    Args:
        exercise: Catalogue name or alias of the exercise (unknown -> `UnknownExerciseError`).
        load_kg: Bar + plates, if known (with a profile's e1RM it gives %1RM).
        target_rir: The lifter's target reps in reserve (1-3): ``stop`` fires when it is reached.
        vl_cutoff_pct: Optional fixed velocity-loss cut-off (%), for lifters who train by VL %;
            it replaces the RIR rule for ``stop`` (the RIR estimate is still shown).
        profile: The athlete's profile for this exercise (personal MVT, curve, e1RM).
        fraction_1rm: %1RM of the load as a fraction, if the lifter knows it.
        settings: Estimator settings.
    """

    def __init__(
        self,
        exercise: str,
        *,
        load_kg: float | None = None,
        target_rir: int = 2,
        vl_cutoff_pct: float | None = None,
        profile: AthleteProfile | None = None,
        fraction_1rm: float | None = None,
        settings: EstimatorSettings = DEFAULT_SETTINGS,
    ) -> None:
        self.entry: ExerciseEntry = lookup(exercise)
        self.exercise = self.entry.name
        self.load_kg = load_kg
        self.target_rir = validate_target_rir(target_rir)
        self.vl_cutoff_pct = validate_vl_cutoff(vl_cutoff_pct)
        if profile is not None and profile.exercise != self.entry.name:
            raise ValueError(f"profile is for {profile.exercise!r}, tracker for {self.entry.name!r}")
        self.profile = profile
        if fraction_1rm is not None and not (0.0 < fraction_1rm <= 1.2):
            raise UsageError("--load-pct", fraction_1rm * 100, "give the load as a percentage of 1RM, 1-120")
        self.fraction_1rm = fraction_1rm
        self.settings = settings
        priors = profile.priors() if profile is not None else None
        self.estimator = RirEstimator(self.entry, priors, settings)
        self._excluded: dict[int, set[int]] = {}
        self._cache: OrderedDict[tuple, RirEstimate] = OrderedDict()
        self._last: dict[int, RirEstimate | None] = {}

    @classmethod
    def for_athlete(
        cls,
        db: HistoryDb,
        athlete: str,
        exercise: str,
        *,
        load_kg: float | None = None,
        target_rir: int = 2,
        vl_cutoff_pct: float | None = None,
        fraction_1rm: float | None = None,
        settings: EstimatorSettings = DEFAULT_SETTINGS,
    ) -> FatigueTracker:
        """A tracker personalised from ``athlete``'s logged sets of ``exercise`` in ``db``.

        An athlete without logged sets (or unknown to the database) gets population priors.
        """
        profile = db.profile(athlete, exercise, settings=settings)
        return cls(
            exercise, load_kg=load_kg, target_rir=target_rir, vl_cutoff_pct=vl_cutoff_pct, profile=profile,
            fraction_1rm=fraction_1rm, settings=settings,
        )

    def settings_dict(self) -> dict[str, object]:
        """The fatigue settings that shaped the results (stored with a saved analysis, for provenance)."""
        out: dict[str, object] = {
            "fatigue_version": FATIGUE_VERSION,
            "exercise": self.exercise,
            "target_rir": self.target_rir,
            "vl_cutoff_pct": self.vl_cutoff_pct,
        }
        if self.fraction_1rm is not None:
            out["fraction_1rm"] = self.fraction_1rm
        if self.profile is not None and self.profile.personal:
            out["profile_sets_to_failure"] = self.profile.n_failure_sets
        return out

    # ------------------------------------------------------------------ deleting reps

    def exclude_rep(self, set_result: SetResult, rep_index: int, excluded: bool = True) -> None:
        """Delete (or restore) rep ``rep_index`` of ``set_result`` and re-assess the set.

        Raises:
            UsageError: the set has no rep with that index.
        """
        if not any(r.index == rep_index for r in set_result.reps):
            known = ", ".join(str(r.index) for r in set_result.reps) or "none"
            raise UsageError("rep", rep_index, f"set {set_result.index} has reps {known}")
        marks = self._excluded.setdefault(set_result.index, set())
        if excluded:
            marks.add(rep_index)
        else:
            marks.discard(rep_index)
        self.assess(set_result)

    def excluded_reps(self, set_result: SetResult) -> frozenset[int]:
        """Indices of the deleted reps of ``set_result``."""
        return frozenset(self._excluded.get(set_result.index, ()))

    def last_estimate(self, set_result: SetResult) -> RirEstimate | None:
        """The full estimate (probabilities, evidence, notes) after the set's last counted rep."""
        return self._last.get(set_result.index)

    # ------------------------------------------------------------------ assessment

    def assess(self, set_result: SetResult) -> None:
        """Fill velocity loss, RIR and flag of every rep (causally) and of the set, in place."""
        reps = set_result.reps
        excluded = self._excluded.get(set_result.index, set())
        counted: list[RepResult] = []
        sticky = FLAG_CONTINUE
        last_est: RirEstimate | None = None
        for rep in reps:
            if rep.index in excluded:
                rep.velocity_loss_pct = None
                rep.rir_estimate = None
                rep.rir_interval = None
                rep.flag = sticky
                continue
            counted.append(rep)
            ref = reference_rep(counted, excluded)
            rep.velocity_loss_pct = (
                None if ref is None else velocity_loss_pct(ref.mean_velocity_mps, rep.mean_velocity_mps)
            )
            est = self._estimate(counted)
            last_est = est
            rep.rir_estimate = est.rir
            rep.rir_interval = est.interval
            flag = self._flag(rep, est)
            if _FLAG_RANK[flag] < _FLAG_RANK[sticky]:
                flag = sticky
            rep.flag = flag
            sticky = FLAG_STOP if flag != FLAG_CONTINUE else FLAG_CONTINUE

        ref = reference_rep(reps, excluded)
        set_result.reference_rep_index = None if ref is None else ref.index
        last = counted[-1] if counted else None
        set_result.velocity_loss_pct = last.velocity_loss_pct if last else None
        set_result.rir_estimate = last.rir_estimate if last else None
        set_result.rir_interval = last.rir_interval if last else None
        notes = [n for n in set_result.notes if not n.startswith(NOTE_PREFIX)]

        if set_result.failed_attempts and last is not None:
            after = [f for f in set_result.failed_attempts if f.start_s >= last.end_s]
            credibility = failed_attempt_credibility(last_est)
            if after and credibility >= 0.5:
                # A genuine failed attempt after the last rep proves that rep was the last one possible.
                last.rir_estimate = 0.0
                last.rir_interval = (0.0, 0.0)
                last.flag = FLAG_FAILURE
                set_result.rir_estimate = 0.0
                set_result.rir_interval = (0.0, 0.0)
                notes.append(NOTE_PREFIX + "failed attempt after the last rep: 0 reps in reserve")
            elif after:
                # The detection may be wrong (a re-rack, a walk-out); the reps' velocities disagree.
                left = "" if last_est is None or last_est.median is None else f" (about {last_est.median} left)"
                notes.append(NOTE_PREFIX + "a failed attempt was reported after the last rep, but the reps' velocities "
                             f"say reps were left{left}: not counted as failure; check the recording")
            if len(after) < len(set_result.failed_attempts):
                notes.append(NOTE_PREFIX + "failed attempt within the set (the lifter went on)")
        elif set_result.failed_attempts and not counted:
            notes.append(NOTE_PREFIX + "failed attempt with no completed rep")

        if excluded:
            notes.append(NOTE_PREFIX + "deleted reps not counted: " + ", ".join(str(i) for i in sorted(excluded)))
        if last_est is not None:
            notes.extend(NOTE_PREFIX + n for n in last_est.notes)
            if last_est.probabilities and last is not None and last.flag == FLAG_CONTINUE:
                left = last_est.median
                if left is not None and left > self.target_rir:
                    notes.append(NOTE_PREFIX + f"about {left - self.target_rir} rep(s) before the {self.target_rir}-RIR target")
            if self.profile is not None and self.profile.personal:
                notes.append(NOTE_PREFIX + f"personalised from {self.profile.n_failure_sets} set(s) to failure")
        if self.vl_cutoff_pct is not None:
            notes.append(NOTE_PREFIX + f"stop at {self.vl_cutoff_pct:g} % velocity loss (your cut-off)")
        set_result.notes = notes
        self._last[set_result.index] = last_est

    def estimate(self, reps: Sequence[RepResult]) -> RirEstimate:
        """RIR estimate after the last of ``reps`` (all counted; the set's deleted reps already removed)."""
        return self._estimate(list(reps))

    # ------------------------------------------------------------------ internals

    def _fraction(self, counted: list[RepResult]) -> tuple[float | None, float, str]:
        """(fraction of 1RM, its SD, source) for the reps-to-failure prior.

        A %1RM the lifter gives wins. With a personal reps-to-failure relation on velocity (sets
        to failure logged) the estimator needs no %1RM at all (`vbt.fatigue.estimator.rtf_prior`).
        Otherwise the set's own best-of-first-two velocity is read off the athlete's personal
        load-velocity line (or, without one, the group line at the personal MVT inside the
        estimator). Reading today's velocity rather than dividing the load by the e1RM is
        deliberate: it sees today's readiness and the fatigue carried from earlier sets (later sets
        reach failure sooner, Pérez-Castilla 2024 [V]).
        """
        if self.fraction_1rm is not None:
            return self.fraction_1rm, 0.03, "given"
        if self.profile is None or self.profile.rtf_scale is not None:
            return None, 0.0, ""
        ref = reference_rep(counted)
        frac = None if ref is None else self.profile.fraction_1rm(velocity_mps=ref.mean_velocity_mps)
        if frac is None:
            return None, 0.0, ""
        # The group line read at the personal MVT has this SD; use the profile only if it is better.
        group_sd = math.hypot(self.entry.lv_sd.value, self.profile.priors().mvt_sd_mps) / self.entry.lv_span.value
        if frac[1] >= group_sd:
            return None, 0.0, ""
        return frac[0], frac[1], "profile"

    def _estimate(self, counted: list[RepResult]) -> RirEstimate:
        frac, frac_sd, source = self._fraction(counted)
        obs = tuple(RepObservation(float(r.mean_velocity_mps), float(r.quality)) for r in counted)
        key = (obs, frac, frac_sd)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        if frac is None:
            est = self.estimator.estimate(obs)
        else:
            est = self.estimator.estimate(obs, fraction_1rm=frac, fraction_1rm_sd=frac_sd, fraction_1rm_source=source)
        self._cache[key] = est
        if len(self._cache) > 512:
            self._cache.popitem(last=False)
        return est

    def _flag(self, rep: RepResult, est: RirEstimate) -> str:
        st = self.settings
        if est.probabilities and est.prob_at_most(0) >= st.failure_probability:
            return FLAG_FAILURE
        if self.vl_cutoff_pct is not None:
            trusted = rep.quality >= MIN_REFERENCE_QUALITY
            if trusted and rep.velocity_loss_pct is not None and rep.velocity_loss_pct >= self.vl_cutoff_pct:
                return FLAG_STOP
            return FLAG_CONTINUE
        if est.should_stop(self.target_rir, st.stop_cost_ratio, st.far_early_cost):
            return FLAG_STOP
        return FLAG_CONTINUE


__all__ = [
    "FATIGUE_VERSION",
    "MIN_REFERENCE_QUALITY",
    "NOTE_PREFIX",
    "FAILED_ATTEMPT_PRIOR",
    "TARGET_RIR_CHOICES",
    "FatigueTracker",
    "failed_attempt_credibility",
    "reference_rep",
    "validate_target_rir",
    "validate_vl_cutoff",
    "velocity_loss_pct",
]
