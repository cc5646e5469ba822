"""Sample timing: measured rate, drops, gaps, breaks, non-finite samples, chunking."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_protocols import ImuBatch, merge_batches
from tests.pipeline.synthetic import LinkModel, Rep, SensorModel, packetize, render, trajectory
from vbt.pipeline.settings import DEFAULT_SETTINGS
from vbt.pipeline.timebase import Timebase


def run(batches: list[ImuBatch], **kw) -> tuple[Timebase, dict[str, np.ndarray]]:
    tb = Timebase(DEFAULT_SETTINGS, **kw)
    chunks = [c for b in batches for c in tb.push(b)]
    out = {k: np.concatenate([getattr(c, k) for c in chunks]) for k in ("t_s", "dt_s", "filled", "arrival_s")}
    out["acc"] = np.concatenate([c.accel_mps2 for c in chunks])
    out["breaks"] = np.array([c.break_before for c in chunks])
    return tb, out


def stream(rate: float = 100.0, slow: float = 0.0, duration: float = 40.0, **link) -> list[ImuBatch]:
    t, v, a, _ = trajectory([Rep(0.6, 0.8)], lead_s=duration / 2, tail_s=duration / 2)
    ts, acc, gyro = render(t, v, a, SensorModel(rate_hz=rate, clock_error=-slow, gyro=False))
    stream.sent = len(ts)  # type: ignore[attr-defined]
    return packetize(ts, acc, gyro, rate, LinkModel(**link))


def test_sample_count_clock_measures_a_slow_sensor() -> None:
    # WitMotion runs about 1 % slow (sensors.md §2): the nominal rate would be a 1 % velocity error.
    tb, _ = run(stream(rate=200.0, slow=0.01, interval_s=0.03, jitter_s=0.002))
    assert tb.rate_hz == pytest.approx(198.0, rel=5e-4)
    assert tb.samples_filled == 0


def test_dropped_notifications_are_found_from_arrival_times() -> None:
    batches = stream(rate=50.0, interval_s=0.0075, jitter_s=0.002, drop=0.05, burst=3)
    sent = stream.sent  # type: ignore[attr-defined]
    tb, out = run(batches)
    lost = sent - sum(len(b) for b in batches)
    assert lost > 20
    assert abs(tb.samples_filled - lost) <= 0.1 * lost
    assert tb.rate_hz == pytest.approx(50.0, rel=2e-3)
    assert 100 * lost / sent == pytest.approx(tb.missing_pct, abs=1.0)


def test_sensor_time_gaps_are_filled_or_broken() -> None:
    n = 1000
    t = np.arange(n) / 100.0
    keep = np.ones(n, bool)
    keep[300:310] = False  # 0.1 s: bridged
    keep[600:900] = False  # 3 s: too long, the stream breaks
    acc = np.tile([0.0, 0.0, 9.81], (n, 1))
    acc[:, 0] = t
    batches = [ImuBatch(float(t[i]), acc[i : i + 1], None, t[i : i + 1], 100.0) for i in np.flatnonzero(keep)]
    tb, out = run(batches)
    assert tb.samples_filled == 10
    assert out["breaks"].sum() == 2  # the very first chunk and the long gap
    assert tb.samples_lost == 300
    filled = out["filled"]
    assert np.allclose(out["acc"][filled, 0], out["t_s"][filled], atol=1e-9)  # linear fill
    assert any("too long to bridge" in w for w in tb.warnings)


def test_nonfinite_samples_are_held_and_counted() -> None:
    acc = np.tile([0.0, 0.0, 9.81], (100, 1))
    acc[40:43] = np.nan
    t = np.arange(100) / 50.0
    tb, out = run([ImuBatch(float(t[-1]), acc, None, t, 50.0)])
    assert tb.nonfinite == 3
    assert np.isfinite(out["acc"]).all()
    assert out["filled"][40:43].all()


@pytest.mark.parametrize("size", [1, 7, 10**9])
def test_timing_does_not_depend_on_chunking(size: int) -> None:
    batches = stream(rate=100.0, slow=0.004, interval_s=0.02, jitter_s=0.002, drop=0.03)
    merged = merge_batches(batches)
    assert merged is not None
    rechunked = []
    for i in range(0, len(merged), size):
        ar = merged.arrival_time_s[i : i + size]
        rechunked.append(ImuBatch(float(ar[-1]), merged.accel_mps2[i : i + size], None, None, 100.0, ar))
    _, base = run(batches)
    _, other = run(rechunked)
    for key in ("t_s", "dt_s", "filled", "acc"):
        assert np.array_equal(base[key], other[key]), key
    # Times never run backwards, however the clock line is refitted.
    assert np.all(np.diff(base["t_s"]) > 0)


def test_long_sensor_clock_frames_are_timed_from_their_last_sample() -> None:
    # Polar-style frames: 36 samples (1.44 s at 25 Hz) stamped by the sensor clock, sent when
    # the frame is full. A sample cannot be output as taken after its frame arrived, from the
    # very first frame on (anchoring the clock on a frame's first sample puts times 1.4 s late).
    rate, per = 25.0, 36
    x = 1000.0 + np.arange(30 * per) / rate  # sensor clock, arbitrary epoch
    acc = np.tile([0.0, 0.0, 9.81], (len(x), 1))
    latency = 0.03
    batches = [ImuBatch(float(x[i + per - 1] - 1000.0 + latency), acc[i : i + per], None, x[i : i + per], rate)
               for i in range(0, len(x), per)]
    _, out = run(batches)
    true_t = x - 1000.0
    assert np.all(out["t_s"] <= out["arrival_s"] + 1e-6)
    assert np.abs(out["t_s"] - (true_t + latency)).max() < 0.005


def _power_on_sample_first(batches: list[ImuBatch], lead_s: float) -> list[ImuBatch]:
    """A sample sent at the sensor's power-on rate ``lead_s`` before the configured stream."""
    first = batches[0]
    t0 = float(first.arrival_times()[0]) - lead_s
    return [ImuBatch(t0, first.accel_mps2[:1], None, None, first.rate_hz, np.array([t0])), *batches]


def _run_configured(batches: list[ImuBatch], configure_after: int) -> Timebase:
    """Feed ``batches``, telling the time base the sensor was configured before ``configure_after``."""
    tb = Timebase(DEFAULT_SETTINGS)
    for i, b in enumerate(batches):
        if i == configure_after:
            tb.stream_configured(b.rate_hz)
        tb.push(b)
    return tb


def test_a_power_on_sample_before_the_configuration_does_not_bend_the_clock() -> None:
    # A WitMotion sends a sample at its 10 Hz power-on rate before it streams at 200 Hz: by the
    # sample count the 200 Hz samples then look 0.1 s late for good. Told of the configuration
    # (the recording's "config" event), the time base fits its clock line afresh and measures
    # the same rate as without the stray sample, finding no drops that are not there.
    batches = stream(rate=200.0, slow=0.01, interval_s=0.03, jitter_s=0.002)
    clean = run(batches)[0]
    tb = _run_configured(_power_on_sample_first(batches, 0.1), configure_after=20)
    assert clean.samples_filled == tb.samples_filled == 0
    assert tb.rate_hz == pytest.approx(clean.rate_hz, rel=2e-4)
    assert tb.rate_hz == pytest.approx(198.0, rel=5e-4)
    # Without being told, the stray sample costs the count clock its rate (the failure mode).
    untold = run(_power_on_sample_first(batches, 0.1))[0]
    assert abs(untold.rate_hz - 198.0) > abs(tb.rate_hz - 198.0)


def test_a_configuration_at_another_rate_starts_a_new_stream() -> None:
    fast = stream(rate=100.0, duration=10.0, interval_s=0.0075, jitter_s=0.001)
    t_end = float(fast[-1].arrival_times()[-1])
    slow = [ImuBatch(b.host_time_s + t_end + 0.02, b.accel_mps2, None, None, 50.0,
                     b.arrival_times() + t_end + 0.02)
            for b in stream(rate=50.0, duration=10.0, interval_s=0.0075, jitter_s=0.001)]
    tb = Timebase(DEFAULT_SETTINGS)
    chunks = [c for b in fast for c in tb.push(b)]
    tb.stream_configured(50.0)
    chunks += [c for b in slow for c in tb.push(b)]
    assert tb.breaks == 1 and tb.samples_filled == 0
    assert tb.rate_hz == pytest.approx(50.0, rel=2e-3)
    after = [c for c in chunks if c.t_s[0] > t_end]
    assert after[0].break_before
    dt = np.concatenate([c.dt_s for c in after])[1:]
    assert np.allclose(dt, 0.02, rtol=3e-3)


def _rest_and_motion(n: int = 400, rate: float = 50.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A bar at rest, then a smooth 1 g vertical push (a rep's drive), with a gyro."""
    t = np.arange(n) / rate
    acc = np.tile([0.3, -0.2, 9.81], (n, 1))
    acc[:, 2] += 9.81 * np.where((t > 3) & (t < 4), np.sin(np.pi * (t - 3)), 0.0)
    gyro = np.tile([0.01, -0.02, 0.005], (n, 1))
    gyro[:, 0] += np.where((t > 3) & (t < 4), 0.4 * np.sin(2 * np.pi * (t - 3)), 0.0)
    return t, acc, gyro


def _chunks_of(t, acc, gyro, size, rate=50.0) -> list[ImuBatch]:
    return [ImuBatch(float(t[min(i + size, len(t)) - 1]), acc[i : i + size], gyro[i : i + size], t[i : i + size], rate)
            for i in range(0, len(t), size)]


def _run_acc(batches: list[ImuBatch]) -> tuple[Timebase, np.ndarray, np.ndarray]:
    tb = Timebase(DEFAULT_SETTINGS, sensor_axis=True)
    chunks = [c for b in batches for c in tb.push(b)] + tb.flush()
    return tb, np.concatenate([c.accel_mps2 for c in chunks]), np.concatenate([c.gyro_rads for c in chunks])


@pytest.mark.parametrize("size", [1, 3, 10**6])
def test_isolated_corrupt_samples_are_replaced_by_their_neighbours_mean(size: int) -> None:
    # A WitMotion frame has no checksum: a corrupted byte is a single sample anywhere up to full
    # scale. At rest and mid-push, accelerometer and gyro spikes become the mean of their
    # neighbours; every other sample passes untouched, however the input is chunked.
    t, acc, gyro = _rest_and_motion()
    clean_acc, clean_gyro = acc.copy(), gyro.copy()
    bad_acc, bad_gyro = acc.copy(), gyro.copy()
    bad_acc[100] += [0.0, 60.0, -30.0]      # rest, accelerometer (a high byte gone wrong)
    bad_gyro[180] += [0.0, 0.0, -25.0]     # mid-push, gyro only
    bad_acc[170] += [-40.0, 0.0, 0.0]      # mid-push, accelerometer
    tb, out_acc, out_gyro = _run_acc(_chunks_of(t, bad_acc, bad_gyro, size))
    assert tb.spikes == 3
    assert len(out_acc) == len(t)
    for i in (100, 170, 180):
        assert np.allclose(out_acc[i], 0.5 * (bad_acc[i - 1] + bad_acc[i + 1]))
        assert np.allclose(out_gyro[i], 0.5 * (bad_gyro[i - 1] + bad_gyro[i + 1]))
    others = np.setdiff1d(np.arange(len(t)), [100, 170, 180])
    assert np.array_equal(out_acc[others], clean_acc[others])
    assert np.array_equal(out_gyro[others], clean_gyro[others])
    assert any("isolated impossible samples" in w for w in tb.warnings)


def test_fast_real_motion_is_not_taken_for_a_spike() -> None:
    # A deadlift breaking from the floor at 25 Hz: +0.8 g for one sample, with the samples
    # around it moving too; an impact on the floor: 6 g over two samples, or one sample along
    # the force while the bar decelerates. None is touched.
    t, acc, gyro = _rest_and_motion(rate=25.0)
    acc[60, 2] += 0.8 * 9.81
    acc[59, 2] += 0.3 * 9.81
    acc[90:92, 2] += 6.0 * 9.81
    # Plates landing on the floor, caught by one sample: a 5.5 g peak along the force while the
    # bar decelerates (the samples around it change by half a g).
    acc[118:123] = np.outer([1.0, 1.3, 5.5, 0.8, 0.6], acc[118] / np.linalg.norm(acc[118]) * 9.81)
    tb, out_acc, _ = _run_acc(_chunks_of(t, acc, gyro, 7, rate=25.0))
    assert tb.spikes == 0
    assert np.array_equal(out_acc, acc)
