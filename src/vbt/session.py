"""`Session`: the one path from a source of sensor data to rep results and listeners.

Live BLE, replayed recordings, CSV files and simulated sensors are all `vbt.sources.Source`
objects; the session runs every one of them the same way::

    Source --RawPacket--> decoder (firmware_protocols, from the header) --ImuBatch--+
           --ImuBatch--------------------------------------------------------------+--> StreamingPipeline
           --LinkEvent--> gap markers (disconnect / reconnect reset the decoder) --+        |
                                                                                           v
                      listeners  <--  FatigueTracker.assess(set)  <--  pipeline events

``await session.run()`` consumes the source until it ends or `Session.stop` is called and
returns the `AnalysisResult`. `vbt.analysis` uses the synchronous core (`Session.process_item`,
`Session.finish`) to analyse whole files with the very same code, so offline results equal live
ones.

Listeners receive every pipeline event after the fatigue assessment (a callable, or an object
with ``on_event(event)``). Sinks receive every raw source item, before processing (a callable,
or an object with ``write_item(item)`` -- a `vbt.recording.writer.RecordingWriter` is one). A
sink that fails with a `VbtError` (disk full while recording) is detached and reported as a
`SessionNotice` event; the session itself carries on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from firmware_protocols import Decoder, ImuBatch, StreamConfig, get_protocol
from vbt.errors import UnsupportedSensorError, VbtError
from vbt.fatigue.tracker import FatigueTracker
from vbt.pipeline.events import (
    FailedAttemptEvent,
    PipelineEvent,
    RepFinal,
    SetEnded,
)
from vbt.pipeline.results import AnalysisResult
from vbt.pipeline.settings import DEFAULT_SETTINGS, PipelineSettings, resolve_exercise
from vbt.pipeline.streaming import StreamingPipeline
from vbt.recording.format import BODY_PACKETS, RecordingHeader
from vbt.sources._base import (
    LINK_CONFIG,
    LINK_DISCONNECTED,
    LINK_LOST,
    LINK_RECONNECTED,
    LinkEvent,
    RawPacket,
    Source,
    SourceItem,
)

log = logging.getLogger(__name__)

Listener = Callable[[PipelineEvent], Any] | Any
Sink = Callable[[SourceItem], Any] | Any


@dataclass(frozen=True, slots=True)
class SessionNotice(PipelineEvent):
    """Something about the session itself (a sink detached after an error).

    Attributes:
        code: ``"sink-error"``.
        message: One human line.
    """

    code: str = ""
    message: str = ""


class Session:
    """Runs one source through decoder, pipeline and fatigue tracker to listeners.

    Args:
        source: Where the data come from.
        exercise: Exercise name (None: the header's, else ``generic``).
        load_kg: Bar + plates (None: the header's).
        settings: Pipeline settings (exercise and load are filled in from the arguments).
        tracker: Fatigue tracker (None: a `FatigueTracker` for the exercise and load).
        listeners: Receive pipeline events.
        sinks: Receive raw source items (e.g. a recording writer).
        strict: Decode with ``strict=True`` (tests: raise on damaged bytes).
        target_rir: Target reps in reserve for the default tracker.
    """

    def __init__(
        self,
        source: Source | None = None,
        *,
        exercise: str | None = None,
        load_kg: float | None = None,
        settings: PipelineSettings | None = None,
        tracker: FatigueTracker | None = None,
        listeners: Iterable[Listener] = (),
        sinks: Iterable[Sink] = (),
        strict: bool = False,
        target_rir: int = 2,
        header: RecordingHeader | None = None,
    ) -> None:
        self.source = source
        self._exercise_arg = exercise
        self._load_arg = load_kg
        self._settings_arg = settings
        self._tracker_arg = tracker
        self._target_rir = target_rir
        self.strict = strict
        self._listeners: list[Listener] = list(listeners)
        self._sinks: list[Sink] = list(sinks)
        self._stopped = False
        self.header: RecordingHeader | None = header
        self.pipeline: StreamingPipeline | None = None
        self.tracker: FatigueTracker | None = None
        self.decoder: Decoder | None = None
        self._finished = False
        self._result: AnalysisResult | None = None
        self.source_name = ""
        self.warnings: list[str] = []

    # ------------------------------------------------------------------ wiring

    def add_listener(self, listener: Listener) -> None:
        """Attach a listener (callable or object with ``on_event``)."""
        self._listeners.append(listener)

    def add_sink(self, sink: Sink) -> None:
        """Attach a raw-item sink (callable or object with ``write_item``)."""
        self._sinks.append(sink)

    def start(self, header: RecordingHeader) -> None:
        """Build decoder, pipeline and tracker for a stream described by ``header``.

        Called by `run` once the source is open; call it yourself before `process_item` when
        driving the session synchronously.

        Raises:
            UnknownExerciseError: the exercise name is not known.
            UnsupportedSensorError: a packets stream from a sensor no protocol decodes.
        """
        self.header = header
        exercise = self._exercise_arg or header.exercise or None
        profile = resolve_exercise(exercise)
        load = self._load_arg if self._load_arg is not None else header.load_kg
        stream = header.stream or {}
        base = self._settings_arg or DEFAULT_SETTINGS
        accel_range = stream.get("accel_range_g") if isinstance(stream, dict) else None
        self.settings = base.with_changes(
            exercise=profile,
            load_kg=load,
            accel_range_g=float(accel_range) if accel_range else base.accel_range_g,
        )
        nominal = header.rate_hz or (stream.get("rate_hz") if isinstance(stream, dict) else None)
        self.pipeline = StreamingPipeline(self.settings, nominal_rate_hz=float(nominal) if nominal else None)
        self.tracker = self._tracker_arg or FatigueTracker(
            profile.name, load_kg=load, target_rir=self._target_rir
        )
        if header.body == BODY_PACKETS:
            self.decoder = self._make_decoder(header, stream)

    def _make_decoder(self, header: RecordingHeader, stream: dict[str, Any]) -> Decoder:
        try:
            protocol = get_protocol(header.sensor)
        except KeyError:
            from firmware_protocols import PROTOCOLS

            raise UnsupportedSensorError(header.sensor, PROTOCOLS) from None
        config = StreamConfig.from_dict(stream) if stream and "rate_hz" in stream else None
        return protocol.decoder(config, strict=self.strict)

    # ------------------------------------------------------------------ processing

    def process_item(self, item: SourceItem) -> list[PipelineEvent]:
        """Feed one source item; returns the (assessed) events it produced, also sent to listeners."""
        if self.pipeline is None:
            raise RuntimeError("Session.start(header) must be called before process_item()")
        self._to_sinks(item)
        events: list[PipelineEvent] = []
        if isinstance(item, RawPacket):
            if self.decoder is None:
                self.warnings.append("raw packets in a samples stream were ignored")
                return []
            for batch in self.decoder.feed(item.char_uuid, item.payload, item.host_time_s):
                events.extend(self.pipeline.feed(batch))
        elif isinstance(item, ImuBatch):
            events.extend(self.pipeline.feed(item))
        elif isinstance(item, LinkEvent):
            self._link_event(item)
        return self._dispatch(events)

    def process_batches(self, batches: Iterable[ImuBatch]) -> list[PipelineEvent]:
        """Feed decoded batches directly (bulk offline path; same results as item by item)."""
        assert self.pipeline is not None
        events: list[PipelineEvent] = []
        for batch in batches:
            events.extend(self.pipeline.feed(batch))
        return self._dispatch(events)

    def link_event(self, event: LinkEvent) -> list[PipelineEvent]:
        """Apply a link event without sending it to sinks (bulk offline path)."""
        self._link_event(event)
        return []

    def _link_event(self, ev: LinkEvent) -> None:
        assert self.pipeline is not None
        if ev.kind in (LINK_DISCONNECTED, LINK_LOST):
            self.pipeline.link_break()
        elif ev.kind == LINK_RECONNECTED:
            if self.decoder is not None:
                self.decoder.reset()
            self.pipeline.link_break()
        elif ev.kind == LINK_CONFIG and self.header is not None and self.header.body == BODY_PACKETS:
            detail = dict(ev.detail)
            if "rate_hz" in detail:
                try:
                    self.decoder = self._make_decoder(self.header, detail)
                except (VbtError, ValueError, KeyError) as err:
                    self.warnings.append(f"stream configuration at t={ev.host_time_s:.2f} s ignored: {err}")
                    return
                rate = detail.get("rate_hz")
                self.pipeline.stream_configured(float(rate) if isinstance(rate, int | float) else None)

    def finish(self) -> list[PipelineEvent]:
        """End of input: settle pending reps, end the open set; returns the last events."""
        if self._finished or self.pipeline is None:
            return []
        self._finished = True
        return self._dispatch(self.pipeline.finish())

    def _dispatch(self, events: list[PipelineEvent]) -> list[PipelineEvent]:
        for ev in events:
            if isinstance(ev, RepFinal | FailedAttemptEvent | SetEnded) and ev.set_result is not None:
                assert self.tracker is not None
                self.tracker.assess(ev.set_result)
            for listener in self._listeners:
                handler = getattr(listener, "on_event", None)
                if handler is not None:
                    handler(ev)
                else:
                    listener(ev)
        return events

    def _to_sinks(self, item: SourceItem) -> None:
        for sink in list(self._sinks):
            writer = getattr(sink, "write_item", None)
            try:
                if writer is not None:
                    writer(item)
                else:
                    sink(item)
            except VbtError as err:
                # A failing recorder must not stop the live view: detach it and say why.
                self._sinks.remove(sink)
                log.warning("sink detached: %s", err)
                at = getattr(item, "host_time_s", 0.0)
                self._dispatch([SessionNotice(float(at), "sink-error", str(err))])

    # ------------------------------------------------------------------ results

    def result(self) -> AnalysisResult:
        """The analysis so far (sets, reps with fatigue fields, warnings)."""
        if self.pipeline is None:
            raise RuntimeError("the session has not started")
        res = self.pipeline.result(self.source_name)
        extra = list(self.warnings)
        if self.decoder is not None:
            st = self.decoder.stats
            if st.bad_frames:
                extra.append(
                    f"decoder skipped {st.bad_frames} bad frames ({st.skipped_bytes} bytes); "
                    "results around them may be less accurate"
                )
            elif st.skipped_bytes:
                extra.append(f"decoder skipped {st.skipped_bytes} bytes that were not part of a frame "
                             "(damaged notifications); results around them may be less accurate")
        res.warnings = list(dict.fromkeys(res.warnings + extra))
        return res

    # ------------------------------------------------------------------ async

    def stop(self) -> None:
        """Ask `run` to stop at the next item (a silent source: close it or cancel the task)."""
        self._stopped = True

    async def run(self) -> AnalysisResult:
        """Consume the source until it ends or `stop` is called; return the result.

        Cancelling the task running this closes the source (``async with``) and propagates.
        """
        if self.source is None:
            raise RuntimeError("Session.run needs a source")
        async with self.source as src:
            self.source_name = str(getattr(src, "path", "") or src.header.sensor_model or src.header.sensor)
            self.start(src.header)
            async for item in src:
                self.process_item(item)
                if self._stopped:
                    break
        self.finish()
        return self.result()


__all__ = ["Listener", "Session", "SessionNotice", "Sink"]
