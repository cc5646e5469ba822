"""Exercise catalogue: velocity at failure, load-velocity and fatigue-curve priors per lift.

Every number the RIR estimator starts from lives here, each with its source and a confidence
tag taken over from ../shared/reference/science.md:

* **[V]** verified in the cited source (abstract, table or page);
* **[C]** from public code that cites the paper;
* **[M]** from memory or derived by arithmetic from [V] values -- a *prior*, deliberately
  given a wide SD, and replaced by the athlete's own numbers once they have logged sets to
  failure (`vbt.fatigue.profile`).

What an entry holds (all velocities are mean concentric velocity, MCV, in m/s; near 1RM the
braking phase vanishes, so MCV and MPV coincide there -- science.md §3, Sánchez-Medina 2010):

``mvt``
    Minimal velocity threshold: the MCV of the last rep a lifter can complete (science.md
    §4.1). ``sd`` is the between-athlete SD, i.e. how far an unknown lifter may sit from it.
``lv_span``
    Slope of the group load-velocity line, ``v(p) = mvt + lv_span * (1 - p)`` with ``p`` the
    fraction of 1RM (science.md §4.2). Individual profiles are linear (r ~ 0.99, García-Ramos
    2019 [V]), and the published quadratic group equations are close to linear over 60-100 %.
``lv_sd``
    Between-athlete SD of the velocity at a given %1RM (m/s): the uncertainty of "%1RM from
    the first rep's velocity" (science.md §4.2: between-subject CV of MPV at each %1RM
    12.9-24.6 % in the military press [V]; general equations miss individuals by > 10 %).
``shape``
    Curvature of the within-set velocity decline: velocity follows
    ``v(n) = v1 - (v1 - mvt) * x**gamma`` with ``x`` the share of possible reps done
    (first rep 0, last possible rep 1). ``gamma = 1`` is a straight line; ``gamma > 1`` means
    velocity holds early and falls faster near failure. Izquierdo 2006 [V] found the first
    significant drop after 34-40 % of the reps in the bench but 48-69 % in the squat; solving
    ``x**gamma = 0.2`` (a fifth of the total loss) at those points gives gamma ~1.6 (bench) and
    ~2.5-3 (squat) [M, arithmetic]. The prior is log-normal (``value`` = median, ``sd`` in log
    units) and the data of the set decide between the grid points.
``reps_log_sd``
    Between-athlete spread (SD of log reps) of the reps a lifter can do at a given %1RM
    around `reps_to_failure` (the mean of the Brzycki 1993 and Epley 1985 relations [M]);
    individual reps at a fixed %1RM vary by roughly +/-30 % between lifters and lifts [M].
``rep_noise_cv``
    Rep-to-rep biological variation of velocity, multiplicative: 2-7.5 % in LEVsim (science.md
    §6.4 [V]); we take the middle, 5 %.

`lookup(name)` resolves names and aliases (``back-squat``, ``bench-press``, ``press`` ...);
unknown names raise `vbt.errors.UnknownExerciseError` listing the known ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from vbt.errors import UnknownExerciseError

#: Confidence tags, as in science.md.
TAG_VERIFIED = "V"
TAG_CODE = "C"
TAG_MEMORY = "M"
TAGS = (TAG_VERIFIED, TAG_CODE, TAG_MEMORY)


@dataclass(frozen=True, slots=True)
class Cited:
    """A number with its spread, where it comes from, and how sure we are of it.

    Attributes:
        value: The central value (mean, or median for log-normal quantities).
        sd: Spread in the same unit (log units for ``shape`` and reps), 0 when not applicable.
        source: Short citation (paper, science.md section) and, for derived values, the arithmetic.
        tag: ``"V"`` verified, ``"C"`` from cited code, ``"M"`` memory/derived (see module doc).
    """

    value: float
    sd: float
    source: str
    tag: str

    def __post_init__(self) -> None:
        if self.tag not in TAGS:
            raise ValueError(f"confidence tag {self.tag!r} is not one of {TAGS}")
        if not (math.isfinite(self.value) and math.isfinite(self.sd) and self.sd >= 0):
            raise ValueError(f"cited value {self.value!r} +/- {self.sd!r} must be finite with sd >= 0")


@dataclass(frozen=True, slots=True)
class ExerciseEntry:
    """One lift's priors for the RIR estimator (see the module docstring for each field).

    Attributes:
        name: Canonical catalogue name (``"squat"``).
        title: Human name for tables (``"Back squat"``).
        aliases: Other accepted names.
        mvt: Velocity of the last possible rep (MCV, m/s).
        lv_span: Group load-velocity slope (m/s per unit of 1RM fraction).
        lv_sd: Between-athlete SD of velocity at a given %1RM (m/s).
        shape: Fatigue-curve exponent prior (median, log-SD).
        reps_log_sd: Between-athlete SD of log(reps to failure) at a given %1RM.
        rep_noise_cv: Rep-to-rep biological velocity noise (fraction).
        notes: Caveats worth showing the user.
    """

    name: str
    title: str
    aliases: tuple[str, ...]
    mvt: Cited
    lv_span: Cited
    lv_sd: Cited
    shape: Cited
    reps_log_sd: Cited
    rep_noise_cv: Cited
    notes: tuple[str, ...] = field(default=())

    def velocity_at(self, fraction_1rm: float, *, mvt_mps: float | None = None) -> float:
        """Group-line MCV (m/s) at ``fraction_1rm`` (0-1), optionally around a personal MVT."""
        mvt = self.mvt.value if mvt_mps is None else mvt_mps
        return mvt + self.lv_span.value * (1.0 - fraction_1rm)

    def fraction_1rm_from_velocity(self, velocity_mps: float, *, mvt_mps: float | None = None) -> float:
        """Invert the group line: %1RM (as a fraction, clipped to 0.3-1.0) of a first rep at ``velocity_mps``."""
        mvt = self.mvt.value if mvt_mps is None else mvt_mps
        fraction = 1.0 - (velocity_mps - mvt) / self.lv_span.value
        return min(1.0, max(0.3, fraction))


def reps_to_failure(fraction_1rm: float) -> float:
    """Typical reps to failure at ``fraction_1rm`` of 1RM [M].

    The mean of the two most used relations: Brzycki 1993 (``37 - 36 p``) and Epley 1985
    (``1RM = w (1 + r/30)``, shifted by one rep so that 1RM means one rep: ``1 + 30 (1/p - 1)``).
    They agree near 80 % (8.2 vs 8.5 reps) and part at light loads (15.4 vs 21 reps at 60 %),
    where lifters differ most anyway. Clipped to at least 1 rep. Lifters differ by about +/-30 %
    around it (`ExerciseEntry.reps_log_sd`).
    """
    p = max(fraction_1rm, 0.05)
    brzycki = 37.0 - 36.0 * p
    epley = 1.0 + 30.0 * (1.0 / p - 1.0)
    return max(1.0, 0.5 * (brzycki + epley))


_BIO_NOISE = Cited(0.05, 0.0, "LEVsim biological noise 2-7.5 % (science.md §6.4); middle of the range", TAG_VERIFIED)
_REPS_SD = Cited(
    0.0, 0.3, "between-lifter spread of reps at a fixed %1RM, ~+/-30 % around Brzycki 1993 / Epley 1985", TAG_MEMORY
)
_LV_SD = Cited(
    0.07, 0.0,
    "between-subject CV of MPV at each %1RM 12.9-24.6 % (military press, science.md §4.2) "
    "x ~0.45 m/s mid-range velocity, applied to every lift [derived]", TAG_MEMORY,
)
_SHAPE_UPPER = Cited(
    1.6, 0.35,
    "Izquierdo 2006: first significant velocity drop after 34-40 % of reps (bench); "
    "x**g = 0.2 at x = 0.37 -> g ~ 1.6", TAG_MEMORY,
)
_SHAPE_LOWER = Cited(
    2.2, 0.4,
    "Izquierdo 2006: first significant drop after 48-69 % of reps (parallel squat); "
    "x**g = 0.2 at x = 0.5-0.6 -> g ~ 2.3-3, median kept lower for robustness", TAG_MEMORY,
)
_SHAPE_GENERIC = Cited(1.8, 0.45, "between the upper- and lower-body priors (Izquierdo 2006) [derived]", TAG_MEMORY)


def _entry(
    name: str, title: str, aliases: tuple[str, ...], mvt: Cited, lv_span: Cited, shape: Cited,
    *, lv_sd: Cited = _LV_SD, notes: tuple[str, ...] = (),
) -> ExerciseEntry:
    return ExerciseEntry(
        name=name, title=title, aliases=aliases, mvt=mvt, lv_span=lv_span, lv_sd=lv_sd, shape=shape,
        reps_log_sd=_REPS_SD, rep_noise_cv=_BIO_NOISE, notes=notes,
    )


_SQUAT_SPAN = Cited(
    1.6, 0.0,
    "Sánchez-Medina 2017 MV equation %1RM = -12.87 MV^2 - 46.31 MV + 116.3: 0.96 m/s at 60 %, "
    "0.32 at 100 % -> (0.96-0.32)/0.4", TAG_CODE,
)
_BENCH_SPAN = Cited(
    1.6, 0.0,
    "González-Badillo 2010 bench MPV equation: 0.80 m/s at 60 %, 0.48 at 80 %, 0.16 at 100 % "
    "-> 1.6 m/s per 100 % (linear)", TAG_MEMORY,
)

CATALOGUE: dict[str, ExerciseEntry] = {
    e.name: e
    for e in (
        _entry(
            "squat", "Back squat", ("back-squat", "backsquat"),
            Cited(
                0.28, 0.05,
                "free-weight back squat MCV at 1RM 0.24 +/- 0.06 (Banyard 2017) and Smith full squat "
                "0.32 +/- 0.03 (Sánchez-Medina 2017); mid-point, SD spans both", TAG_VERIFIED,
            ),
            _SQUAT_SPAN, _SHAPE_LOWER,
            notes=("squat 1RM predictions from velocity over-estimate (Banyard 2017): treat e1RM as an upper guess",),
        ),
        _entry(
            "front-squat", "Front squat", ("frontsquat",),
            Cited(0.28, 0.07, "no dedicated study in science.md: back-squat value, wider SD", TAG_MEMORY),
            Cited(1.6, 0.0, "back-squat group line (Sánchez-Medina 2017) assumed", TAG_MEMORY),
            _SHAPE_LOWER,
            notes=("front-squat values borrowed from the back squat; log sets to failure to personalise",),
        ),
        _entry(
            "bench", "Bench press", ("bench-press", "benchpress", "flat-bench"),
            Cited(
                0.16, 0.05,
                "bench MPV at 1RM 0.16 +/- 0.04 (González-Badillo 2010, n = 120), 0.17 (Janicijevic 2021), "
                "powerlifters' ACV 0.10 +/- 0.04 (Helms 2017); SD widened to cover them", TAG_VERIFIED,
            ),
            _BENCH_SPAN, _SHAPE_UPPER,
        ),
        _entry(
            "incline-bench", "Incline bench press", ("incline-bench-press", "incline"),
            Cited(
                0.17, 0.06,
                "no dedicated study in science.md: between the flat bench (0.16) and the overhead press "
                "(0.19), wider SD", TAG_MEMORY,
            ),
            Cited(1.6, 0.0, "flat-bench group line (González-Badillo 2010) assumed", TAG_MEMORY),
            _SHAPE_UPPER,
            notes=("incline values borrowed from the flat bench; log sets to failure to personalise",),
        ),
        _entry(
            "deadlift", "Deadlift", ("conventional-deadlift", "dl"),
            Cited(
                0.14, 0.05,
                "powerlifters' deadlift ACV at 1RM 0.14 +/- 0.05 (Helms 2017); v@1RM between-day CV 15.7 % "
                "(Ruf 2018)", TAG_VERIFIED,
            ),
            Cited(
                1.3, 0.0,
                "no verified group equation in science.md; 0.66 m/s at 60 % assumed (general R^2 ~0.91-0.93, "
                "Benavides-Ubric 2020)", TAG_MEMORY,
            ),
            _SHAPE_LOWER,
            notes=("deadlift MVT is unreliable between days (Ruf 2018): personalise from your own sets to failure",),
        ),
        _entry(
            "ohp", "Overhead press", ("overhead-press", "press", "military-press", "shoulder-press"),
            Cited(
                0.19, 0.05,
                "seated military / overhead press MV/MPV at 1RM ~0.19-0.20 (García-Ramos 2019; "
                "Balsalobre 2018)", TAG_MEMORY,
            ),
            Cited(1.4, 0.0, "no verified group equation; ~0.75 m/s at 60 % assumed (Balsalobre 2018 context)", TAG_MEMORY),
            _SHAPE_UPPER,
            lv_sd=Cited(
                0.08, 0.0,
                "military press: general equations miss individuals by > 10 %, between-subject CV of MPV "
                "12.9-24.6 % (science.md §4.2)", TAG_VERIFIED,
            ),
        ),
        _entry(
            "row", "Barbell row", ("barbell-row", "pendlay-row", "bent-over-row", "bench-pull"),
            Cited(
                0.45, 0.08,
                "prone bench pull MPV at 1RM ~0.50-0.55 (Sánchez-Medina 2014); a free bent-over row is "
                "assumed a little lower, SD widened", TAG_MEMORY,
            ),
            Cited(1.3, 0.0, "prone bench pull line (Sánchez-Medina 2014, García-Ramos 2019) assumed", TAG_MEMORY),
            _SHAPE_UPPER,
            notes=("row values come from the prone bench pull; log sets to failure to personalise",),
        ),
        _entry(
            "generic", "Generic lift", ("other", "unknown"),
            Cited(0.25, 0.10, "spans the catalogue's MVTs 0.14-0.45 m/s (science.md §4.1)", TAG_MEMORY),
            Cited(1.5, 0.0, "mean of the catalogue's group lines", TAG_MEMORY),
            _SHAPE_GENERIC,
            lv_sd=Cited(0.10, 0.0, "wider than any single lift (science.md §4.2)", TAG_MEMORY),
            notes=("generic priors are wide: expect wide RIR intervals until you log sets to failure",),
        ),
    )
}


def _normalise(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(" ", "-")


_ALIASES: dict[str, str] = {}
for _e in CATALOGUE.values():
    _ALIASES[_e.name] = _e.name
    for _a in _e.aliases:
        _ALIASES[_a] = _e.name


def names() -> list[str]:
    """Canonical exercise names, in catalogue order."""
    return list(CATALOGUE)


def canonical_name(name: str) -> str:
    """The canonical name for ``name`` or an alias (case, spaces and underscores ignored).

    Raises:
        UnknownExerciseError: ``name`` is neither a catalogue name nor an alias.
    """
    key = _normalise(name)
    if key not in _ALIASES:
        raise UnknownExerciseError(name, CATALOGUE)
    return _ALIASES[key]


def lookup(name: str | None) -> ExerciseEntry:
    """The catalogue entry for ``name`` (an alias works too; None gives ``generic``).

    Raises:
        UnknownExerciseError: ``name`` is not in the catalogue (the message lists the known names).
    """
    if name is None:
        return CATALOGUE["generic"]
    return CATALOGUE[canonical_name(name)]


__all__ = [
    "CATALOGUE",
    "TAGS",
    "Cited",
    "ExerciseEntry",
    "canonical_name",
    "lookup",
    "names",
    "reps_to_failure",
]
