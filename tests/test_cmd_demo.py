"""``vbt demo``: a virtual sensor doing a simulated set -- headless report and offscreen screenshot."""

from __future__ import annotations

import json

import pytest

from vbt.cli import main


@pytest.fixture(autouse=True)
def no_display(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")


def test_without_a_display_the_demo_prints_the_simulated_sets_reps(capsys):
    assert main(["demo", "--duration", "25", "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert "no display" in err
    result = json.loads(out)
    assert result["exercise"] == "squat" and result["sets"]
    reps = result["sets"][0]["reps"]
    assert len(reps) >= 3 and all(0.2 < r["mean_velocity_mps"] < 1.5 for r in reps)
    assert result["sample_rate_hz"] > 150  # the virtual WitMotion streams ~200 Hz


def test_screenshot_runs_the_whole_dashboard_offscreen(tmp_path, capsys, qapp):
    from PySide6.QtGui import QImage

    out = tmp_path / "demo.png"
    assert main(["demo", "--screenshot", str(out), "--duration", "20", "--exercise", "bench"]) == 0
    err = capsys.readouterr().err
    assert f"dashboard written to {out} (set 1," in err
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1600, 1000)


def test_unknown_sensor_and_bad_screenshot_path_are_one_line_errors(capsys, tmp_path):
    assert main(["demo", "--sensor", "fitbit"]) == 1
    assert "fitbit" in capsys.readouterr().err
    assert main(["demo", "--screenshot", str(tmp_path / "no" / "x.png")]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "does not exist" in err
