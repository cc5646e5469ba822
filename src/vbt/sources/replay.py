"""Replaying recordings (and CSV files) as a `Source`, with their original timing.

`ReplaySource` yields a recording's items -- `RawPacket`, `ImuBatch`, `LinkEvent`, exactly as
`vbt.recording.reader.Recording.iter_items` gives them, original host times untouched -- so a
replay runs through the same decoder -> pipeline -> listeners path as a live sensor.

Pacing follows python-can's ``MessageSync`` (style.md section 1), with the clock injected:

* reading and pacing are separate: the `Recording` is parsed once, this class only decides
  *when* to hand out each item;
* deadline-based: item *k* is due at ``anchor_wall + (t_k - anchor_t) / speed`` on the clock,
  so late wake-ups never accumulate into drift;
* ``speed=None`` replays as fast as the consumer takes items (yielding to the event loop every
  few hundred items so a dashboard stays responsive);
* ``skip_gaps_s`` shortens every idle stretch longer than it to exactly that long (recordings
  with long rests between sets replay without the wait).

Transport controls for the dashboard -- `pause`, `resume`, `seek` and the `speed` property --
can be called at any time, also from another thread; they take effect between items (a long
wait in a gap is interrupted at once) and re-anchor the schedule, so playback continues
smoothly from the current position. Tests drive all of it on a `vbt.clock.FakeClock`.
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from firmware_protocols import ImuBatch
from vbt.clock import Clock, MonotonicClock
from vbt.errors import UsageError
from vbt.recording.csv_import import read_csv_samples
from vbt.recording.format import BODY_SAMPLES, RecordingHeader
from vbt.recording.reader import Recording, open_recording, read_header
from vbt.sources._base import LinkEvent, RawPacket, Source, SourceItem

#: With ``speed=None``, hand control back to the event loop after this many items.
FAST_YIELD_EVERY = 256

#: Suffixes `open_replay` treats as generic CSV rather than as a vbt recording.
CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".txt")


def _check_speed(speed: float | None) -> float | None:
    if speed is None:
        return None
    value = float(speed)
    if not math.isfinite(value) or value <= 0:
        raise UsageError("--speed", speed, "give a replay speed above 0 (1 = real time), or none for as fast as possible")
    return value


class ReplaySource(Source):
    """Yields a recording's items with their original spacing (see the module docstring).

    Args:
        recording_or_path: An opened `Recording`, or the path of one (parsed in `open`, in a
            worker thread so an event loop driving a UI is not blocked).
        speed: Playback speed factor (2.0 = twice as fast), or None for as fast as possible.
        clock: What to wait on; `vbt.clock.MonotonicClock` by default, a `FakeClock` in tests.
        skip_gaps_s: Shorten idle gaps longer than this to this length (None: keep them).
        start_s: Recording time to start from (items before it are skipped).

    Raises:
        UsageError: A speed, gap or start that is not a usable number.
        InputFileError: The path is missing, a directory, empty or not a recording (checked
            at once from the header; the body is validated in `open`).
    """

    def __init__(
        self,
        recording_or_path: Recording | str | Path,
        *,
        speed: float | None = 1.0,
        clock: Clock | None = None,
        skip_gaps_s: float | None = None,
        start_s: float = 0.0,
    ) -> None:
        self._speed = _check_speed(speed)
        if skip_gaps_s is not None and (not math.isfinite(skip_gaps_s) or skip_gaps_s <= 0):
            raise UsageError("--skip-gaps", skip_gaps_s, "give a gap length in seconds above 0")
        if not math.isfinite(start_s):
            raise UsageError("--start", start_s, "give a start time in seconds")
        self.clock: Clock = clock if clock is not None else MonotonicClock()
        self.skip_gaps_s = skip_gaps_s
        if isinstance(recording_or_path, Recording):
            self._recording: Recording | None = recording_or_path
            self.path = recording_or_path.path
            self.header = recording_or_path.header
        else:
            self._recording = None
            self.path = Path(recording_or_path)
            self.header = self._peek_header()
        self._lock = threading.Lock()
        self._paused = False
        self._start_s = float(start_s)
        self._seek_to: float | None = start_s
        self._generation = 0  # bumped by every control call; wakes a waiting replay
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        # schedule: recording time anchor_t is due at clock time anchor_wall
        self._anchor: tuple[float, float] | None = None
        self._position_s = start_s
        self._next_t = start_s
        self._finished = False

    # ------------------------------------------------------------------ loading

    def _peek_header(self) -> RecordingHeader:
        return read_header(self.path)

    def _load(self) -> Recording:
        return open_recording(self.path)

    async def open(self) -> None:
        """Parse the recording if given by path (in a worker thread)."""
        if self._recording is None:
            self._recording = await asyncio.to_thread(self._load)
            self.header = self._recording.header

    @property
    def recording(self) -> Recording:
        """The recording being replayed (after `open`)."""
        if self._recording is None:
            raise RuntimeError("the replay source is not open yet; use `async with source:`")
        return self._recording

    @property
    def warnings(self) -> list[str]:
        """The recording's read warnings (e.g. a cut-off last line), after `open`."""
        return list(self._recording.warnings) if self._recording is not None else []

    @property
    def duration_s(self) -> float:
        """Recording time of its last item (after `open`)."""
        return self.recording.end_s

    # ------------------------------------------------------------------ transport controls

    @property
    def speed(self) -> float | None:
        """Playback speed factor, or None for as fast as possible; settable while playing."""
        return self._speed

    @speed.setter
    def speed(self, value: float | None) -> None:
        value = _check_speed(value)
        with self._lock:
            self._anchor = self._reanchor_now() if value is not None and self._speed is not None else None
            self._speed = value
            self._generation += 1
        self._signal()

    @property
    def paused(self) -> bool:
        return self._paused

    def pause(self) -> None:
        """Stop handing out items (after the current one) until `resume`."""
        with self._lock:
            if not self._paused:
                self._position_s = self._current_position()
                self._paused = True
                self._anchor = None
                self._generation += 1
        self._signal()

    def resume(self) -> None:
        """Continue from where `pause` stopped, at the current speed."""
        with self._lock:
            if self._paused:
                self._paused = False
                self._anchor = None  # re-anchored at the position where the pause began
                self._generation += 1
        self._signal()

    def seek(self, t_s: float) -> None:
        """Continue from recording time ``t_s`` (the first item at or after it); works while paused."""
        if not math.isfinite(t_s):
            raise UsageError("seek", t_s, "give a time in seconds")
        with self._lock:
            self._seek_to = float(t_s)
            self._position_s = float(t_s)
            self._anchor = None
            self._generation += 1
        self._signal()

    @property
    def position_s(self) -> float:
        """Current playback position in recording time (last item handed out, or a seek target)."""
        with self._lock:
            return self._current_position()

    @property
    def finished(self) -> bool:
        """True once every item has been handed out."""
        return self._finished

    def _current_position(self) -> float:
        # where playback is between items: the schedule's recording time "now", but never past
        # the next item (it has not been handed out)
        if self._anchor is None or self._speed is None or self._paused:
            return self._position_s
        wall, t = self._anchor
        return max(self._position_s, min(t + (self.clock.monotonic() - wall) * self._speed, self._next_t))

    def _reanchor_now(self) -> tuple[float, float] | None:
        if self._anchor is None:
            return None
        return (self.clock.monotonic(), self._current_position())

    def _signal(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is None or wake is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            wake.set()
        else:  # called from another thread (a UI): hand the wake-up to the replay's loop
            loop.call_soon_threadsafe(wake.set)

    # ------------------------------------------------------------------ iteration

    def __aiter__(self) -> AsyncIterator[SourceItem]:
        return self._run()

    async def _run(self) -> AsyncIterator[SourceItem]:
        if self._recording is None:
            await self.open()
        rec = self.recording
        times = rec.item_times_s()
        n = int(times.shape[0])
        first_t = rec.start_s
        with self._lock:  # every iteration starts afresh (at start_s unless a seek is pending)
            if self._seek_to is None:
                self._seek_to = self._start_s
            self._anchor = None
            self._finished = False
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._next_t = float(times[0]) if n else 0.0
        index = 0
        items: Iterator[RawPacket | ImuBatch | LinkEvent] | None = None
        prev_t: float | None = None
        busy = 0  # items handed out since the replay last gave the event loop a turn
        while True:
            with self._lock:
                generation = self._generation
                paused = self._paused
                seek_to, self._seek_to = self._seek_to, None
                if seek_to is not None:
                    # before the recording's start there is nothing to wait for (CSV files may
                    # count time from 1970)
                    self._position_s = max(seek_to, first_t)
            if seek_to is not None:
                index = rec.item_index_at(seek_to)
                items, prev_t = None, None
            if paused:
                await self._wait_for_control(generation)
                busy = 0
                continue
            if index >= n:
                break
            t = float(times[index])
            self._next_t = t
            if self._speed is not None:
                with self._lock:
                    if self._anchor is None:
                        # (re)start the schedule at the current position: after a seek or a
                        # resume the wait to the next item is kept, at a start it is not
                        self._anchor = (self.clock.monotonic(), min(self._position_s, t))
                    elif prev_t is not None and self.skip_gaps_s is not None and t - prev_t > self.skip_gaps_s:
                        wall, anchor_t = self._anchor
                        self._anchor = (wall, anchor_t + (t - prev_t - self.skip_gaps_s))
                    wall, anchor_t = self._anchor
                    speed = self._speed
                deadline = wall + (t - anchor_t) / speed
                if self.clock.monotonic() < deadline:
                    busy = 0
                    if await self._sleep_until(deadline, generation):
                        continue  # a control call changed something: re-evaluate before yielding
            else:
                self._anchor = None
            busy += 1
            if busy >= FAST_YIELD_EVERY:
                busy = 0
                await asyncio.sleep(0)  # behind schedule or as fast as possible: let others run
                if self._generation != generation:
                    continue
            if items is None:
                items = rec.iter_items(index)
            item = next(items)
            index += 1
            prev_t = t
            with self._lock:
                self._position_s = t
            yield item
        self._finished = True

    async def _wait_for_control(self, generation: int) -> None:
        assert self._wake is not None
        self._wake.clear()
        if self._generation != generation:
            return
        await self._wake.wait()

    async def _sleep_until(self, deadline: float, generation: int) -> bool:
        """Wait until ``deadline``; True if a control call interrupted the wait."""
        assert self._wake is not None
        self._wake.clear()
        if self._generation != generation:
            return True
        sleeper = asyncio.ensure_future(self.clock.sleep_until(deadline))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            done, _ = await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, waker):
                if not task.done():
                    task.cancel()
            await asyncio.gather(sleeper, waker, return_exceptions=True)
        return waker in done and sleeper not in done

    async def close(self) -> None:
        """Nothing to release (the recording is in memory); safe to call twice."""
        self._signal()


class CsvSource(ReplaySource):
    """Replays a generic CSV file (see `vbt.recording.csv_import`) through the same path.

    Args:
        path: The CSV file.
        acc_unit: ``"g"`` or ``"mps2"``.
        gyro_unit: ``"dps"`` or ``"rads"``.
        exercise, load_kg, athlete: Lift metadata for the header (a CSV carries none).
        **replay: `ReplaySource` options (speed, clock, skip_gaps_s, start_s).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        acc_unit: str = "g",
        gyro_unit: str = "dps",
        exercise: str | None = None,
        load_kg: float | None = None,
        athlete: str | None = None,
        **replay: object,
    ) -> None:
        self.acc_unit = acc_unit
        self.gyro_unit = gyro_unit
        self._meta = {"exercise": exercise, "load_kg": load_kg, "athlete": athlete}
        super().__init__(path, **replay)  # type: ignore[arg-type]

    def _peek_header(self) -> RecordingHeader:
        # the real header (with the estimated rate) exists once the file is read in `open`
        return RecordingHeader(body=BODY_SAMPLES, sensor="imported", exercise=self._meta["exercise"],  # type: ignore[arg-type]
                               load_kg=self._meta["load_kg"], athlete=self._meta["athlete"],  # type: ignore[arg-type]
                               extra={"source_file": self.path.name})

    def _load(self) -> Recording:
        samples = read_csv_samples(self.path, self.acc_unit, self.gyro_unit)
        return samples.to_recording(**self._meta)


def open_replay(path: str | Path, *, acc_unit: str = "g", gyro_unit: str = "dps", **replay: object) -> ReplaySource:
    """A `CsvSource` for ``.csv``/``.csv.gz``/``.tsv``/``.txt`` files, else a `ReplaySource`."""
    name = Path(path).name.lower()
    if name.endswith(CSV_SUFFIXES):
        return CsvSource(path, acc_unit=acc_unit, gyro_unit=gyro_unit, **replay)  # type: ignore[arg-type]
    return ReplaySource(path, **replay)  # type: ignore[arg-type]


__all__ = ["CSV_SUFFIXES", "FAST_YIELD_EVERY", "CsvSource", "ReplaySource", "open_replay"]
