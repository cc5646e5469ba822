"""``vbt replay``: headless output equals ``vbt analyze``; screenshots; no-display fallback; errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from vbt.cli import main

RECORDINGS = Path(__file__).resolve().parents[1] / "recordings"
SMALL = RECORDINGS / "deadlift_polar_h10_25hz.jsonl.gz"  # 25 Hz, fast to replay
MULTI = RECORDINGS / "squat_3sets_polar_h10_50hz.jsonl.gz"


@pytest.fixture(autouse=True)
def no_display(monkeypatch):
    """CI has no display: make that explicit whatever the developer's machine has."""
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")


@pytest.mark.parametrize("fmt", ["json", "table", "csv"])
def test_headless_output_is_exactly_what_analyze_prints(capsys, fmt):
    assert main(["replay", str(SMALL), "--headless", "--format", fmt]) == 0
    live = capsys.readouterr().out
    assert main(["analyze", str(SMALL), "--format", fmt]) == 0
    offline = capsys.readouterr().out
    assert live == offline and live.strip()


def test_without_a_display_the_per_rep_report_is_printed(capsys):
    assert main(["replay", str(SMALL)]) == 0
    out, err = capsys.readouterr()
    assert "no display" in err and "--headless" in err
    assert main(["analyze", str(SMALL)]) == 0
    assert out == capsys.readouterr().out


def test_screenshot_renders_the_chosen_set(tmp_path, capsys, qapp):
    from PySide6.QtGui import QImage

    out = tmp_path / "set2.png"
    assert main(["replay", str(MULTI), "--screenshot", str(out), "--set", "2"]) == 0
    err = capsys.readouterr().err
    assert f"set view written to {out} (set 2," in err
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1600, 1000)
    assert len({image.pixel(x, y) for x in range(0, 1600, 9) for y in range(0, 1000, 9)}) > 50


@pytest.mark.parametrize(("argv", "code", "words"), [
    (["replay", "missing.jsonl.gz"], 1, "does not exist"),
    (["replay", str(SMALL), "--speed", "20"], 2, "--speed 20.0"),
    (["replay", str(SMALL), "--exercise", "curl"], 2, "curl"),
    (["replay", str(SMALL), "--screenshot", "shot.txt"], 2, ".png"),
    (["replay", str(MULTI), "--screenshot", "x.png", "--set", "9"], 2, "sets 1, 2, 3"),
])
def test_errors_are_one_clear_line(capsys, tmp_path, monkeypatch, argv, code, words):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == code
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("vbt: error:") and words in err


def test_with_a_display_the_dashboard_replays_and_closes_when_done(monkeypatch, qapp):
    """The window path end to end (offscreen, the display check forced to "yes")."""
    import vbt.ui.app
    from vbt.ui import launch

    seen = {}
    real_run = launch.run_dashboard

    def spy(dash, **kw):
        seen["dash"] = dash
        return real_run(dash, **kw)

    monkeypatch.setattr(vbt.ui.app, "display_available", lambda **_: True)
    monkeypatch.setattr(launch, "run_dashboard", spy)
    assert main(["replay", str(SMALL), "--max", "--quit-when-done", "--no-sound"]) == 0
    model = seen["dash"].model
    assert model.finished is not None and model.finished.error == ""
    assert [len(s.reps) for s in model.sets] == [len(s.reps) for s in model.finished.result.sets]
    assert not seen["dash"].window.isVisible()
