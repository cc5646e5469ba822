"""Turns Session events (pipeline, fatigue, link) into UI messages, on the worker thread.

`EventTranslator` is the Session listener the dashboard attaches. It runs in the worker
thread, copies every result it forwards (the session keeps mutating its own objects), and
posts `vbt.ui.messages` through the ``emit`` callable (the bridge's thread-safe ``post``).

Besides a one-to-one mapping it adds what the screen needs and the events do not carry:

* *Hindsight updates.* The fatigue tracker may revise an earlier rep when later evidence
  arrives (a failed attempt proves the rep before it was the last possible one: RIR 0,
  ``failure``). After every assessed set the translator re-sends any rep whose fatigue fields
  changed since it was last sent, so bars never show stale flags.
* *The stop threshold.* `stop_threshold_mps` asks the fatigue tracker what mean velocity the
  *next* rep would need to be at or below to be flagged ``stop``: the red line on the chart.
* *Link health.* Pipeline `TimingStatus` (measured rate, missing samples) and the source's
  ``status`` link events (RSSI, battery, drops) merge into one `LinkHealth`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import replace

from vbt.pipeline import events as ev
from vbt.pipeline.results import FLAG_FAILURE, FLAG_STOP, RepResult, SetResult
from vbt.sources import (
    LINK_CONNECTED,
    LINK_DISCONNECTED,
    LINK_LOST,
    LINK_RECONNECTED,
    LINK_STATUS,
    LinkEvent,
)
from vbt.ui import messages as m

log = logging.getLogger(__name__)

#: Bisection steps for the stop threshold: 2^-10 of the search range is < 2 mm/s.
THRESHOLD_STEPS = 10


def _fatigue_signature(rep: RepResult) -> tuple:
    return (rep.provisional, rep.mean_velocity_mps, rep.velocity_loss_pct, rep.rir_estimate,
            None if rep.rir_interval is None else tuple(rep.rir_interval), rep.flag, rep.quality)


def stop_threshold_mps(tracker, set_result: SetResult) -> float | None:  # noqa: ANN001 - FatigueTracker
    """The highest mean velocity at which the *next* rep would be flagged ``stop`` (or worse).

    The tracker's stop rule is probabilistic (P(RIR <= target) over the estimator's posterior,
    or a fixed velocity-loss cut-off), so there is no single constant to draw. Instead we ask
    the tracker itself: append a hypothetical next rep (same range of motion and duration as
    the last one, full quality) to a copy of the set, and bisect on its velocity. Slower reps
    only ever raise the evidence of fatigue, so the flag is monotonic in that velocity.

    Args:
        tracker: A `vbt.fatigue.tracker.FatigueTracker` reserved for probing (its caches fill
            with hypothetical reps; never pass the session's own tracker).
        set_result: The set so far (not modified).

    Returns:
        The threshold in m/s, or None when the set is already past it (a stop flag never goes
        back) or when not even a crawl would be flagged yet (too little evidence).
    """
    reps = [r for r in set_result.reps if not r.provisional]
    if not reps:
        return None
    if reps[-1].flag in (FLAG_STOP, FLAG_FAILURE):
        return None
    last = reps[-1]
    base = [m.copy_rep(r) for r in reps]

    def flagged(velocity_mps: float) -> bool:
        nxt = RepResult(
            index=last.index + 1,
            start_s=last.end_s + max(1.0, last.duration_s),
            end_s=last.end_s + max(1.0, last.duration_s) + last.duration_s,
            mean_velocity_mps=velocity_mps,
            mean_propulsive_velocity_mps=velocity_mps,
            peak_velocity_mps=velocity_mps * (last.peak_velocity_mps / max(last.mean_velocity_mps, 1e-6)),
            rom_m=last.rom_m,
            duration_s=last.duration_s,
            time_to_peak_s=last.time_to_peak_s,
        )
        probe = SetResult(index=set_result.index, start_s=set_result.start_s, end_s=nxt.end_s,
                          reps=[replace(r) for r in base] + [nxt])
        tracker.assess(probe)
        return probe.reps[-1].flag in (FLAG_STOP, FLAG_FAILURE)

    lo = 0.01
    hi = max(r.mean_velocity_mps for r in reps) * 1.5
    if not flagged(lo):
        return None
    if flagged(hi):
        return hi
    for _ in range(THRESHOLD_STEPS):
        mid = 0.5 * (lo + hi)
        if flagged(mid):
            lo = mid
        else:
            hi = mid
    return lo


class EventTranslator:
    """Session listener: pipeline/link events in, UI messages out (see module docstring).

    Args:
        emit: Thread-safe sink for messages (``Bridge.post``).
        probe_tracker: A fatigue tracker reserved for `stop_threshold_mps` (None: no line).
        perf_clock: Clock the ``received_s`` stamps are on (for latency figures).
    """

    def __init__(
        self,
        emit: Callable[[m.UiMessage], None],
        *,
        probe_tracker=None,  # noqa: ANN001 - FatigueTracker
        perf_clock: Callable[[], float] | None = None,
    ) -> None:
        self.emit = emit
        self.probe_tracker = probe_tracker
        self.perf_clock = perf_clock
        #: Host-receive stamp (perf clock) of the newest live packet, set by the source tap.
        self.last_received_s: float | None = None
        self._sent: dict[tuple[int, int], tuple] = {}
        self._health = m.LinkHealth()
        self._threshold: dict[int, float | None] = {}
        #: Trace samples forwarded (the screen must end up with exactly these).
        self.trace_points = 0

    # ------------------------------------------------------------------ pipeline events
    def __call__(self, event: object) -> None:
        """Listener entry point: dispatch on the event type (unknown types are ignored)."""
        try:
            self.handle(event)
        except Exception:  # noqa: BLE001 - a display problem must never stop the session
            log.exception("could not show event %r", event)

    def handle(self, event: object) -> None:  # noqa: C901 - one branch per event type
        """Translate one event (raises on a display bug; `__call__` catches it)."""
        if isinstance(event, ev.TraceEvent):
            if len(event.t_s):
                self.trace_points += len(event.t_s)
                self.emit(m.TracePoints(event.t_s, event.velocity_mps, self.last_received_s))
        elif isinstance(event, ev.RepProvisional):
            if event.rep is not None:
                self._send_rep(event.set_index, event.rep, at_s=event.at_s)
        elif isinstance(event, ev.RepFinal):
            if event.set_result is not None:
                self._send_set_reps(event.set_result, at_s=event.at_s, new_threshold=True)
            elif event.rep is not None:
                self._send_rep(event.set_index, event.rep, at_s=event.at_s)
        elif isinstance(event, ev.RepRetracted):
            self._sent.pop((event.set_index, event.rep_index), None)
            self.emit(m.RepRetracted(event.set_index, event.rep_index))
            if event.reason:
                self.emit(m.Notice("info", f"set {event.set_index}: movement {event.rep_index} was not a rep "
                                           f"({event.reason})"))
        elif isinstance(event, ev.FailedAttemptEvent):
            if event.attempt is not None:
                self.emit(m.FailedAttemptUpdate(event.set_index, event.attempt))
            if event.set_result is not None:
                self._send_set_reps(event.set_result, at_s=event.at_s, new_threshold=False)
        elif isinstance(event, ev.SetStarted):
            self.emit(m.SetStarted(event.set_index, event.start_s))
        elif isinstance(event, ev.SetEnded):
            if event.set_result is not None:
                self._send_set_reps(event.set_result, at_s=event.at_s, new_threshold=False)
                self.emit(m.SetEnded(m.copy_set(event.set_result),
                                     stop_velocity_mps=self._threshold.get(event.set_result.index)))
        elif isinstance(event, ev.TimingStatus):
            missing = event.missing_pct
            self._health = replace(self._health, rate_hz=event.rate_hz, samples=event.samples,
                                   drop_pct=missing if math.isfinite(missing) else None)
            self.emit(self._health)
        elif isinstance(event, ev.PipelineWarning):
            self.emit(m.Notice("warning", event.message))
        elif isinstance(event, LinkEvent):
            self.on_link(event)
        elif getattr(event, "code", "") and getattr(event, "message", ""):  # SessionNotice
            self.emit(m.Notice("warning", str(event.message)))

    def _send_rep(self, set_index: int, rep: RepResult, *, at_s: float | None,
                  reference: int | None = None, threshold: float | None = None) -> None:
        self._sent[(set_index, rep.index)] = _fatigue_signature(rep)
        self.emit(m.RepUpdate(set_index, m.copy_rep(rep), reference_rep_index=reference,
                              stop_velocity_mps=threshold, emitted_s=at_s))

    def _send_set_reps(self, sr: SetResult, *, at_s: float | None, new_threshold: bool) -> None:
        threshold = None
        if new_threshold and self.probe_tracker is not None:
            try:
                threshold = stop_threshold_mps(self.probe_tracker, sr)
            except Exception:  # noqa: BLE001 - the line is a nicety; never lose the rep over it
                log.exception("stop threshold probe failed")
            if threshold is not None:
                self._threshold[sr.index] = threshold
        for rep in sr.reps:
            if self._sent.get((sr.index, rep.index)) != _fatigue_signature(rep):
                self._send_rep(sr.index, rep, at_s=at_s, reference=sr.reference_rep_index, threshold=threshold)
                threshold = None  # once per set update is enough

    # ------------------------------------------------------------------ link events
    def on_link(self, event: LinkEvent) -> None:
        """Link events from the source tap: connection state and health figures."""
        d = event.detail
        if event.kind == LINK_STATUS:
            self._health = replace(
                self._health,
                rssi_dbm=_num(d.get("rssi_dbm"), self._health.rssi_dbm),
                battery_pct=_num(d.get("battery_pct"), self._health.battery_pct),
                nominal_rate_hz=_num(d.get("nominal_rate_hz", d.get("rate_hz_nominal")), self._health.nominal_rate_hz),
                dropped=int(_num(d.get("dropped", d.get("drops")), self._health.dropped) or 0),
                bad_frames=int(_num(d.get("bad_frames"), self._health.bad_frames) or 0),
            )
            if self._health.rate_hz is None and d.get("rate_hz") is not None:
                self._health = replace(self._health, rate_hz=_num(d.get("rate_hz"), None))
            self.emit(self._health)
        elif event.kind in (LINK_CONNECTED, LINK_RECONNECTED):
            self.emit(m.ConnectionState(m.CONN_CONNECTED, "" if event.kind == LINK_CONNECTED else "reconnected",
                                        str(d.get("name", d.get("address", "")))))
        elif event.kind == LINK_DISCONNECTED:
            reason = str(d.get("reason", ""))
            self.emit(m.ConnectionState(m.CONN_RECONNECTING, reason))
            self.emit(m.Notice("warning", "link dropped" + (f" ({reason})" if reason else "") + "; reconnecting"))
        elif event.kind == LINK_LOST:
            self.emit(m.ConnectionState(m.CONN_LOST, str(d.get("reason", ""))))

    def set_health(self, **fields: object) -> None:
        """Merge figures measured elsewhere (e.g. decoder stats) into the link health."""
        self._health = replace(self._health, **fields)
        self.emit(self._health)


def _num(value: object, default: float | None) -> float | None:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default
    return x if math.isfinite(x) else default


__all__ = ["THRESHOLD_STEPS", "EventTranslator", "stop_threshold_mps"]
