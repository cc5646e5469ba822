"""Helpers shared by the pipeline tests."""

from __future__ import annotations

from firmware_protocols import ImuBatch, merge_batches
from vbt.pipeline.events import PipelineEvent, PipelineWarning, TraceEvent
from vbt.pipeline.settings import DEFAULT_SETTINGS, PipelineSettings
from vbt.pipeline.streaming import StreamingPipeline


def analyse(batches: list[ImuBatch], exercise: str = "squat", settings: PipelineSettings | None = None, **kw):
    """Run batches through a fresh pipeline; returns (pipeline, events)."""
    st = (settings or DEFAULT_SETTINGS).with_changes(exercise=exercise, **kw)
    pl = StreamingPipeline(st)
    events: list[PipelineEvent] = []
    for b in batches:
        events.extend(pl.feed(b))
    events.extend(pl.finish())
    return pl, events


def rechunk(batches: list[ImuBatch], size: int) -> list[ImuBatch]:
    """The same samples and arrival times in batches of ``size`` samples."""
    m = merge_batches(batches)
    assert m is not None
    out = []
    for i in range(0, len(m), size):
        ar = m.arrival_time_s[i : i + size]
        out.append(ImuBatch(float(ar[-1]), m.accel_mps2[i : i + size],
                            None if m.gyro_rads is None else m.gyro_rads[i : i + size],
                            None if m.sensor_time_s is None else m.sensor_time_s[i : i + size], m.rate_hz, ar))
    return out


def decisions(events: list[PipelineEvent]) -> list[tuple[str, float]]:
    """Event kinds and times, without the per-chunk trace and warnings (which follow chunking)."""
    return [(type(e).__name__, round(e.at_s, 9)) for e in events if not isinstance(e, TraceEvent | PipelineWarning)]
