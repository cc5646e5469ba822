"""Worker -> UI message pump: coalescing keeps meaning, nothing is dropped, frames follow the timer."""

from __future__ import annotations

import threading

import numpy as np
from ui_factories import make_rep, make_set

from vbt.ui import messages as m
from vbt.ui.bridge import Bridge, coalesce
from vbt.ui.model import DashboardModel
from vbt.ui.worker import AsyncWorker


def _trace(t0: float, n: int, received: float | None = None) -> m.TracePoints:
    t = t0 + np.arange(n) * 0.01
    return m.TracePoints(t, np.sin(t), received)


def test_coalesce_merges_trace_and_keeps_newest_status():
    msgs = [
        _trace(0.0, 3), _trace(0.03, 2, received=5.0),
        m.LinkHealth(rate_hz=99.0), m.ReplayProgress(1.0, 10.0, False, 1.0),
        m.RepUpdate(1, make_rep(1, 0.6, provisional=True)),
        _trace(0.05, 4),
        m.LinkHealth(rate_hz=100.0), m.RepUpdate(1, make_rep(1, 0.61)),
        m.ReplayProgress(2.0, 10.0, False, 1.0),
    ]
    out = coalesce(msgs)
    kinds = [type(x).__name__ for x in out]
    assert kinds == ["TracePoints", "TracePoints", "LinkHealth", "RepUpdate", "ReplayProgress"]
    assert out[0].t_s.size == 5 and out[0].received_s == 5.0
    assert out[1].t_s.size == 4
    assert out[2].rate_hz == 100.0 and out[3].rep.mean_velocity_mps == 0.61 and out[4].position_s == 2.0


def test_coalesce_gives_the_model_the_same_end_state():
    sr = make_set()
    msgs: list = [m.SetStarted(1, 0.0)]
    for rep in sr.reps:
        prov = make_rep(rep.index, rep.mean_velocity_mps * 0.97, provisional=True)
        msgs += [_trace(rep.start_s, 7), m.RepUpdate(1, prov), _trace(rep.end_s, 3), m.RepUpdate(1, rep, 2, 0.56)]
    msgs.append(m.SetEnded(sr))
    a, b = DashboardModel(), DashboardModel()
    a.apply_all(msgs)
    b.apply_all(coalesce(msgs))
    assert [r.mean_velocity_mps for r in a.current_set.reps] == [r.mean_velocity_mps for r in b.current_set.reps]
    assert np.array_equal(a.trace.view()[0], b.trace.view()[0])
    assert a.current_set.stop_velocity_mps == b.current_set.stop_velocity_mps == 0.56


def test_rep_updates_are_not_merged_across_a_retraction():
    msgs = [m.RepUpdate(1, make_rep(3, 0.5, provisional=True)), m.RepRetracted(1, 3),
            m.RepUpdate(1, make_rep(3, 0.52, provisional=True))]
    model = DashboardModel()
    model.apply_all(coalesce(msgs))
    assert [r.mean_velocity_mps for r in model.current_set.reps] == [0.52]


def test_worker_thread_posts_everything_and_the_timer_drains_it(qtbot):
    """A burst far faster than the frame rate: every trace sample arrives, in few frames."""
    bridge = Bridge(fps=30)
    worker = AsyncWorker()
    worker.start()
    n_chunks, chunk = 2000, 5

    async def produce() -> str:
        for i in range(n_chunks):
            bridge.post(_trace(i * chunk * 0.01, chunk))
        bridge.post(m.Notice("info", "done"))
        return threading.current_thread().name

    try:
        bridge.start()
        thread_name = worker.run(produce(), timeout_s=30)
        qtbot.waitUntil(lambda: bool(bridge.model.notices), timeout=10_000)
    finally:
        bridge.stop()
        assert worker.stop()
    assert thread_name == worker.name != threading.current_thread().name
    assert bridge.model.trace.total == n_chunks * chunk  # nothing dropped
    assert bridge.received == n_chunks + 1
    assert bridge.frames < n_chunks / 10  # drawing followed the timer, not the data
    t, _ = bridge.model.trace.view()
    assert np.all(np.diff(t) > 0)  # order kept across chunks


def test_stop_raised_once_per_set(qtbot):
    bridge = Bridge()
    raised = []
    bridge.stop_raised.connect(raised.append)
    for rep in make_set().reps:
        bridge.post(m.RepUpdate(1, rep))
        bridge.drain()
    bridge.post(m.RepUpdate(2, make_rep(1, 0.5, flag="stop", rir=2.0, vl=20.0)))
    bridge.drain()
    assert [a.headline for a in raised] == ["STOP - about 2 reps left", "STOP - about 2 reps left"]
    assert [a.rep_index for a in raised] == [7, 1]


def test_latency_is_measured_from_host_receive_to_drain():
    now = [100.0]
    bridge = Bridge(perf_clock=lambda: now[0])
    bridge.post(_trace(0.0, 3, received=99.93))
    bridge.drain()
    assert abs(bridge.model.link.health.latency_ms - 70.0) < 1e-6


def test_worker_stop_cancels_running_tasks_and_lets_them_clean_up():
    import asyncio

    worker = AsyncWorker()
    worker.start()
    started, cleaned = threading.Event(), threading.Event()

    async def forever() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            cleaned.set()

    worker.submit(forever())
    assert started.wait(10)
    assert worker.stop(timeout_s=10)
    assert cleaned.is_set() and not worker.is_running
