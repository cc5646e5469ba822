"""ReplaySource pacing on a FakeClock: speeds, as-fast-as-possible, no drift, gaps, pause/seek/speed."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

from firmware_protocols import ImuBatch
from vbt.clock import FakeClock
from vbt.errors import InputFileError, UsageError
from vbt.recording.csv_import import csv_to_batches
from vbt.recording.format import RecordingHeader
from vbt.recording.reader import Recording
from vbt.recording.writer import RecordingWriter
from vbt.sources import LinkEvent, RawPacket
from vbt.sources.replay import CsvSource, ReplaySource, open_replay

WIT = "0000ffe4-0000-1000-8000-00805f9a34fb"
HEADER = RecordingHeader(body="packets", sensor="witmotion", rate_hz=50.0)


def recording(times, events=()) -> Recording:
    return Recording.from_packets(HEADER, [(t, WIT, bytes([k % 256])) for k, t in enumerate(times)], events)


def irregular_times(n=60, seed=1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.round(np.concatenate([[0.0], np.cumsum(rng.uniform(0.005, 0.05, n - 1))]), 6)


async def collect(source, on_item=None):
    """(clock time when received, item) for every item; ``on_item(k, item)`` may act on the source."""
    log = []
    async with source:
        async for item in source:
            log.append((source.clock.monotonic(), item))
            if on_item is not None:
                await on_item(len(log) - 1, item)
    return log


# --------------------------------------------------------------------------- pacing


@pytest.mark.parametrize("speed", [0.5, 1.0, 10.0])
def test_items_arrive_at_their_recorded_spacing_scaled_by_speed(speed):
    times = irregular_times()
    clock = FakeClock(start_s=1000.0)
    log = asyncio.run(collect(ReplaySource(recording(times), speed=speed, clock=clock)))
    assert [i.payload for _, i in log] == [bytes([k]) for k in range(len(times))]
    got = np.array([w for w, _ in log]) - 1000.0
    np.testing.assert_allclose(got, times / speed, atol=1e-9)
    assert [i.host_time_s for _, i in log] == times.tolist()  # original times, not re-stamped
    assert clock.slept_s == pytest.approx(times[-1] / speed)


def test_as_fast_as_possible_never_waits():
    times = irregular_times(2000)
    clock = FakeClock()
    src = ReplaySource(recording(times), speed=None, clock=clock)
    log = asyncio.run(collect(src))
    assert len(log) == 2000 and clock.slept_s == 0.0 and all(w == 0.0 for w, _ in log)
    assert src.finished and src.position_s == times[-1]


def test_fast_replay_lets_other_tasks_run():
    """speed=None must not starve the event loop (a dashboard redraws meanwhile)."""
    times = irregular_times(3000)
    ticks = []

    async def main():
        src = ReplaySource(recording(times), speed=None, clock=FakeClock())
        stop = asyncio.Event()

        async def other():
            while not stop.is_set():
                ticks.append(1)
                await asyncio.sleep(0)

        task = asyncio.create_task(other())
        n = 0
        async with src:
            async for _ in src:
                n += 1
        stop.set()
        await task
        return n

    assert asyncio.run(main()) == 3000
    assert len(ticks) >= 3000 // 256


def test_schedule_is_deadline_based_without_drift():
    """A consumer that stalls 0.3 s gets the overdue items at once, then the original schedule."""
    times = np.arange(40) * 0.02
    clock = FakeClock()

    async def slow(k, item):
        if k == 10:
            await clock.sleep(0.3)  # 15 items' worth of processing

    log = asyncio.run(collect(ReplaySource(recording(times), clock=clock), slow))
    got = np.array([w for w, _ in log])
    expected = np.maximum(times, 0.2 + 0.3)  # item 10 at 0.2 s, consumer busy until 0.5 s
    expected[:11] = times[:11]
    np.testing.assert_allclose(got, expected, atol=1e-9)


def test_long_gaps_are_shortened():
    times = np.array([0.0, 0.1, 0.2, 60.2, 60.3, 200.3, 200.4])
    clock = FakeClock()
    log = asyncio.run(collect(ReplaySource(recording(times), clock=clock, skip_gaps_s=2.0, speed=2.0)))
    got = [w for w, _ in log]
    assert got == pytest.approx([0.0, 0.05, 0.1, 1.1, 1.15, 2.15, 2.2])


def test_events_and_types_pass_through_in_order():
    events = [LinkEvent(0.05, "disconnected", {"reason": "x"}), LinkEvent(0.5, "reconnected")]
    rec = recording(np.array([0.0, 0.02, 0.6, 0.62]), events)
    log = asyncio.run(collect(ReplaySource(rec, clock=FakeClock())))
    kinds = [type(i).__name__ if not isinstance(i, LinkEvent) else i.kind for _, i in log]
    assert kinds == ["RawPacket", "RawPacket", "disconnected", "reconnected", "RawPacket", "RawPacket"]
    assert [w for w, _ in log] == pytest.approx([0.0, 0.02, 0.05, 0.5, 0.6, 0.62])


def test_start_time_skips_earlier_items():
    times = np.arange(20) * 0.1
    log = asyncio.run(collect(ReplaySource(recording(times), clock=FakeClock(), start_s=1.05)))
    assert log[0][1].host_time_s == pytest.approx(1.1) and len(log) == 9
    assert log[0][0] == pytest.approx(0.05)  # the wait from 1.05 to the next item is kept


def test_recording_that_starts_late_does_not_wait_for_its_first_item():
    times = 1.7e9 + np.arange(5) * 0.01  # a CSV logged with Unix time
    log = asyncio.run(collect(ReplaySource(recording(times), clock=FakeClock())))
    assert [w for w, _ in log] == pytest.approx([0.0, 0.01, 0.02, 0.03, 0.04])


# --------------------------------------------------------------------------- transport controls


def test_pause_and_resume_between_items():
    times = np.arange(20) * 0.1
    clock = FakeClock()
    src = ReplaySource(recording(times), clock=clock)

    async def control(k, item):
        if k == 5:
            src.pause()
            assert src.paused and src.position_s == pytest.approx(0.5)

            async def later():
                await clock.sleep(3.0)
                src.resume()

            asyncio.get_running_loop().create_task(later())

    log = asyncio.run(collect(src, control))
    got = np.array([w for w, _ in log])
    np.testing.assert_allclose(got[:6], times[:6], atol=1e-9)
    np.testing.assert_allclose(got[6:], times[6:] + 3.0, atol=1e-9)


def test_pause_during_a_long_gap_takes_effect_at_once():
    times = np.array([0.0, 0.1, 10.1, 10.2])
    clock = FakeClock()
    src = ReplaySource(recording(times), clock=clock)

    async def main():
        async def controller():
            await clock.sleep(2.1)  # 2 s into the 10 s gap
            src.pause()
            assert src.position_s == pytest.approx(2.1)
            await clock.sleep(5.0)
            src.resume()

        task = asyncio.create_task(controller())
        log = await collect(src)
        await task
        return log

    got = [w for w, _ in asyncio.run(main())]
    assert got == pytest.approx([0.0, 0.1, 15.1, 15.2])  # the 5 s pause added, the rest of the gap kept


def test_seek_forward_and_back():
    times = np.arange(50) * 0.1
    clock = FakeClock()
    src = ReplaySource(recording(times), clock=clock)
    seen = []

    async def control(k, item):
        seen.append(round(item.host_time_s, 6))
        if k == 3:
            src.seek(3.05)  # forward: next is the item at 3.1, 0.05 s later
        if k == 8:
            src.seek(0.0)  # back to the start: everything again

    log = asyncio.run(collect(src, control))
    assert seen[:4] == [0.0, 0.1, 0.2, 0.3]
    assert seen[4:9] == [3.1, 3.2, 3.3, 3.4, 3.5]
    assert seen[9:] == [round(t, 6) for t in times.tolist()]
    got = [w for w, _ in log]
    assert got[4] == pytest.approx(0.3 + 0.05) and got[8] == pytest.approx(0.3 + 0.05 + 0.4)
    assert got[9] == pytest.approx(got[8]) and got[-1] == pytest.approx(got[8] + 4.9)


def test_seek_while_paused():
    times = np.arange(30) * 0.1
    clock = FakeClock()
    src = ReplaySource(recording(times), clock=clock)

    async def control(k, item):
        if k == 2:
            src.pause()
            src.seek(2.0)

            async def later():
                await clock.sleep(1.0)
                src.resume()

            asyncio.get_running_loop().create_task(later())

    log = asyncio.run(collect(src, control))
    assert [round(i.host_time_s, 6) for _, i in log][:4] == [0.0, 0.1, 0.2, 2.0]
    assert log[3][0] == pytest.approx(0.2 + 1.0)


def test_speed_change_mid_replay_keeps_continuity():
    times = np.arange(21) * 0.1
    clock = FakeClock()
    src = ReplaySource(recording(times), clock=clock)

    async def control(k, item):
        if k == 10:
            src.speed = 10.0
        if k == 15:
            src.speed = None

    log = asyncio.run(collect(src, control))
    got = np.array([w for w, _ in log])
    np.testing.assert_allclose(got[:11], times[:11], atol=1e-9)
    np.testing.assert_allclose(got[11:16], 1.0 + (times[11:16] - 1.0) / 10, atol=1e-9)
    assert np.all(got[16:] == got[15])  # as fast as possible from there
    assert src.speed is None


def test_speed_change_during_a_wait_reschedules_it():
    times = np.array([0.0, 10.0])
    clock = FakeClock()
    src = ReplaySource(recording(times), clock=clock)

    async def main():
        async def controller():
            await clock.sleep(2.0)
            src.speed = 4.0  # 8 recording seconds left: 2 s at 4x

        task = asyncio.create_task(controller())
        log = await collect(src)
        await task
        return log

    assert [w for w, _ in asyncio.run(main())] == pytest.approx([0.0, 4.0])


def test_controls_from_another_thread():
    """The dashboard calls pause/resume from the Qt thread while the replay runs in a worker loop."""
    times = np.arange(10) * 0.1
    clock = FakeClock()
    src = ReplaySource(recording(times), clock=clock)

    async def control(k, item):
        if k == 4:
            t = threading.Thread(target=src.pause)
            t.start()
            t.join()

            async def later():
                await clock.sleep(2.0)
                threading.Thread(target=src.resume).start()

            asyncio.get_running_loop().create_task(later())

    got = [w for w, _ in asyncio.run(collect(src, control))]
    assert got[:5] == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])
    assert got[5] == pytest.approx(0.5 + 2.0, abs=1e-6)


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf")])
def test_unusable_speed(bad):
    with pytest.raises(UsageError, match="replay speed above 0"):
        ReplaySource(recording([0.0]), speed=bad)
    src = ReplaySource(recording([0.0]))
    with pytest.raises(UsageError):
        src.speed = bad


# --------------------------------------------------------------------------- files and CSV


def test_replay_from_a_file_path(tmp_path):
    path = tmp_path / "r.jsonl.gz"
    with RecordingWriter(path, HEADER) as w:
        for k in range(30):
            w.write_packet(5.0 + k * 0.02, WIT, bytes([k]))
    src = ReplaySource(path, clock=FakeClock(), speed=None)
    assert src.header.sensor == "witmotion"  # known before open, from the header line
    log = asyncio.run(collect(src))
    assert [i.payload for _, i in log] == [bytes([k]) for k in range(30)]
    assert all(isinstance(i, RawPacket) for _, i in log) and src.warnings == []
    assert src.duration_s == pytest.approx(0.58)


def test_missing_file_fails_at_construction(tmp_path):
    with pytest.raises(InputFileError, match="does not exist"):
        ReplaySource(tmp_path / "nope.jsonl")


def test_csv_replays_through_the_same_path(tmp_path):
    path = tmp_path / "set.csv"
    rows = [f"{k * 0.01:.2f},0,0,{1 + 0.1 * np.sin(k / 7):.5f},1,2,3" for k in range(300)]
    path.write_text("t,ax,ay,az,gx,gy,gz\n" + "\n".join(rows) + "\n")
    clock = FakeClock()
    src = open_replay(path, clock=clock, exercise="bench", load_kg=60.0)
    assert isinstance(src, CsvSource)
    log = asyncio.run(collect(src))
    batches = [i for _, i in log]
    assert all(isinstance(b, ImuBatch) for b in batches)
    expected = csv_to_batches(path)
    assert len(batches) == len(expected) and all(a.same_samples(b) for a, b in zip(batches, expected, strict=True))
    assert src.header.exercise == "bench" and src.header.load_kg == 60.0 and src.header.rate_hz == pytest.approx(100)
    # batches arrive when their last sample is due
    assert [w for w, _ in log] == pytest.approx([b.host_time_s for b in expected])


def test_open_replay_picks_the_reader_by_suffix(tmp_path):
    path = tmp_path / "r.jsonl"
    with RecordingWriter(path, HEADER) as w:
        w.write_packet(0.0, WIT, b"")
    assert type(open_replay(path)) is ReplaySource


def test_a_second_iteration_starts_again_from_the_start():
    times = np.arange(5) * 0.1
    clock = FakeClock()
    src = ReplaySource(recording(times), clock=clock, start_s=0.2)

    async def main():
        first = [(clock.monotonic(), i.host_time_s) async for i in src]
        second = [(clock.monotonic(), i.host_time_s) async for i in src]
        return first, second

    first, second = asyncio.run(main())
    assert [t for _, t in first] == [t for _, t in second] == pytest.approx([0.2, 0.3, 0.4])
    assert [w for w, _ in second] == pytest.approx([0.2, 0.3, 0.4])  # paced again, no burst
