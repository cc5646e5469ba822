"""The simulator's public API: determinism, outputs, protocols, link effects, files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from firmware_protocols import ImuBatch
from vbt.sim import (
    EXERCISES,
    Athlete,
    LinkSpec,
    Scenario,
    SetPlan,
    describe,
    load_labels,
    random_scenario,
    simulate,
)
from vbt.sim.lift import EVENT_KINDS


def _signature(r):
    lab = json.dumps(r.labels.to_dict(), sort_keys=True)
    if r.packets is not None:
        data = [(round(t, 9), u, p.hex()) for t, u, p in r.packets]
    else:
        data = [(round(b.host_time_s, 9), b.accel_mps2.round(9).tolist()) for b in r.batches]
    return lab, data


def test_same_seed_same_session_different_seed_different_session():
    sc = random_scenario(np.random.default_rng(3), exercise="squat", faults="harsh")
    a, b, c = simulate(sc, seed=7), simulate(sc, seed=7), simulate(sc, seed=8)
    assert _signature(a) == _signature(b)
    assert _signature(a) != _signature(c)


def test_random_scenario_is_deterministic_from_its_rng():
    a = random_scenario(np.random.default_rng(12))
    b = random_scenario(np.random.default_rng(12))
    assert a.to_dict() == b.to_dict()
    assert a.athlete.to_dict() == b.athlete.to_dict()


def test_samples_mode_batches_look_like_decoder_output(typical_squat):
    r = typical_squat
    assert r.packets is None
    batches = r.batches
    assert batches and all(isinstance(b, ImuBatch) for b in batches)
    host = np.array([b.host_time_s for b in batches])
    assert np.all(np.diff(host) >= 0), "arrival order"
    st = np.concatenate([b.sensor_time_s for b in batches])
    assert np.all(np.diff(st) > 0)
    assert all(b.rate_hz == 100 and b.gyro_rads is not None for b in batches)
    # every batch arrives after its last sample was taken
    t_true = r.sensor_true_times()
    t_of = dict(zip(np.round(r.sensor_samples()[0], 9), t_true, strict=True))
    lat = [b.host_time_s - t_of[round(float(b.sensor_time_s[-1]), 9)] for b in batches[::50]]
    assert min(lat) > 0 and np.median(lat) < 0.1
    assert r.header.synthetic and r.header.body == "samples"
    assert r.header.extra["seed"] == 5 and r.header.extra["simulator_version"]


def test_labels_are_sane(typical_squat):
    s = typical_squat.labels.sets[0]
    assert s.exercise == "squat" and s.stop_rule == "stop_rir" and s.stop_rir == 2
    assert s.reps and s.reps[-1].rir == min(2, s.reps_possible - 1) or s.reps[-1].rir <= 2
    rirs = [r.rir for r in s.reps]
    assert rirs == sorted(rirs, reverse=True) and np.all(np.diff(rirs) == -1)
    for r in s.reps:
        assert s.start_s < r.eccentric_start_s < r.eccentric_end_s <= r.concentric_start_s < r.concentric_end_s < s.end_s
        assert 0.35 < r.rom_m < 0.8
        assert 0.1 < r.mean_velocity_mps < r.peak_velocity_mps < 2.5
    kinds = [e.kind for e in s.events]
    assert kinds[:2] == ["unrack", "walkout"] and kinds[-2:] == ["walkin", "rerack"]
    assert "STOP" not in describe(typical_squat) and "squat" in describe(typical_squat)


@pytest.mark.parametrize("exercise", EXERCISES)
def test_every_exercise_simulates_with_its_events(exercise):
    r = simulate(Scenario(Athlete.random(21), [SetPlan(exercise, load_pct=72, reps=3)], rate_hz=50), seed=1)
    s = r.labels.sets[0]
    assert len(s.reps) == 3 and not s.failed_attempts
    kinds = {e.kind for e in s.events}
    assert kinds <= set(EVENT_KINDS)
    expected = {"squat": {"unrack", "walkout", "walkin", "rerack"}, "bench": {"unrack", "rerack"},
                "deadlift": {"set_down"}, "ohp": {"unrack", "walkout", "rerack"},
                "row": {"pick_up", "hinge", "stand_up", "set_down"}}[exercise]
    assert expected <= kinds
    first = s.reps[0]
    if exercise in ("squat", "bench"):
        assert first.eccentric_start_s is not None  # eccentric-first
    else:
        assert first.eccentric_start_s is None  # concentric-first: rep 1 starts from still
    # non-rep events never overlap a rep's concentric phase
    for e in s.events:
        for rep in s.reps:
            assert e.end_s <= rep.concentric_start_s + 1e-6 or e.start_s >= rep.concentric_end_s - 1e-6


def test_failed_attempt_and_safeties():
    r = simulate(Scenario(Athlete.random(2), [SetPlan("squat", load_pct=85, to_failure=True, failed_attempt=True),
                                              SetPlan("squat", load_pct=85, reps=2, rest_before_s=120)], rate_hz=100),
                 seed=3)
    s1, s2 = r.labels.sets
    assert s1.to_failure and s1.reps[-1].rir == 0
    (f,) = s1.failed_attempts
    assert f.outcome == "safeties" and s1.end_location == "safeties"
    assert f.stall_end_s - f.stall_start_s >= 1.0
    assert 0.0 < f.rom_m < 0.9 * s1.reps[-1].rom_m
    assert f.start_s > s1.reps[-1].concentric_end_s
    # the bar is moved from the safeties back to the hooks before set 2 (not a rep)
    assert s2.events[0].kind == "handling"


def test_link_drops_and_gaps_show_in_arrivals():
    ath = Athlete.random(9)
    link = LinkSpec(connection_interval_s=0.03, max_per_event=6, latency_s=0.01, jitter_s=0.002, drop_rate=0.08,
                    drop_burst=4.0, gaps=((20.0, 5.0),), supervision_timeout_s=2.0, samples_per_notification=2)
    r = simulate(Scenario(ath, [SetPlan("bench", load_pct=70, reps=6)], rate_hz=100, link=link), seed=4)
    st = np.concatenate([b.sensor_time_s for b in r.batches])
    steps = np.round(np.diff(st) * 100).astype(int)
    missing = int(np.sum(steps - 1))
    total = len(st) + missing
    gap_samples = 5.0 * 100
    assert 0.04 < (missing - gap_samples) / total < 0.14, "about 8 % of notifications are lost"
    assert steps.max() >= 490, "the 5 s reconnect gap is a hole in the samples"
    kinds = [(e.kind, e.host_time_s) for e in r.link_events]
    assert ("disconnected", 22.0) in kinds and ("reconnected", 25.0) in kinds
    host = np.array([b.host_time_s for b in r.batches])
    # batching: several notifications share a connection event (arrivals cluster)
    assert np.mean(np.diff(host) < 0.001) > 0.2


@pytest.mark.parametrize("sensor, rate", [("witmotion", 100), ("polar", 100), ("verity", 104), ("metawear", 100),
                                          ("movesense", 104), ("thingy52", 100)])
def test_protocol_packets_decode_to_the_sensor_samples(sensor, rate):
    from firmware_protocols import PROTOCOLS
    from vbt.sim import resolve_sensor

    name = resolve_sensor(sensor)
    if name not in PROTOCOLS:
        pytest.skip(f"{name} protocol not available")
    ath = Athlete.random(5)
    link = LinkSpec.ideal()
    sc = Scenario(ath, [SetPlan("squat", load_pct=70, reps=2)], rate_hz=rate, sensor=sensor, faults="typical",
                  link=link)
    r = simulate(sc, seed=1)
    assert r.packets and r.header.body == "packets" and r.header.sensor == name
    assert r.header.decoder["name"] == name
    if name == "witmotion":
        assert 0.005 <= r.sensor_spec.clock_drift <= 0.016  # WitMotion runs ~1 % slow
    decoded = np.concatenate([b.accel_mps2 for b in r.batches])
    _, acc, gyro = r.sensor_samples()
    # an ideal link delivers every sample; the wire format keeps them to its resolution. A packed
    # format (MetaWear: 3 samples per notification) still holds a partial packet when the stream
    # ends, so up to 2 trailing samples may be unsent, exactly as on the device.
    assert 0 <= len(acc) - len(decoded) <= 2
    assert np.abs(decoded - acc[: len(decoded)]).max() <= 0.01
    assert (r.batches[0].gyro_rads is not None) == (gyro is not None)
    # the configured range is what `vbt record` would choose (largest up to 8 g, >= the default)
    assert r.stream_config.accel_range_g <= max(8.0, PROTOCOLS[name].default_accel_range_g)


def test_write_makes_a_recording_and_labels(tmp_path, typical_squat):
    from vbt.recording.reader import read_header

    rec, lab = typical_squat.write(tmp_path / "sq.jsonl.gz")
    assert rec.exists() and lab.name == "sq.labels.json"
    h = read_header(rec)
    assert h.synthetic and h.extra["seed"] == 5 and h.extra["labels_file"] == "sq.labels.json"
    labels = load_labels(lab)
    assert labels.to_dict()["sets"] == typical_squat.labels.to_dict()["sets"]


def test_rest_plate_changes_and_rerack_knocks_are_labelled_events():
    sc = Scenario(Athlete.random(31), [SetPlan("squat", load_pct=70, reps=3),
                                       SetPlan("squat", load_pct=70, reps=3, rest_before_s=150)],
                  rate_hz=50, plate_change_prob=1.0)
    r = simulate(sc, seed=2)
    s1, s2 = r.labels.sets
    (pc,) = [e for e in s2.events if e.kind == "plate_change"]
    assert s1.end_s < pc.start_s < pc.end_s < s2.reps[0].eccentric_start_s
    assert s2.start_s - s1.end_s == pytest.approx(150.0, abs=0.5)
    # the bar visibly jolts in the rack during the plate change
    tr = r.truth
    m = (tr.t_s >= pc.start_s) & (tr.t_s <= pc.end_s + 0.5)
    assert np.abs(tr.bar_accel_mps2[m]).max() > 0.5
    reracks = [e for s in r.labels.sets for e in s.events if e.kind == "rerack"]
    assert all("hit_upright" in e.detail for e in reracks)


@pytest.mark.parametrize("exercise", EXERCISES)
def test_consecutive_sets_start_where_the_last_one_left_the_bar(exercise):
    sc = Scenario(Athlete.random(33), [SetPlan(exercise, load_pct=70, reps=2),
                                       SetPlan(exercise, load_pct=70, reps=2, rest_before_s=90)],
                  rate_hz=25, plate_change_prob=0.0)
    r = simulate(sc, seed=6)
    s1, s2 = r.labels.sets
    assert not [e for e in s2.events if e.kind == "handling"]  # nothing to move: it is in the rack / on the floor
    b1, b2 = r.blocks
    assert np.allclose(b1.pos_m[-1], b2.pos_m[0], atol=1e-9)
    assert np.allclose(b1.angles_rad[-1], b2.angles_rad[0], atol=1e-9)


def test_labels_map_onto_a_samples_recordings_drifting_clock(tmp_path):
    from vbt.recording.reader import open_recording
    from vbt.sim import SensorSpec

    spec = SensorSpec.random(np.random.default_rng(5), faults="typical", clock_drift=0.01)
    sc = Scenario(Athlete.random(2), [SetPlan("squat", load_pct=70, reps=2),
                                      SetPlan("squat", load_pct=70, reps=2, rest_before_s=240)],
                  rate_hz=50, sensor_spec=spec, link=LinkSpec.ideal())
    r = simulate(sc, seed=1)
    rec, lab = r.write(tmp_path / "s.jsonl")
    labels = load_labels(lab)
    t_file, _, _ = open_recording(rec).sample_columns()
    t_true = r.sensor_true_times()
    # with an ideal link every sample is in the file, in order: file time k <-> true time k
    assert len(t_file) == len(t_true)
    k = len(t_true) - 10
    assert abs(t_file[k] - t_true[k]) > 1.0  # 1 % of ~5 min: the raw axes disagree by seconds
    assert labels.file_time(t_true[k]) == pytest.approx(t_file[k], abs=1e-6)
    assert np.allclose(labels.file_time(t_true[:100]), t_file[:100], atol=1e-6)


def test_dropped_kinematics_rebuild_exactly():
    sc = Scenario(Athlete.random(8), [SetPlan("ohp", load_pct=75, reps=3)], rate_hz=50)
    lean, full = simulate(sc, seed=3), simulate(sc, seed=3, keep_kinematics=True)
    assert lean._blocks is None and full._blocks is not None
    assert np.array_equal(lean.truth.bar_position_m, full.truth.bar_position_m)
    a, b = lean.sensor_samples(rate_hz=100), full.sensor_samples(rate_hz=100)
    assert np.array_equal(a[1], b[1])
    with pytest.raises(ValueError):
        lean.batches[0].accel_mps2[0, 0] = 1.0  # batches are read-only views
