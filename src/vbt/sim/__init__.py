"""Physics-based simulator of barbell sets, and of the IMU and Bluetooth link that observe them.

Ground truth that hardware cannot give: every rep's concentric start/end, true MCV, MPV, peak
velocity, ROM and true reps in reserve, failed attempts and non-rep events (unrack, walkout,
rerack, set-down, re-grip, pick-up), together with what a host would receive from a real
sensor (raw notifications in a protocol's format, or decoded sample batches).

Typical use::

    from vbt.sim import Athlete, Scenario, SetPlan, simulate, random_scenario

    result = simulate(Scenario(Athlete.random(7), [SetPlan("squat", load_pct=75, stop_rir=2)]), seed=1)
    result.labels.sets[0].reps        # true per-rep numbers
    result.batches                    # ImuBatch list (samples mode) / decoded packets
    result.write("set.jsonl.gz")      # recording + set.labels.json

    corpus = [simulate(random_scenario(np.random.default_rng(i)), seed=i) for i in range(300)]

Modules: `athlete` (strength, load-velocity, MVT, fatigue -> per-rep targets and true RIR),
`lift` (kinematics and events), `sensor` (mounting, rigid-body kinematics, IMU errors),
`link` (BLE batching, jitter, drops, gaps), `scenario` (plans and random corpora),
`labels` (ground-truth file), `engine` (`simulate`, `SimResult`). Every model number is listed
with its source in the parameter table of its module's docstring.
"""

from vbt.sim.athlete import EXERCISES, Athlete, DayState, ExerciseProfile, check_exercise
from vbt.sim.engine import SIM_VERSION, SimResult, Truth, describe, resolve_sensor, simulate
from vbt.sim.labels import Labels, SetLabels, labels_path_for, load_labels
from vbt.sim.lift import EVENT_KINDS, EventLabel, FailedLabel, RepLabel
from vbt.sim.link import LinkSpec
from vbt.sim.scenario import RATES_HZ, SAMPLES, Scenario, SetPlan, random_scenario, random_set
from vbt.sim.sensor import FAULT_LEVELS, Mounting, SensorSpec

__all__ = [
    "EVENT_KINDS",
    "EXERCISES",
    "FAULT_LEVELS",
    "RATES_HZ",
    "SAMPLES",
    "SIM_VERSION",
    "Athlete",
    "DayState",
    "EventLabel",
    "ExerciseProfile",
    "FailedLabel",
    "Labels",
    "LinkSpec",
    "Mounting",
    "RepLabel",
    "Scenario",
    "SensorSpec",
    "SetLabels",
    "SetPlan",
    "SimResult",
    "Truth",
    "check_exercise",
    "describe",
    "labels_path_for",
    "load_labels",
    "random_scenario",
    "random_set",
    "resolve_sensor",
    "simulate",
]
