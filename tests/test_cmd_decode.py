"""``vbt decode``: hex in (as BLE explorer apps show it), one JSON object per sample out, then counters.

Expected values are the hand-computed spec vectors of firmware_protocols/vectors/*.json.
"""

from __future__ import annotations

import json
import math

import pytest

from vbt.cli import main

G = 9.80665
WIT_FRAME = "55 61 00 08 00 00 00 F8 00 01 00 FF 40 00 00 20 00 00 00 C0"


def run(capsys, *argv):
    code = main(["decode", *argv])
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    return code, lines, captured.err


def test_witmotion_frame_decodes_to_si_units(capsys):
    code, lines, _ = run(capsys, "--sensor", "witmotion", WIT_FRAME)
    assert code == 0
    sample, summary = lines
    assert sample["sensor_time_s"] is None
    assert sample["accel_mps2"] == pytest.approx([G, 0.0, -G])
    assert sample["gyro_rads"] == pytest.approx([math.radians(15.625), math.radians(-15.625), math.radians(3.90625)])
    assert summary["skipped_bytes"] == 0 and summary["bad_frames"] == 0 and summary["samples"] == 1


@pytest.mark.parametrize(
    "text",
    [
        WIT_FRAME.replace(" ", ":"),
        WIT_FRAME.replace(" ", "-"),
        "0x" + WIT_FRAME.replace(" ", ""),
        " ".join("0x" + b for b in WIT_FRAME.split()),
        WIT_FRAME.lower().replace(" ", ""),
    ],
)
def test_hex_spellings_from_explorer_apps(capsys, text):
    code, lines, _ = run(capsys, "--sensor", "witmotion", text)
    assert code == 0 and len(lines) == 2 and lines[0]["accel_mps2"][0] == pytest.approx(G)


def test_unquoted_bytes_are_one_notification(capsys):
    code, lines, err = run(capsys, "--sensor", "polar_h10", *["02", "00", "CA", "9A", "3B", "00", "00", "00", "00", "01", "E8", "03", "00", "00", "18", "FC"])
    assert code == 0 and "one notification" in err
    assert lines[0]["accel_mps2"] == pytest.approx([G, 0.0, -G]) and lines[0]["sensor_time_s"] == pytest.approx(1.0)


def test_polar_start_response_sets_factor_and_gyro_can_be_off(capsys):
    code, lines, _ = run(
        capsys, "--sensor", "polar_verity_sense", "--gyro-range", "0",
        "fb005c81-02e7-f387-1cad-8acd2d8df0c8@F0 02 02 00 00 05 01 00 00 00 3F",
        "02 00 94 35 77 00 00 00 00 81 64 00 9C FF D0 07 04 02 F1 82 07",
    )
    assert code == 0
    *samples, summary = lines
    assert [s["accel_mps2"][2] for s in samples] == pytest.approx([1.0 * G, 1.001 * G, 1.001 * G])
    assert samples[-1]["sensor_time_s"] == pytest.approx(2.0) and samples[0]["gyro_rads"] is None
    assert summary["info"]["acc_factor"] == 0.5 and summary["other_frames"] == 1


def test_factor_option_for_captures_without_the_start_response(capsys):
    code, lines, _ = run(capsys, "--sensor", "polar_verity_sense", "--gyro-range", "0", "--factor", "0.5",
                         "02 00 94 35 77 00 00 00 00 81 64 00 9C FF D0 07 04 02 F1 82 07")
    assert code == 0 and lines[0]["accel_mps2"][2] == pytest.approx(G)


def test_protocol_options_and_counters(capsys):
    code, lines, _ = run(capsys, "--sensor", "metawear", "--rate", "200", "--range-g", "4", "--gyro-range", "250",
                         "--option", "chip=bmi270",
                         "03 05 00 20 00 00 00 00 00 20 00 00 00 00 00 20 00 00 00 00",
                         "13 05 20 05 C0 F5 00 00 20 05 C0 F5 00 00 20 05 C0 F5 00 00",
                         "11 8C 5A 68 10", "03 04 00")
    assert code == 0
    *samples, summary = lines
    assert len(samples) == 3 and samples[0]["gyro_rads"] == pytest.approx([math.radians(10), math.radians(-20), 0.0])
    assert summary["battery_pct"] == 90.0 and summary["bad_frames"] == 1 and summary["skipped_bytes"] == 3


def test_unknown_sensor_lists_the_known_ones(capsys):
    code, _, err = run(capsys, "--sensor", "fitbit", "00")
    assert code == 1
    assert "'fitbit' is not supported" in err and "witmotion" in err and "movesense" in err
    assert len(err.strip().splitlines()) == 1


def test_bad_hex_names_the_argument(capsys):
    code, _, err = run(capsys, "--sensor", "witmotion", WIT_FRAME, "55 6G")
    assert code == 2 and "HEX argument 2" in err and "'55 6G'" in err


def test_unsupported_rate_is_a_usage_error(capsys):
    code, _, err = run(capsys, "--sensor", "polar_h10", "--rate", "150", "00")
    assert code == 2 and "--rate" in err and "150" in err and "[25.0, 50.0, 100.0, 200.0]" in err


def test_strict_mode_stops_with_one_line(capsys):
    code, _, err = run(capsys, "--sensor", "witmotion", "--strict", "00 " + WIT_FRAME)
    assert code == 1 and "witmotion: expected frame header 0x55, got 0x00 at byte 0" in err
    assert "Traceback" not in err
