"""Per-set fatigue assessment: velocity loss, reps-in-reserve estimate and the stop flag.

`FatigueTracker.assess(set_result)` fills the fatigue fields of every rep of a set and of the
set itself. It is *causal*: each rep's fields depend only on that rep and the ones before it,
so calling it after every new rep (live) and once at the end (offline) gives the same answers.

Reference rep: the fastest of the first two reps that are trustworthy (``quality >=
MIN_REFERENCE_QUALITY``); a low-quality rep never stays the reference.
"""

from __future__ import annotations

from vbt.pipeline.results import FLAG_CONTINUE, FLAG_FAILURE, RepResult, SetResult

#: Reps below this quality are never used as the velocity-loss reference.
MIN_REFERENCE_QUALITY = 0.5


def reference_rep(reps: list[RepResult]) -> RepResult | None:
    """The fastest of the first two trustworthy reps (None when there is none yet)."""
    trusted = [r for r in reps if r.quality >= MIN_REFERENCE_QUALITY][:2]
    if not trusted:
        return None
    return max(trusted, key=lambda r: r.mean_velocity_mps)


def velocity_loss_pct(reference_mps: float, velocity_mps: float) -> float:
    """100 * (reference - velocity) / reference (negative when faster than the reference)."""
    return 100.0 * (reference_mps - velocity_mps) / reference_mps


class FatigueTracker:
    """Assesses sets for one exercise.

    Args:
        exercise: Catalogue name of the exercise.
        load_kg: Bar + plates, if known.
        target_rir: The lifter's target reps in reserve (1-3).
        vl_cutoff_pct: Optional fixed velocity-loss cut-off for lifters who train by VL %.
    """

    def __init__(
        self,
        exercise: str,
        *,
        load_kg: float | None = None,
        target_rir: int = 2,
        vl_cutoff_pct: float | None = None,
    ) -> None:
        self.exercise = exercise
        self.load_kg = load_kg
        self.target_rir = target_rir
        self.vl_cutoff_pct = vl_cutoff_pct

    def assess(self, set_result: SetResult) -> None:
        """Fill velocity loss, RIR and flag of every rep (causally) and of the set, in place."""
        reps = set_result.reps
        for i, rep in enumerate(reps):
            ref = reference_rep(reps[: i + 1])
            rep.velocity_loss_pct = None if ref is None else velocity_loss_pct(ref.mean_velocity_mps, rep.mean_velocity_mps)
            rep.rir_estimate = None
            rep.rir_interval = None
            rep.flag = FLAG_CONTINUE
        ref = reference_rep(reps)
        set_result.reference_rep_index = None if ref is None else ref.index
        set_result.velocity_loss_pct = reps[-1].velocity_loss_pct if reps else None
        set_result.rir_estimate = None
        set_result.rir_interval = None
        if set_result.failed_attempts and reps:
            # A failed attempt after the last rep means that rep was the last one possible.
            last = reps[-1]
            if any(f.start_s >= last.end_s for f in set_result.failed_attempts):
                set_result.rir_estimate = 0.0


__all__ = ["MIN_REFERENCE_QUALITY", "FatigueTracker", "reference_rep", "velocity_loss_pct"]
