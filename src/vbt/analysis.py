"""Offline analysis of a whole file: `analyze_path` (what ``vbt analyze`` runs).

Native recordings (raw packets or decoded samples) and generic CSV files go through the same
`vbt.session.Session` -- decoder, `vbt.pipeline.streaming.StreamingPipeline`, fatigue tracker --
as live data. The bulk path differs only in how the input is *fed*: packets of one
characteristic are decoded with `Decoder.feed_many` and samples are handed over in large merged
batches (`firmware_protocols.merge_batches` semantics: per-sample arrival times kept), a few
seconds of data at a time. The pipeline's output does not depend on chunking, so the result is
the same as replaying the file notification by notification (``tests/test_analysis.py`` checks
it); link events are applied at their place in the stream.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from firmware_protocols import ImuBatch, merge_batches
from vbt.errors import InputFileError
from vbt.fatigue.tracker import FatigueTracker
from vbt.pipeline.results import AnalysisResult
from vbt.pipeline.settings import PipelineSettings
from vbt.recording.format import BODY_PACKETS, RecordingHeader
from vbt.recording.reader import Recording, open_recording, sample_times_are_sensor_times
from vbt.session import Listener, Session
from vbt.sources._base import LinkEvent

#: Seconds of input fed to the pipeline at a time in the bulk path (bounds memory; any value
#: gives the same result).
BULK_CHUNK_S = 30.0

#: ``progress(done_fraction)`` callback type.
Progress = Callable[[float], None]


def is_csv(path: Path) -> bool:
    """True for ``.csv`` / ``.csv.gz`` files (analysed as generic CSV, else as recordings)."""
    name = path.name.lower()
    return name.endswith(".csv") or name.endswith(".csv.gz")


def load_input(path: str | Path, *, acc_unit: str = "g", gyro_unit: str = "dps") -> Recording:
    """Open a native recording or import a CSV file as an in-memory samples recording.

    Raises:
        InputFileError: missing, a directory, empty, unreadable, or not a recording/CSV.
        RecordingFormatError, CsvImportError, UnsupportedFormatVersionError: damaged content.
    """
    p = Path(path)
    if not p.exists():
        raise InputFileError(p, "does not exist", "check the path")
    if p.is_dir():
        raise InputFileError(p, "is a directory", "give a recording or CSV file (or use `vbt analyze DIR`)")
    if is_csv(p):
        from vbt.recording.csv_import import read_csv_samples

        return read_csv_samples(p, acc_unit=acc_unit, gyro_unit=gyro_unit).to_recording()
    return open_recording(p)


def analyze_recording(
    recording: Recording,
    *,
    exercise: str | None = None,
    load_kg: float | None = None,
    settings: PipelineSettings | None = None,
    tracker: FatigueTracker | None = None,
    target_rir: int = 2,
    listeners: tuple[Listener, ...] = (),
    progress: Progress | None = None,
    source_name: str | None = None,
) -> AnalysisResult:
    """Analyse an already opened recording (bulk path; see the module docstring)."""
    session = Session(
        exercise=exercise, load_kg=load_kg, settings=settings, tracker=tracker, listeners=listeners,
        target_rir=target_rir,
    )
    session.source_name = source_name if source_name is not None else str(recording.path)
    session.start(recording.header)
    events = sorted(recording.events(), key=lambda e: e.host_time_s)
    if recording.header.body == BODY_PACKETS:
        _feed_packets(session, recording, events, progress)
    else:
        _feed_samples(session, recording, events, progress)
    session.finish()
    result = session.result()
    result.warnings = list(dict.fromkeys(list(recording.warnings) + result.warnings))
    if progress is not None:
        progress(1.0)
    return result


def analyze_path(
    path: str | Path,
    *,
    exercise: str | None = None,
    load_kg: float | None = None,
    acc_unit: str = "g",
    gyro_unit: str = "dps",
    settings: PipelineSettings | None = None,
    tracker: FatigueTracker | None = None,
    target_rir: int = 2,
    listeners: tuple[Listener, ...] = (),
    progress: Progress | None = None,
) -> AnalysisResult:
    """Analyse a native recording (``.jsonl``/``.jsonl.gz``) or a generic CSV file.

    Args:
        path: The input file.
        exercise: Exercise name (None: the recording's own, else ``generic``).
        load_kg: Bar + plates (None: the recording's own); enables power.
        acc_unit, gyro_unit: Units of a CSV's columns (``g``/``mps2``, ``dps``/``rads``).
        settings: Pipeline settings (default `vbt.pipeline.settings.DEFAULT_SETTINGS`).
        tracker: Fatigue tracker (default: one for the exercise and load).
        target_rir: Target reps in reserve for the default tracker.
        listeners: Receive every pipeline event, as in a live session.
        progress: Called with the fraction done (0-1) now and then.

    Returns:
        The `AnalysisResult` (``vbt analyze --format json`` is its ``to_dict()``).

    Raises:
        VbtError: unusable input, with a message naming the file and what to do.
    """
    recording = load_input(path, acc_unit=acc_unit, gyro_unit=gyro_unit)
    return analyze_recording(
        recording, exercise=exercise, load_kg=load_kg, settings=settings, tracker=tracker,
        target_rir=target_rir, listeners=listeners, progress=progress, source_name=str(path),
    )


# --------------------------------------------------------------------------- feeding


def _event_cuts(times: np.ndarray, events: list[LinkEvent]) -> list[int]:
    """Data-row index before which each event applies (events precede data of equal time)."""
    return [int(np.searchsorted(times, e.host_time_s, side="left")) for e in events]


def _feed_packets(session: Session, rec: Recording, events: list[LinkEvent], progress: Progress | None) -> None:
    columns = rec.packet_columns()
    if len(columns) != 1:
        # Several characteristics: their interleaving matters to some decoders; go item by item.
        n = max(rec.n_items, 1)
        for i, item in enumerate(rec.iter_items()):
            session.process_item(item)
            if progress is not None and i % 20000 == 0:
                progress(i / n)
        return
    (uuid, (times, payloads)), = columns.items()
    cuts = _event_cuts(times, events)
    decoder = session.decoder
    assert decoder is not None and session.pipeline is not None
    bounds = _chunk_bounds(times, cuts)
    ev_i = 0
    for a, b in bounds:
        while ev_i < len(events) and cuts[ev_i] <= a:
            session.link_event(events[ev_i])
            decoder = session.decoder or decoder
            ev_i += 1
        if b > a:
            batches = decoder.feed_many(uuid, payloads[a:b], times[a:b])
            merged = merge_batches(batches)
            if merged is not None:
                session.process_batches([merged])
        if progress is not None and len(times):
            progress(b / len(times))
    while ev_i < len(events):
        session.link_event(events[ev_i])
        ev_i += 1


def _feed_samples(session: Session, rec: Recording, events: list[LinkEvent], progress: Progress | None) -> None:
    t, acc, gyro = rec.sample_columns()
    cuts = _event_cuts(t, events)
    sensor_timed = sample_times_are_sensor_times(t)
    rate = rec.header.rate_hz
    ev_i = 0
    for a, b in _chunk_bounds(t, cuts):
        while ev_i < len(events) and cuts[ev_i] <= a:
            session.link_event(events[ev_i])
            ev_i += 1
        if b > a:
            tt = t[a:b]
            batch = ImuBatch(
                float(tt[-1]), acc[a:b], None if gyro is None else gyro[a:b], tt if sensor_timed else None,
                rate, tt,
            )
            session.process_batches([batch])
        if progress is not None and len(t):
            progress(b / len(t))
    while ev_i < len(events):
        session.link_event(events[ev_i])
        ev_i += 1


def _chunk_bounds(times: np.ndarray, cuts: list[int]) -> list[tuple[int, int]]:
    """Row ranges of about `BULK_CHUNK_S` each, also split at every event position."""
    n = len(times)
    if n == 0:
        return []
    edges = {0, n, *[c for c in cuts if 0 < c < n]}
    t0 = float(times[0])
    k = 1
    while True:
        i = int(np.searchsorted(times, t0 + k * BULK_CHUNK_S, side="left"))
        if i >= n:
            break
        edges.add(i)
        k += 1
    e = sorted(edges)
    return list(zip(e[:-1], e[1:], strict=True))


def header_of(path: str | Path) -> RecordingHeader:
    """The header of a recording, or a synthetic one for a CSV (no file body read for recordings)."""
    p = Path(path)
    if is_csv(p):
        return load_input(p).header
    from vbt.recording.reader import read_header

    return read_header(p)


__all__ = ["BULK_CHUNK_S", "analyze_path", "analyze_recording", "header_of", "is_csv", "load_input"]
