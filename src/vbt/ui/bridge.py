"""Carries worker messages to the UI thread at a fixed frame rate, coalescing bursts.

The worker thread calls `Bridge.post` (thread-safe: a ``queue.SimpleQueue`` put, no Qt call);
a `QTimer` on the UI thread calls `Bridge.drain` at ``fps``. One drain takes *everything*
queued, merges it (`coalesce`: trace chunks concatenated, only the newest link-health and
replay-progress kept, only the newest version of each rep), folds it into the
`vbt.ui.model.DashboardModel` and emits ``updated`` once with the parts that changed. The
widgets redraw from that signal, so drawing happens at most ``fps`` times a second however
fast data arrives (style.md section 5: acconeer's ``PlotPluginBase`` stores, a timer draws).

Nothing is ever dropped on the way: the queue is unbounded and a drain takes all of it, so a
200 Hz recording replayed at 10x reaches the trace sample for sample (tests count them).
"""

from __future__ import annotations

import dataclasses
import queue
import time
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal

from vbt.ui import messages as m
from vbt.ui.model import DIRTY_LINK, DashboardModel, StopAdvice

#: Default redraw rate (frames per second): smooth for a scrolling trace, cheap on 2 cores.
DEFAULT_FPS = 30.0


def coalesce(messages: list[m.UiMessage]) -> list[m.UiMessage]:
    """Merge a burst of messages without changing what the model ends up showing.

    * consecutive `TracePoints` become one (concatenated, order kept);
    * only the newest `LinkHealth` and `ReplayProgress` survive;
    * a `RepUpdate` superseded by a later one for the same rep is dropped.

    Everything else keeps its order: set starts/ends, failed attempts and notices are events
    whose order matters.
    """
    if len(messages) < 2:
        return list(messages)
    last_health = max((i for i, x in enumerate(messages) if isinstance(x, m.LinkHealth)), default=-1)
    last_progress = max((i for i, x in enumerate(messages) if isinstance(x, m.ReplayProgress)), default=-1)
    last_rep: dict[tuple[int, int], int] = {}
    for i, x in enumerate(messages):
        if isinstance(x, m.RepUpdate):
            last_rep[(x.set_index, x.rep.index)] = i
        elif isinstance(x, m.RepRetracted | m.SetEnded | m.SessionFinished | m.SessionStarted):
            last_rep.clear()  # never merge a rep across a retraction or a set boundary
    out: list[m.UiMessage] = []
    pending_t: list[np.ndarray] = []
    pending_v: list[np.ndarray] = []
    pending_received: float | None = None

    def flush_trace() -> None:
        nonlocal pending_received
        if pending_t:
            out.append(m.TracePoints(np.concatenate(pending_t), np.concatenate(pending_v), pending_received))
            pending_t.clear()
            pending_v.clear()
            pending_received = None

    for i, x in enumerate(messages):
        if isinstance(x, m.TracePoints):
            pending_t.append(np.asarray(x.t_s, dtype=float))
            pending_v.append(np.asarray(x.velocity_mps, dtype=float))
            if x.received_s is not None:
                pending_received = x.received_s
            continue
        flush_trace()
        if isinstance(x, m.LinkHealth) and i != last_health:
            continue
        if isinstance(x, m.ReplayProgress) and i != last_progress:
            continue
        if isinstance(x, m.RepUpdate):
            key = (x.set_index, x.rep.index)
            if key in last_rep and last_rep[key] != i:
                continue
        out.append(x)
    flush_trace()
    return out


class Bridge(QObject):
    """Worker -> UI message pump at a fixed frame rate.

    Args:
        model: The model to update (a new one by default).
        fps: Drains (and so redraws) per second.
        perf_clock: Seconds on the clock the worker stamps packets with (latency figures).

    Signals:
        updated(set): emitted after a drain changed something; the argument is the set of
            dirty keys (``vbt.ui.model.DIRTY_*``).
        stop_raised(StopAdvice): the current set's STOP appeared (once per set; for sound).
    """

    updated = Signal(object)
    stop_raised = Signal(object)

    def __init__(
        self,
        model: DashboardModel | None = None,
        *,
        fps: float = DEFAULT_FPS,
        perf_clock: Callable[[], float] = time.perf_counter,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model if model is not None else DashboardModel()
        self.perf_clock = perf_clock
        self._queue: queue.SimpleQueue[m.UiMessage] = queue.SimpleQueue()
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(max(1, int(round(1000.0 / fps))))
        self.timer.timeout.connect(self.drain)
        #: Drains that changed something (== redraw frames); tests use it.
        self.frames = 0
        #: Messages received before coalescing (tests compare with what the model applied).
        self.received = 0
        #: Longest wait between two drains while the timer ran (s): how long the UI stalled.
        self.max_drain_gap_s = 0.0
        self._last_drain_s: float | None = None

    # ------------------------------------------------------------------ worker side
    def post(self, message: m.UiMessage) -> None:
        """Queue a message for the UI thread (thread-safe; call from the worker)."""
        self._queue.put(message)

    # ------------------------------------------------------------------ UI side
    def start(self) -> None:
        """Start draining at the frame rate."""
        self._last_drain_s = None
        self.timer.start()

    def stop(self) -> None:
        """Stop the frame timer, then drain whatever is left."""
        self.timer.stop()
        self.drain()

    def take_pending(self) -> list[m.UiMessage]:
        """Everything queued right now (in order)."""
        out: list[m.UiMessage] = []
        while True:
            try:
                out.append(self._queue.get_nowait())
            except queue.Empty:
                return out

    def drain(self) -> set[str]:
        """Apply all queued messages to the model; emit ``updated`` if anything changed."""
        now = self.perf_clock()
        if self._last_drain_s is not None and self.timer.isActive():
            self.max_drain_gap_s = max(self.max_drain_gap_s, now - self._last_drain_s)
        self._last_drain_s = now
        pending = self.take_pending()
        if pending:
            self.received += len(pending)
            merged = coalesce(pending)
            now = self.perf_clock()
            for msg in merged:
                self.model.apply(msg)
                if isinstance(msg, m.TracePoints) and msg.received_s is not None:
                    self._note_latency(now - msg.received_s)
        dirty = self.model.take_dirty()
        if dirty:
            self.frames += 1
            self.updated.emit(dirty)
            advice = self.model.take_new_stop()
            if advice is not None:
                self.stop_raised.emit(advice)
        return dirty

    def _note_latency(self, latency_s: float) -> None:
        health = self.model.link.health
        self.model.link.health = dataclasses.replace(health, latency_ms=max(0.0, latency_s * 1000.0))
        self.model.dirty.add(DIRTY_LINK)


__all__ = ["DEFAULT_FPS", "Bridge", "StopAdvice", "coalesce"]
