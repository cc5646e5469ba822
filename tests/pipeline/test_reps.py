"""Rep segmentation: reps vs failed attempts, non-rep moves, set splitting, pick-ups."""

from __future__ import annotations

import pytest

from tests.pipeline.conftest import analyse
from tests.pipeline.synthetic import SensorModel, make_path
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


def test_provisional_of_a_failed_attempt_is_retracted() -> None:
    moves = [(0.0, 3.0), *squat_rep(), (-0.5, 1.2), (0.3, 1.0), (0.0, 1.5), (-0.35, 0.9), (0.0, 3.0)]
    _, events = analyse(make_path(moves, SENSOR), "squat")
    finals = [e for e in events if isinstance(e, RepFinal)]
    assert len(finals) == 1
    retracted = [e for e in events if isinstance(e, RepRetracted)]
    provisional_indices = {(e.set_index, e.rep.index) for e in events if type(e).__name__ == "RepProvisional"}
    for e in retracted:
        assert (e.set_index, e.rep_index) in provisional_indices
