"""Scenarios: what is simulated (athlete, sets, sensor, link) and builders for varied corpora.

A `Scenario` is the *plan*; `vbt.sim.simulate(scenario, seed)` realises it (the seed drives
rep-to-rep noise, pauses, sensor noise, link timing). Everything left ``None`` in a scenario
(sensor errors, link conditions) is drawn from the seed too, so a scenario can be as specific
or as open as a test needs.

`random_scenario` draws everything a benchmark corpus needs -- athlete, exercise, load,
stopping rule, mounting, sensor quality and link conditions -- from the ranges documented in
`vbt.sim.athlete`, `vbt.sim.lift`, `vbt.sim.sensor` and `vbt.sim.link`. Pass the same
`Athlete` to several calls to simulate one person across sets and sessions.

Design assumptions for corpora ([D]): loads 60-90 % 1RM unless asked; stopping rules split
between sets to failure (about half end with a failed attempt), stopped at 1-4 RIR and fixed
rep targets; rests 2-4 min; sample rates 25/50/100/200 Hz; gyro present in 75 % of sessions.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from vbt.sim.athlete import EXERCISES, Athlete, check_exercise
from vbt.sim.link import LinkSpec
from vbt.sim.sensor import FAULT_LEVELS, SensorSpec

#: Sample rates corpora draw from (Hz).
RATES_HZ = (25.0, 50.0, 100.0, 200.0)
#: Sensor choices besides protocol names: decoded samples, no packet format.
SAMPLES = "samples"


@dataclass(slots=True)
class SetPlan:
    """One set.

    Exactly one stopping rule applies: ``reps`` (a rep target; if the athlete's capacity runs out
    first the next rep is a failed attempt), ``to_failure`` or ``stop_rir`` (stop once the true
    reps in reserve are at most this). With none of them the athlete stops at 2 RIR.

    Attributes:
        exercise: ``squat``, ``bench``, ``deadlift``, ``ohp`` or ``row``.
        load_pct: Load as % of the athlete's typical 1RM (today's 1RM varies a little).
        load_kg: Absolute load instead (bar + plates); wins over ``load_pct``.
        reps, to_failure, stop_rir: Stopping rule (see above).
        failed_attempt: For ``to_failure``: end with an attempt that fails (None: 50 % chance).
        rest_before_s: Rest before this set (None: 180 s); for the first set, still time after
            the recording starts (None: 0 s, only the scenario's ``lead_in_s``).
        paused: Pause at every bottom (competition style); None = the athlete's habit.
        touch_and_go: Force (True) or forbid (False) touch-and-go; None = the athlete's habit.
        ending: ``"rerack"``, ``"floor"`` or ``"drop"`` (deadlift/row dropped from lockout);
            None = the exercise's usual ending.
    """

    exercise: str = "squat"
    load_pct: float | None = 75.0
    load_kg: float | None = None
    reps: int | None = None
    to_failure: bool = False
    stop_rir: int | None = None
    failed_attempt: bool | None = None
    rest_before_s: float | None = None
    paused: bool | None = None
    touch_and_go: bool | None = None
    ending: str | None = None

    def __post_init__(self) -> None:
        self.exercise = check_exercise(self.exercise)
        rules = sum([self.reps is not None, bool(self.to_failure), self.stop_rir is not None])
        if rules > 1:
            raise ValueError("give only one of reps, to_failure and stop_rir")
        if self.load_kg is None and self.load_pct is None:
            raise ValueError("give load_pct or load_kg")
        if self.load_pct is not None and not 20.0 <= self.load_pct <= 105.0:
            raise ValueError(f"load_pct {self.load_pct} must be 20-105 (% of 1RM)")
        if self.reps is not None and self.reps < 1:
            raise ValueError(f"reps {self.reps} must be at least 1")
        if self.stop_rir is not None and not 0 <= self.stop_rir <= 10:
            raise ValueError(f"stop_rir {self.stop_rir} must be 0-10")
        if self.ending not in (None, "rerack", "floor", "drop"):
            raise ValueError(f"ending {self.ending!r} must be rerack, floor or drop")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready plan."""
        return asdict(self)


@dataclass(slots=True)
class Scenario:
    """Everything about a simulated session except the seed.

    Attributes:
        athlete: Who lifts (reuse the object to keep the same person across scenarios).
        sets: The sets, in order.
        rate_hz: Sensor output data rate (Hz).
        gyro: Stream a gyroscope too.
        sensor: ``"samples"`` (decoded samples, no packet format) or a protocol name from
            ``firmware_protocols.PROTOCOLS`` (raw notifications in that sensor's format).
        faults: ``"none"`` (ideal sensor and link: physics tests), ``"typical"`` or ``"harsh"``.
        chip: Sensor chip class for the error model (None: drawn, or the protocol's own).
        accel_range_g: Accelerometer full scale (None: drawn / protocol default).
        sensor_spec: A fully specified sensor (None: drawn from the seed).
        link: A fully specified link (None: drawn from the seed).
        lead_in_s: Still time at the start of the recording before the first set's block.
        tail_s: Still time after the last set.
        label: Free text stored in the labels and header notes.
        plate_change_prob: Chance that plates are changed during a rest of 60 s or more
            (bar jolts and turns in the rack / rolls on the floor: not reps) [D].
        options: Free-form extras (``command``: the command line that made the scenario).
    """

    athlete: Athlete
    sets: list[SetPlan]
    rate_hz: float = 100.0
    gyro: bool = True
    sensor: str = SAMPLES
    faults: str = "typical"
    chip: str | None = None
    accel_range_g: float | None = None
    sensor_spec: SensorSpec | None = None
    link: LinkSpec | None = None
    lead_in_s: float = 3.0
    tail_s: float = 3.0
    label: str = ""
    plate_change_prob: float = 0.3
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.faults not in FAULT_LEVELS:
            raise ValueError(f"faults {self.faults!r} must be one of {FAULT_LEVELS}")
        if not self.sets:
            raise ValueError("a scenario needs at least one set")
        if not 5.0 <= self.rate_hz <= 1000.0:
            raise ValueError(f"rate_hz {self.rate_hz} must be 5-1000 Hz")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready plan (the athlete by id; the labels file has all its parameters)."""
        return {
            "athlete_id": self.athlete.athlete_id,
            "sets": [s.to_dict() for s in self.sets],
            "rate_hz": self.rate_hz,
            "gyro": self.gyro,
            "sensor": self.sensor,
            "faults": self.faults,
            "chip": self.chip,
            "accel_range_g": self.accel_range_g,
            "lead_in_s": self.lead_in_s,
            "tail_s": self.tail_s,
            "label": self.label,
            "plate_change_prob": self.plate_change_prob,
            "options": dict(self.options),
        }


def random_set(
    rng: np.random.Generator,
    exercise: str | None = None,
    *,
    to_failure: bool | None = None,
    stop_rir: int | None = None,
    reps: int | None = None,
    load_pct: float | None = None,
    load_range_pct: tuple[float, float] = (60.0, 90.0),
    rest_before_s: float | None = None,
) -> SetPlan:
    """Draw one set: exercise, load (60-90 % 1RM) and a stopping rule (module docstring)."""
    ex = check_exercise(exercise) if exercise else str(rng.choice(EXERCISES))
    pct = float(load_pct) if load_pct is not None else float(rng.uniform(*load_range_pct))
    rule_given = to_failure is not None or stop_rir is not None or reps is not None
    if not rule_given:
        u = rng.random()
        if u < 0.45:
            to_failure = True
        elif u < 0.85:
            stop_rir = int(rng.integers(1, 5))
        else:
            reps = int(rng.integers(3, 11))
    failed = None
    if to_failure:
        failed = bool(rng.random() < 0.5)
    ending = None
    if ex in ("deadlift", "row") and rng.random() < 0.1:
        ending = "drop"
    return SetPlan(
        exercise=ex, load_pct=pct, reps=reps, to_failure=bool(to_failure), stop_rir=stop_rir,
        failed_attempt=failed,
        rest_before_s=float(rest_before_s) if rest_before_s is not None else float(rng.uniform(120.0, 240.0)),
        paused=True if (ex == "bench" and rng.random() < 0.15) else None, ending=ending,
    )


def random_scenario(
    rng: np.random.Generator | int,
    exercise: str | None = None,
    rate_hz: float | None = None,
    gyro: bool | None = None,
    faults: str = "typical",
    to_failure: bool | None = None,
    stop_rir: int | None = None,
    load_pct: float | None = None,
    *,
    athlete: Athlete | None = None,
    sensor: str = SAMPLES,
    n_sets: int = 1,
    reps: int | None = None,
    load_range_pct: tuple[float, float] = (60.0, 90.0),
    draw_sensor: bool = True,
) -> Scenario:
    """A varied, realistic scenario for benchmark corpora (everything not given is drawn).

    Args:
        rng: Generator or integer seed.
        exercise: Fix the lift (None: drawn per scenario).
        rate_hz: Fix the rate (None: drawn from 25/50/100/200 Hz).
        gyro: Fix gyro presence (None: 75 % with gyro).
        faults: Sensor/link fault level.
        to_failure, stop_rir, load_pct, reps: Fix the stopping rule / load of every set.
        athlete: Reuse this athlete (None: a new random one).
        sensor: ``"samples"`` or a protocol name.
        n_sets: Number of sets (same exercise; 2-4 min rests).
        load_range_pct: Range of drawn loads.
        draw_sensor: Draw the sensor errors and link now (stored in the scenario) rather than
            at simulation time.
    """
    if not isinstance(rng, np.random.Generator):
        rng = np.random.default_rng(int(rng))
    ath = athlete if athlete is not None else Athlete.random(rng)
    ex = check_exercise(exercise) if exercise else str(rng.choice(EXERCISES))
    rate = float(rate_hz) if rate_hz is not None else float(rng.choice(RATES_HZ))
    has_gyro = bool(gyro) if gyro is not None else bool(rng.random() < 0.75)
    sets = [
        random_set(rng, ex, to_failure=to_failure, stop_rir=stop_rir, reps=reps, load_pct=load_pct,
                   load_range_pct=load_range_pct, rest_before_s=float(rng.uniform(2.0, 8.0)) if i == 0 else None)
        for i in range(n_sets)
    ]
    # In a multi-set session a lifter keeps the load and the rule; vary only what corpora need.
    if n_sets > 1:
        first = sets[0]
        sets = [first] + [replace(s, load_pct=first.load_pct, load_kg=first.load_kg) for s in sets[1:]]
    scenario = Scenario(athlete=ath, sets=sets, rate_hz=rate, gyro=has_gyro, sensor=sensor, faults=faults)
    if draw_sensor and sensor == SAMPLES:
        scenario.sensor_spec = SensorSpec.random(rng, faults=faults, gyro=has_gyro)
    return scenario


__all__ = ["RATES_HZ", "SAMPLES", "Scenario", "SetPlan", "random_scenario", "random_set"]
