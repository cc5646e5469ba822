"""Failures the long fuzz run (benchmarks/fuzz.py) found, kept as plain regression tests.

* A recording whose header's stream configuration is damaged (a key mistyped, options that are
  not an object, an option the sensor's protocol refuses) made ``vbt analyze`` fail with an
  internal ``KeyError``/``ValueError``: the reader now reports it as damage in line 1.
* A first rep with a mean velocity of 0 m/s at full quality became the velocity-loss reference
  and the fatigue tracker divided by it (``ZeroDivisionError``): such a rep is never a reference.
"""

from __future__ import annotations

import json

import pytest

from vbt.cli import main
from vbt.errors import RecordingFormatError
from vbt.fatigue.tracker import FatigueTracker, reference_rep
from vbt.pipeline.results import RepResult, SetResult
from vbt.recording.reader import open_recording

WIT = "0000ffe4-0000-1000-8000-00805f9a34fb"
STREAM = {"rate_hz": 50.0, "accel_range_g": 16.0, "gyro_range_dps": 2000.0, "options": {}}


@pytest.mark.parametrize(("sensor", "stream", "words"), [
    ("witmotion", {**{k: v for k, v in STREAM.items() if k != "accel_range_g"}, "`ccel_range_g": 16.0},
     "stream accel_range_g None must be a number above 0"),
    ("witmotion", {**STREAM, "rate_hz": "fifty"}, "stream rate_hz 'fifty' must be a number above 0"),
    ("witmotion", {**STREAM, "gyro_range_dps": -1}, "stream gyro_range_dps -1 must be a number above 0 or null"),
    ("witmotion", {**STREAM, "options": []}, "stream options [] must be an object"),
    ("metawear", {**STREAM, "options": {"chip": "zzz"}}, "stream configuration does not suit sensor 'metawear'"),
])
def test_a_damaged_stream_configuration_is_damage_in_line_1(tmp_path, capsys, sensor, stream, words):
    path = tmp_path / "rec.jsonl"
    header = {"format": "vbt-recording", "format_version": 1, "body": "packets", "sensor": sensor, "stream": stream}
    path.write_text(json.dumps(header) + f'\n[0.0,"{WIT}","5561"]\n')
    with pytest.raises(RecordingFormatError) as info:
        open_recording(path)
    assert info.value.line == 1 and words in str(info.value)
    assert main(["analyze", str(path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"vbt: error: {path}: line 1: header: {words}")
    assert "re-record or repair that line" in err[0]


def test_a_complete_stream_configuration_still_reads():
    from vbt.recording.reader import check_header

    head = {"body": "packets", "sensor": "witmotion", "stream": STREAM}
    assert check_header(head) is None
    assert check_header({**head, "stream": {}}) is None  # imports and older files have none
    assert check_header({**head, "sensor": "a-sensor-from-the-future"}) is None  # said where it is decoded


def _rep(i: int, v: float, q: float = 1.0) -> RepResult:
    return RepResult(index=i, start_s=3.0 * i, end_s=3.0 * i + 1.0, mean_velocity_mps=v, mean_propulsive_velocity_mps=v,
                     peak_velocity_mps=v, rom_m=0.5, duration_s=1.0, time_to_peak_s=0.4, quality=q)


@pytest.mark.parametrize("bad", [0.0, -0.2, float("nan"), float("inf")])
def test_a_rep_without_a_positive_finite_velocity_is_never_the_reference(bad):
    reps = [_rep(1, bad), _rep(2, 0.62), _rep(3, 0.55)]
    assert reference_rep(reps).index == 2
    s = SetResult(index=1, start_s=0.0, end_s=20.0, reps=reps)
    FatigueTracker("squat").assess(s)  # raised ZeroDivisionError for 0.0
    assert s.reference_rep_index == 2
    assert s.reps[2].velocity_loss_pct == pytest.approx(100 * (0.62 - 0.55) / 0.62)
    assert reference_rep([_rep(1, 0.0)]) is None
