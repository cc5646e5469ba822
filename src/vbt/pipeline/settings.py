"""Pipeline settings and per-exercise segmentation profiles.

`PipelineSettings` is one frozen object holding every tunable of the analysis, with units in
the field names; `DEFAULT_SETTINGS` is what `vbt analyze` and the live dashboard use.
`ExerciseProfile` holds what differs between lifts for *segmentation* (which way the lift
starts, plausible concentric range of motion); the fatigue side of an exercise (velocity at
failure, load-velocity priors) lives in `vbt.fatigue.catalogue`, keyed by the same names.

The numbers below are design values, each with the reasoning or source next to it
(../shared/reference/science.md section numbers). None was fitted to the simulator: the same
settings must work on real recordings from other sensors.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from vbt.errors import UnknownExerciseError

#: Version of the analysis algorithm; written to every `AnalysisResult` and bumped whenever
#: the output for the same input changes (golden files are regenerated with it).
ALGORITHM_VERSION = "1.5"


@dataclass(frozen=True, slots=True)
class ExerciseProfile:
    """What the rep segmenter needs to know about one lift.

    Attributes:
        name: Canonical exercise name (``"squat"``).
        display_name: Human name for tables.
        concentric_first: The set starts with a concentric from a rest position (deadlift
            from the floor, row, OHP from the rack position). Eccentric-first lifts (squat,
            bench) may still start with a concentric; the flag only relaxes the rule that a
            rep's concentric should follow a descent of similar depth.
        min_rom_m: Absolute floor for a concentric to count as a rep (m). Below the unrack /
            re-grip / walk-out bobbing range (~0.02-0.10 m) and well below the shortest
            full-range lift (bench, ~0.25 m for short-armed lifters).
        typical_rom_m: Typical concentric range (m); only used as a prior before the set has
            reps of its own (science.md §2 "valid rep" rule is relative to the set).
        max_rom_m: Largest plausible concentric (m); bigger upward moves (picking the bar up
            from the floor to the shoulders, carrying it) are not reps.
        pick_up_first: The set begins with a pick-up from the floor that is not a rep (bent-over
            row): a first concentric that starts clearly lower than the next one is rejected.
        floor_contacts: Every rep starts from the floor (deadlift): the plates landing on the
            floor between reps -- touched or bounced, without a stop -- stop the bar, a
            zero-velocity instant the live velocity is re-zeroed at (`vbt.pipeline.streaming`).
    """

    name: str
    display_name: str
    concentric_first: bool
    min_rom_m: float
    typical_rom_m: float
    max_rom_m: float
    pick_up_first: bool = False
    floor_contacts: bool = False


# ROM ranges: squat 0.4-0.7 m, bench 0.3-0.55 m (arm length and arch), deadlift 0.45-0.7 m,
# OHP 0.4-0.65 m, bent-over row 0.25-0.5 m [M: anthropometry; Held 2021 reports squat ROM
# measured by IMU to ~3 cm, science.md §3]. min_rom is about half the shortest typical range,
# the relative rule in science.md §2 ("ROM >= 50-60 % of the set's median").
EXERCISES: dict[str, ExerciseProfile] = {
    p.name: p
    for p in (
        ExerciseProfile("squat", "Back squat", False, 0.18, 0.55, 1.0),
        ExerciseProfile("front-squat", "Front squat", False, 0.18, 0.55, 1.0),
        ExerciseProfile("bench", "Bench press", False, 0.12, 0.42, 0.8),
        ExerciseProfile("incline-bench", "Incline bench press", False, 0.12, 0.45, 0.8),
        ExerciseProfile("deadlift", "Deadlift", True, 0.18, 0.55, 0.95, floor_contacts=True),
        ExerciseProfile("ohp", "Overhead press", True, 0.15, 0.50, 0.9),
        ExerciseProfile("row", "Barbell row", True, 0.10, 0.38, 0.75, pick_up_first=True),
        ExerciseProfile("generic", "Generic lift", False, 0.10, 0.45, 1.5),
    )
}

#: Alternative names accepted on the command line and in recording headers.
EXERCISE_ALIASES: dict[str, str] = {
    "back-squat": "squat",
    "backsquat": "squat",
    "frontsquat": "front-squat",
    "bench-press": "bench",
    "benchpress": "bench",
    "incline-bench-press": "incline-bench",
    "incline": "incline-bench",
    "overhead-press": "ohp",
    "military-press": "ohp",
    "press": "ohp",
    "barbell-row": "row",
    "bent-over-row": "row",
    "pendlay-row": "row",
    "dl": "deadlift",
}


def resolve_exercise(name: str | None) -> ExerciseProfile:
    """The profile for an exercise name or alias (case, spaces and underscores ignored).

    ``None`` or an empty name gives the ``generic`` profile.

    Raises:
        UnknownExerciseError: the name is neither a known exercise nor an alias; the error
            lists the known names.
    """
    if name is None or not name.strip():
        return EXERCISES["generic"]
    key = name.strip().lower().replace("_", "-").replace(" ", "-")
    key = EXERCISE_ALIASES.get(key, key)
    try:
        return EXERCISES[key]
    except KeyError:
        raise UnknownExerciseError(name, EXERCISES) from None


@dataclass(frozen=True, slots=True)
class PipelineSettings:
    """Every tunable of the analysis. Frozen: make variants with `with_changes`.

    Timing (`vbt.pipeline.timebase`):
        clock_block_s: Block length for the lower envelope of arrival delays; several BLE
            connection events (7.5-50 ms, sensors.md §6.2) fall in each block.
        clock_window_s: How much history the sensor-clock/host-clock line is fitted over
            (science.md §6.2 recommends >= 30 s).
        clock_prior_ppm: Prior SD of the sensor clock rate around nominal, in ppm. WitMotion
            runs ~1 % slow (sensors.md §2), MPU-60x0 clocks are within +/-1 % (science.md §6.1).
        max_bridge_gap_s: Longest run of missing samples that is filled by interpolation;
            longer gaps break the stream (a rep across them is not measured).
        drop_margin_s: Extra arrival delay, beyond the jitter seen so far, before a late
            notification is taken as evidence of dropped samples (sample-count clocks only).

    Stillness (`vbt.pipeline.stationary`, `vbt.pipeline.streaming`; science.md §2 "stillness /
    ZUPT trigger"). The very first still period (nothing integrated yet) is found from the
    window SD of ``|f|`` and of the gyro; later ones from the causally integrated velocity,
    because a held bar trembles (simulated and real hand tremor is 6-12 Hz, up to ~0.2 m/s^2)
    yet its velocity stays within a few mm/s:
        still_window_s: Window of the quietness tests; also the shortest still period that
            can anchor a zero-velocity update, and so the main part of the delay from lockout
            to a final rep result.
        still_accel_sd_mps2: Floor of the threshold on the window SD of ``|f|`` for the first
            still period (science.md: 0.1-0.15 m/s^2).
        still_noise_factor: That threshold = max(floor, factor x measured noise floor).
        still_gyro_sd_rads: Floor of the gyro-SD threshold for the first still period
            (science.md: 3-5 deg/s; the SD ignores the gyro's zero-rate bias).
        still_flat_mps: A window is quiet when the causal velocity varies by less than this
            (tremor and sway: < ~0.02 m/s peak to peak)...
        still_mean_accel_mps2: ...and its mean vertical acceleration is below this.
        still_gyro_max_rads: ...and no gyro axis varies by more than this...
        still_gyro_rate_rads: ...and the mean gyro reading is within this of the gyro bias
            measured at the previous still period (3 deg/s: the bar is not being turned).
        still_max_velocity_mps: A quiet window only anchors a zero-velocity update if the
            causally integrated velocity there is below this (stops a slow grind at near
            constant velocity from being zeroed)...
        still_velocity_check_s: ...unless the previous anchor is this long ago (off by default:
            a velocity peak is flat too), or the window stays quiet for 0.5 s.
        still_exit_velocity_mps: A still period ends when the leaky integral of vertical
            acceleration exceeds this.
        still_exit_tau_s: Leak time constant of that integral (bias drift never reaches the
            exit level: 0.01 m/s^2 x 2 s = 0.02 m/s).

    Segmentation (`vbt.pipeline.reps`):
        turn_hysteresis_m: A direction change of the bar counts only after it reverses by this
            much (keeps sticking regions and hitches inside one phase, science.md §2).
        min_concentric_s: Shortest concentric that can be a rep (science.md §2: 0.2 s; a fast
            light bench press can be ~0.25 s, so slightly lower).
        min_peak_velocity_mps: A rep's peak velocity must reach this (science.md §2: ~0.1).
        rel_rom_fraction: A rep's ROM must be at least this share of the set's median ROM so
            far (science.md §2: 50-60 %).
        failed_max_fraction: An upward phase that ends (the bar goes back down) below this
            share of the preceding descent / the set's reps is a failed attempt.
        failed_min_rise_m: ...if it rose at least this much (a smaller twitch is nothing).
        lockout_tolerance_fraction: The bar counts as back at lockout when within this share
            of the descent depth below the height the descent started from.
        set_gap_s: No rep for this long ends the set (the brief: sets split at rests, ~30 s).
        max_segment_s: A motion segment with no still anchor for this long is closed without
            drift correction (a lifter walking with the bar, a wrist sensor): reps in it are
            reported with low quality; bounds the memory of the live path.

    Metrics (`vbt.pipeline.metrics`):
        event_cutoff_hz: Zero-phase low-pass (4th-order Butterworth) on the acceleration used to
            find the end of the propulsive phase (science.md §1.3: 8-13 Hz, De la Fuente 2018).
        local_gravity_mps2: g for the propulsive-phase test and power (standard gravity).

    Live output:
        trace_rate_hz: Points per second of the decimated live velocity trace.
        status_interval_s: How often a timing status event (measured rate, missing samples) is
            emitted.
    """

    clock_block_s: float = 0.5
    clock_window_s: float = 60.0
    clock_prior_ppm: float = 10_000.0
    max_bridge_gap_s: float = 1.5
    drop_margin_s: float = 0.0

    still_window_s: float = 0.15
    still_accel_sd_mps2: float = 0.08
    still_noise_factor: float = 4.0
    still_gyro_sd_rads: float = 0.06
    still_flat_mps: float = 0.04
    still_mean_accel_mps2: float = 0.15
    still_gyro_max_rads: float = 0.2
    still_gyro_rate_rads: float = 0.05
    still_max_velocity_mps: float = 0.08
    still_velocity_check_s: float = 1e9
    still_exit_velocity_mps: float = 0.05
    still_exit_tau_s: float = 2.0

    turn_hysteresis_m: float = 0.03
    min_concentric_s: float = 0.15
    min_peak_velocity_mps: float = 0.10
    rel_rom_fraction: float = 0.55
    failed_max_fraction: float = 0.6
    failed_min_rise_m: float = 0.04
    lockout_tolerance_fraction: float = 0.25
    set_gap_s: float = 30.0
    max_segment_s: float = 30.0

    event_cutoff_hz: float = 10.0
    local_gravity_mps2: float = 9.80665

    trace_rate_hz: float = 50.0
    status_interval_s: float = 2.0

    exercise: ExerciseProfile = field(default_factory=lambda: EXERCISES["generic"])
    load_kg: float | None = None
    accel_range_g: float | None = None

    def with_changes(self, **changes: object) -> PipelineSettings:
        """A copy with some fields replaced (``exercise`` may be given as a name)."""
        ex = changes.get("exercise")
        if isinstance(ex, str) or (ex is None and "exercise" in changes):
            changes["exercise"] = resolve_exercise(ex)  # type: ignore[arg-type]
        return replace(self, **changes)  # type: ignore[arg-type]


#: The settings `vbt analyze` and the dashboard use.
DEFAULT_SETTINGS = PipelineSettings()

__all__ = [
    "ALGORITHM_VERSION",
    "DEFAULT_SETTINGS",
    "EXERCISES",
    "EXERCISE_ALIASES",
    "ExerciseProfile",
    "PipelineSettings",
    "resolve_exercise",
]
