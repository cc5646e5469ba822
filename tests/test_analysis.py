"""`vbt.analysis`: bulk offline analysis equals the live per-notification path; inputs; errors."""

from __future__ import annotations

import asyncio
import gzip

import numpy as np
import pytest

from vbt.analysis import analyze_path
from vbt.clock import FakeClock
from vbt.errors import InputFileError, RecordingFormatError, VbtError
from vbt.session import Session
from vbt.sim import Athlete, Scenario, SetPlan, simulate
from vbt.sources.replay import ReplaySource


def write_sim(tmp_path, name: str, **kw):
    sc = Scenario(Athlete.random(31), [SetPlan(kw.pop("exercise", "bench"), load_pct=75.0, stop_rir=2)], **kw)
    sim = simulate(sc, seed=31)
    path = tmp_path / f"{name}.jsonl.gz"
    sim.write(path)
    return path, sim


def live(path) -> dict:
    async def go():
        return await Session(ReplaySource(path, speed=None, clock=FakeClock())).run()

    return asyncio.run(go()).to_dict()


@pytest.mark.parametrize(("sensor", "rate", "gyro"), [("witmotion", 100.0, True), ("polar_h10", 50.0, False),
                                                      ("samples", 50.0, True)])
def test_bulk_analysis_equals_live_replay(tmp_path, sensor: str, rate: float, gyro: bool) -> None:
    path, sim = write_sim(tmp_path, sensor, rate_hz=rate, gyro=gyro, sensor=sensor, faults="typical")
    offline = analyze_path(path).to_dict()
    online = live(path)
    offline["source"] = online["source"] = ""
    assert offline == online
    assert len(offline["sets"]) == 1 and offline["sets"][0]["reps"]


def test_csv_input(tmp_path) -> None:
    path, sim = write_sim(tmp_path, "s", rate_hz=100.0, gyro=True, sensor="samples", faults="none")
    from vbt.recording.reader import open_recording

    t, acc, gyro = open_recording(path).sample_columns()
    csv_path = tmp_path / "set.csv"
    rows = np.column_stack([t, acc / 9.80665, np.degrees(gyro)])
    np.savetxt(csv_path, rows, delimiter=",", header="t,ax,ay,az,gx,gy,gz", comments="", fmt="%.6f")
    from_csv = analyze_path(csv_path, exercise="bench")
    from_rec = analyze_path(path, exercise="bench")
    assert len(from_csv.reps) == len(from_rec.reps) > 0
    for a, b in zip(from_csv.reps, from_rec.reps, strict=True):
        assert a.mean_velocity_mps == pytest.approx(b.mean_velocity_mps, abs=0.005)  # 6-decimal CSV rounding
    assert from_csv.exercise == "bench"


def test_bad_inputs_fail_with_one_clear_error(tmp_path) -> None:
    with pytest.raises(InputFileError, match="does not exist"):
        analyze_path(tmp_path / "missing.jsonl.gz")
    with pytest.raises(InputFileError, match="directory"):
        analyze_path(tmp_path)
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    with pytest.raises(VbtError):
        analyze_path(empty)
    junk = tmp_path / "junk.jsonl.gz"
    junk.write_bytes(gzip.compress(b"\x00\x01\x02 not a recording\n"))
    with pytest.raises((InputFileError, RecordingFormatError)):
        analyze_path(junk)


def test_no_motion_gives_no_sets(tmp_path) -> None:
    from firmware_protocols import ImuBatch
    from vbt.recording.format import RecordingHeader
    from vbt.recording.writer import RecordingWriter

    path = tmp_path / "still.jsonl.gz"
    rng = np.random.default_rng(0)
    with RecordingWriter(path, RecordingHeader(body="samples", sensor="imported", rate_hz=50.0)) as w:
        t = np.arange(0, 120.0, 0.02)
        acc = np.tile([0.1, 0.2, 9.79], (len(t), 1)) + rng.normal(0, 0.01, (len(t), 3))
        w.write_samples(ImuBatch(float(t[-1]), acc, None, t, 50.0))
    res = analyze_path(path)
    assert res.sets == [] and res.duration_s == pytest.approx(120.0, abs=0.1)
