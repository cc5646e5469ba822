"""Simulated athletes: strength, load-velocity profile, velocity at failure and within-set fatigue.

An `Athlete` holds *persistent* individual parameters (one `ExerciseProfile` per lift), so the
same athlete can be reused across sets and sessions (the fatigue benchmark personalises after
three sets to failure). `plan_set` turns an athlete, a load and a stopping rule into a list of
`RepPlan` (true MCV, ROM, timing and true reps in reserve) plus an optional `FailedPlan`.

Fatigue model (mechanistic, *not* a velocity-vs-RIR curve)
------------------------------------------------------------
The athlete's momentary capacity ``C`` is expressed as a fraction of today's 1RM. A rep at load
``L`` (``p = L / 1RM_day``) is completed iff ``C >= p``; its intended mean concentric velocity
comes from the individual load-velocity relation evaluated at the *relative* load ``p / C``::

    v = MVT_day + g_i * (v_pop(p / C) - v_pop(1))                                     (1)

(``v_pop`` = population curve of the lift, ``g_i`` = individual gain, ``MVT_day`` = the
athlete's velocity at failure today). Each rep costs capacity in proportion to the load, the
same share at every point of the set (LEVsim, science.md §6.4: within-set fatigue lowers the
force capacity by a share of the load per rep)::

    dC = c_i * p                                                                      (2)

With (1)-(2) alone the relative load after ``r`` more reps to failure is ``1 / (1 + r c_i)``
whatever the load, so the velocity at a given RIR does not depend on the load (Morán-Navarro
2019 [V]) and reps to failure follow Epley's ``1/p - 1`` shape. Velocity would, however, fall
from the very first rep, while real sets hold their velocity first (Izquierdo 2006 [V]: the drop
starts after 34-40 % of the reps in the bench and 48-69 % in the squat; metabolic markers such as
ammonia only rise once more than half the possible reps are done, Sánchez-Medina 2011 [V]). So
early in a set the athlete *compensates* part of the loss (recruiting further motor units); the
compensated share ``pending`` is expressed rep by rep with a lag of ``lag_i`` reps::

    pending <- (pending + dC) * exp(-1 / lag_i),   expressed capacity = C + pending   (3)

Both the velocity in (1) and the ability to complete a rep use the expressed capacity. Near
failure ``pending`` is in steady state (a fixed number of reps' worth), so the load independence
of (1)-(2) survives where the 1-2 RIR decision is made; the lag is reset at the start of every
set. The cost is split into a fast component (phosphocreatine-like, recovers with time constant
``tau_fast``) and a slow one (``tau_slow``), so pauses between reps and rests between sets
restore part of the capacity (within a set the muscles stay loaded, so recovery there runs
`IN_SET_RECOVERY_SLOWDOWN` times slower; rest-pause effect; later sets start slower and reach failure
sooner, Pérez-Castilla 2024). ``c_i`` is calibrated per athlete so that the athlete reaches
the individually drawn reps-to-failure at 75 % 1RM; reps at other loads *emerge* from (1)-(3)
and are checked against the published ranges in tests/sim/test_athlete.py.

Why not a cost that grows with effort: an earlier version used ``dC = c_i p exp(kappa_i e)``
(``e`` = share of the set's reserve spent) to delay the drop. That made the last reps collapse
(the last drop ~2x the drop three reps earlier in the squat; no study reports such a cliff --
individual RIR-velocity relations are fitted as straight lines near failure, Jukic 2024,
Martínez-Rubio 2025) and made the velocity at a given RIR depend on the load (squat CV 9-12 %
across 65/75/85 %1RM against 4.4-8.0 % measured by Morán-Navarro 2019).

Calibration trade-off (measured with tests/sim/test_athlete.py's definitions, 60 athletes): a
longer squat lag delays the drop but breaks the load independence and Epley at heavy loads:

    squat lag (reps)               2     3     4     5     6     8
    drop starts at (% of reps)    36    40    43    44    45    47     Izquierdo: 48-69
    CV at RIR 4 / 6 (%)          6.0   5.6   6.8   7.4   8.2   9.6     Morán-Navarro: 4.4-8.0
                                 /5.4  /5.6  /6.6  /7.4  /7.9  /9.6
    reps at 90 % / Epley        1.09  1.16  1.22  1.27  1.29  1.33

The squat lag median is 4 (drop at ~43 % of reps, below Izquierdo's 48-69 %; a documented
compromise in favour of the velocity-at-RIR figures the RIR flag depends on).

True reps in reserve after rep k = the number of further reps the model athlete could complete
at the same pacing (a noise-free forward run of (1)-(3)). Rep-to-rep biological noise is added
to the *expressed* velocity only, so it does not change the capacity or the RIR labels.

Parameter table (tags as in science.md: [V] verified, [C] from cited code, [M] memory/derived,
[D] design assumption with its reasoning)
----------------------------------------------------------------------------------------------
=============================  =====================================  =========================================
Parameter                      Value (population)                     Source / reasoning
=============================  =====================================  =========================================
Squat L-V curve ``v_pop``      %1RM = -12.87 MV^2 - 46.31 MV + 116.3  Sánchez-Medina 2017, science.md §4.2 [C]
Bench L-V curve ``v_pop``      %1RM = 8.4326 v^2 - 73.501 v + 112.33  González-Badillo 2010 (MPV), §4.2 [M];
                                                                      used as MCV: at >= 60 % 1RM MPV ~ MCV [D]
Deadlift / OHP / row L-V       linear, span 1.35 / 1.35 / 1.25 m/s    individual L-V is linear r ~ 0.99
                               per unit 1RM above MVT                 (García-Ramos 2019 [V]); spans: ~0.6 m/s
                                                                      above MVT at 60 % (Benavides-Ubric 2020
                                                                      context, Balsalobre 2018) [M]
MVT (velocity of a 1RM single) squat 0.25 +/- 0.06 m/s                free-weight MCV at 1RM 0.24 +/- 0.06
                                                                      (Banyard 2017) [V]. Reps are discrete, so
                                                                      the last rep of a set to failure lands on
                                                                      average ~0.02 m/s above it (up to one
                                                                      rep's velocity step; cf. Smith 0.32 +/-
                                                                      0.03, Sánchez-Medina 2017 [V]); checked
                                                                      in tests
MVT bench                      0.14 +/- 0.04                          0.16 +/- 0.04 (González-Badillo 2010),
                                                                      0.10 +/- 0.04 free-weight (Helms 2017) [V]
MVT deadlift                   0.13 +/- 0.05                          0.14 +/- 0.05 (Helms 2017) [V]
MVT OHP                        0.18 +/- 0.04                          0.19-0.20 (García-Ramos 2019) [M]
MVT row                        0.44 +/- 0.07                          bench pull 0.50-0.55 (Sánchez-Medina
                                                                      2014) [M], free row assumed lower [D]
Day-to-day MVT variation       CV 7 %                                 between-day CV of v1RM 15-22 % (Banyard
                                                                      2017, Ruf 2018) [V] includes test error;
                                                                      about half taken as true variation [D]
Individual L-V gain ``g_i``    log-normal, SD 0.15                    between-subject CV of velocity at a
                                                                      %1RM 12.9-24.6 % (§4.1) [V] together
                                                                      with the MVT spread [D]
Reps to failure at 75 %        1 + 30 m_ex (1/p - 1), m_ex squat 1.15 Epley (1985) rearranged so that 1RM gives
                               bench 1.0, DL 0.95, OHP 0.9, row 1.1   one rep [M]; lower body more reps at
                                                                      light loads (Shimano 2006) [M]
Between-athlete reps spread    log-normal, SD 0.2                     +/-20-30 % between lifters at a fixed
                                                                      %1RM (Richens & Cleather 2014) [M]
Rep cost                       c_i * p, c_i calibrated per athlete     constant share of the load per rep
                                                                      (LEVsim, §6.4 [V]); gives Epley's shape
                                                                      and load-independent velocity at a
                                                                      given RIR (Morán-Navarro 2019 [V])
Compensation lag ``lag_i``     median squat 4, DL 4, bench 2, OHP 2,  drop starts at ~35 % of reps (bench) and
                               row 2 reps; log-SD 0.3                 ~43 % (squat) (Izquierdo 2006 [V]: 34-40
                                                                      / 48-69 %; squat limited by the CV at
                                                                      RIR, see trade-off above); DL like the
                                                                      squat, OHP/row like the bench [M]
In-set recovery slowdown       x6                                     the bar stays loaded between reps [D]
Fast / slow recovery           tau_fast 30-60 s, tau_slow 4-10 min,   PCr resynthesis half-time ~30 s [M];
                               fast share 0.6-0.85                   reps in a 2nd set to failure after 2 min
                                                                      rest fall ~20-35 % (Pérez-Castilla 2024
                                                                      design) [M], checked in tests
Rep-to-rep biological noise    CV 1-3.75 % (per athlete)              half of LEVsim's 2-7.5 % (§6.4): with the
                                                                      full range the individual %Rep-VL fits
                                                                      reach R^2 0.935 (bench) and 0.91 (squat),
                                                                      below the 0.97-0.99 measured (IJSPP 2020
                                                                      [V]); now 0.96 / 0.95 (checked in tests;
                                                                      ~0.97 is the ceiling without noise)
First-rep factor               N(0.99, 0.02)                          rep 1 from a still start is often not
                                                                      the fastest (why VL uses the best of the
                                                                      first reps, Pareja-Blanco 2017) [D]
Daily 1RM readiness            CV 4 %                                 day-to-day strength fluctuation [D]
Strength (1RM / body mass)     squat M 1.0-2.4, F 0.8-2.0; bench M    gym strength standards, untrained to
                               0.7-1.7, F 0.45-1.1; DL M 1.2-2.8, F   advanced [D]; only sets ``load_kg`` and
                               1.0-2.3; OHP M 0.45-1.0, F 0.3-0.65;   power, never velocities
                               row M 0.6-1.3, F 0.4-0.9
Height                         M N(1.78, 0.07), F N(1.65, 0.065) m    adult anthropometry [D]; scales ROM
Loads                          rounded to 2.5 kg (plates)             so the true %1RM differs slightly from
                                                                      the requested one [D]
Concentric ROM                 height x squat 0.26-0.34, bench        body-segment proportions (Drillis &
                               0.18-0.25, DL 0.28-0.34, OHP 0.27-     Contini) [M]; rep-to-rep CV 2 %, 3 %
                               0.33, row 0.17-0.24                    shallower near failure [D]
Eccentric duration             squat 1.0-2.0 s, bench 0.8-1.6, DL     self-selected tempos [D]; +15 % near
                               0.6-1.3, OHP 0.7-1.4, row 0.5-1.1      failure [D]
Touch-and-go habit             squat 60 %, bench 45 %, DL 40 %, OHP   share of lifters [D]; otherwise a
                               30 %, row 50 % of athletes             0.05-0.45 s turnaround pause
Pause between reps             0.4-1.6 s (lockout) / 0.5-2 s          lengthens by 0.5-3.5 s near failure
                               (floor, shoulders, hang)               (breathing, bracing) [D]
Re-grips                       DL 25 %, row 10 %, bench 5 % of rest   hands reset between reps, more often
                               pauses (x 0.3-1.5 per athlete)         near failure [D]
=============================  =====================================  =========================================
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

#: The lifts the simulator can perform, in catalogue order.
EXERCISES = ("squat", "bench", "deadlift", "ohp", "row")

#: Lifts whose first movement of a set is the lowering (eccentric) phase.
ECCENTRIC_FIRST = {"squat": True, "bench": True, "deadlift": False, "ohp": False, "row": False}


def check_exercise(name: str) -> str:
    """Return the canonical simulator exercise name, or raise `UnknownExerciseError`."""
    from vbt.errors import UnknownExerciseError

    key = name.strip().lower().replace("_", "-")
    aliases = {"back-squat": "squat", "bench-press": "bench", "press": "ohp", "overhead-press": "ohp",
               "military-press": "ohp", "barbell-row": "row", "bent-over-row": "row", "dl": "deadlift"}
    key = aliases.get(key, key)
    if key not in EXERCISES:
        raise UnknownExerciseError(name, EXERCISES)
    return key


# --------------------------------------------------------------------------- population curves


def _squat_v(p: float) -> float:
    # Sánchez-Medina 2017 MV equation solved for MV (positive root).
    a, b, c = -12.87, -46.31, 116.3 - 100.0 * p
    return (-b - math.sqrt(b * b - 4 * a * c)) / (2 * a)


def _bench_v(p: float) -> float:
    # González-Badillo 2010 MPV equation solved for the smaller root (the physical branch).
    a, b, c = 8.4326, -73.501, 112.33 - 100.0 * p
    disc = max(b * b - 4 * a * c, 0.0)
    return (-b - math.sqrt(disc)) / (2 * a)


_LINEAR_SPAN = {"deadlift": 1.35, "ohp": 1.35, "row": 1.25}


def population_velocity(exercise: str, fraction_1rm: float) -> float:
    """Population mean concentric velocity (m/s) of a fresh rep at ``fraction_1rm`` of 1RM.

    Squat and bench use the published quadratic group equations (science.md §4.2); the other
    lifts a linear line above the population MVT (parameter table). ``fraction_1rm`` is
    clipped to 0.2-1.2 (above 1.0 the curve is extrapolated for failed attempts).
    """
    p = min(max(fraction_1rm, 0.2), 1.2)
    if exercise == "squat":
        return _squat_v(p)
    if exercise == "bench":
        return _bench_v(p)
    return MVT_POPULATION[exercise][0] + _LINEAR_SPAN[exercise] * (1.0 - p)


#: Population MVT (mean, SD) in m/s of MCV (parameter table).
MVT_POPULATION: dict[str, tuple[float, float]] = {
    "squat": (0.25, 0.06),
    "bench": (0.14, 0.04),
    "deadlift": (0.13, 0.05),
    "ohp": (0.18, 0.04),
    "row": (0.44, 0.07),
}

#: Epley multiplier per lift for the population reps-to-failure relation.
REPS_FACTOR = {"squat": 1.15, "bench": 1.0, "deadlift": 0.95, "ohp": 0.9, "row": 1.1}

#: Compensation lag of equation (3) in reps: population median per lift (log-normal, log-SD
#: `LAG_LOG_SD`). Calibrated to Izquierdo 2006 (the velocity drop starts later in the squat than in
#: the bench) within the load independence of velocity at a given RIR (Morán-Navarro 2019); see the
#: parameter table.
LAG_REPS_MEDIAN = {"squat": 4.0, "bench": 2.0, "deadlift": 4.0, "ohp": 2.0, "row": 2.0}
LAG_LOG_SD = 0.3

#: Rep-to-rep biological noise of the expressed velocity: each athlete's CV is drawn uniformly from
#: this range (parameter table: half of LEVsim's 2-7.5 %, from the individual %Rep-VL fits).
REP_NOISE_CV_RANGE = (0.01, 0.0375)

#: Recovery inside a set (bar held, muscles loaded) is this many times slower than at rest [D].
IN_SET_RECOVERY_SLOWDOWN = 6.0

#: Relative strength ranges (1RM / body mass) by sex.
_STRENGTH = {
    "squat": {"M": (1.0, 2.4), "F": (0.8, 2.0)},
    "bench": {"M": (0.7, 1.7), "F": (0.45, 1.1)},
    "deadlift": {"M": (1.2, 2.8), "F": (1.0, 2.3)},
    "ohp": {"M": (0.45, 1.0), "F": (0.3, 0.65)},
    "row": {"M": (0.6, 1.3), "F": (0.4, 0.9)},
}

#: Reference load (fraction of 1RM) at which each athlete's reps to failure are calibrated.
CALIBRATION_LOAD = 0.75


def population_reps_to_failure(exercise: str, fraction_1rm: float) -> float:
    """Population mean reps to failure at ``fraction_1rm`` (Epley rearranged, parameter table)."""
    p = min(max(fraction_1rm, 0.3), 1.0)
    return 1.0 + 30.0 * REPS_FACTOR[exercise] * (1.0 / p - 1.0)


# --------------------------------------------------------------------------- athlete


@dataclass(frozen=True, slots=True)
class LiftStyle:
    """How one athlete performs one lift: tempo, pauses and habits (design assumptions).

    Attributes:
        eccentric_s: Typical lowering duration at the typical ROM (s).
        touch_and_go: True if the athlete turns around at the bottom without a pause
            (squat bounce, bench touch-and-go, deadlift touch-and-go, row without a hang).
        turnaround_pause_s: Pause at the turnaround when not touch-and-go (s).
        rest_pause_s: Pause between reps at the rest position (lockout for squat/bench,
            floor/shoulders/hang for deadlift/OHP/row) when fresh (s).
        rest_pause_growth_s: Extra rest pause near failure (breathing, bracing) (s).
        regrip_prob: Chance per rest pause of a re-grip (deadlift, row, bench) when fresh;
            doubles near failure.
    """

    eccentric_s: float
    touch_and_go: bool
    turnaround_pause_s: float
    rest_pause_s: float
    rest_pause_growth_s: float
    regrip_prob: float


@dataclass(frozen=True, slots=True)
class ExerciseProfile:
    """One athlete's persistent parameters for one lift.

    Attributes:
        exercise: Lift name.
        one_rm_kg: Typical 1RM (kg) on a normal day.
        mvt_mps: Typical velocity of the last possible rep (MCV, m/s).
        lv_gain: Individual gain ``g_i`` on the population load-velocity curve above MVT.
        reps_at_calibration: Reps to failure when fresh at `CALIBRATION_LOAD`.
        lag_reps: Compensation lag of equation (3), in reps.
        cost: Calibrated fatigue cost ``c_i`` of equation (2).
        fast_share: Share of the rep cost that recovers fast.
        tau_fast_s, tau_slow_s: Recovery time constants (s).
        rep_noise_cv: Rep-to-rep biological noise of the expressed velocity.
        first_rep_factor: Multiplier on the first rep's velocity.
        rom_m: Typical concentric range of motion (m).
        sticking_depth: Depth of the sticking-region velocity dip on a rep at MVT (0-1).
        style: Tempo and habits.
    """

    exercise: str
    one_rm_kg: float
    mvt_mps: float
    lv_gain: float
    reps_at_calibration: float
    lag_reps: float
    cost: float
    fast_share: float
    tau_fast_s: float
    tau_slow_s: float
    rep_noise_cv: float
    first_rep_factor: float
    rom_m: float
    sticking_depth: float
    style: LiftStyle

    def velocity(self, relative_load: float, mvt_mps: float | None = None) -> float:
        """Intended MCV (m/s) at ``relative_load`` = load / current capacity, equation (1)."""
        mvt = self.mvt_mps if mvt_mps is None else mvt_mps
        ex = self.exercise
        return mvt + self.lv_gain * (population_velocity(ex, relative_load) - population_velocity(ex, 1.0))


#: Typical concentric ROM as a fraction of body height, (low, high) per lift [D: anthropometry,
#: Drillis & Contini segment proportions; bench depends on arm length, grip and arch].
ROM_HEIGHT_FRACTION = {
    "squat": (0.26, 0.34),
    "bench": (0.18, 0.25),
    "deadlift": (0.28, 0.34),
    "ohp": (0.27, 0.33),
    "row": (0.17, 0.24),
}

#: Eccentric duration ranges (s) per lift [D: typical self-selected tempos].
_ECCENTRIC_S = {"squat": (1.0, 2.0), "bench": (0.8, 1.6), "deadlift": (0.6, 1.3), "ohp": (0.7, 1.4),
                "row": (0.5, 1.1)}
#: Probability of a touch-and-go / bounce habit per lift [D].
_TNG_PROB = {"squat": 0.6, "bench": 0.45, "deadlift": 0.4, "ohp": 0.3, "row": 0.5}


@dataclass(frozen=True, slots=True)
class Athlete:
    """A simulated lifter with persistent individual parameters.

    Create with `Athlete.random` (seeded); pass the same object to several scenarios to
    simulate the same person across sets and sessions.

    Attributes:
        athlete_id: Stable identifier (derived from the seed when not given).
        sex: ``"M"`` or ``"F"``.
        height_m, body_mass_kg: Anthropometry (scales ROM and loads).
        profiles: One `ExerciseProfile` per lift in `EXERCISES`.
    """

    athlete_id: str
    sex: str
    height_m: float
    body_mass_kg: float
    profiles: dict[str, ExerciseProfile] = field(repr=False)

    def profile(self, exercise: str) -> ExerciseProfile:
        """The profile for ``exercise`` (canonical name)."""
        return self.profiles[check_exercise(exercise)]

    @classmethod
    def random(cls, rng: np.random.Generator | int, athlete_id: str | None = None) -> Athlete:
        """Draw an athlete from the population (parameter table).

        Args:
            rng: Generator, or an integer seed (then the same seed always gives the same athlete).
            athlete_id: Identifier; default derived from the drawn parameters.
        """
        if not isinstance(rng, np.random.Generator):
            seed = int(rng)
            rng = np.random.default_rng([seed, 0xA7])
            athlete_id = athlete_id or f"sim-{seed}"
        sex = "M" if rng.random() < 0.7 else "F"
        height = float(np.clip(rng.normal(1.78, 0.07) if sex == "M" else rng.normal(1.65, 0.065), 1.50, 2.02))
        bmi = float(np.clip(rng.normal(26.5 if sex == "M" else 23.5, 2.5), 19.0, 34.0))
        mass = bmi * height**2
        level = rng.random()  # common training level: strong lifters are strong at every lift
        profiles: dict[str, ExerciseProfile] = {}
        for ex in EXERCISES:
            lo, hi = _STRENGTH[ex][sex]
            u = float(np.clip(level + rng.normal(0.0, 0.12), 0.0, 1.0))
            one_rm = mass * (lo + (hi - lo) * u)
            mvt_mean, mvt_sd = MVT_POPULATION[ex]
            mvt = float(np.clip(rng.normal(mvt_mean, mvt_sd), mvt_mean - 2.5 * mvt_sd, mvt_mean + 2.5 * mvt_sd))
            mvt = max(mvt, 0.06)
            lv_gain = float(np.exp(np.clip(rng.normal(0.0, 0.15), -0.4, 0.4)))
            reps75 = population_reps_to_failure(ex, CALIBRATION_LOAD) * float(
                np.exp(np.clip(rng.normal(0.0, 0.2), -0.5, 0.5)))
            lag = LAG_REPS_MEDIAN[ex] * float(np.exp(np.clip(rng.normal(0.0, LAG_LOG_SD), -0.6, 0.6)))
            fast_share = float(rng.uniform(0.6, 0.85))
            tau_fast = float(rng.uniform(30.0, 60.0))
            tau_slow = float(rng.uniform(240.0, 600.0))
            noise = float(rng.uniform(*REP_NOISE_CV_RANGE))
            first = float(np.clip(rng.normal(0.99, 0.02), 0.93, 1.04))
            flo, fhi = ROM_HEIGHT_FRACTION[ex]
            rom = height * float(rng.uniform(flo, fhi))
            sticking = float(rng.uniform(0.45, 0.85)) if ex in ("bench", "squat", "ohp") else float(rng.uniform(0.2, 0.5))
            elo, ehi = _ECCENTRIC_S[ex]
            style = LiftStyle(
                eccentric_s=float(rng.uniform(elo, ehi)),
                touch_and_go=bool(rng.random() < _TNG_PROB[ex]),
                turnaround_pause_s=float(rng.uniform(0.05, 0.45)),
                rest_pause_s=float(rng.uniform(0.4, 1.6)) if ECCENTRIC_FIRST[ex] else float(rng.uniform(0.5, 2.0)),
                rest_pause_growth_s=float(rng.uniform(0.5, 3.5)),
                regrip_prob={"deadlift": 0.25, "row": 0.1, "bench": 0.05}.get(ex, 0.0) * float(rng.uniform(0.3, 1.5)),
            )
            draft = ExerciseProfile(
                exercise=ex, one_rm_kg=one_rm, mvt_mps=mvt, lv_gain=lv_gain, reps_at_calibration=reps75,
                lag_reps=lag, cost=0.02, fast_share=fast_share, tau_fast_s=tau_fast, tau_slow_s=tau_slow,
                rep_noise_cv=noise, first_rep_factor=first, rom_m=rom, sticking_depth=sticking, style=style,
            )
            profiles[ex] = _calibrate_cost(draft)
        if athlete_id is None:
            digest = hashlib.sha1(repr((sex, height, mass, [p.mvt_mps for p in profiles.values()])).encode())
            athlete_id = "sim-" + digest.hexdigest()[:8]
        return cls(athlete_id=athlete_id, sex=sex, height_m=height, body_mass_kg=mass, profiles=profiles)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (every individual parameter; the labels file embeds it)."""
        return {
            "athlete_id": self.athlete_id,
            "sex": self.sex,
            "height_m": round(self.height_m, 3),
            "body_mass_kg": round(self.body_mass_kg, 1),
            "profiles": {ex: _profile_dict(p) for ex, p in self.profiles.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Athlete:
        """Rebuild an athlete written by `to_dict` (parameters are rounded there).

        Descriptions written before the compensation-lag model (they carry ``kappa``, the retired
        effort exponent) are rebuilt under the current model: the lift's median lag, and the cost
        re-calibrated so the athlete keeps their reps to failure at `CALIBRATION_LOAD`.
        """
        profiles = {}
        for ex, d in data["profiles"].items():
            d = dict(d)
            style = LiftStyle(**d.pop("style"))
            legacy = d.pop("kappa", None) is not None and "lag_reps" not in d
            if legacy:
                d["lag_reps"] = LAG_REPS_MEDIAN[ex]
            prof = ExerciseProfile(exercise=ex, style=style, **d)
            profiles[ex] = _calibrate_cost(prof) if legacy else prof
        return cls(athlete_id=data["athlete_id"], sex=data["sex"], height_m=data["height_m"],
                   body_mass_kg=data["body_mass_kg"], profiles=profiles)


def _profile_dict(p: ExerciseProfile) -> dict[str, Any]:
    d = asdict(p)
    d.pop("exercise")
    return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in d.items()}


# --------------------------------------------------------------------------- fatigue dynamics


@dataclass(slots=True)
class FatigueState:
    """Capacity lost (fractions of today's 1RM) in the fast and slow compartments.

    ``pending`` is the part of that loss the athlete still compensates for within the current
    set (equation (3)): it is spent but not yet expressed in the velocity or in the ability to
    complete a rep. Each rep (`spend`) expresses a share ``1 - exp(-1 / lag_reps)`` of it; a new
    set starts with the compensation available again (`start_set`).
    """

    fast: float = 0.0
    slow: float = 0.0
    pending: float = 0.0

    @property
    def capacity(self) -> float:
        """Capacity the athlete can express now, as a fraction of today's 1RM."""
        return 1.0 - self.fast - self.slow + self.pending

    def recover(self, profile: ExerciseProfile, seconds: float, *, in_set: bool = False) -> None:
        """Exponential recovery of both compartments over ``seconds`` (slower ``in_set``)."""
        if seconds > 0:
            k = IN_SET_RECOVERY_SLOWDOWN if in_set else 1.0
            self.fast *= math.exp(-seconds / (k * profile.tau_fast_s))
            self.slow *= math.exp(-seconds / (k * profile.tau_slow_s))
            # Compensation can hide at most the loss that is still there.
            self.pending = min(self.pending, self.fast + self.slow)

    def spend(self, profile: ExerciseProfile, cost: float) -> None:
        """One rep's effort: lose ``cost`` of capacity (fast/slow split) and express part of the pending loss."""
        self.fast += profile.fast_share * cost
        self.slow += (1.0 - profile.fast_share) * cost
        keep = math.exp(-1.0 / profile.lag_reps) if profile.lag_reps > 0 else 0.0
        self.pending = (self.pending + cost) * keep

    def start_set(self) -> None:
        """A new set begins: everything lost so far is expressed, the compensation is available again."""
        self.pending = 0.0

    def copy(self) -> FatigueState:
        """An independent copy (forward runs must not change the real state)."""
        return FatigueState(self.fast, self.slow, self.pending)


def rep_cost(
    profile: ExerciseProfile,
    p: float,
    capacity: float | None = None,
    start_capacity: float = 1.0,
    cost: float | None = None,
) -> float:
    """Capacity spent by one rep at load fraction ``p``, equation (2): ``c_i * p``.

    The cost is proportional to the load and does not grow with effort (LEVsim, science.md
    §6.4: fatigue lowers the force capacity by a fixed share of the load per rep). With that,
    reps to failure follow Epley's ``1/p - 1`` shape and the velocity at a given RIR does not
    depend on the load (Morán-Navarro 2019); the delayed velocity drop comes from the
    compensation lag of equation (3), not from a cost that explodes near failure.
    ``capacity`` and ``start_capacity`` are accepted for compatibility and not used.
    """
    c = profile.cost if cost is None else cost
    return c * p


def typical_cycle_s(profile: ExerciseProfile, velocity_mps: float, progress: float) -> float:
    """Expected time from one rep's start to the next (used for recovery in forward runs).

    ``progress`` in 0-1 is how close to failure the athlete is (longer pauses near failure).
    """
    st = profile.style
    concentric = profile.rom_m / max(velocity_mps, 0.05)
    turnaround = 0.0 if st.touch_and_go else st.turnaround_pause_s
    return concentric + st.eccentric_s + turnaround + st.rest_pause_s + st.rest_pause_growth_s * progress**2


def count_reps(
    profile: ExerciseProfile,
    p: float,
    state: FatigueState,
    mvt_mps: float,
    *,
    start_capacity: float | None = None,
    cost: float | None = None,
    max_reps: int = 200,
) -> int:
    """Reps the athlete can still complete from ``state`` at load fraction ``p`` (noise-free).

    Deterministic forward run of equations (1)-(2) with typical pacing; ``state`` is not changed.
    ``start_capacity`` is the capacity at the start of the current set (default: now).
    """
    s = state.copy()
    n = 0
    if start_capacity is None:
        start_capacity = s.capacity
    while n < max_reps:
        c = s.capacity
        if c < p:
            break
        v = profile.velocity(p / c, mvt_mps)
        s.spend(profile, rep_cost(profile, p, c, start_capacity, cost))
        n += 1
        progress = _progress(start_capacity, s.capacity, p)
        s.recover(profile, typical_cycle_s(profile, v, progress), in_set=True)
    return n


def _progress(start_capacity: float, capacity: float, p: float) -> float:
    span = max(start_capacity - p, 1e-6)
    return float(min(max((start_capacity - capacity) / span, 0.0), 1.0))


def _calibrate_cost(profile: ExerciseProfile) -> ExerciseProfile:
    """Find the cost ``c_i`` that gives ``reps_at_calibration`` reps at `CALIBRATION_LOAD`.

    The continuous target is met on average: we bisect on the cost so that the fresh athlete
    completes ``round(target)`` reps, landing in the middle of the cost interval that does so.
    """
    target = max(1, int(round(profile.reps_at_calibration)))
    p = CALIBRATION_LOAD
    fresh = FatigueState()

    def reps(c: float) -> int:
        return count_reps(profile, p, fresh, profile.mvt_mps, cost=c)

    # reps(c) is non-increasing in c: find the interval [c_lo, c_hi] giving exactly `target`.
    def bisect(want_at_least: int) -> float:
        lo, hi = 1e-5, 2.0  # reps(lo) large, reps(hi) ~ 1
        for _ in range(60):
            mid = math.sqrt(lo * hi)
            if reps(mid) >= want_at_least:
                lo = mid
            else:
                hi = mid
        return lo  # largest cost still giving >= want_at_least reps

    c_hi = bisect(target)  # largest cost with >= target reps
    c_lo = bisect(target + 1)  # largest cost with >= target + 1 reps
    cost = math.sqrt(max(c_lo, 1e-6) * c_hi)
    return replace(profile, cost=cost)


# --------------------------------------------------------------------------- day state and set plans


@dataclass(slots=True)
class DayState:
    """One session's (day's) readiness and the athlete's fatigue carried between sets.

    Attributes:
        one_rm_factor: Today's 1RM relative to the typical one, per lift.
        mvt_factor: Today's MVT relative to the typical one, per lift.
        fatigue: Per-lift fatigue compartments (capacity lost), carried across sets.
    """

    one_rm_factor: dict[str, float]
    mvt_factor: dict[str, float]
    fatigue: dict[str, FatigueState] = field(default_factory=dict)

    @classmethod
    def random(cls, rng: np.random.Generator) -> DayState:
        """Draw today's readiness (parameter table: 1RM CV 4 %, MVT CV 7 %)."""
        orm = {ex: float(np.exp(np.clip(rng.normal(0.0, 0.04), -0.1, 0.1))) for ex in EXERCISES}
        mvt = {ex: float(np.exp(np.clip(rng.normal(0.0, 0.07), -0.18, 0.18))) for ex in EXERCISES}
        return cls(one_rm_factor=orm, mvt_factor=mvt, fatigue={ex: FatigueState() for ex in EXERCISES})

    def rest(self, athlete: Athlete, seconds: float) -> None:
        """Let every lift's fatigue recover for ``seconds``."""
        for ex, st in self.fatigue.items():
            st.recover(athlete.profiles[ex], seconds)


@dataclass(slots=True)
class RepPlan:
    """Everything the kinematics needs about one completed rep, and its true labels.

    Attributes:
        index: 1-based rep number in the set.
        mcv_mps: True mean concentric velocity to produce (m/s).
        rom_m: Concentric range of motion (m).
        rest_pause_s: Pause at the rest position *before* this rep's first movement.
        eccentric_s: Lowering duration belonging to this rep.
        turnaround_pause_s: Pause at the turnaround (0 for touch-and-go).
        touch_and_go: Turnaround without a pause (eccentric-first lifts: at the bottom;
            concentric-first lifts: at the floor/shoulders/hang before the next rep).
        relative_load: load / capacity when the rep was done (1.0 = a maximal effort).
        progress: 0-1, how far through the set's capacity the athlete is.
        rir: True reps in reserve after this rep.
        regrip_before: The athlete re-grips the bar during ``rest_pause_s``.
    """

    index: int
    mcv_mps: float
    rom_m: float
    rest_pause_s: float
    eccentric_s: float
    turnaround_pause_s: float
    touch_and_go: bool
    relative_load: float
    progress: float
    rir: int = 0
    regrip_before: bool = False


@dataclass(slots=True)
class FailedPlan:
    """A last attempt that does not reach lockout.

    Attributes:
        reach_fraction: Highest point reached as a fraction of the rep's ROM.
        mcv_mps: Mean upward velocity of the attempt until the stall (m/s).
        stall_s: Time the bar hangs near the sticking point before giving up (s).
        rest_pause_s, eccentric_s: As in `RepPlan`.
    """

    reach_fraction: float
    mcv_mps: float
    stall_s: float
    rest_pause_s: float
    eccentric_s: float


@dataclass(slots=True)
class SetOutcome:
    """The athlete's side of one set: reps, the failed attempt, and the numbers behind them."""

    exercise: str
    load_kg: float
    load_fraction_day: float
    load_pct_1rm: float
    reps_possible: int
    reps: list[RepPlan]
    failed: FailedPlan | None
    stop_reason: str
    mvt_day_mps: float
    first_velocity_mps: float


def plan_set(
    athlete: Athlete,
    day: DayState,
    exercise: str,
    load_kg: float,
    rng: np.random.Generator,
    *,
    target_reps: int | None = None,
    to_failure: bool = False,
    stop_rir: int | None = None,
    failed_attempt: bool = False,
    paused: bool | None = None,
    touch_and_go: bool | None = None,
) -> SetOutcome:
    """Decide what the athlete does in one set, rep by rep, and update ``day``'s fatigue.

    Exactly one stopping rule applies: ``target_reps`` (stopped there, or fails earlier if the
    capacity runs out -- then the next rep is a failed attempt), ``to_failure`` (all possible
    reps; ``failed_attempt`` adds the attempt that fails) or ``stop_rir`` (stops once the true
    RIR is at most this, but always does at least one rep if one is possible). A load the
    athlete cannot lift at all today gives a set with only a failed attempt.

    Args:
        athlete: Who lifts.
        day: Today's readiness and carried fatigue (updated in place).
        exercise: Lift name.
        load_kg: Bar + plates (kg).
        rng: Randomness for this set (noise, pauses, failed-attempt details).
        target_reps, to_failure, stop_rir, failed_attempt: Stopping rule (see above).
        paused: Force a pause at every turnaround (competition bench), or forbid it (False).
        touch_and_go: Force (True) or forbid (False) touch-and-go turnarounds.
    """
    ex = check_exercise(exercise)
    prof = athlete.profiles[ex]
    st = prof.style
    one_rm_day = prof.one_rm_kg * day.one_rm_factor[ex]
    mvt_day = prof.mvt_mps * day.mvt_factor[ex]
    p = load_kg / one_rm_day
    state = day.fatigue.setdefault(ex, FatigueState())
    state.start_set()
    possible = count_reps(prof, p, state, mvt_day)
    if to_failure:
        n_do = possible
    elif target_reps is not None:
        n_do = min(int(target_reps), possible)
        failed_attempt = int(target_reps) > possible
    else:
        k = 2 if stop_rir is None else int(stop_rir)
        n_do = min(possible, max(1, possible - k))
        failed_attempt = False
    if possible == 0:
        failed_attempt = True  # too heavy today: the athlete still tries once
    tng = st.touch_and_go if touch_and_go is None else touch_and_go
    if paused:
        tng = False
    start_capacity = state.capacity
    reps: list[RepPlan] = []
    first_v = prof.velocity(p / max(state.capacity, 1e-6), mvt_day)
    for i in range(1, n_do + 1):
        c = state.capacity
        rel = p / c
        v_model = prof.velocity(rel, mvt_day)
        progress = _progress(start_capacity, c, p)
        noise = float(np.clip(rng.normal(0.0, prof.rep_noise_cv), -2.5 * prof.rep_noise_cv, 2.5 * prof.rep_noise_cv))
        v = v_model * (1.0 + noise)
        if i == 1:
            v *= prof.first_rep_factor
        v = max(v, 0.5 * mvt_day, 0.04)
        # Lifters cut depth a little as they tire; depth varies rep to rep (CV ~2 %) [D].
        rom = prof.rom_m * (1.0 - 0.03 * progress) * float(np.clip(1.0 + rng.normal(0.0, 0.02), 0.94, 1.06))
        growth = st.rest_pause_growth_s * progress**2
        if ECCENTRIC_FIRST[ex]:
            # Rest at lockout between reps; the turnaround is the bottom (pause or bounce).
            rest = 0.0 if i == 1 else _jitter(rng, st.rest_pause_s + growth, 0.25)
            if paused:
                turn = _jitter(rng, 1.2, 0.3)
            else:
                turn = 0.0 if tng else _jitter(rng, st.turnaround_pause_s * (1.0 + 0.5 * progress), 0.3)
        else:
            # Rest at the bottom (floor, shoulders, hang): none when touch-and-go until fatigue
            # makes the athlete reset; the turnaround is a short lockout hold at the top.
            base = 0.0 if tng else st.rest_pause_s
            rest = 0.0 if i == 1 else _jitter(rng, base + growth, 0.25)
            if paused:
                rest = max(rest, _jitter(rng, 1.2, 0.3)) if i > 1 else 0.0
            turn = _jitter(rng, 0.1 + st.turnaround_pause_s * (1.0 + progress), 0.3)
        ecc = _jitter(rng, st.eccentric_s * (rom / prof.rom_m) * (1.0 + 0.15 * progress), 0.12)
        regrip = i > 1 and rng.random() < st.regrip_prob * (1.0 + progress)
        if regrip:
            rest += _jitter(rng, 1.5, 0.3)
        # The capacity model uses the noise-free velocity: noise is expression, not fatigue.
        state.recover(prof, rest, in_set=True)
        state.spend(prof, rep_cost(prof, p, c, start_capacity))
        cycle = rom / v + ecc + turn
        state.recover(prof, cycle, in_set=True)
        reps.append(RepPlan(i, v, rom, rest, ecc, turn, tng and not paused, rel, progress, 0, regrip))
    remaining = count_reps(prof, p, state, mvt_day, start_capacity=start_capacity)
    for r in reps:
        r.rir = remaining + (n_do - r.index)
    failed: FailedPlan | None = None
    if failed_attempt and remaining == 0:
        progress = 1.0
        rest = 0.0 if not reps else _jitter(rng, st.rest_pause_s + st.rest_pause_growth_s, 0.25)
        # How far a failed attempt gets: most stall around the sticking region [D].
        reach = float(np.clip(rng.beta(2.2, 2.8), 0.08, 0.85))
        v_try = max(0.35 * mvt_day, 0.05) * float(rng.uniform(0.8, 1.4))
        failed = FailedPlan(
            reach_fraction=reach, mcv_mps=v_try, stall_s=float(rng.uniform(1.0, 3.0)), rest_pause_s=rest,
            eccentric_s=_jitter(rng, st.eccentric_s * 1.1, 0.15),
        )
        state.recover(prof, rest, in_set=True)
        # An all-out failed attempt is costly too.
        state.spend(prof, rep_cost(prof, p, state.capacity, start_capacity))
    if to_failure or possible == 0:
        reason = "failure"
    elif target_reps is not None:
        reason = "target_reps" if n_do == int(target_reps) else "failure"
    else:
        reason = "stop_rir"
    return SetOutcome(
        exercise=ex, load_kg=load_kg, load_fraction_day=p, load_pct_1rm=100.0 * load_kg / prof.one_rm_kg,
        reps_possible=possible, reps=reps, failed=failed, stop_reason=reason, mvt_day_mps=mvt_day,
        first_velocity_mps=first_v,
    )


def _jitter(rng: np.random.Generator, value: float, cv: float) -> float:
    """``value`` times a log-normal factor with coefficient of variation ~``cv``."""
    return float(max(value, 0.0) * math.exp(float(np.clip(rng.normal(0.0, cv), -2.5 * cv, 2.5 * cv))))


def round_load(load_kg: float, step_kg: float = 2.5, minimum_kg: float = 20.0) -> float:
    """Round to loadable plates (2.5 kg steps, never below the empty 20 kg bar)."""
    return max(minimum_kg, step_kg * round(load_kg / step_kg))


__all__ = [
    "CALIBRATION_LOAD",
    "ECCENTRIC_FIRST",
    "EXERCISES",
    "MVT_POPULATION",
    "Athlete",
    "DayState",
    "ExerciseProfile",
    "FailedPlan",
    "FatigueState",
    "LiftStyle",
    "RepPlan",
    "SetOutcome",
    "check_exercise",
    "count_reps",
    "plan_set",
    "population_reps_to_failure",
    "population_velocity",
    "round_load",
]
