"""Rep segmentation: reps vs failed attempts, non-rep moves, set splitting, pick-ups."""

from __future__ import annotations

import numpy as np
import pytest

from tests.pipeline.conftest import analyse, rechunk
from tests.pipeline.synthetic import LinkModel, SensorModel, make_path, packetize, path, render
from vbt.pipeline.events import FailedAttemptEvent, RepFinal, RepRetracted, SetEnded

SENSOR = SensorModel(rate_hz=100.0, gyro=True, mount_deg=30.0, mount_axis=(0.0, 1.0, 0.0),
                     bias_mps2=(0.15, -0.1, 0.2), noise_mps2=0.01)


def squat_rep(depth: float = 0.5, ecc: float = 1.1, con: float = 0.9, hold: float = 1.2):
    return [(-depth, ecc), (depth, con), (0.0, hold)]


def test_failed_attempt_is_reported_and_never_a_rep() -> None:
    moves = [(0.0, 3.0), *squat_rep(), *squat_rep(), *squat_rep(con=1.3),
             (-0.5, 1.2), (0.18, 0.9), (0.0, 1.5), (-0.26, 0.8), (0.0, 3.0)]  # fails 18 cm up, dumps on safeties
    pl, events = analyse(make_path(moves, SENSOR), "squat")
    res = pl.result()
    assert len(res.reps) == 3
    assert len(res.sets[0].failed_attempts) == 1
    f = res.sets[0].failed_attempts[0]
    assert f.rom_m == pytest.approx(0.18, abs=0.05)
    assert any(isinstance(e, FailedAttemptEvent) for e in events)


def test_unrack_walkout_and_rerack_are_not_reps() -> None:
    moves = [(0.0, 3.0), (0.05, 0.5), (0.0, 0.5), (0.02, 0.3), (-0.02, 0.3), (0.015, 0.3), (0.0, 1.5),
             *squat_rep(), *squat_rep(), (0.0, 1.0), (-0.06, 0.6), (0.0, 4.0)]
    res = analyse(make_path(moves, SENSOR), "squat")[0].result()
    assert len(res.reps) == 2
    assert all(r.rom_m == pytest.approx(0.5, abs=0.03) for r in res.reps)
    assert res.sets[0].failed_attempts == []


def test_sets_split_at_long_rests() -> None:
    moves = [(0.0, 3.0), *squat_rep(), *squat_rep(), (0.0, 45.0), *squat_rep(), *squat_rep(), *squat_rep(),
             (0.0, 3.0)]
    pl, events = analyse(make_path(moves, SENSOR), "squat")
    res = pl.result()
    assert [len(s.reps) for s in res.sets] == [2, 3]
    assert [r.index for r in res.sets[1].reps] == [1, 2, 3]
    ended = [e for e in events if isinstance(e, SetEnded)]
    assert len(ended) == 2
    # The first set ends by itself after the rest threshold, before the second set starts.
    assert ended[0].at_s < res.sets[1].start_s


def test_row_pick_up_is_not_a_rep_but_pendlay_reps_are() -> None:
    pick_up = [(0.0, 3.0), (0.55, 1.0), (0.0, 1.0), (-0.3, 1.0)]  # floor -> standing -> hinge
    rows = [(0.32, 0.6), (0.0, 0.4), (-0.32, 0.8), (0.0, 0.4)] * 4
    pl, events = analyse(make_path(pick_up + rows + [(0.0, 3.0)], SENSOR), "row")
    res = pl.result()
    assert len(res.reps) == 4
    assert all(r.rom_m == pytest.approx(0.32, abs=0.03) for r in res.reps)
    pendlay = [(0.0, 3.0)] + [(0.45, 0.6), (0.0, 0.3), (-0.45, 0.8), (0.0, 0.8)] * 4 + [(0.0, 3.0)]
    res2 = analyse(make_path(pendlay, SENSOR), "row")[0].result()
    assert len(res2.reps) == 4


def test_row_stand_up_before_setting_the_bar_down_is_not_a_rep() -> None:
    """Standing up from the hang rises short of a row's top; the set-down then goes below the hang.

    A partial last rep and a failed attempt also end short of the top, but the bar goes back to
    the hang after them: they stay a rep and a failed attempt.
    """
    pick_up = [(0.0, 3.0), (0.55, 1.0), (0.0, 1.0), (-0.3, 1.0)]  # floor -> standing -> hinge (hang 0.25 m)
    rows = [(0.32, 0.6), (0.0, 0.4), (-0.32, 0.8), (0.0, 0.4)] * 4
    partial = [(0.22, 0.8), (0.0, 0.3), (-0.22, 0.7), (0.0, 0.6)]  # 69 % of the ROM
    failed = [(0.10, 0.6), (0.0, 0.3), (-0.10, 0.5), (0.0, 0.6)]
    finish = [(0.2, 0.7), (0.0, 1.5), (-0.45, 1.0), (0.0, 4.0)]  # stand up, set the bar down on the floor
    for tail, reps, fails in [([], 4, 0), (partial, 5, 0), (partial + failed, 5, 1)]:
        pl, events = analyse(make_path(pick_up + rows + tail + finish, SENSOR), "row")
        res = pl.result()
        assert len(res.reps) == reps, (tail, [r.rom_m for r in res.reps])
        assert sum(len(st.failed_attempts) for st in res.sets) == fails
        assert len(res.sets) == 1
        if tail:
            assert res.reps[-1].rom_m == pytest.approx(0.22, abs=0.03)
        # Whatever was shown live for the stand-up was taken back.
        shown = {(e.set_index, e.rep.index) for e in events if type(e).__name__ == "RepProvisional"}
        kept = {(st.index, r.index) for st in res.sets for r in st.reps}
        retracted = {(e.set_index, e.rep_index) for e in events if isinstance(e, RepRetracted)}
        assert shown - kept <= retracted


def test_provisional_of_a_failed_attempt_is_retracted() -> None:
    moves = [(0.0, 3.0), *squat_rep(), (-0.5, 1.2), (0.3, 1.0), (0.0, 1.5), (-0.35, 0.9), (0.0, 3.0)]
    _, events = analyse(make_path(moves, SENSOR), "squat")
    finals = [e for e in events if isinstance(e, RepFinal)]
    assert len(finals) == 1
    retracted = [e for e in events if isinstance(e, RepRetracted)]
    provisional_indices = {(e.set_index, e.rep.index) for e in events if type(e).__name__ == "RepProvisional"}
    for e in retracted:
        assert (e.set_index, e.rep_index) in provisional_indices


def _grind_deadlift(grind_mps: float, grind_s: float):
    """Three slowing deadlifts, then one that stalls into a steady grind: dense (t, v, a), truth."""
    fs = 1000.0
    ups = [(0.55, 1.2), (0.55, 1.4), (0.55, 1.7)]  # MCV 0.46, 0.39, 0.32 m/s
    _, v1, _ = path([(0.0, 3.0)] + [m for up in ups for m in (up, (0.0, 1.0), (-0.55, 1.0), (0.0, 2.0))])
    # Last rep: push to 0.35 m/s, slow to a steady grind, push through to 0.3 m/s, lockout.
    done = 0.5 * 0.35 * 0.3 + 0.5 * (0.35 + grind_mps) * 0.3 + grind_mps * grind_s + 0.5 * (grind_mps + 0.3) * 0.3
    kt = np.cumsum([0.0, 0.3, 0.3, grind_s, 0.3, 2.0 * (0.55 - done) / 0.3])
    kv = [0.0, 0.35, grind_mps, grind_mps, 0.3, 0.0]
    vg = np.interp(np.arange(0.0, kt[-1], 1.0 / fs), kt, kv)
    _, v3, _ = path([(0.0, 1.0), (-0.55, 1.0), (0.0, 3.0)])
    v = np.concatenate((v1, vg, v3))
    t = np.arange(len(v)) / fs
    start = len(v1) / fs
    return t, v, np.gradient(v, 1.0 / fs), {"start_s": start, "end_s": start + kt[-1], "mcv": 0.55 / kt[-1]}


@pytest.mark.parametrize("gyro", [True, False])
def test_a_steady_slow_grind_is_not_taken_for_a_stop(gyro: bool) -> None:
    """A slowing deadlift set's last lockout ground out at a steady 0.12 m/s for 1.5 s is one rep.

    To the accelerometer a constant velocity is stillness; the quiet-run fallbacks used to
    anchor (zero) such a grind, cutting the rep and losing its top half.
    """
    sensor = SensorModel(rate_hz=100.0, gyro=gyro, mount_deg=20.0, mount_axis=(0.0, 1.0, 0.0),
                         bias_mps2=(0.05, -0.03, 0.04), noise_mps2=0.01)
    t, v, a, truth = _grind_deadlift(0.12, 1.5)
    ts, acc, gy = render(t, v, a, sensor)
    batches = packetize(ts, acc, gy, sensor.rate_hz, LinkModel())
    res = analyse(batches, "deadlift")[0].result()
    assert len(res.reps) == 4
    assert res.sets[0].failed_attempts == []
    last = res.reps[-1]
    # The whole concentric, start to lockout...
    assert last.start_s == pytest.approx(truth["start_s"], abs=0.1)
    assert last.end_s == pytest.approx(truth["end_s"], abs=0.15)
    assert last.mean_velocity_mps == pytest.approx(truth["mcv"], abs=0.03)
    # ...though its ROM reads ~15 % short: the stop after a slow final approach is confirmed
    # while the bar still creeps (docs/analysis.md, Limits).
    assert last.rom_m == pytest.approx(0.55, abs=0.1)
    # The grind test keeps state across samples: chunking must not matter.
    again = analyse(rechunk(batches, 7), "deadlift")[0].result()
    assert [(r.start_s, r.end_s, r.mean_velocity_mps) for r in again.reps] == [
        (r.start_s, r.end_s, r.mean_velocity_mps) for r in res.reps
    ]
