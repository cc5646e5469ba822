"""Bad samples and odd sessions through the live `Session` (issue 8, "Pipeline").

NaN/inf samples, an accelerometer saturating at full scale, a sensor lying still for an hour and a
lifter who never racks the bar: no crash, no runaway memory, reps found where they can be, and
warnings that say what happened. Complements tests/pipeline/test_streaming.py (analytic signals
straight into the pipeline) with simulated sets through the whole live path.
"""

from __future__ import annotations

import functools
import tracemalloc

import numpy as np
import pytest

from firmware_protocols import ImuBatch
from vbt.recording.format import RecordingHeader
from vbt.session import Session
from vbt.sim import Athlete, Scenario, SetPlan, simulate

G = 9.80665


@functools.cache
def sim_set():
    """Five squat reps on an ideal 100 Hz sensor with gyro (decoded samples, no link)."""
    return simulate(Scenario(Athlete.random(4), [SetPlan("squat", reps=5)], rate_hz=100.0, faults="none"), seed=4)


def run_batches(header: RecordingHeader, batches, exercise: str | None = None) -> Session:
    """Feed batches through a live Session item by item; returns it finished."""
    session = Session(exercise=exercise)
    session.start(header)
    for batch in batches:
        session.process_item(batch)
    session.finish()
    return session


@functools.cache
def clean_result():
    sim = sim_set()
    return run_batches(sim.header, sim.batches).result()


def test_the_clean_set_is_measured():
    res = clean_result()
    truth = sim_set().labels.reps
    assert len(res.reps) == len(truth) == 5
    for rep, true in zip(res.reps, truth, strict=True):
        assert rep.mean_velocity_mps == pytest.approx(true.sensor_mean_velocity_mps, abs=0.03)


def _damage(batches, kind: str, seed: int = 3, share: float = 0.02):
    """Replace one axis of ~``share`` of the notifications with NaN, +-inf (accelerometer or gyro)."""
    rng = np.random.default_rng(seed)
    out, hit = [], 0
    for b in batches:
        acc, gyro = b.accel_mps2.copy(), None if b.gyro_rads is None else b.gyro_rads.copy()
        if rng.random() < share:
            hit += 1
            axis = int(rng.integers(0, 3))
            value = {"nan": np.nan, "inf": np.inf * rng.choice([-1.0, 1.0]),
                     "absurd": 1e6 * rng.choice([-1.0, 1.0])}[kind.split("-")[0]]
            (gyro if kind.endswith("gyro") else acc)[:, axis] = value
        out.append(ImuBatch(b.host_time_s, acc, gyro, b.sensor_time_s, b.rate_hz, b.arrival_time_s))
    assert hit > 10
    return out


@pytest.mark.parametrize("kind", ["nan", "inf", "nan-gyro", "inf-gyro", "absurd", "absurd-gyro"])
def test_nan_and_inf_samples_are_replaced_counted_and_said(kind):
    # "absurd": 1e6 in a hand-made file, beyond any sensor's range (it used to read as clipping
    # and lose every rep).
    sim = sim_set()
    res = run_batches(sim.header, _damage(sim.batches, kind)).result()
    clean = clean_result()
    assert len(res.reps) == len(clean.reps)  # every rep is still found
    for rep, base in zip(res.reps, clean.reps, strict=True):
        assert all(np.isfinite([rep.mean_velocity_mps, rep.peak_velocity_mps, rep.rom_m, rep.quality]))
        right = abs(rep.mean_velocity_mps - base.mean_velocity_mps) <= 0.05
        assert right or rep.quality < 0.5, (rep.mean_velocity_mps, base.mean_velocity_mps, rep.quality_reasons)
    assert any("non-finite (NaN/inf) samples" in w for w in res.warnings), res.warnings


def test_accelerometer_saturating_at_full_scale_lowers_quality_and_warns():
    sim = sim_set()
    full_scale_g = 1.15  # this set's reps reach ~1.3 g: clip them as a 1.15 g sensor would
    clipped = [ImuBatch(b.host_time_s, np.clip(b.accel_mps2, -full_scale_g * G, full_scale_g * G), b.gyro_rads,
                        b.sensor_time_s, b.rate_hz, b.arrival_time_s) for b in sim.batches]
    header = RecordingHeader.from_dict({**sim.header.to_dict(),
                                        "stream": {**sim.header.stream, "accel_range_g": full_scale_g}})
    res = run_batches(header, clipped).result()
    assert any("accelerometer at full scale" in w and "use a larger range" in w for w in res.warnings), res.warnings
    assert len(res.reps) == len(clean_result().reps)
    touched = [r for r in res.reps if any("clipped" in q for q in r.quality_reasons)]
    assert touched and all(r.quality <= 0.4 for r in touched)


def _traced_mb() -> float:
    return tracemalloc.get_traced_memory()[0] / 1e6


def test_a_sensor_lying_still_for_an_hour_finds_nothing_and_keeps_memory_flat():
    rate, per = 25.0, 100  # 4 s per notification batch keeps the hour quick; memory does not care
    rng = np.random.default_rng(1)
    header = RecordingHeader(body="samples", sensor="imported", rate_hz=rate)
    session = Session(exercise="squat")
    session.start(header)
    memory: dict[int, float] = {}
    tracemalloc.start()
    try:
        for k in range(int(3600 * rate / per)):
            t = (k * per + np.arange(per)) / rate
            acc = np.tile([0.3, -0.2, G], (per, 1)) + rng.normal(0, 0.01, (per, 3))  # a little bias, noise
            session.process_item(ImuBatch(float(t[-1]), acc, rng.normal(0, 0.002, (per, 3)), t, rate))
            minute = int(t[-1] // 60)
            if minute % 10 == 0 and minute not in memory:
                memory[minute] = _traced_mb()
    finally:
        tracemalloc.stop()
    session.finish()
    res = session.result()
    assert res.sets == [] and res.warnings == []
    assert res.duration_s == pytest.approx(3600.0, abs=per / rate + 0.1)  # measured from the first batch
    assert memory[50] - memory[10] < 0.25, memory  # flat: nothing accumulates while nothing happens


def never_racked_session(n_sets: int, reps_per_set: int, hold_s: float, seed: int = 5):
    """The bar stays on the lifter's back the whole session: breathing sway, tremor, never still.

    Starts with 3 s on the rack (the pipeline needs one still moment to find gravity), then sets
    of 0.54 m squats (1.6 s down, 1.0 s up: MCV 0.54 m/s) with 1 s at lockout, and ``hold_s``
    standing with the bar between sets. Returns (t, acc, gyro) at 100 Hz.
    """
    rng = np.random.default_rng(seed)
    fs = 100.0

    def held(seconds: float) -> np.ndarray:
        t = np.arange(int(seconds * fs)) / fs
        ph = rng.uniform(0, 2 * np.pi, 2)
        # breathing sway 4 mm at 0.25 Hz (~0.6 cm/s), tremor 0.1 mm at 7 Hz
        return 0.004 * np.sin(2 * np.pi * 0.25 * t + ph[0]) + 0.0001 * np.sin(2 * np.pi * 7 * t + ph[1])

    down = np.arange(int(1.6 * fs)) / fs
    up = np.arange(int(1.0 * fs)) / fs
    rep = np.concatenate([-0.27 * (1 - np.cos(np.pi * down / 1.6)), -0.54 + 0.27 * (1 - np.cos(np.pi * up / 1.0))])
    parts = [np.zeros(int(3 * fs))]
    for _ in range(n_sets):
        for _ in range(reps_per_set):
            parts += [held(1.0), rep]
        parts.append(held(hold_s))
    z = np.concatenate(parts)
    t = np.arange(len(z)) / fs
    z = z + np.where(t < 3.0, 0.0, 0.003 * np.sin(2 * np.pi * 0.2 * t))
    az = np.gradient(np.gradient(z, 1 / fs), 1 / fs)
    acc = np.column_stack([np.full(len(z), 0.3), np.full(len(z), -0.2), G + az]) + rng.normal(0, 0.02, (len(z), 3))
    return t, acc, rng.normal(0, 0.005, (len(z), 3))


def test_a_lifter_who_never_racks_the_bar_still_gets_every_set_and_rep():
    t, acc, gyro = never_racked_session(n_sets=3, reps_per_set=6, hold_s=60.0)
    header = RecordingHeader(body="samples", sensor="imported", rate_hz=100.0)
    batches = [ImuBatch(float(t[i + 49]), acc[i:i + 50], gyro[i:i + 50], t[i:i + 50], 100.0)
               for i in range(0, len(t) - 49, 50)]
    res = run_batches(header, batches, exercise="squat").result()
    assert [len(s.reps) for s in res.sets] == [6, 6, 6]
    for rep in res.reps:
        assert rep.mean_velocity_mps == pytest.approx(0.54, abs=0.03)
        assert rep.rom_m == pytest.approx(0.54, abs=0.03)


def test_rep_finder_memory_does_not_grow_from_set_to_set():
    # The segmenter keeps the motion history it may still look back on. Its starting
    # references (from before the first rep) used to stay pinned, so every sample of every set
    # since the session began was kept: memory grew set by set for as long as the bar was used.
    from vbt.pipeline.streaming import StreamingPipeline

    t, acc, gyro = never_racked_session(n_sets=6, reps_per_set=3, hold_s=40.0)
    pipeline = StreamingPipeline(nominal_rate_hz=100.0, sensor_axis=True)
    kept = []
    for i in range(0, len(t) - 49, 50):
        pipeline.feed(ImuBatch(float(t[i + 49]), acc[i:i + 50], gyro[i:i + 50], t[i:i + 50], 100.0))
        if i % 2000 == 0:
            kept.append(len(pipeline.finder._s.t))
    pipeline.finish()
    assert [len(s.reps) for s in pipeline.sets] == [3] * 6
    # One set's motion is ~900 samples; six sets kept would be ~5400.
    assert max(kept) < 1000, kept
