"""Typed messages the worker thread sends to the UI thread (the acconeer worker/UI split).

The worker (``vbt.ui.worker``) runs the `vbt.session.Session` on its own asyncio loop and turns
every pipeline, fatigue and link event into one of these immutable messages. They cross to the
UI thread through a thread-safe queue that `vbt.ui.bridge.Bridge` drains on its redraw timer
(style.md section 5: "the UI sends tasks and the backend answers with typed messages").

Everything here is plain Python + NumPy (no Qt), so the model and the worker are testable
without a display. Result objects inside messages are *copies* made in the worker thread: the
session keeps mutating its own ``RepResult`` objects, the UI must never see that happen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from vbt.pipeline.results import AnalysisResult, FailedAttempt, RepResult, SetResult

#: `ConnectionState.state` values.
CONN_IDLE = "idle"  # nothing connected, nothing playing
CONN_CONNECTING = "connecting"
CONN_CONNECTED = "connected"  # live sensor streaming (real or virtual)
CONN_RECONNECTING = "reconnecting"  # link dropped mid-session; the source is retrying
CONN_LOST = "lost"  # gave up reconnecting
CONN_REPLAYING = "replaying"  # a recording is playing
CONN_FINISHED = "finished"  # the source ended (end of recording, or disconnected by the user)
CONN_STATES = (
    CONN_IDLE, CONN_CONNECTING, CONN_CONNECTED, CONN_RECONNECTING, CONN_LOST, CONN_REPLAYING, CONN_FINISHED
)


@dataclass(frozen=True, slots=True)
class RepUpdate:
    """A rep appeared (provisional, at concentric end) or was finalised (at confirmed lockout).

    Attributes:
        set_index: 1-based set the rep belongs to.
        rep: A private copy of the rep; ``rep.provisional`` tells which of the two it is.
        reference_rep_index: The set's velocity-loss reference rep after this rep.
        stop_velocity_mps: Mean velocity at which the set reaches the stop zone, when the
            fatigue tracker can say (drawn as the stop threshold line).
        emitted_s: Session time (recording/host axis, s) at which the worker emitted it.
    """

    set_index: int
    rep: RepResult
    reference_rep_index: int | None = None
    stop_velocity_mps: float | None = None
    emitted_s: float | None = None


@dataclass(frozen=True, slots=True)
class RepRetracted:
    """A provisional rep that lockout confirmation rejected (it was not a rep after all)."""

    set_index: int
    rep_index: int


@dataclass(frozen=True, slots=True)
class FailedAttemptUpdate:
    """A concentric that did not reach lockout: shown as a failed attempt, never as a rep."""

    set_index: int
    attempt: FailedAttempt


@dataclass(frozen=True, slots=True)
class SetStarted:
    """A set began (rest detection or the manual "Start set" override)."""

    set_index: int
    start_s: float
    manual: bool = False


@dataclass(frozen=True, slots=True)
class SetEnded:
    """A set ended; ``set_result`` is its final, fully assessed copy."""

    set_result: SetResult
    manual: bool = False
    stop_velocity_mps: float | None = None


@dataclass(frozen=True, slots=True)
class TracePoints:
    """A chunk of the live velocity trace (decimated by the pipeline), on the session time axis.

    ``received_s`` is when the newest packet behind these points reached the host, on the
    bridge's performance clock; the bridge turns it into the link panel's latency figure
    (host receive -> screen). None for replayed data, whose packets were received long ago.
    """

    t_s: np.ndarray
    velocity_mps: np.ndarray
    received_s: float | None = None


@dataclass(frozen=True, slots=True)
class ConnectionState:
    """Where the source is: see the ``CONN_*`` constants. ``detail`` is shown to the user."""

    state: str
    detail: str = ""
    sensor: str = ""


@dataclass(frozen=True, slots=True)
class LinkHealth:
    """Link health as measured on the host (not as configured).

    Attributes:
        rate_hz: Measured sample rate over the last few seconds (None before enough data).
        nominal_rate_hz: Rate the sensor was configured for.
        samples: Samples received in this connection.
        dropped: Notifications/samples the decoder or the link reported missing.
        drop_pct: ``dropped`` as a share of expected, in percent.
        rssi_dbm: Received signal strength, when the backend reports it.
        battery_pct: Sensor battery, when readable.
        latency_ms: Age of the newest sample when it reached the screen.
        bad_frames: Frames the decoder rejected (checksum, length).
    """

    rate_hz: float | None = None
    nominal_rate_hz: float | None = None
    samples: int = 0
    dropped: int = 0
    drop_pct: float | None = None
    rssi_dbm: float | None = None
    battery_pct: float | None = None
    latency_ms: float | None = None
    bad_frames: int = 0


@dataclass(frozen=True, slots=True)
class ReplayProgress:
    """Replay position for the transport controls."""

    position_s: float
    duration_s: float
    paused: bool
    speed: float | None  # None = as fast as possible


@dataclass(frozen=True, slots=True)
class RecordingState:
    """Recording on/off; ``error`` says why it stopped on its own (disk full, read-only)."""

    active: bool
    path: str = ""
    error: str = ""
    packets: int = 0


@dataclass(frozen=True, slots=True)
class Notice:
    """A line for the status bar: ``level`` is ``info``, ``warning`` or ``error``."""

    level: str
    text: str


@dataclass(frozen=True, slots=True)
class SessionStarted:
    """A new session (replay or live) starts: the dashboard forgets the previous one.

    Attributes:
        kind: ``replay`` or ``live``.
        title: File name or sensor label.
    """

    kind: str
    title: str = ""


@dataclass(frozen=True, slots=True)
class SessionFinished:
    """The session ended: ``result`` is the live path's final result (the analyze contract)."""

    result: AnalysisResult | None = None
    error: str = ""


@dataclass(frozen=True, slots=True)
class LiftInfo:
    """What is being lifted (from the recording header or the user's inputs)."""

    exercise: str
    load_kg: float | None = None
    target_rir: int = 2
    extra: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SensorChoice:
    """One entry of the sensor picker.

    Attributes:
        label: What the picker shows.
        kind: ``virtual`` (a simulated sensor on the in-process BLE stack) or ``ble``.
        protocol: Protocol registry name (``witmotion``).
        identifier: BLE address or name (empty for virtual sensors).
        rssi_dbm: Signal strength seen while scanning.
    """

    label: str
    kind: str
    protocol: str
    identifier: str = ""
    rssi_dbm: float | None = None


@dataclass(frozen=True, slots=True)
class SensorList:
    """The sensor picker's entries (after a scan)."""

    choices: tuple[SensorChoice, ...]


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One previous set as the history table shows it."""

    date: str
    exercise: str
    load_kg: float | None
    reps: int
    best_mps: float | None
    velocity_loss_pct: float | None
    rir: float | None
    set_key: object = None  # whatever the history database uses to find the set again


@dataclass(frozen=True, slots=True)
class HistoryRows:
    """Previous sets from the history database; ``message`` explains an empty list."""

    rows: tuple[HistoryRow, ...]
    message: str = ""


@dataclass(frozen=True, slots=True)
class ReviewSet:
    """A previous set from the history database, to show in the set view.

    Attributes:
        set_result: The set as last analysed (None: it could not be loaded; see ``title``).
        title: What it is ("2026-11-20 14:02  squat 100 kg").
        lift: Exercise and load of that set.
    """

    set_result: SetResult | None
    title: str
    lift: LiftInfo | None = None


UiMessage = (
    RepUpdate
    | RepRetracted
    | FailedAttemptUpdate
    | SetStarted
    | SetEnded
    | TracePoints
    | ConnectionState
    | LinkHealth
    | ReplayProgress
    | RecordingState
    | Notice
    | SessionStarted
    | SessionFinished
    | LiftInfo
    | SensorList
    | HistoryRows
    | ReviewSet
)


def copy_rep(rep: RepResult) -> RepResult:
    """A copy the UI may keep: lists/tuples copied, curve arrays shared read-only.

    The curve arrays are never written after the pipeline creates them, so sharing them is
    safe and saves copying a few hundred floats per rep.
    """
    return RepResult(
        index=rep.index,
        start_s=rep.start_s,
        end_s=rep.end_s,
        mean_velocity_mps=rep.mean_velocity_mps,
        mean_propulsive_velocity_mps=rep.mean_propulsive_velocity_mps,
        peak_velocity_mps=rep.peak_velocity_mps,
        rom_m=rep.rom_m,
        duration_s=rep.duration_s,
        time_to_peak_s=rep.time_to_peak_s,
        mean_power_w=rep.mean_power_w,
        quality=rep.quality,
        quality_reasons=list(rep.quality_reasons),
        velocity_loss_pct=rep.velocity_loss_pct,
        rir_estimate=rep.rir_estimate,
        rir_interval=None if rep.rir_interval is None else tuple(rep.rir_interval),
        flag=rep.flag,
        eccentric_duration_s=rep.eccentric_duration_s,
        provisional=rep.provisional,
        t_s=rep.t_s,
        velocity_mps=rep.velocity_mps,
    )


def copy_set(set_result: SetResult) -> SetResult:
    """A deep-enough copy of a set (reps copied with `copy_rep`)."""
    return SetResult(
        index=set_result.index,
        start_s=set_result.start_s,
        end_s=set_result.end_s,
        reps=[copy_rep(r) for r in set_result.reps],
        failed_attempts=[FailedAttempt(f.start_s, f.end_s, f.rom_m) for f in set_result.failed_attempts],
        velocity_loss_pct=set_result.velocity_loss_pct,
        rir_estimate=set_result.rir_estimate,
        rir_interval=None if set_result.rir_interval is None else tuple(set_result.rir_interval),
        reference_rep_index=set_result.reference_rep_index,
        notes=list(set_result.notes),
    )


__all__ = [
    "CONN_CONNECTED",
    "CONN_CONNECTING",
    "CONN_FINISHED",
    "CONN_IDLE",
    "CONN_LOST",
    "CONN_RECONNECTING",
    "CONN_REPLAYING",
    "CONN_STATES",
    "ConnectionState",
    "FailedAttemptUpdate",
    "HistoryRow",
    "HistoryRows",
    "LiftInfo",
    "LinkHealth",
    "Notice",
    "RecordingState",
    "RepRetracted",
    "RepUpdate",
    "ReplayProgress",
    "ReviewSet",
    "SensorChoice",
    "SensorList",
    "SessionFinished",
    "SessionStarted",
    "SetEnded",
    "SetStarted",
    "TracePoints",
    "UiMessage",
    "copy_rep",
    "copy_set",
]
