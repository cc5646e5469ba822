"""``vbt dashboard``: one clear line without a display; options checked before anything starts."""

from __future__ import annotations

import pytest

from vbt.cli import main


@pytest.fixture(autouse=True)
def no_display(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")


def test_no_display_is_a_clear_error(capsys):
    assert main(["dashboard", "--virtual", "witmotion"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no display" in err and "vbt replay FILE --headless" in err


@pytest.mark.parametrize(("argv", "words"), [
    (["dashboard", "--exercise", "curl"], "curl"),
    (["dashboard", "--virtual", "fitbit"], "fitbit"),
    (["dashboard", "--vl-cutoff", "120"], "--vl-cutoff"),
])
def test_bad_options_fail_before_the_window(capsys, argv, words):
    assert main(argv) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and words in err


def test_with_a_display_it_connects_the_virtual_sensor(monkeypatch, qapp):
    import vbt.ui.app
    from vbt.ui import launch, messages

    seen = {}

    def run_briefly(dash, **kw):
        """Stand-in for the Qt event loop: wait until connected, then close like a user."""
        from vbt.ui.launch import run_until

        seen["dash"] = dash
        run_until(dash, lambda: dash.model.link.state == messages.CONN_CONNECTED, timeout_s=60)
        seen["state"] = dash.model.link.state
        seen["choice"] = dash.window.sensor_panel.current_choice()
        dash.close()
        return 0

    monkeypatch.setattr(vbt.ui.app, "display_available", lambda **_: True)
    monkeypatch.setattr(launch, "run_dashboard", run_briefly)
    assert main(["dashboard", "--virtual", "witmotion", "--exercise", "bench", "--no-sound"]) == 0
    assert seen["state"] == messages.CONN_CONNECTED
    assert seen["choice"].protocol == "witmotion"
    assert seen["dash"].model.lift.exercise == "bench"
