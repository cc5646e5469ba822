"""The dashboard's state, fed by worker messages and read by the widgets (no Qt here).

`DashboardModel.apply` folds `vbt.ui.messages` into plain state: the sets of this session
(`SetState`, reps keyed by index so a final rep replaces its provisional twin), the live
velocity trace (`RingBuffer`), link health, replay progress, recording state and notices. It
records which parts changed in ``dirty``; the window's fixed-rate timer redraws only those.
Keeping this out of Qt lets the tests check what the lifter will see without a display, and
keeps the widgets purely presentational (style.md section 8: "presentation only").

`stop_advice` decides the STOP banner text and `rep_zone` the bar colour; both are pure
functions of a set, so the live window, the replay window and the screenshot agree.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field, replace

import numpy as np

from vbt.pipeline.results import FLAG_FAILURE, FLAG_STOP, FailedAttempt, RepResult, SetResult
from vbt.ui import messages as m

#: Reps below this quality are drawn as low quality (hatched, "?"). Same cut as the fatigue
#: tracker's reference rule, so a rep drawn as unreliable is also one the VL baseline ignores.
LOW_QUALITY_BELOW = 0.5

#: Bar zones, in the order the legend lists them.
ZONE_CONTINUE = "continue"  # >= 3 reps in reserve: keep going
ZONE_STOP = "stop"  # 1-2 reps in reserve: the target zone, stop the set
ZONE_FAILURE = "failure"  # 0 reps in reserve or a failed attempt
ZONE_PENDING = "pending"  # not assessed yet (no reference rep / provisional)
ZONES = (ZONE_CONTINUE, ZONE_STOP, ZONE_FAILURE, ZONE_PENDING)

# Dirty keys: which part of the window must be redrawn.
DIRTY_SET = "set"
DIRTY_SETS = "sets"
DIRTY_TRACE = "trace"
DIRTY_LINK = "link"
DIRTY_PROGRESS = "progress"
DIRTY_RECORDING = "recording"
DIRTY_NOTICE = "notice"
DIRTY_CONNECTION = "connection"
DIRTY_FINISHED = "finished"
DIRTY_LIFT = "lift"
DIRTY_HISTORY = "history"
DIRTY_SCAN = "scan"
DIRTY_KEYS = (
    DIRTY_SET, DIRTY_SETS, DIRTY_TRACE, DIRTY_LINK, DIRTY_PROGRESS, DIRTY_RECORDING, DIRTY_NOTICE,
    DIRTY_CONNECTION, DIRTY_FINISHED, DIRTY_LIFT, DIRTY_HISTORY, DIRTY_SCAN,
)


class RingBuffer:
    """Fixed-capacity (t, value) buffer whose contents are always one contiguous view.

    Each sample is written twice, at ``i`` and ``i + capacity``, so the newest ``n`` samples
    are ``buf[start : start + n]`` without copying -- the pyqtgraph scrolling-plot idiom,
    minus the per-redraw ``np.roll``. Appending costs O(chunk), never O(buffer).

    Args:
        capacity: Samples kept; older ones are overwritten.
    """

    def __init__(self, capacity: int) -> None:
        if capacity <= 0:
            raise ValueError(f"capacity must be > 0, got {capacity}")
        self.capacity = int(capacity)
        self._t = np.zeros(2 * self.capacity)
        self._v = np.zeros(2 * self.capacity)
        self._next = 0  # write position in [0, capacity)
        self._size = 0
        #: Samples ever appended (tests use it to prove nothing was dropped).
        self.total = 0

    def __len__(self) -> int:
        return self._size

    def clear(self) -> None:
        """Forget every sample (``total`` keeps counting)."""
        self._next = 0
        self._size = 0

    def append(self, t_s: np.ndarray, values: np.ndarray) -> None:
        """Append samples (equal-length 1-D arrays), oldest first."""
        t_s = np.asarray(t_s, dtype=float).ravel()
        values = np.asarray(values, dtype=float).ravel()
        if t_s.shape != values.shape:
            raise ValueError(f"t_s and values differ in length: {t_s.shape} vs {values.shape}")
        n = t_s.size
        self.total += n
        if n == 0:
            return
        if n >= self.capacity:  # only the newest `capacity` samples survive
            t_s, values = t_s[-self.capacity :], values[-self.capacity :]
            n = self.capacity
        cap = self.capacity
        first = min(n, cap - self._next)
        for dst in (self._next, self._next + cap):
            self._t[dst : dst + first] = t_s[:first]
            self._v[dst : dst + first] = values[:first]
        rest = n - first
        if rest:
            for dst in (0, cap):
                self._t[dst : dst + rest] = t_s[first:]
                self._v[dst : dst + rest] = values[first:]
        self._next = (self._next + n) % cap
        self._size = min(cap, self._size + n)

    def view(self) -> tuple[np.ndarray, np.ndarray]:
        """(t, values) of the stored samples, oldest first; views into the buffer, do not write."""
        start = (self._next - self._size) % self.capacity
        end = start + self._size
        return self._t[start:end], self._v[start:end]


def rep_zone(rep: RepResult) -> str:
    """The colour zone of a rep's bar: the fatigue flag, or pending before assessment."""
    if rep.flag == FLAG_FAILURE:
        return ZONE_FAILURE
    if rep.flag == FLAG_STOP:
        return ZONE_STOP
    if rep.provisional and rep.velocity_loss_pct is None:
        return ZONE_PENDING
    return ZONE_CONTINUE


def is_low_quality(rep: RepResult) -> bool:
    """True when the rep's numbers should not be trusted at face value."""
    return rep.quality < LOW_QUALITY_BELOW


def reps_word(n: int) -> str:
    """``"1 rep"`` / ``"2 reps"``."""
    return f"{n} rep" if n == 1 else f"{n} reps"


@dataclass(frozen=True, slots=True)
class StopAdvice:
    """What the STOP banner says.

    Attributes:
        level: ``stop`` (1-2 RIR: the target zone) or ``failure`` (0 RIR / failed attempt).
        headline: The big line, e.g. ``"STOP - about 2 reps left"``.
        detail: One supporting line (velocity loss and the RIR band).
        rep_index: The rep whose assessment raised it (None for a failed attempt).
    """

    level: str
    headline: str
    detail: str
    rep_index: int | None


@dataclass(slots=True)
class SetState:
    """One set as the dashboard shows it, built up rep by rep.

    Attributes:
        index: 1-based set number in this session.
        start_s, end_s: Session time bounds (``end_s`` None while the set runs).
        reps: Reps in index order; a final rep replaces its provisional version.
        failed_attempts: Failed attempts in time order.
        ended: True once the set ended (rest detected or ended by hand).
        reference_rep_index: The velocity-loss reference rep (the "best rep" line).
        stop_velocity_mps: Mean velocity at which the stop zone starts, when known.
        result: The final assessed `SetResult` once the set ended.
    """

    index: int
    start_s: float | None = None
    end_s: float | None = None
    reps: list[RepResult] = field(default_factory=list)
    failed_attempts: list[FailedAttempt] = field(default_factory=list)
    ended: bool = False
    reference_rep_index: int | None = None
    stop_velocity_mps: float | None = None
    result: SetResult | None = None

    @classmethod
    def from_set_result(cls, sr: SetResult, *, stop_velocity_mps: float | None = None) -> SetState:
        """A finished set (replay end, history, screenshot)."""
        state = cls(index=sr.index, start_s=sr.start_s, end_s=sr.end_s)
        state.apply_set_result(sr, stop_velocity_mps=stop_velocity_mps)
        return state

    def apply_set_result(self, sr: SetResult, *, stop_velocity_mps: float | None = None) -> None:
        """Replace the contents with a final set (reps, attempts and set-level figures)."""
        self.start_s = sr.start_s
        self.end_s = sr.end_s
        self.reps = sorted(sr.reps, key=lambda r: r.index)
        self.failed_attempts = sorted(sr.failed_attempts, key=lambda f: f.start_s)
        self.reference_rep_index = sr.reference_rep_index
        if stop_velocity_mps is not None:
            self.stop_velocity_mps = stop_velocity_mps
        self.ended = True
        self.result = sr

    def upsert_rep(self, rep: RepResult) -> None:
        """Add a rep, or replace the one with the same index (provisional -> final)."""
        for i, old in enumerate(self.reps):
            if old.index == rep.index:
                self.reps[i] = rep
                return
            if old.index > rep.index:
                self.reps.insert(i, rep)
                return
        self.reps.append(rep)

    def retract_rep(self, rep_index: int) -> bool:
        """Drop a provisional rep that turned out not to be one; True if it was there."""
        before = len(self.reps)
        self.reps = [r for r in self.reps if r.index != rep_index]
        return len(self.reps) != before

    def add_failed_attempt(self, attempt: FailedAttempt) -> None:
        """Add a failed attempt unless the same one is already known."""
        for f in self.failed_attempts:
            if abs(f.start_s - attempt.start_s) < 1e-9:
                return
        self.failed_attempts.append(attempt)
        self.failed_attempts.sort(key=lambda f: f.start_s)

    @property
    def last_rep(self) -> RepResult | None:
        """The newest rep (None before the first)."""
        return self.reps[-1] if self.reps else None

    @property
    def reference_rep(self) -> RepResult | None:
        """The velocity-loss reference rep, when it is known."""
        if self.reference_rep_index is None:
            return None
        for r in self.reps:
            if r.index == self.reference_rep_index:
                return r
        return None

    @property
    def stop_rep_index(self) -> int | None:
        """Index of the first rep flagged ``stop`` or ``failure`` (where STOP first showed)."""
        for r in self.reps:
            if r.flag in (FLAG_STOP, FLAG_FAILURE):
                return r.index
        return None

    @property
    def velocity_loss_pct(self) -> float | None:
        """Velocity loss of the newest rep (the set's current VL %)."""
        last = self.last_rep
        return None if last is None else last.velocity_loss_pct

    def sequence(self) -> list[RepResult | FailedAttempt]:
        """Reps and failed attempts in time order: what the bar chart draws left to right."""
        items: list[RepResult | FailedAttempt] = [*self.reps, *self.failed_attempts]
        items.sort(key=lambda x: x.start_s)
        return items

    def to_set_result(self) -> SetResult:
        """The set as a `SetResult` (the final one when the set ended)."""
        if self.result is not None:
            return self.result
        last = self.last_rep
        return SetResult(
            index=self.index,
            start_s=self.start_s if self.start_s is not None else (self.reps[0].start_s if self.reps else 0.0),
            end_s=self.end_s if self.end_s is not None else (last.end_s if last else 0.0),
            reps=list(self.reps),
            failed_attempts=list(self.failed_attempts),
            velocity_loss_pct=self.velocity_loss_pct,
            rir_estimate=None if last is None else last.rir_estimate,
            rir_interval=None if last is None else last.rir_interval,
            reference_rep_index=self.reference_rep_index,
        )


def stop_advice(state: SetState | None) -> StopAdvice | None:
    """The STOP banner for a set, or None while the lifter should keep going.

    The banner follows the newest rep: a failed attempt after the last rep, or a last rep
    flagged ``failure``, means no reps are left; a last rep flagged ``stop`` (1-2 RIR) gives
    "STOP - about N reps left" with N from the RIR estimate (anchors.md section 7.4: a
    forecast, not only an alarm).
    """
    if state is None:
        return None
    last = state.last_rep
    failed_after = [f for f in state.failed_attempts if last is None or f.start_s >= last.end_s]
    if failed_after:
        return StopAdvice(
            ZONE_FAILURE,
            "STOP - failed rep",
            "the last attempt did not reach lockout: rack the bar",
            None,
        )
    if last is None:
        return None
    vl = "" if last.velocity_loss_pct is None else f"velocity loss {last.velocity_loss_pct:.0f} %"
    band = rir_text(last)
    detail = " - ".join(x for x in (vl, band) if x)
    if last.flag == FLAG_FAILURE:
        return StopAdvice(ZONE_FAILURE, "STOP - no reps left", detail, last.index)
    if last.flag == FLAG_STOP:
        n = reps_left(last)
        # A stop flag means the tracker places the lifter at 1-2 RIR; an estimate that rounds
        # to 0 without the failure flag still reads "about 1 rep left", never "0 reps left".
        headline = "STOP - about 1-2 reps left" if n is None else f"STOP - about {reps_word(max(1, n))} left"
        return StopAdvice(ZONE_STOP, headline, detail, last.index)
    return None


def reps_left(rep: RepResult) -> int | None:
    """The RIR estimate as a whole number of reps (None when there is no estimate)."""
    if rep.rir_estimate is None or not math.isfinite(rep.rir_estimate):
        return None
    return max(0, int(math.floor(rep.rir_estimate + 0.5)))


def rir_lower_bound(rep: RepResult) -> int:
    """The interval's lower bound in whole reps when there is no point estimate (0: none).

    Early in a set the tracker may only know "at least N reps left"; a lower bound of 0 says
    nothing, so it is not shown.
    """
    if rep.rir_interval is None or not math.isfinite(rep.rir_interval[0]):
        return 0
    return max(0, math.floor(rep.rir_interval[0] + 0.5))


def rir_text(rep: RepResult) -> str:
    """``"RIR 2 (1-3)"``; ``"RIR 6+"`` with only a lower bound; ``""`` with no evidence at all."""
    n = reps_left(rep)
    if n is None:
        lower = rir_lower_bound(rep)
        return f"RIR {lower}+" if lower else ""
    if rep.rir_interval is None:
        return f"RIR {n}"
    lo, hi = rep.rir_interval
    return f"RIR {n} ({max(0, math.floor(lo + 0.5))}-{math.floor(hi + 0.5)})"


def forecast_text(rep: RepResult | None) -> str:
    """The forecast line under the big readout ("about 4 reps left"), or why there is none."""
    if rep is None:
        return "waiting for the first rep"
    n = reps_left(rep)
    if n is None:
        lower = rir_lower_bound(rep)
        return f"at least {reps_word(lower)} left" if lower else "reps left: needs a few more reps"
    return f"about {reps_word(n)} left"


@dataclass(slots=True)
class LinkView:
    """Connection and link-health figures as the panel shows them."""

    state: str = m.CONN_IDLE
    detail: str = ""
    sensor: str = ""
    health: m.LinkHealth = field(default_factory=m.LinkHealth)


class DashboardModel:
    """Everything the dashboard shows, updated by `apply` from worker messages.

    Args:
        trace_capacity: Trace samples kept (oldest overwritten).
        max_notices: Status lines kept.
    """

    def __init__(self, *, trace_capacity: int = 60_000, max_notices: int = 50) -> None:
        self.sets: list[SetState] = []
        self.trace = RingBuffer(trace_capacity)
        #: Time subtracted from trace times for display (set by the first trace chunk).
        self.trace_origin_s: float | None = None
        self.link = LinkView()
        self.progress: m.ReplayProgress | None = None
        self.recording = m.RecordingState(active=False)
        self.notices: deque[m.Notice] = deque(maxlen=max_notices)
        self.finished: m.SessionFinished | None = None
        self.lift: m.LiftInfo | None = None
        self.history: list[m.HistoryRow] = []
        self.history_message = ""
        self.sensor_choices: list[m.SensorChoice] = []
        #: Every connection state seen, in order (the panel shows the last; tests read all).
        self.connection_history: deque[tuple[str, str]] = deque(maxlen=100)
        #: A previous set from the history database being looked at (None: none).
        self.review: SetState | None = None
        self.review_title = ""
        self.review_lift: m.LiftInfo | None = None
        self.session_kind = ""
        self.session_title = ""
        self.dirty: set[str] = set()
        #: Messages applied, by type name (tests and the latency readout use it).
        self.counts: dict[str, int] = {}
        #: Session time of the newest rep update (for latency figures).
        self.last_rep_emitted_s: float | None = None
        #: Sets whose first STOP has been announced (so the sound plays once per set).
        self._announced: set[int] = set()

    # ------------------------------------------------------------------ queries
    @property
    def current_set(self) -> SetState | None:
        """The newest set of the session (None before the first rep)."""
        return self.sets[-1] if self.sets else None

    def set_by_index(self, index: int) -> SetState | None:
        """The set numbered ``index`` (None if the session has no such set)."""
        for s in self.sets:
            if s.index == index:
                return s
        return None

    def take_dirty(self) -> set[str]:
        """Return and clear the dirty keys."""
        dirty, self.dirty = self.dirty, set()
        return dirty

    def take_new_stop(self) -> StopAdvice | None:
        """The current set's STOP advice the first time it appears (to sound it once)."""
        state = self.current_set
        advice = stop_advice(state)
        if advice is None or state is None or state.index in self._announced:
            return None
        self._announced.add(state.index)
        return advice

    def reset(self) -> None:
        """Forget the session (a new replay or connection starts from scratch)."""
        self.sets.clear()
        self.trace.clear()
        self.trace_origin_s = None
        self.link.health = m.LinkHealth()
        self.progress = None
        self.finished = None
        self._announced.clear()
        self.dirty |= {DIRTY_SET, DIRTY_SETS, DIRTY_TRACE, DIRTY_PROGRESS, DIRTY_FINISHED}

    # ------------------------------------------------------------------ updates
    def _set_for(self, index: int, start_s: float | None = None) -> SetState:
        state = self.set_by_index(index)
        if state is None:
            state = SetState(index=index, start_s=start_s)
            self.sets.append(state)
            self.sets.sort(key=lambda s: s.index)
            self.dirty.add(DIRTY_SETS)
        return state

    def apply_all(self, messages: list[m.UiMessage]) -> None:
        """`apply` every message in order."""
        for msg in messages:
            self.apply(msg)

    def apply(self, msg: m.UiMessage) -> None:  # noqa: C901 - one branch per message type
        """Fold one message into the state and mark what changed."""
        name = type(msg).__name__
        self.counts[name] = self.counts.get(name, 0) + 1
        if isinstance(msg, m.TracePoints):
            if self.trace_origin_s is None and len(msg.t_s):
                # Live times are the host's monotonic clock (seconds since boot): show them from
                # the start of the session. Replays keep the recording's own time axis.
                self.trace_origin_s = float(msg.t_s[0]) if self.session_kind == "live" else 0.0
            self.trace.append(msg.t_s, msg.velocity_mps)
            self.dirty.add(DIRTY_TRACE)
        elif isinstance(msg, m.RepUpdate):
            state = self._set_for(msg.set_index)
            state.upsert_rep(msg.rep)
            if msg.reference_rep_index is not None:
                state.reference_rep_index = msg.reference_rep_index
            if msg.stop_velocity_mps is not None:
                state.stop_velocity_mps = msg.stop_velocity_mps
            if msg.emitted_s is not None:
                self.last_rep_emitted_s = msg.emitted_s
            self.dirty |= {DIRTY_SET, DIRTY_SETS}
        elif isinstance(msg, m.RepRetracted):
            state = self.set_by_index(msg.set_index)
            if state is not None and state.retract_rep(msg.rep_index):
                self.dirty |= {DIRTY_SET, DIRTY_SETS}
        elif isinstance(msg, m.FailedAttemptUpdate):
            self._set_for(msg.set_index).add_failed_attempt(msg.attempt)
            self.dirty |= {DIRTY_SET, DIRTY_SETS}
        elif isinstance(msg, m.SetStarted):
            state = self._set_for(msg.set_index, msg.start_s)
            state.start_s = msg.start_s
            self.dirty |= {DIRTY_SET, DIRTY_SETS}
        elif isinstance(msg, m.SetEnded):
            state = self._set_for(msg.set_result.index, msg.set_result.start_s)
            state.apply_set_result(msg.set_result, stop_velocity_mps=msg.stop_velocity_mps)
            self.dirty |= {DIRTY_SET, DIRTY_SETS}
        elif isinstance(msg, m.ConnectionState):
            self.link.state, self.link.detail = msg.state, msg.detail
            self.connection_history.append((msg.state, msg.detail))
            if msg.sensor:
                self.link.sensor = msg.sensor
            self.dirty |= {DIRTY_CONNECTION, DIRTY_LINK}
        elif isinstance(msg, m.LinkHealth):
            if msg.latency_ms is None and self.link.health.latency_ms is not None:
                # The worker does not measure latency (the bridge does): keep the bridge's figure.
                msg = replace(msg, latency_ms=self.link.health.latency_ms)
            self.link.health = msg
            self.dirty.add(DIRTY_LINK)
        elif isinstance(msg, m.ReplayProgress):
            self.progress = msg
            self.dirty.add(DIRTY_PROGRESS)
        elif isinstance(msg, m.RecordingState):
            self.recording = msg
            self.dirty.add(DIRTY_RECORDING)
            if msg.error:
                self.notices.append(m.Notice("error", msg.error))
                self.dirty.add(DIRTY_NOTICE)
        elif isinstance(msg, m.Notice):
            self.notices.append(msg)
            self.dirty.add(DIRTY_NOTICE)
        elif isinstance(msg, m.SessionStarted):
            self.reset()
            self.session_kind, self.session_title = msg.kind, msg.title
        elif isinstance(msg, m.SessionFinished):
            self.finished = msg
            if msg.result is not None:
                self._adopt_final(msg.result)
            if msg.error:
                self.notices.append(m.Notice("error", msg.error))
                self.dirty.add(DIRTY_NOTICE)
            self.dirty |= {DIRTY_FINISHED, DIRTY_SET, DIRTY_SETS}
        elif isinstance(msg, m.LiftInfo):
            self.lift = msg
            self.dirty.add(DIRTY_LIFT)
        elif isinstance(msg, m.HistoryRows):
            self.history, self.history_message = list(msg.rows), msg.message
            self.dirty.add(DIRTY_HISTORY)
        elif isinstance(msg, m.ReviewSet):
            self.review = None if msg.set_result is None else SetState.from_set_result(msg.set_result)
            self.review_title, self.review_lift = msg.title, msg.lift
            if msg.set_result is None:
                self.notices.append(m.Notice("error", msg.title))
                self.dirty.add(DIRTY_NOTICE)
            self.dirty.add(DIRTY_SET)
        elif isinstance(msg, m.SensorList):
            self.sensor_choices = list(msg.choices)
            self.dirty.add(DIRTY_SCAN)
        else:  # pragma: no cover - a new message type without a branch is a bug
            raise TypeError(f"unknown UI message {msg!r}")

    def _adopt_final(self, result) -> None:  # noqa: ANN001 - AnalysisResult
        """At the end, the final result is authoritative for every set it contains."""
        for sr in result.sets:
            state = self._set_for(sr.index, sr.start_s)
            state.apply_set_result(sr)


__all__ = [
    "LOW_QUALITY_BELOW",
    "ZONES",
    "ZONE_CONTINUE",
    "ZONE_FAILURE",
    "ZONE_PENDING",
    "ZONE_STOP",
    "DashboardModel",
    "LinkView",
    "RingBuffer",
    "SetState",
    "StopAdvice",
    "forecast_text",
    "is_low_quality",
    "reps_left",
    "rep_zone",
    "rir_text",
    "stop_advice",
]
