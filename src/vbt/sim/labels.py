"""Ground-truth labels of a simulated session and their JSON file (``FILE.labels.json``).

Time axis
---------
Every time in the labels is in seconds on the **recording's host time axis** (0 = the start of
the recording, the same axis as the packet/batch ``host_time_s``). The simulator's physical
("true") time *is* the host clock, so a label time is the instant the bar really did that.
Samples reach the host later: a notification arrives ``latency + connection-event wait +
jitter`` after its last sample was taken (typically 5-60 ms, plus the samples packed before it),
so an analysis that timestamps samples by arrival sees events late by that amount; one that
reconstructs sample times from the sensor clock (drifting by ``sensor.clock_drift``) sees them
within the clock-fit error. ``clock`` in the file gives the drift and the first sample's time;
samples-body recordings store the *sensor* clock, and `Labels.file_time` maps a label time
onto a written recording's own time axis (``clock.file_time_offset_s`` is the anchor).

File format (``format: "vbt-sim-labels"``, ``format_version: 1``)
-----------------------------------------------------------------
Top level: ``format``, ``format_version``, ``simulator_version``, ``synthetic`` (true),
``seed``, ``time_axis`` (the paragraph above, abridged), ``recording`` (file name, body, sensor,
rate, gyro), ``athlete`` (every individual parameter, `Athlete.to_dict`), ``sensor`` (the
realised `SensorSpec`), ``link`` (the realised `LinkSpec`), ``clock`` (``first_sample_s``,
``clock_drift``...), ``scenario`` (the plan), ``link_events`` (``[{kind, t_s}]``: disconnected,
reconnected) and ``sets``, one object per set:

========================  ==============================================================
Key                       Meaning
========================  ==============================================================
index                     1-based set number
exercise                  squat, bench, deadlift, ohp, row
athlete_id                who lifted
load_kg                   bar + plates (rounded to 2.5 kg)
load_pct_1rm              load / the athlete's typical 1RM x 100
load_pct_day              load / today's 1RM x 100 (readiness varies day to day)
to_failure                the set was taken to failure
stop_rule                 "failure", "target_reps" or "stop_rir"; ``stop_rir``/``target_reps``
reps_possible             reps the athlete could have done from the set's start
mvt_day_mps               today's velocity of a maximal single (MCV)
start_s, end_s            first and last bar movement of the set (incl. unrack / set-down)
end_location              rack, floor or safeties
reps                      completed reps: ``index``, ``concentric_start_s``,
                          ``concentric_end_s``, ``duration_s``, ``mean_velocity_mps`` (MCV),
                          ``mean_propulsive_velocity_mps`` (MPV: until bar acceleration < -9.81),
                          ``peak_velocity_mps``, ``rom_m`` (concentric displacement),
                          ``time_to_peak_s``, ``rir`` (true reps in reserve after the rep),
                          ``eccentric_start_s``/``eccentric_end_s`` (the lowering before
                          this concentric; null for rep 1 of a concentric-first lift), ``touch_and_go``,
                          ``pause_before_s`` (still time right before the concentric),
                          ``sticking_region`` (the velocity curve has first peak -> dip of
                          >= 10 % -> second peak), ``relative_load`` (load / capacity left),
                          ``sensor_mean_velocity_mps``/``sensor_rom_m`` (the same at the
                          sensor point: what a perfect algorithm on this sensor would get)
failed_attempts           ``start_s`` (upward start), ``end_s`` (bar at rest again),
                          ``rom_m`` (height reached), ``stall_start_s``, ``stall_end_s``,
                          ``outcome`` (safeties, floor, lowered)
events                    non-rep movements: ``kind`` (unrack, walkout, walkin, rerack,
                          set_down, re-grip, pick_up, hinge, stand_up, handling, drop),
                          ``start_s``, ``end_s`` and details
========================  ==============================================================

Velocities are vertical velocities of the **bar centre** (an LPT on the bar would read them).
The sensor sits on the sleeve, off the bar axis, so bar roll x lever arm and bar tilt x axial
offset move it a little differently (typically SD ~0.02 m/s in MCV); ``sensor_mean_velocity_mps``
gives the sensor point's value so that geometry and algorithm error can be told apart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vbt.sim.lift import EventLabel, FailedLabel, RepLabel

LABELS_FORMAT = "vbt-sim-labels"
LABELS_FORMAT_VERSION = 1

TIME_AXIS_NOTE = (
    "seconds on the recording's host time axis (0 = recording start); the simulated true time is the "
    "host clock, so labels give when the bar really moved; notifications arrive later by link latency "
    "+ connection-event wait + jitter; the sensor clock drifts by clock.clock_drift"
)


@dataclass(slots=True)
class SetLabels:
    """The true content of one set (see the module docstring for every field)."""

    index: int
    exercise: str
    athlete_id: str
    load_kg: float
    load_pct_1rm: float
    load_pct_day: float
    to_failure: bool
    stop_rule: str
    stop_rir: int | None
    target_reps: int | None
    reps_possible: int
    mvt_day_mps: float
    start_s: float
    end_s: float
    end_location: str
    reps: list[RepLabel] = field(default_factory=list)
    failed_attempts: list[FailedLabel] = field(default_factory=list)
    events: list[EventLabel] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready set labels."""
        return {
            "index": self.index,
            "exercise": self.exercise,
            "athlete_id": self.athlete_id,
            "load_kg": self.load_kg,
            "load_pct_1rm": round(self.load_pct_1rm, 2),
            "load_pct_day": round(self.load_pct_day, 2),
            "to_failure": self.to_failure,
            "stop_rule": self.stop_rule,
            "stop_rir": self.stop_rir,
            "target_reps": self.target_reps,
            "reps_possible": self.reps_possible,
            "mvt_day_mps": round(self.mvt_day_mps, 4),
            "start_s": round(self.start_s, 4),
            "end_s": round(self.end_s, 4),
            "end_location": self.end_location,
            "reps": [r.to_dict() for r in self.reps],
            "failed_attempts": [f.to_dict() for f in self.failed_attempts],
            "events": [e.to_dict() for e in self.events],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SetLabels:
        """Rebuild from `to_dict` output."""
        reps = []
        for r in d["reps"]:
            r = dict(r)
            r.pop("duration_s", None)
            reps.append(RepLabel(**r))
        failed = [FailedLabel(**f) for f in d["failed_attempts"]]
        events = []
        for e in d["events"]:
            e = dict(e)
            events.append(EventLabel(e.pop("kind"), e.pop("start_s"), e.pop("end_s"), e))
        kw = {k: d[k] for k in ("index", "exercise", "athlete_id", "load_kg", "load_pct_1rm", "load_pct_day",
                                "to_failure", "stop_rule", "stop_rir", "target_reps", "reps_possible",
                                "mvt_day_mps", "start_s", "end_s", "end_location")}
        return cls(**kw, reps=reps, failed_attempts=failed, events=events)


@dataclass(slots=True)
class Labels:
    """All ground truth of one simulated session; ``to_dict()`` is the labels-file content."""

    seed: int
    simulator_version: str
    sets: list[SetLabels]
    recording: dict[str, Any] = field(default_factory=dict)
    athlete: dict[str, Any] = field(default_factory=dict)
    sensor: dict[str, Any] = field(default_factory=dict)
    link: dict[str, Any] = field(default_factory=dict)
    clock: dict[str, Any] = field(default_factory=dict)
    scenario: dict[str, Any] = field(default_factory=dict)
    link_events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def reps(self) -> list[RepLabel]:
        """Every completed rep of every set, in order."""
        return [r for s in self.sets for r in s.reps]

    def to_dict(self) -> dict[str, Any]:
        """The labels file content."""
        return {
            "format": LABELS_FORMAT,
            "format_version": LABELS_FORMAT_VERSION,
            "simulator_version": self.simulator_version,
            "synthetic": True,
            "seed": self.seed,
            "time_axis": TIME_AXIS_NOTE,
            "recording": self.recording,
            "athlete": self.athlete,
            "sensor": self.sensor,
            "link": self.link,
            "clock": self.clock,
            "scenario": self.scenario,
            "link_events": self.link_events,
            "sets": [s.to_dict() for s in self.sets],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Labels:
        """Rebuild from a labels file's content (raises ValueError if it is not one)."""
        if d.get("format") != LABELS_FORMAT:
            raise ValueError(f"not a simulator labels file (format {d.get('format')!r})")
        return cls(
            seed=d["seed"], simulator_version=d["simulator_version"], sets=[SetLabels.from_dict(s) for s in d["sets"]],
            recording=d.get("recording", {}), athlete=d.get("athlete", {}), sensor=d.get("sensor", {}),
            link=d.get("link", {}), clock=d.get("clock", {}), scenario=d.get("scenario", {}),
            link_events=d.get("link_events", []),
        )

    def file_time(self, t_s: float | np.ndarray) -> float | np.ndarray:
        """Label time(s) -> time on the written recording's own axis.

        Packets recordings store host arrival times, which *are* the labels' axis (identity).
        Samples recordings store the sensor's clock, which runs ``(1 + clock_drift)`` slow
        (plus a small warm-up change) and is anchored at the first delivered batch, so a long
        samples recording drifts against the labels by up to ~1 % of the elapsed time; this
        maps a label time onto it (exact up to floating point, via the clock parameters).
        """
        c = self.clock
        if c.get("file_time") != "sensor clock":
            return t_s
        t = np.asarray(t_s, dtype=float)
        t_first, st_first = c["first_sample_true_s"], c["first_sample_sensor_s"]
        d, w, tau = c["clock_drift"], c.get("clock_warmup_drift", 0.0), c.get("warmup_tau_s", 300.0)
        # invert t - t_first = u (1 + d) + w (u - tau (1 - exp(-u / tau))) for u (sensor-clock elapsed)
        u = (t - t_first) / (1.0 + d)
        for _ in range(4):
            f = u * (1.0 + d) + w * (u - tau * (1.0 - np.exp(-u / tau))) - (t - t_first)
            df = (1.0 + d) + w * (1.0 - np.exp(-u / tau))
            u = u - f / df
        out = st_first + u + c["file_time_offset_s"]
        return float(out) if np.ndim(out) == 0 else out

    def write(self, path: str | Path) -> Path:
        """Write the labels JSON (indented, UTF-8) to ``path``."""
        p = Path(path)
        p.write_text(json.dumps(self.to_dict(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return p


def load_labels(path: str | Path) -> Labels:
    """Read a ``.labels.json`` file written by the simulator."""
    return Labels.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def labels_path_for(recording_path: str | Path) -> Path:
    """``x.jsonl.gz`` / ``x.jsonl`` -> ``x.labels.json`` (next to the recording)."""
    p = Path(recording_path)
    name = p.name
    for suffix in (".jsonl.gz", ".jsonl", ".gz"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return p.with_name(name + ".labels.json")


__all__ = ["LABELS_FORMAT", "LABELS_FORMAT_VERSION", "Labels", "SetLabels", "labels_path_for", "load_labels"]
