"""Athlete profiles: load-velocity line, estimated 1RM, personal MVT and personal fatigue curve.

Everything here is learnt from the athlete's own logged sets of one exercise
(`SetRecord`, usually read from the history database):

* **Load-velocity profile** (science.md §4.2): a straight line ``v = a + b * load`` through the
  best-of-first-two-reps velocity of each set with a known load. Individual lines fit with
  r ~ 0.99 (García-Ramos 2019 [V]); two distinct loads are the minimum, more spread is better.
  Residual SD is shrunk towards 0.04 m/s (two pseudo-observations) so a two-load fit does not
  claim perfection.
* **Estimated 1RM**: the load at which the line reaches the MVT, with an SD from the line's
  covariance and the MVT's uncertainty (delta method). Velocity-based 1RM estimates are off by
  ~3-8 % in the bench and worse in the squat and deadlift (science.md §4.3): the SD is shown.
* **Personal MVT** (science.md §4.1, "personalise it from logged failures"): from each set taken
  to failure, the velocity the set's own fitted curve reaches at its last rep, combined across
  sets with the population prior (normal-normal shrinkage). Day-to-day variation of the MVT
  (``within_mvt_sd``: 10 % of the MVT, at least 0.02 m/s; Morán-Navarro 2019 CV 4.4-8.0 % of
  velocity at a given RIR, between-day v1RM CV 15-22 %, science.md §4.1/§4.4) stays in the
  prior of every new set.
* **Personal fatigue curve**: the curvature posterior from the sets to failure (the likelihood of
  each fully observed set under each curvature, times the population prior), and the personal
  offset of reps-to-failure at a given %1RM from the Brzycki relation (shrunk towards 0).

Together these replace the population priors of the RIR estimator (option B of science.md
§4.5: individual RIR-velocity profiles predict RIR with < 2 reps error, Jukic 2024 [V]).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from vbt.fatigue.catalogue import ExerciseEntry, reps_to_failure
from vbt.fatigue.estimator import (
    DEFAULT_SETTINGS,
    TRUSTED_QUALITY,
    EstimatorSettings,
    Priors,
    RirVelocityProfile,
    gamma_prior,
    log_marginal_likelihood,
    rep_sigma_mps,
    rtf_shape,
)

#: Prior residual SD of an individual load-velocity line (m/s) and its weight (pseudo-points).
LV_PRIOR_RESIDUAL_SD_MPS = 0.04
LV_PRIOR_WEIGHT = 2.0
#: Within-athlete SD of log(reps to failure) at a given %1RM, set to set [M, design].
WITHIN_REPS_LOG_SD = 0.15
#: Share of the population curvature prior kept in a personal one (robustness to odd sets).
GAMMA_PRIOR_FLOOR = 0.1
#: The personal RIR-velocity relation covers 0..RELATION_MAX_RIR reps in reserve (Morán-Navarro
#: 2019 tabulate RIR 2-8; velocities further out depend on the load).
RELATION_MAX_RIR = 6
#: Reps needed (near failure, r <= RELATION_MAX_RIR) to fit a personal RIR-velocity relation.
RELATION_MIN_POINTS = 5
#: Smoothness of the personal relation: SD of its second difference between adjacent RIRs (m/s).
RELATION_SMOOTH_SD_MPS = 0.01
#: Population scale of the reps-to-failure relation on velocity, ``N - 1 = A (1/p - 1)``: the
#: catalogue's reps at 75 %1RM (mean of Brzycki and Epley, 10.5 reps) expressed in Epley's shape.
RTF_SCALE_POPULATION = (reps_to_failure(0.75) - 1.0) / (1.0 / 0.75 - 1.0)


def within_mvt_sd(mvt_mps: float) -> float:
    """Day-to-day SD of one athlete's MVT: 10 % of it, at least 0.02 m/s (see module doc)."""
    return max(0.02, 0.10 * mvt_mps)


@dataclass(frozen=True, slots=True)
class SetRecord:
    """One logged set, as profile fitting needs it.

    Attributes:
        exercise: Canonical exercise name.
        velocities_mps: MCV of every counted rep, in order (deleted reps left out).
        qualities: Quality of each rep (empty: all 1.0).
        load_kg: Bar + plates, if known.
        to_failure: True when the set ended at failure (a failed attempt, or marked by the user).
        performed_at: ISO time of the set (for display).
        set_id: Database id, if any.
    """

    exercise: str
    velocities_mps: tuple[float, ...]
    qualities: tuple[float, ...] = ()
    load_kg: float | None = None
    to_failure: bool = False
    performed_at: str = ""
    set_id: int | None = None

    def quality_array(self) -> np.ndarray:
        if self.qualities:
            return np.asarray(self.qualities, dtype=float)
        return np.ones(len(self.velocities_mps))

    def reference_velocity(self) -> float | None:
        """Best of the first two trustworthy reps (the load's velocity), None if there is none."""
        v = np.asarray(self.velocities_mps, dtype=float)
        ok = (self.quality_array() >= TRUSTED_QUALITY) & np.isfinite(v)
        if not ok.any():
            return None
        return float(v[ok][:2].max())


@dataclass(frozen=True, slots=True)
class LoadVelocityProfile:
    """An individual load-velocity line ``v = intercept + slope * load``.

    Attributes:
        intercept_mps: Velocity extrapolated to zero load.
        slope_mps_per_kg: Change of velocity per kg (negative).
        residual_sd_mps: Shrunk residual SD of the fit.
        cov: Covariance of (intercept, slope).
        n_points: Sets used.
        load_range_kg: Lightest and heaviest load used.
        r2: Coefficient of determination (None with fewer than three points).
    """

    intercept_mps: float
    slope_mps_per_kg: float
    residual_sd_mps: float
    cov: tuple[tuple[float, float], tuple[float, float]]
    n_points: int
    load_range_kg: tuple[float, float]
    r2: float | None

    def velocity_at(self, load_kg: float) -> float:
        """Expected first-rep velocity at ``load_kg``."""
        return self.intercept_mps + self.slope_mps_per_kg * load_kg

    def load_at(self, velocity_mps: float) -> float:
        """Load whose expected first-rep velocity is ``velocity_mps``."""
        return (velocity_mps - self.intercept_mps) / self.slope_mps_per_kg

    def one_rm(self, mvt_mps: float, mvt_sd_mps: float) -> tuple[float, float]:
        """Estimated 1RM (kg) and its SD: the load where the line reaches the MVT (delta method)."""
        b = self.slope_mps_per_kg
        load = self.load_at(mvt_mps)
        (vaa, vab), (_, vbb) = self.cov
        var = (mvt_sd_mps**2 + vaa + load * load * vbb + 2.0 * load * vab) / (b * b)
        return load, math.sqrt(max(var, 0.0))


def fit_load_velocity(loads_kg: Sequence[float], velocities_mps: Sequence[float]) -> LoadVelocityProfile | None:
    """Least-squares load-velocity line; None unless there are two distinct loads and a falling line.

    Args:
        loads_kg: Load of each set.
        velocities_mps: Best-of-first-two-reps MCV of each set.
    """
    x = np.asarray(loads_kg, dtype=float)
    y = np.asarray(velocities_mps, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0)
    x, y = x[ok], y[ok]
    if len(x) < 2 or np.ptp(x) < 1e-6:
        return None
    design = np.column_stack([np.ones_like(x), x])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    if coef[1] >= 0:  # velocity must fall with load; otherwise the data cannot define a profile
        return None
    resid = y - design @ coef
    rss = float(resid @ resid)
    dof = len(x) - 2
    s2 = (rss + LV_PRIOR_WEIGHT * LV_PRIOR_RESIDUAL_SD_MPS**2) / (dof + LV_PRIOR_WEIGHT)
    cov = s2 * np.linalg.inv(design.T @ design)
    r2 = None
    if len(x) >= 3:
        tss = float(np.sum((y - y.mean()) ** 2))
        r2 = 1.0 - rss / tss if tss > 0 else None
    return LoadVelocityProfile(
        intercept_mps=float(coef[0]),
        slope_mps_per_kg=float(coef[1]),
        residual_sd_mps=math.sqrt(s2),
        cov=((float(cov[0, 0]), float(cov[0, 1])), (float(cov[1, 0]), float(cov[1, 1]))),
        n_points=len(x),
        load_range_kg=(float(x.min()), float(x.max())),
        r2=r2,
    )


@dataclass(frozen=True, slots=True)
class AthleteProfile:
    """What we know about one athlete in one exercise.

    Attributes:
        exercise: Canonical exercise name.
        n_sets: Sets the profile was fitted from.
        n_failure_sets: Of those, sets taken to failure (the ones that personalise).
        mvt_mps: Personal MVT (population value when ``n_failure_sets == 0``).
        mvt_sd_mps: Uncertainty of that mean.
        within_mvt_sd_mps: Day-to-day variation added for a new set.
        gamma_weights: Curvature posterior on the estimator's grid.
        reps_log_ratio: Personal log offset of reps-to-failure from the Brzycki relation.
        reps_log_sd: Uncertainty of that offset.
        load_velocity: Individual load-velocity line, if two loads are logged.
        e1rm_kg, e1rm_sd_kg: Estimated 1RM and its SD (None without a load-velocity line).
        rir_velocity: Personal RIR-velocity relation from the sets to failure (option B).
        rtf_scale: Personal reps-to-failure relation on the first-rep velocity (None without sets
            to failure): ``N - 1 = rtf_scale * (1/p - 1)``, `vbt.fatigue.estimator.rtf_prior`.
        rtf_log_sd: SD of log(N - 1) around it for a new set.
        notes: Caveats for the user.
    """

    exercise: str
    n_sets: int
    n_failure_sets: int
    mvt_mps: float
    mvt_sd_mps: float
    within_mvt_sd_mps: float
    gamma_weights: tuple[float, ...]
    reps_log_ratio: float
    reps_log_sd: float
    load_velocity: LoadVelocityProfile | None = None
    e1rm_kg: float | None = None
    e1rm_sd_kg: float | None = None
    rir_velocity: RirVelocityProfile | None = None
    rtf_scale: float | None = None
    rtf_log_sd: float = 0.3
    notes: tuple[str, ...] = field(default=())

    @property
    def personal(self) -> bool:
        """True once at least one set to failure shaped the profile."""
        return self.n_failure_sets > 0

    def priors(self) -> Priors:
        """Estimator priors for the athlete's next set."""
        return Priors(
            mvt_mps=self.mvt_mps,
            mvt_sd_mps=math.hypot(self.mvt_sd_mps, self.within_mvt_sd_mps),
            gamma_weights=self.gamma_weights,
            reps_log_ratio=self.reps_log_ratio,
            reps_log_sd=math.hypot(self.reps_log_sd, WITHIN_REPS_LOG_SD) if self.personal else self.reps_log_sd,
            personal=self.personal,
            rir_velocity=self.rir_velocity,
            rtf_scale=self.rtf_scale,
            rtf_log_sd=self.rtf_log_sd,
        )

    def fraction_1rm(self, *, load_kg: float | None = None, velocity_mps: float | None = None,
                     ) -> tuple[float, float] | None:
        """%1RM (fraction) and its SD for a set, from its load or first-rep velocity and the personal line.

        Returns None when the profile has no load-velocity line (the estimator then falls back to
        the group line).
        """
        if self.load_velocity is None or self.e1rm_kg is None or self.e1rm_sd_kg is None:
            return None
        if load_kg is None and velocity_mps is None:
            return None
        lv = self.load_velocity
        load = load_kg if load_kg is not None else lv.load_at(velocity_mps)  # type: ignore[arg-type]
        frac = load / self.e1rm_kg
        rel_sd = self.e1rm_sd_kg / self.e1rm_kg
        if load_kg is None:  # reading the load off the line adds its residual scatter
            rel_sd = math.hypot(rel_sd, lv.residual_sd_mps / abs(lv.slope_mps_per_kg) / self.e1rm_kg)
        return min(1.0, max(0.3, frac)), frac * rel_sd

    def gamma_median(self, settings: EstimatorSettings = DEFAULT_SETTINGS) -> float:
        cdf = np.cumsum(self.gamma_weights)
        return float(settings.gamma_grid[int(np.searchsorted(cdf, 0.5))])

    def velocity_at_rir(
        self, entry: ExerciseEntry, rir: int, fraction_1rm: float, settings: EstimatorSettings = DEFAULT_SETTINGS,
    ) -> tuple[float, float]:
        """Typical (first-rep velocity, velocity at ``rir``) of a set at ``fraction_1rm``.

        This is the personal RIR-velocity relation (option B): ``1 - v_rir / v_first`` is the
        velocity loss at which to stop for a target of ``rir`` reps in reserve at that load.
        """
        n_total = max(1.0, reps_to_failure(fraction_1rm) * math.exp(self.reps_log_ratio))
        if self.load_velocity is not None and self.e1rm_kg is not None:
            v1 = self.load_velocity.velocity_at(fraction_1rm * self.e1rm_kg)
        else:
            v1 = entry.velocity_at(fraction_1rm, mvt_mps=self.mvt_mps)
        v1 = max(v1, self.mvt_mps)
        n = n_total - rir
        if n <= 1:
            return v1, v1
        x = (n - 1.0) / max(n_total - 1.0, 1.0)
        return v1, v1 - (v1 - self.mvt_mps) * x ** self.gamma_median(settings)


def population_profile(entry: ExerciseEntry, settings: EstimatorSettings = DEFAULT_SETTINGS) -> AthleteProfile:
    """The profile of a lifter with no logged sets: the catalogue priors."""
    return AthleteProfile(
        exercise=entry.name, n_sets=0, n_failure_sets=0, mvt_mps=entry.mvt.value, mvt_sd_mps=entry.mvt.sd,
        within_mvt_sd_mps=0.0, gamma_weights=gamma_prior(entry, settings), reps_log_ratio=0.0,
        reps_log_sd=entry.reps_log_sd.sd, notes=("no logged sets: population values",),
    )


def fit_profile(
    entry: ExerciseEntry,
    sets: Sequence[SetRecord],
    settings: EstimatorSettings = DEFAULT_SETTINGS,
) -> AthleteProfile:
    """Fit an athlete's profile for ``entry`` from their logged sets of that exercise.

    Args:
        entry: Catalogue entry (the priors).
        sets: The athlete's sets of this exercise (others are ignored).
        settings: Estimator settings (curvature grid, noise model).
    """
    mine = [s for s in sets if s.exercise == entry.name and len(s.velocities_mps) > 0]
    if not mine:
        return population_profile(entry, settings)
    notes: list[str] = []
    gammas = np.asarray(settings.gamma_grid, dtype=float)
    cv = entry.rep_noise_cv.value

    # 1. Personal MVT from sets to failure (each set's own curve end point), shrunk to the prior.
    failures = [s for s in mine if s.to_failure]
    log_g = np.log(np.asarray(gamma_prior(entry, settings)))
    set_mvts: list[tuple[float, float]] = []
    for s in failures:
        v = np.asarray(s.velocities_mps, dtype=float)
        q = s.quality_array()
        ok = np.isfinite(v)
        if not (ok & (q >= TRUSTED_QUALITY)).any():
            continue
        pos = np.nonzero(ok)[0]
        sig = rep_sigma_mps(v[ok], q[ok], cv, settings)
        n_total = len(v)
        v_ref = s.reference_velocity() or float(v[ok][0])
        # Curvature: how well each curve explains the whole set (vague MVT prior, N known).
        lik = log_marginal_likelihood(
            v[ok], sig, pos, np.array([n_total]), gammas,
            mvt_mps=entry.mvt.value, mvt_sd_mps=0.5, v1_mps=v_ref, v1_sd_mps=settings.v1_prior_sd_mps,
        )[:, 0]
        log_g = log_g + lik
        # MVT: the velocity of the last rep itself (the curve family may not reach a sudden last-rep
        # drop, so its end point would be biased high); an untrusted last rep cannot tell it.
        if ok[-1] and q[-1] >= TRUSTED_QUALITY:
            set_mvts.append((float(v[-1]), float(sig[-1])))

    mvt_mean, mvt_var = entry.mvt.value, entry.mvt.sd**2
    within = within_mvt_sd(entry.mvt.value)
    if set_mvts:
        precision = 1.0 / mvt_var
        weighted = mvt_mean / mvt_var
        for m, sd in set_mvts:
            var_j = sd * sd + within * within
            precision += 1.0 / var_j
            weighted += m / var_j
        mvt_var = 1.0 / precision
        mvt_mean = weighted * mvt_var
        within = within_mvt_sd(mvt_mean)
        g_post = np.exp(log_g - log_g.max())
        g_post /= g_post.sum()
        g_weights = (1.0 - GAMMA_PRIOR_FLOOR) * g_post + GAMMA_PRIOR_FLOOR * np.asarray(gamma_prior(entry, settings))
    else:
        within = 0.0  # no personal MVT: the population SD already covers day-to-day variation
        g_weights = np.asarray(gamma_prior(entry, settings))
        notes.append("no set to failure logged: MVT and fatigue curve are population values")

    # 2. Load-velocity line and e1RM.
    loaded = [(s.load_kg, s.reference_velocity()) for s in mine if s.load_kg]
    loaded = [(x, y) for x, y in loaded if y is not None]
    lv = fit_load_velocity([x for x, _ in loaded], [y for _, y in loaded]) if loaded else None
    e1rm = e1rm_sd = None
    if lv is not None:
        e1rm, e1rm_sd = lv.one_rm(mvt_mean, math.hypot(math.sqrt(mvt_var), within))
        if not (math.isfinite(e1rm) and e1rm > 0):
            e1rm = e1rm_sd = None
            notes.append("load-velocity line does not reach the MVT: no e1RM")
        elif lv.load_range_kg[1] < 0.6 * e1rm:
            notes.append("heaviest logged load is below 60 % of the e1RM: the e1RM is an extrapolation")
    elif loaded:
        notes.append("load-velocity profile needs sets at two or more different loads")
    else:
        notes.append("no set with a load logged: no load-velocity profile or e1RM")
    notes.extend(entry.notes)

    relation = fit_rir_velocity(failures, cv, within if set_mvts else within_mvt_sd(entry.mvt.value), settings)
    profile = AthleteProfile(
        exercise=entry.name, n_sets=len(mine), n_failure_sets=len(set_mvts), mvt_mps=mvt_mean,
        mvt_sd_mps=math.sqrt(mvt_var), within_mvt_sd_mps=within, gamma_weights=tuple(float(x) for x in g_weights),
        reps_log_ratio=0.0, reps_log_sd=entry.reps_log_sd.sd, load_velocity=lv, e1rm_kg=e1rm, e1rm_sd_kg=e1rm_sd,
        rir_velocity=relation, notes=tuple(notes),
    )

    # 3. Personal reps-to-failure offset, with %1RM found the way the estimator will find it.
    ratios = []
    for s in failures:
        v_ref = s.reference_velocity()
        if v_ref is None:
            continue
        frac = profile.fraction_1rm(velocity_mps=v_ref)  # as the tracker reads it (today's velocity)
        p = frac[0] if frac is not None else entry.fraction_1rm_from_velocity(v_ref, mvt_mps=mvt_mean)
        ratios.append(math.log(len(s.velocities_mps) / reps_to_failure(p)))
    if ratios:
        prior_var = entry.reps_log_sd.sd**2
        precision = 1.0 / prior_var + len(ratios) / WITHIN_REPS_LOG_SD**2
        mean = (sum(ratios) / WITHIN_REPS_LOG_SD**2) / precision
        profile = _replace(profile, reps_log_ratio=mean, reps_log_sd=math.sqrt(1.0 / precision))

    # 4. Personal reps-to-failure relation on the first-rep velocity (Martínez-Rubio 2025: individual
    #    RTF-fastest-rep-velocity R^2 0.98): one scale A in N - 1 = A (1/p(v) - 1), shrunk towards
    #    the population scale; no %1RM or e1RM is involved.
    logs = []
    for s in failures:
        v_ref = s.reference_velocity()
        n_reps = len(s.velocities_mps)
        if v_ref is None or n_reps < 2:
            continue
        logs.append(math.log((n_reps - 1.0) / rtf_shape(entry, v_ref, mvt_mean)))
    if logs:
        prior_var = entry.reps_log_sd.sd**2
        precision = 1.0 / prior_var + len(logs) / WITHIN_REPS_LOG_SD**2
        mean = (math.log(RTF_SCALE_POPULATION) / prior_var + sum(logs) / WITHIN_REPS_LOG_SD**2) / precision
        profile = _replace(profile, rtf_scale=math.exp(mean),
                           rtf_log_sd=math.hypot(math.sqrt(1.0 / precision), WITHIN_REPS_LOG_SD))
    return profile


def fit_rir_velocity(
    failures: Sequence[SetRecord],
    noise_cv: float,
    offset_sd_mps: float,
    settings: EstimatorSettings = DEFAULT_SETTINGS,
) -> RirVelocityProfile | None:
    """The athlete's velocity at 0..`RELATION_MAX_RIR` reps in reserve, from their sets to failure.

    A small mixed model: the velocity of a rep at RIR ``r`` in logged set ``j`` is ``h(r) + d_j`` plus
    rep noise, where ``h`` is the athlete's relation and ``d_j`` the day offset of set ``j`` (prior
    SD ``offset_sd_mps``: velocity at a given RIR varies between sessions, Morán-Navarro 2019 CV
    4.4-8.0 %). ``h`` is smooth (second differences SD `RELATION_SMOOTH_SD_MPS`) and is made
    non-decreasing in RIR (pool adjacent violators). Separating the offsets keeps one slow day
    from bending the relation. Returns None with fewer than `RELATION_MIN_POINTS` reps near
    failure, or when velocity does not rise with RIR.
    """
    r_max = RELATION_MAX_RIR
    rows: list[tuple[int, int, float, float]] = []
    for j, s in enumerate(failures):
        v = np.asarray(s.velocities_mps, dtype=float)
        q = s.quality_array()
        n_total = len(v)
        for i, (vi, qi) in enumerate(zip(v, q, strict=True)):
            r = n_total - (i + 1)
            if r > r_max or qi < TRUSTED_QUALITY or not np.isfinite(vi):
                continue
            sig = float(rep_sigma_mps(np.array([vi]), np.array([qi]), noise_cv, settings)[0])
            rows.append((j, r, float(vi), 1.0 / sig**2))
    if len(rows) < RELATION_MIN_POINTS or len({r for _, r, _, _ in rows}) < 2:
        return None
    n_h, n_sets = r_max + 1, len(failures)
    design, target, weight = [], [], []

    def row(entries: dict[int, float], y: float, w: float) -> None:
        a = np.zeros(n_h + n_sets)
        for col, val in entries.items():
            a[col] = val
        design.append(a)
        target.append(y)
        weight.append(w)

    for j, r, y, w in rows:
        row({r: 1.0, n_h + j: 1.0}, y, w)
    for r in range(1, r_max):
        row({r - 1: 1.0, r: -2.0, r + 1: 1.0}, 0.0, 1.0 / RELATION_SMOOTH_SD_MPS**2)
    for j in range(n_sets):
        row({n_h + j: 1.0}, 0.0, 1.0 / offset_sd_mps**2)
    a_mat, y_vec, w_vec = np.array(design), np.array(target), np.array(weight)
    cov = np.linalg.pinv(a_mat.T @ (a_mat * w_vec[:, None]))
    coef = cov @ (a_mat.T @ (w_vec * y_vec))
    table, var = coef[:n_h], np.diag(cov)[:n_h]
    if table[-1] <= table[0]:
        return None
    table = _pava(table, 1.0 / var)
    # The table's own uncertainty near failure adds to the day-to-day offset of a new set.
    return RirVelocityProfile(
        velocities_mps=tuple(float(t) for t in table),
        offset_sd_mps=math.sqrt(offset_sd_mps**2 + float(var[0])), n_points=len(rows),
    )


def _pava(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted isotonic (non-decreasing) regression by pooling adjacent violators."""
    blocks = [[float(v), float(w), 1] for v, w in zip(values, weights, strict=True)]
    i = 0
    while i < len(blocks) - 1:
        if blocks[i][0] > blocks[i + 1][0]:
            v0, w0, n0 = blocks[i]
            v1, w1, n1 = blocks.pop(i + 1)
            blocks[i] = [(v0 * w0 + v1 * w1) / (w0 + w1), w0 + w1, n0 + n1]
            i = max(i - 1, 0)
        else:
            i += 1
    return np.concatenate([np.full(n, v) for v, _, n in blocks])


def _replace(profile: AthleteProfile, **changes: float) -> AthleteProfile:
    from dataclasses import replace

    return replace(profile, **changes)


__all__ = [
    "RELATION_MAX_RIR",
    "AthleteProfile",
    "LoadVelocityProfile",
    "SetRecord",
    "fit_load_velocity",
    "fit_profile",
    "fit_rir_velocity",
    "population_profile",
    "within_mvt_sd",
]
