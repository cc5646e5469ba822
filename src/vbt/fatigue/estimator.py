"""Reps-in-reserve estimator: a small Bayesian model of the set's velocity decline.

Why a model and not a rule: velocity loss at failure is ``1 - MVT / v_first`` (science.md
§4.4, arithmetic anchor), so it depends on the exercise and on the load: about 74 % in a 70 %
bench set but 62 % in a 70 % squat set. A fixed "20 % loss = 2 RIR" rule is therefore blind to
load (science.md §4.5, option E), and the lifter's own MVT varies by +/-0.05 m/s (§4.1).

The model
---------
A set taken to failure would have ``N`` reps. Rep ``n`` (1-based) moves at

    v(n) = v1 - (v1 - mvt) * x**gamma,      x = (n - 1) / (N - 1),

so the first rep runs at ``v1`` and the last possible rep at the athlete's minimal velocity
threshold ``mvt``. ``gamma`` is the curvature (velocity falls faster near failure for
``gamma > 1``; science.md §4.4, Izquierdo 2006). After ``k`` reps, RIR = ``N - k``.

This one curve combines the three sources the brief asks for:

(a) *distance to MVT along the set's own slope*: the recent reps fix where the curve is and how
    steeply it falls; how far they sit above ``mvt`` fixes how many reps remain (option A);
(b) *exercise and load relations*: the prior on ``N`` comes from %1RM (given, from the athlete's
    e1RM, or read off the first rep's velocity with the group load-velocity line) through the
    reps-to-failure relation, and the curve's end point reproduces the VL -> %Rep relation
    (options C/D): the VL reached at failure is ``1 - mvt / v1``;
(c) *personalisation*: an `vbt.fatigue.profile.AthleteProfile` replaces the population priors
    on ``mvt`` and ``gamma`` by the athlete's own, learnt from logged sets to failure, replaces
    the %1RM route to ``N`` by the athlete's own reps-to-failure relation on the first-rep
    velocity (`rtf_prior`; Martínez-Rubio 2025: individual R^2 0.98 vs 0.65 general), and adds
    the athlete's RIR-velocity relation (`RirVelocityProfile`; option B, Jukic 2024: individual
    relations < 2-rep error; Morán-Navarro 2019: load-independent) as a second likelihood of
    every trusted rep after the first, with one day offset for the whole set.

For each ``(N, gamma)`` on a grid the model is *linear* in ``(v1, mvt)``, so with Gaussian
priors on both and Gaussian rep noise the marginal likelihood is closed-form; the posterior on
``N`` (hence RIR) is the prior times that likelihood, summed over ``gamma``. The sources are
thus weighted by their uncertainty automatically: early in a set the load prior dominates,
near failure the reps do.

Rep noise = sensor error (0.025 m/s at ``quality`` 1, the pipeline's MCV accuracy target,
growing as ``0.025 / quality`` to 0.05 m/s -- the best commercial IMUs' SEE, science.md §5 -- at
the trust limit 0.5) and biological rep-to-rep variation (4 %, science.md §6.4). A rep below
quality 0.5 still counts as a rep done, but its velocity is not used at all. Model error = the MVT prior SD (0.05 m/s population, science.md §4.1), the
curvature prior and the reps-at-load spread. The interval is the central 80 % of the posterior.

With no trustworthy rep there is no estimate; with a single rep, or while the 80 % interval is
wider than `EstimatorSettings.max_point_interval_width`, the point estimate is withheld (None,
with a note) but the honest band is still given.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from vbt.fatigue.catalogue import ExerciseEntry, reps_to_failure

#: Reps with at least this quality count as trustworthy evidence.
TRUSTED_QUALITY = 0.5

EVIDENCE_NONE = "none"  # no trustworthy rep: nothing to say
EVIDENCE_LOW = "low"  # prior-dominated: interval too wide for a point estimate
EVIDENCE_OK = "ok"  # the reps inform the estimate


@dataclass(frozen=True, slots=True)
class RepObservation:
    """One counted rep as the estimator sees it.

    Attributes:
        velocity_mps: Mean concentric velocity (MCV) of the rep.
        quality: 0-1 trust in that number (from the pipeline); it widens the rep's error.
    """

    velocity_mps: float
    quality: float = 1.0


@dataclass(frozen=True, slots=True)
class RirVelocityProfile:
    """A lifter's own velocity at r reps in reserve, pooled across loads (science.md §4.5 option B).

    A table of the expected MCV at 0, 1, ..., ``r_max`` reps in reserve, learnt from the reps of the
    lifter's logged sets to failure (`vbt.fatigue.profile.fit_rir_velocity`). Near failure the
    velocity at a given RIR barely depends on the load (Morán-Navarro 2019 [V], RIR 2-8 at
    65-85 %1RM; Jukic 2024 [V]: one individual relation pooled across loads predicts RIR with
    < 2 reps error). Beyond ``r_max`` reps in reserve the velocity depends on the load, so the
    relation only says "faster than at ``r_max``".

    Attributes:
        velocities_mps: Expected MCV at RIR 0..r_max (non-decreasing).
        offset_sd_mps: Day-to-day shift of the whole relation (a common offset for one set).
        n_points: Reps the relation was fitted on.
    """

    velocities_mps: tuple[float, ...]
    offset_sd_mps: float
    n_points: int

    @property
    def r_max(self) -> int:
        """Largest RIR the relation covers."""
        return len(self.velocities_mps) - 1

    def velocity_at(self, rir: np.ndarray | float) -> np.ndarray:
        """Expected MCV at ``rir`` reps in reserve (held flat beyond ``r_max``)."""
        r = np.clip(np.asarray(rir, dtype=int), 0, self.r_max)
        return np.asarray(self.velocities_mps, dtype=float)[r]

    def log_likelihood(self, velocity_mps: np.ndarray, sigma_mps: np.ndarray, rir: np.ndarray,
                       v_high_mps: float) -> np.ndarray:
        """log p(recent velocities | their RIRs) for each row of ``rir`` (shape (J, m)).

        Reps whose candidate RIR is within ``r_max`` are Gaussian around the relation with a common
        day offset (covariance ``diag(sigma^2) + offset_sd^2``). A rep further out is only known
        to be faster than at ``r_max``: its velocity is the relation's value at ``r_max`` plus an
        unknown amount, uniform up to ``v_high_mps`` (the set's best velocity), blurred by the
        same errors -- so a velocity *below* the relation's range makes "far from failure" unlikely.
        """
        from scipy.special import log_ndtr, ndtr

        y = np.asarray(velocity_mps, dtype=float)
        s2 = np.asarray(sigma_mps, dtype=float) ** 2
        tau2 = self.offset_sd_mps**2
        v_far = float(self.velocity_at(self.r_max))
        width = max(v_high_mps - v_far, 0.05)
        sd_far = np.sqrt(s2 + tau2)
        z_hi = (y - v_far) / sd_far
        z_lo = (y - v_far - width) / sd_far
        # log((Phi(z_hi) - Phi(z_lo)) / width), computed stably when both are tiny
        far_ll = log_ndtr(z_hi) + np.log1p(-np.minimum(ndtr(z_lo) / np.maximum(ndtr(z_hi), 1e-300), 1 - 1e-12))
        far_ll = far_ll - math.log(width)
        # All candidate rows at once: the reps a row does not see as near get zero weight, so every
        # sum runs over that row's near reps only (Sherman-Morrison for diag(s2) + tau2 * 11':
        # quadratic form and log-determinant).
        rir = np.asarray(rir)
        near = rir <= self.r_max
        table = np.asarray(self.velocities_mps, dtype=float)
        e = np.where(near, y - table[np.clip(rir, 0, self.r_max).astype(int)], 0.0)
        w = np.where(near, 1.0 / s2, 0.0)
        sw = w.sum(axis=1)
        we = w * e
        swe = we.sum(axis=1)
        quad = (we * e).sum(axis=1) - tau2 * swe * swe / (1.0 + tau2 * sw)
        logdet = np.where(near, np.log(s2), 0.0).sum(axis=1) + np.log1p(tau2 * sw)
        count = near.sum(axis=1)
        near_ll = -0.5 * (quad + logdet + count * math.log(2.0 * math.pi))
        return np.where(near, 0.0, far_ll).sum(axis=1) + np.where(count > 0, near_ll, 0.0)


@dataclass(frozen=True, slots=True)
class Priors:
    """The athlete-level priors one estimate starts from (population or personal).

    Attributes:
        mvt_mps, mvt_sd_mps: Velocity of the last possible rep and its uncertainty for *this* set
            (for a personal profile this includes the day-to-day variation).
        gamma_weights: Prior probability of each `EstimatorSettings.gamma_grid` curvature.
        reps_log_ratio: Personal offset of log(reps to failure) from the Brzycki relation.
        reps_log_sd: Spread of log(reps to failure) around that.
        personal: True when built from the athlete's own sets to failure.
        rir_velocity: The athlete's own RIR-velocity relation, when logged sets to failure allow it.
        rtf_scale: The athlete's own reps-to-failure relation on the first-rep velocity,
            ``N - 1 = rtf_scale * (1 / p(v) - 1)`` (see `rtf_prior`); None without sets to failure.
        rtf_log_sd: SD of log(N - 1) around that relation for a new set.
    """

    mvt_mps: float
    mvt_sd_mps: float
    gamma_weights: tuple[float, ...]
    reps_log_ratio: float = 0.0
    reps_log_sd: float = 0.3
    personal: bool = False
    rir_velocity: RirVelocityProfile | None = None
    rtf_scale: float | None = None
    rtf_log_sd: float = 0.3


@dataclass(frozen=True, slots=True)
class EstimatorSettings:
    """Tunable parts of the estimator (defaults are the documented ones).

    Attributes:
        sensor_se_mps: Per-rep MCV error at quality 1 (pipeline target; science.md §5); it grows
            as ``sensor_se_mps / quality``.
        interval_mass: Probability mass of the reported interval (0.8: the 10th-90th percentile).
        max_rir: Largest RIR the grid considers.
        gamma_grid: Curvature exponents considered.
        v1_prior_sd_mps: Weak prior SD on the curve's first-rep velocity.
        max_point_interval_width: Withhold the point estimate while the interval is wider (reps).
        stop_cost_ratio: Cost of a late stop flag (the set reaches failure unflagged or the flag
            comes at RIR 0) relative to a flag one rep early (RIR = target + 1). Grinding to
            failure costs extra fatigue for little extra stimulus (science.md §4.6: VL40 vs VL20,
            Pareja-Blanco 2017; failure vs not, Refalo 2023), so it weighs more than one rep early.
        far_early_cost: Extra cost of a flag two or more reps early (RIR >= target + 2) on top of a
            one-rep-early flag: the stimulus lost grows with the reps left unused. See
            `RirEstimate.should_stop` for the rule these costs give.
        failure_probability: ``failure`` once P(RIR == 0) reaches this (without a failed attempt
            the flag is a prediction, so it needs a clear majority).
        unknown_load_fraction: %1RM assumed (with ``unknown_load_sd``) when nothing tells it.
    """

    sensor_se_mps: float = 0.025
    interval_mass: float = 0.8
    max_rir: int = 40
    gamma_grid: tuple[float, ...] = (0.8, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.5, 6.0, 8.0)
    v1_prior_sd_mps: float = 0.3
    max_point_interval_width: float = 6.0
    stop_cost_ratio: float = 1.5
    far_early_cost: float = 2.0
    failure_probability: float = 0.8
    unknown_load_fraction: float = 0.75
    unknown_load_sd: float = 0.12


DEFAULT_SETTINGS = EstimatorSettings()

#: Weight of the curve model when a personal relation is also used (both read the same reps).
CURVE_WEIGHT = 0.5
#: Trusted reps at the start of a set that the personal RIR-velocity relation ignores.
RELATION_SKIP_FIRST = 1
#: %1RM range in which the reps-to-failure relation on velocity is evaluated (a first rep at or
#: below the MVT still means at least one rep; faster than the group line's 30 % is far from failure).
RTF_FRACTION_RANGE = (0.3, 0.995)


@dataclass(frozen=True, slots=True)
class RirEstimate:
    """What the estimator says after the last rep it was given.

    Attributes:
        rir: Posterior median reps in reserve, interpolated between whole reps (None: too little
            evidence for a point estimate). The median, not the mean: the posterior is skewed
            towards more reps, and the median minimises the absolute error.
        interval: Central `EstimatorSettings.interval_mass` interval (low, high), in whole reps;
            None when there is no trustworthy rep.
        probabilities: P(RIR = r) for r = 0, 1, ... (empty without evidence).
        prior_probabilities: The same before the reps' velocities were read (load / reps prior
            only); `failure_likelihood_ratio` compares the two.
        evidence: ``"none"``, ``"low"`` or ``"ok"``.
        fraction_1rm: The %1RM (fraction) the load prior used, and where it came from.
        fraction_1rm_source: ``"given"``, ``"profile"``, ``"velocity"`` or ``"assumed"``.
        notes: Short human-readable remarks ("too little evidence: ...").
    """

    rir: float | None
    interval: tuple[float, float] | None
    probabilities: tuple[float, ...] = ()
    prior_probabilities: tuple[float, ...] = ()
    evidence: str = EVIDENCE_NONE
    fraction_1rm: float | None = None
    fraction_1rm_source: str = ""
    notes: tuple[str, ...] = field(default=())

    def should_stop(self, target_rir: int, cost_ratio: float, far_early_cost: float = 0.0) -> bool:
        """The stop decision for ``target_rir``: flag now, or is a later rep a better bet?

        With RIR ``r`` after this rep, flagging ``j`` reps from now is exact when
        ``1 <= r - j <= T`` (``T = target_rir``), one rep early when ``r - j = T + 1``, two or more
        early above that, and late when ``r <= j`` (the set reaches failure first). Costs: late
        ``cost_ratio``, one rep early 1, two or more early ``1 + far_early_cost``
        (`EstimatorSettings`). The flag fires when flagging now costs no more, in expectation
        under the posterior, than flagging at any later rep. Against the next rep alone this is

            cost_ratio * P(r = 1) >= P(r = T + 1) + far_early_cost * P(r = T + 2),

        so only the zone's edges matter: a wide posterior (little evidence) spreads its mass
        beyond them and waits rather than guessing.
        """
        if not self.probabilities:
            return False
        # Row j of the cost table is the cost of flagging j reps from now, for every RIR r; the
        # expected costs of all flag times are one matrix-vector product.
        expected = _flag_costs(len(self.probabilities), target_rir, cost_ratio, far_early_cost) @ np.asarray(
            self.probabilities, dtype=float)
        return bool(expected[0] <= expected[1:].min(initial=math.inf) + 1e-12)

    def prob_at_most(self, rir: int) -> float:
        """P(RIR <= ``rir``) (0 without evidence)."""
        if not self.probabilities:
            return 0.0
        return float(sum(self.probabilities[: max(0, rir) + 1]))

    def failure_likelihood_ratio(self) -> float | None:
        """How much the reps' velocities favour "0 reps in reserve" over "some left": p(v | r = 0) / p(v | r > 0).

        The posterior odds of RIR 0 divided by the prior odds. Above 1 the velocities look like the
        last possible rep; well below 1 they say reps were left. None without evidence.
        """
        if not self.probabilities or not self.prior_probabilities:
            return None
        post0 = min(max(self.probabilities[0], 1e-12), 1.0 - 1e-12)
        prior0 = min(max(self.prior_probabilities[0], 1e-12), 1.0 - 1e-12)
        return (post0 / (1.0 - post0)) / (prior0 / (1.0 - prior0))

    @property
    def mean(self) -> float | None:
        """Posterior mean RIR, published or not (None without evidence)."""
        if not self.probabilities:
            return None
        return float(np.dot(np.arange(len(self.probabilities)), self.probabilities))

    @property
    def median(self) -> int | None:
        """Posterior median RIR (None without evidence)."""
        if not self.probabilities:
            return None
        return int(np.searchsorted(np.cumsum(self.probabilities), 0.5))


@functools.lru_cache(maxsize=64)
def _flag_costs(n: int, target_rir: int, cost_ratio: float, far_early_cost: float) -> np.ndarray:
    """``cost[j, r]``: cost of a flag ``j`` reps from now when ``r`` reps are in reserve after this rep.

    See `RirEstimate.should_stop`: late (``r - j <= 0``) ``cost_ratio``, in the zone 0, one rep
    early 1, two or more early ``1 + far_early_cost``. Read-only (it is shared).
    """
    left = np.arange(n)[None, :] - np.arange(n)[:, None]  # RIR at the flag if it comes j reps from now
    cost = np.where(left <= 0, cost_ratio,
                    np.where(left <= target_rir, 0.0,
                             np.where(left == target_rir + 1, 1.0, 1.0 + far_early_cost)))
    cost.flags.writeable = False
    return cost


def _continuous_median(p: np.ndarray) -> float:
    """Median of a distribution on 0, 1, 2, ... read as unit-wide bins centred on each integer."""
    cdf = np.cumsum(p)
    r0 = int(np.searchsorted(cdf, 0.5))
    below = cdf[r0 - 1] if r0 > 0 else 0.0
    return max(0.0, r0 - 0.5 + (0.5 - below) / max(p[r0], 1e-12))


def population_priors(entry: ExerciseEntry, settings: EstimatorSettings = DEFAULT_SETTINGS) -> Priors:
    """Priors for a lifter we know nothing about, from the catalogue entry."""
    return Priors(
        mvt_mps=entry.mvt.value,
        mvt_sd_mps=entry.mvt.sd,
        gamma_weights=gamma_prior(entry, settings),
        reps_log_ratio=0.0,
        reps_log_sd=entry.reps_log_sd.sd,
        personal=False,
    )


def gamma_prior(entry: ExerciseEntry, settings: EstimatorSettings = DEFAULT_SETTINGS) -> tuple[float, ...]:
    """Log-normal prior of the curvature (median ``entry.shape.value``, log-SD ``entry.shape.sd``) on the grid."""
    grid = np.asarray(settings.gamma_grid, dtype=float)
    z = (np.log(grid) - math.log(entry.shape.value)) / entry.shape.sd
    w = np.exp(-0.5 * z * z)
    w /= w.sum()
    return tuple(float(x) for x in w)


def rep_sigma_mps(velocity_mps: np.ndarray, quality: np.ndarray, noise_cv: float,
                  settings: EstimatorSettings = DEFAULT_SETTINGS) -> np.ndarray:
    """Per-rep velocity SD: sensor error (``se / quality``) and biological variation, in quadrature."""
    q = np.clip(quality, TRUSTED_QUALITY, 1.0)
    se = settings.sensor_se_mps / q
    bio = noise_cv * np.abs(velocity_mps)
    return np.sqrt(se * se + bio * bio)


def log_marginal_likelihood(
    velocity_mps: np.ndarray,
    sigma_mps: np.ndarray,
    rep_position: np.ndarray,
    n_total: np.ndarray,
    gammas: np.ndarray,
    *,
    mvt_mps: float,
    mvt_sd_mps: float,
    v1_mps: float,
    v1_sd_mps: float,
) -> np.ndarray:
    """log p(velocities | N, gamma) with (v1, mvt) integrated out; shape (len(gammas), len(n_total)).

    Args:
        velocity_mps: Observed MCVs.
        sigma_mps: Their SDs (`rep_sigma_mps`).
        rep_position: 0-based position of each observed rep in the set (reps left out of the
            likelihood, e.g. unreadable ones, still occupy their position).
        n_total: Candidate reps-to-failure values N.
        gammas: Candidate curvatures.
        mvt_mps, mvt_sd_mps: Gaussian prior of the last-rep velocity.
        v1_mps, v1_sd_mps: Gaussian prior of the first-rep velocity of the curve.

    The curve is linear in theta = (v1, mvt): v = A theta with A = [1 - s, s], s = x**gamma.
    With theta ~ N(mu, S0) and noise N(0, diag sigma^2) the evidence is Gaussian; the
    information form makes it a 2x2 computation per grid point. Terms that do not depend on
    (N, gamma) are dropped: they cancel in the posterior.
    """
    y = np.asarray(velocity_mps, dtype=float)
    w = 1.0 / np.asarray(sigma_mps, dtype=float) ** 2
    i = np.asarray(rep_position, dtype=float)[None, None, :]
    n = np.asarray(n_total, dtype=float)[None, :, None]
    # A set of N = 1 is a single rep at the MVT (x = 1).
    x = np.where(n > 1, i / np.maximum(n - 1.0, 1.0), 1.0)
    s = np.clip(x, 0.0, 1.0) ** np.asarray(gammas, dtype=float)[:, None, None]
    a0 = 1.0 - s
    p00 = 1.0 / v1_sd_mps**2 + np.sum(w * a0 * a0, axis=-1)
    p01 = np.sum(w * a0 * s, axis=-1)
    p11 = 1.0 / mvt_sd_mps**2 + np.sum(w * s * s, axis=-1)
    b0 = v1_mps / v1_sd_mps**2 + np.sum(w * y * a0, axis=-1)
    b1 = mvt_mps / mvt_sd_mps**2 + np.sum(w * y * s, axis=-1)
    det = p00 * p11 - p01 * p01
    quad = (p11 * b0 * b0 - 2.0 * p01 * b0 * b1 + p00 * b1 * b1) / det
    # log N(y; A mu, A S0 A' + D) = 0.5 b'P^-1 b - 0.5 log|P| + const (matrix determinant lemma).
    return 0.5 * quad - 0.5 * np.log(det)


def _n_prior(n_grid: np.ndarray, median_reps: float, log_sd: float) -> np.ndarray:
    """Discretised log-normal prior over whole reps to failure."""
    m = math.log(max(median_reps, 1.0))
    hi = (np.log(n_grid + 0.5) - m) / log_sd
    lo = (np.log(np.maximum(n_grid - 0.5, 1e-9)) - m) / log_sd
    from scipy.special import ndtr

    p = ndtr(hi) - ndtr(lo)
    return np.maximum(p, 1e-300)


def rtf_fraction(entry: ExerciseEntry, velocity_mps: float, mvt_mps: float) -> float:
    """%1RM (fraction) of a first rep at ``velocity_mps`` on the group line through the MVT ``mvt_mps``."""
    lo, hi = RTF_FRACTION_RANGE
    return min(hi, max(lo, 1.0 - (velocity_mps - mvt_mps) / entry.lv_span.value))


def rtf_shape(entry: ExerciseEntry, velocity_mps: float, mvt_mps: float) -> float:
    """``1 / p - 1`` at the %1RM ``p`` of a first rep at ``velocity_mps``: Epley's reps-to-failure shape."""
    return 1.0 / rtf_fraction(entry, velocity_mps, mvt_mps) - 1.0


def rtf_prior(entry: ExerciseEntry, priors: Priors, v_ref_mps: float, v_ref_sd_mps: float) -> tuple[float, float]:
    """(median reps to failure, log-SD) from the set's first-rep velocity and the athlete's own relation.

    Reps to failure fall with the velocity of the set's fastest rep along an individual relation
    (Martínez-Rubio 2025 [V]: individual RTF-fastest-rep-velocity R^2 0.98 vs 0.65 for a general
    one). Its shape is Epley's ``N - 1 = A (1 / p - 1)`` with ``p`` read off the group load-velocity
    line through the athlete's own MVT, and ``A = priors.rtf_scale`` is learnt from the athlete's
    sets to failure (`vbt.fatigue.profile`). No %1RM or e1RM is needed, so a set started tired
    (slower first rep) gets fewer reps, as it should (Pérez-Castilla 2024). The first rep's
    velocity error and today's MVT shift widen the prior by the delta method.
    """
    if priors.rtf_scale is None:
        raise ValueError("rtf_prior needs priors with a personal reps-to-failure relation (rtf_scale)")
    p = rtf_fraction(entry, v_ref_mps, priors.mvt_mps)
    reps = 1.0 + priors.rtf_scale * (1.0 / p - 1.0)
    # d log(1/p - 1) / dv = 1 / (span p (1 - p)); the MVT shift moves p like a velocity error does.
    dlog = 1.0 / (entry.lv_span.value * p * (1.0 - p))
    v_sd = math.hypot(v_ref_sd_mps, priors.mvt_sd_mps)
    share = (reps - 1.0) / reps  # the first rep itself is certain
    return reps, math.sqrt(priors.rtf_log_sd**2 + (share * dlog * v_sd) ** 2)


def load_prior(
    entry: ExerciseEntry,
    priors: Priors,
    fraction_1rm: float,
    fraction_sd: float,
) -> tuple[float, float]:
    """(median reps to failure, log-SD) at ``fraction_1rm`` +/- ``fraction_sd`` for this athlete."""
    reps = reps_to_failure(fraction_1rm) * math.exp(priors.reps_log_ratio)
    # d log(reps) / d fraction, so a %1RM uncertainty widens the reps prior (delta method).
    dlog = 36.0 / max(reps_to_failure(fraction_1rm), 1.0)
    log_sd = math.sqrt(priors.reps_log_sd**2 + (dlog * fraction_sd) ** 2)
    return reps, log_sd


class RirEstimator:
    """Estimates reps in reserve from the reps of one set so far.

    Args:
        entry: Catalogue entry of the exercise.
        priors: Population (`population_priors`) or personal (`AthleteProfile.priors`) priors.
        settings: Estimator settings.
    """

    def __init__(
        self,
        entry: ExerciseEntry,
        priors: Priors | None = None,
        settings: EstimatorSettings = DEFAULT_SETTINGS,
    ) -> None:
        self.entry = entry
        self.settings = settings
        self.priors = priors if priors is not None else population_priors(entry, settings)
        if len(self.priors.gamma_weights) != len(settings.gamma_grid):
            raise ValueError(
                f"priors have {len(self.priors.gamma_weights)} curvature weights but the grid has "
                f"{len(settings.gamma_grid)}; build the priors with the same EstimatorSettings"
            )

    def estimate(
        self,
        reps: Sequence[RepObservation],
        *,
        fraction_1rm: float | None = None,
        fraction_1rm_sd: float = 0.03,
        fraction_1rm_source: str = "given",
    ) -> RirEstimate:
        """Posterior RIR after the last of ``reps``.

        Args:
            reps: The counted reps of the set so far, in order (deleted reps left out).
            fraction_1rm: %1RM of the load as a fraction, if known (else read from the velocity of
                the best of the first two trustworthy reps through the group load-velocity line).
            fraction_1rm_sd: Its uncertainty (fraction).
            fraction_1rm_source: Where a given ``fraction_1rm`` came from (for notes).

        Returns:
            The estimate; ``evidence == "none"`` when no rep is trustworthy.
        """
        st = self.settings
        k = len(reps)
        v = np.array([r.velocity_mps for r in reps], dtype=float)
        q = np.array([r.quality for r in reps], dtype=float)
        finite = np.isfinite(v)
        q = np.where(finite, q, 0.0)
        trusted = (q >= TRUSTED_QUALITY) & finite
        if k == 0 or not trusted.any():
            return RirEstimate(None, None, evidence=EVIDENCE_NONE,
                               notes=("too little evidence: no trustworthy rep yet",))
        first_two = v[trusted][:2]
        v_ref = float(first_two.max())

        pri = self.priors
        if fraction_1rm is None and pri.rtf_scale is not None:
            # The athlete's own reps-to-failure relation on the first-rep velocity (no %1RM needed).
            ref_i = int(np.nonzero(trusted)[0][int(np.argmax(first_two))])
            v_ref_sd = float(rep_sigma_mps(v[ref_i:ref_i + 1], q[ref_i:ref_i + 1], self.entry.rep_noise_cv.value,
                                           st)[0])
            median_reps, log_sd = rtf_prior(self.entry, pri, v_ref, v_ref_sd)
            fraction_1rm = rtf_fraction(self.entry, v_ref, pri.mvt_mps)
            fraction_1rm_source = "velocity"
        else:
            if fraction_1rm is None:
                fraction_1rm = self.entry.fraction_1rm_from_velocity(v_ref, mvt_mps=pri.mvt_mps)
                fraction_1rm_sd = math.hypot(self.entry.lv_sd.value, pri.mvt_sd_mps) / self.entry.lv_span.value
                fraction_1rm_source = "velocity"
            median_reps, log_sd = load_prior(self.entry, pri, fraction_1rm, fraction_1rm_sd)

        # Only trustworthy reps enter the likelihood; every counted rep still counts towards k.
        use = trusted
        idx = np.nonzero(use)[0]
        n_grid = np.arange(k, k + st.max_rir + 1)
        gammas = np.asarray(st.gamma_grid, dtype=float)
        sig = rep_sigma_mps(v[use], q[use], self.entry.rep_noise_cv.value, st)
        loglik = log_marginal_likelihood(
            v[use], sig, idx, n_grid, gammas,
            mvt_mps=pri.mvt_mps, mvt_sd_mps=pri.mvt_sd_mps, v1_mps=v_ref, v1_sd_mps=st.v1_prior_sd_mps,
        )
        if pri.rir_velocity is not None:
            loglik = CURVE_WEIGHT * loglik + self._relation_loglik(pri.rir_velocity, v, q, trusted, k, n_grid,
                                                                   v_ref)[None, :]
        n_prior = _n_prior(n_grid.astype(float), median_reps, log_sd)
        log_post = (
            loglik
            + np.log(np.asarray(pri.gamma_weights, dtype=float) + 1e-300)[:, None]
            + np.log(n_prior)[None, :]
        )
        log_post -= log_post.max()
        post = np.exp(log_post).sum(axis=0)
        post /= post.sum()

        cdf = np.cumsum(post)
        point_value = _continuous_median(post)
        tail = (1.0 - st.interval_mass) / 2.0
        low = float(np.searchsorted(cdf, tail))
        high = float(min(np.searchsorted(cdf, 1.0 - tail), len(post) - 1))
        notes: list[str] = []
        n_trusted = int(trusted.sum())
        if n_trusted < 2 or (high - low) > st.max_point_interval_width:
            evidence = EVIDENCE_LOW
            point: float | None = None
            notes.append(f"too little evidence for a point estimate: likely {low:.0f}-{high:.0f} reps left")
        else:
            evidence = EVIDENCE_OK
            point = point_value
        if k - n_trusted:
            notes.append(f"{k - n_trusted} low-quality rep(s) counted, their velocity not used")
        if high >= st.max_rir:
            notes.append(f"far from failure (more than {st.max_rir} reps possible)")
        return RirEstimate(
            rir=point,
            interval=(low, high),
            probabilities=tuple(float(p) for p in post),
            prior_probabilities=tuple(float(p) for p in n_prior / n_prior.sum()),
            evidence=evidence,
            fraction_1rm=fraction_1rm,
            fraction_1rm_source=fraction_1rm_source,
            notes=tuple(notes),
        )

    def _relation_loglik(self, rel: RirVelocityProfile, v: np.ndarray, q: np.ndarray, trusted: np.ndarray,
                         k: int, n_grid: np.ndarray, v_ref: float) -> np.ndarray:
        """Likelihood of the trusted reps under the personal RIR-velocity relation (one day offset for the set).

        The set's first trusted rep is left out: early reps hold their velocity (Izquierdo 2006), so
        rep 1 tells the load (it sets the reps-to-failure prior and the curve's start) rather than
        the proximity to failure, and from a still start it is often not the fastest (Pareja-Blanco
        2017). With a single trusted rep the relation adds nothing (a zero log-likelihood).
        """
        pos = np.nonzero(trusted)[0][RELATION_SKIP_FIRST:]
        if len(pos) == 0:
            return np.zeros(len(n_grid))
        sig = rep_sigma_mps(v[pos], q[pos], self.entry.rep_noise_cv.value, self.settings)
        # RIR after rep (pos + 1) if the set could last N reps: N - pos - 1.
        rir = n_grid[:, None] - (pos[None, :] + 1)
        return rel.log_likelihood(v[pos], sig, rir, v_ref)


__all__ = [
    "DEFAULT_SETTINGS",
    "EVIDENCE_LOW",
    "EVIDENCE_NONE",
    "EVIDENCE_OK",
    "TRUSTED_QUALITY",
    "EstimatorSettings",
    "Priors",
    "RepObservation",
    "RirEstimate",
    "RirEstimator",
    "RirVelocityProfile",
    "gamma_prior",
    "load_prior",
    "log_marginal_likelihood",
    "population_priors",
    "rep_sigma_mps",
    "rtf_fraction",
    "rtf_prior",
    "rtf_shape",
]
