"""What virtual sensors measure: the analytic reps, simulated sets and recordings replayed."""

from __future__ import annotations

import numpy as np
import pytest
from ble_helpers import run

from firmware_protocols import STANDARD_GRAVITY_MPS2, get_protocol
from vbt.ble import AnalyticRepsFeed, VirtualSensorSpec, virtual_environment
from vbt.ble.feeds import RecordingFeed, SimulatedFeed
from vbt.recording.writer import RecordingWriter
from vbt.sources.ble import BleSource, scan


def test_analytic_feed_reads_one_g_at_rest_in_any_mounting():
    feed = AnalyticRepsFeed(tilt_deg=35.0, yaw_deg=-70.0)
    acc, gyro = feed.render(np.array([0.0, 0.5, feed.duration_s + 1.0]), 100.0)
    np.testing.assert_allclose(np.linalg.norm(acc, axis=1), STANDARD_GRAVITY_MPS2, rtol=1e-12)
    np.testing.assert_allclose(gyro, 0.0, atol=1e-15)


def test_analytic_feed_kinematics_match_its_truth():
    feed = AnalyticRepsFeed(reps=3, rom_m=0.5, rep_s=2.0, slowdown=0.1)
    t = np.arange(0.0, feed.duration_s, 1e-4)
    v = feed.velocity_mps(t)
    z = feed.position_m(t)
    for rep in feed.rep_truth:
        up = (t >= rep.concentric_start_s) & (t < rep.concentric_end_s)
        assert v[up].mean() == pytest.approx(rep.mean_concentric_velocity_mps, rel=1e-3)
        assert v[up].max() == pytest.approx(rep.peak_velocity_mps, rel=1e-3)
        assert z[up].max() - z[up].min() == pytest.approx(rep.rom_m, rel=1e-3)
    # Specific force minus gravity, rotated back to the world, integrates to the velocity.
    feed_flat = AnalyticRepsFeed(reps=3, rom_m=0.5, rep_s=2.0, slowdown=0.1, tilt_deg=0.0, yaw_deg=0.0,
                                 roll_deg=0.0)
    acc, _ = feed_flat.render(t, 1e4)
    v_int = np.cumsum(acc[:, 2] - STANDARD_GRAVITY_MPS2) * 1e-4
    np.testing.assert_allclose(v_int, v, atol=2e-3)


def test_analytic_gyro_is_the_derivative_of_the_roll():
    feed = AnalyticRepsFeed(reps=1, roll_deg=10.0, tilt_deg=0.0, yaw_deg=0.0)
    rep = feed.rep_truth[0]
    t = np.linspace(rep.start_s + 0.1, rep.concentric_end_s - 0.1, 2001)
    acc, gyro = feed.render(t, 1000.0)
    # With no mounting rotation, R = Rx(roll) and f_sensor = R^T (0, 0, |f|) = |f| (0, sin, cos):
    # atan2(ay, az) is the roll (vertical acceleration changes |f|, not its direction).
    roll = np.unwrap(np.arctan2(acc[:, 1], acc[:, 2]))
    np.testing.assert_allclose(np.gradient(roll, t)[5:-5], gyro[5:-5, 0], atol=2e-3)


def test_simulated_feed_returns_the_simulators_own_samples_at_its_rate():
    config = get_protocol("witmotion").make_config(rate_hz=100)
    feed = SimulatedFeed.for_stream(config, exercise="bench", seed=4)
    result = feed.result
    _, acc, gyro = result.sensor_samples()
    t_true = result.sensor_true_times()
    got_acc, got_gyro = feed.render(t_true[100:400], 100.0)
    np.testing.assert_array_equal(got_acc, acc[100:400])
    np.testing.assert_array_equal(got_gyro, gyro[100:400])
    # Between samples (another rate): interpolated; after the end: the bar at rest.
    mid = (t_true[200] + t_true[201]) / 2
    between, _ = feed.render(np.array([mid]), 50.0)
    np.testing.assert_allclose(between[0], (acc[200] + acc[201]) / 2, atol=1e-9)
    after, _ = feed.render(np.array([feed.duration_s + 10.0]), 100.0)
    np.testing.assert_array_equal(after[0], acc[-1])
    assert result.labels.sets[0].exercise == "bench" and len(result.labels.sets[0].reps) >= 3


def test_recording_feed_replays_a_recording_over_the_air(clock, tmp_path):
    """Record a virtual sensor, then let another virtual sensor replay that file: same samples."""
    protocol = get_protocol("witmotion")
    config = protocol.make_config(rate_hz=50)
    first = tmp_path / "first.jsonl"

    async def record(spec: VirtualSensorSpec, path, until_s: float):
        async with virtual_environment(spec, clock=clock) as env:
            found = await scan(0.5, backend=env.scanner_backend, clock=clock)
            source = BleSource(found[0], config=config, clock=clock, client_backend=env.client_backend)
            async with source:
                with RecordingWriter(path, source.header) as writer:
                    async for item in source:
                        writer.write_item(item)
                        if clock.monotonic() >= until_s:
                            break
            return env.peripherals[0].samples.arrays()

    original = run(record(VirtualSensorSpec("witmotion", feed=AnalyticRepsFeed(reps=2)), first, 8.0))
    feed = RecordingFeed(first)
    assert feed.has_gyro and feed.header.sensor == "witmotion"
    second = tmp_path / "second.jsonl"
    replayed = run(record(VirtualSensorSpec("witmotion", feed=feed), second, 16.0))
    # The 50 Hz part of the first recording comes back sample for sample (nearest-sample
    # replay at the recording's rate), within the 16 g / 2^15 quantisation.
    orig_50 = original["accel_mps2"][original["rate_hz"] == 50.0]
    again_50 = replayed["accel_mps2"][replayed["rate_hz"] == 50.0]
    n = min(len(orig_50), 300)
    lsb = 16 * STANDARD_GRAVITY_MPS2 / 32768
    offsets = [k for k in range(0, 20) if np.allclose(again_50[k:k + n], orig_50[:n], atol=1.01 * lsb)]
    assert offsets, "the replayed stream does not contain the original samples"
