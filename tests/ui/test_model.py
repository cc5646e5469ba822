"""The dashboard model: ring buffer, set assembly from messages, STOP advice."""

from __future__ import annotations

import numpy as np
import pytest
from ui_factories import make_rep, make_set

from vbt.pipeline.results import FLAG_FAILURE, FLAG_STOP, AnalysisResult, FailedAttempt
from vbt.ui import messages as m
from vbt.ui.model import (
    DashboardModel,
    RingBuffer,
    SetState,
    forecast_text,
    rep_zone,
    rir_text,
    stop_advice,
)


def test_ring_buffer_keeps_newest_samples_in_order_across_wraps():
    buf = RingBuffer(5)
    buf.append(np.arange(3.0), 10 * np.arange(3.0))
    t, v = buf.view()
    assert t.tolist() == [0, 1, 2] and v.tolist() == [0, 10, 20]
    buf.append(np.arange(3.0, 7.0), 10 * np.arange(3.0, 7.0))  # wraps
    t, v = buf.view()
    assert t.tolist() == [2, 3, 4, 5, 6] and v.tolist() == [20, 30, 40, 50, 60]
    buf.append(np.arange(7.0, 19.0), 10 * np.arange(7.0, 19.0))  # longer than capacity
    t, v = buf.view()
    assert t.tolist() == [14, 15, 16, 17, 18]
    assert buf.total == 19 and len(buf) == 5


def test_ring_buffer_many_small_chunks_equal_one_big_chunk():
    rng = np.random.default_rng(3)
    t = np.cumsum(rng.uniform(0.005, 0.02, 1000))
    a, b = RingBuffer(128), RingBuffer(128)
    a.append(t, np.sin(t))
    i = 0
    while i < t.size:
        n = int(rng.integers(1, 40))
        b.append(t[i:i + n], np.sin(t[i:i + n]))
        i += n
    assert np.array_equal(a.view()[0], b.view()[0]) and np.array_equal(a.view()[1], b.view()[1])


def test_ring_buffer_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="differ in length"):
        RingBuffer(4).append(np.zeros(3), np.zeros(2))


def test_final_rep_replaces_its_provisional_version():
    state = SetState(index=1)
    state.upsert_rep(make_rep(2, 0.6, provisional=True))
    state.upsert_rep(make_rep(1, 0.7))
    state.upsert_rep(make_rep(2, 0.61))
    assert [r.index for r in state.reps] == [1, 2]
    assert state.reps[1].mean_velocity_mps == 0.61 and not state.reps[1].provisional
    assert state.retract_rep(2) and [r.index for r in state.reps] == [1]


def test_sequence_puts_failed_attempts_where_they_happened():
    sr = make_set(failed_attempt=True)
    state = SetState.from_set_result(sr)
    seq = state.sequence()
    assert len(seq) == 9 and isinstance(seq[-1], FailedAttempt)
    assert state.stop_rep_index == 7


@pytest.mark.parametrize(
    ("rir", "flag", "headline"),
    [
        (2.0, FLAG_STOP, "STOP - about 2 reps left"),
        (1.2, FLAG_STOP, "STOP - about 1 rep left"),
        (0.3, FLAG_STOP, "STOP - about 1 rep left"),  # stop flag never says "0 reps"
        (None, FLAG_STOP, "STOP - about 1-2 reps left"),
        (0.0, FLAG_FAILURE, "STOP - no reps left"),
    ],
)
def test_stop_advice_headline(rir, flag, headline):
    state = SetState(index=1)
    state.upsert_rep(make_rep(1, 0.7, vl=0.0, rir=6.0))
    state.upsert_rep(make_rep(2, 0.5, flag=flag, vl=28.6, rir=rir))
    advice = stop_advice(state)
    assert advice is not None and advice.headline == headline and advice.rep_index == 2
    assert "velocity loss 29 %" in advice.detail


def test_no_stop_advice_while_continuing_and_failed_attempt_wins():
    state = SetState(index=1)
    state.upsert_rep(make_rep(1, 0.7, vl=0.0, rir=5.0))
    assert stop_advice(state) is None
    assert forecast_text(state.last_rep) == "about 5 reps left"
    state.add_failed_attempt(FailedAttempt(state.last_rep.end_s + 3, state.last_rep.end_s + 5, 0.1))
    advice = stop_advice(state)
    assert advice is not None and advice.level == "failure" and advice.headline == "STOP - failed rep"


def test_rir_text_and_zone():
    rep = make_rep(3, 0.6, vl=12.0, rir=3.4)
    assert rir_text(rep) == "RIR 3 (2-4)"
    assert rep_zone(rep) == "continue"
    assert rep_zone(make_rep(1, 0.6, provisional=True)) == "pending"
    assert rir_text(make_rep(1, 0.6)) == "" and forecast_text(make_rep(1, 0.6)).startswith("reps left: needs")
    bounded = make_rep(1, 0.6)
    bounded.rir_interval = (3.0, 12.0)  # no point estimate yet, but at least 3 left
    assert rir_text(bounded) == "RIR 3+" and forecast_text(bounded) == "at least 3 reps left"
    bounded.rir_interval = (0.0, 12.0)  # "at least 0" says nothing: not shown
    assert rir_text(bounded) == "" and forecast_text(bounded).startswith("reps left: needs")


def test_model_builds_sets_from_messages_and_marks_dirty_parts():
    model = DashboardModel(trace_capacity=100)
    sr = make_set(index=1)
    model.apply(m.SetStarted(1, sr.start_s))
    for rep in sr.reps:
        model.apply(m.RepUpdate(1, m.copy_rep(rep), reference_rep_index=2, stop_velocity_mps=0.56))
    assert model.take_dirty() >= {"set", "sets"}
    assert [r.index for r in model.current_set.reps] == list(range(1, 9))
    assert model.current_set.reference_rep.mean_velocity_mps == 0.74
    assert model.current_set.stop_velocity_mps == 0.56
    model.apply(m.TracePoints(np.array([0.0, 0.1]), np.array([0.0, 0.3])))
    assert model.take_dirty() == {"trace"} and model.trace.total == 2
    # The STOP is announced exactly once per set.
    first = model.take_new_stop()
    assert first is not None and first.headline == "STOP - about 1 rep left"
    assert model.take_new_stop() is None
    model.apply(m.SetEnded(sr))
    assert model.current_set.ended and model.counts["RepUpdate"] == 8


def test_session_finished_result_is_authoritative():
    model = DashboardModel()
    model.apply(m.RepUpdate(1, make_rep(1, 0.5, provisional=True)))
    final = make_set(index=1)
    result = AnalysisResult(source="x", exercise="squat", sample_rate_hz=100.0, duration_s=40.0, sets=[final])
    model.apply(m.SessionFinished(result=result))
    assert [r.mean_velocity_mps for r in model.current_set.reps] == [r.mean_velocity_mps for r in final.reps]
    assert model.finished is not None and "finished" in model.take_dirty()


def test_recording_error_becomes_an_error_notice():
    model = DashboardModel()
    model.apply(m.RecordingState(active=False, path="/x.jsonl", error="recording to /x.jsonl stopped: disk full"))
    assert model.notices[-1].level == "error" and "disk full" in model.notices[-1].text
