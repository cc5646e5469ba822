"""Application bootstrap: the display check, the Qt binding's health, the STOP sound."""

from __future__ import annotations

import sys
import wave

import numpy as np
import pytest

from vbt.ui.app import display_available
from vbt.ui.sound import SAMPLE_RATE_HZ, StopSound, tone_samples, write_tone_wav


def test_offscreen_platform_means_no_display(monkeypatch):
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    monkeypatch.setenv("DISPLAY", ":0")
    assert display_available() is False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11/Wayland variables are Linux-only")
def test_linux_without_display_variables_has_no_display(monkeypatch):
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert display_available() is False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11 probe is Linux-only")
def test_a_stale_display_is_detected_without_crashing_this_process(monkeypatch):
    """DISPLAY set but no X server (an SSH session that ended): Qt would abort; the probe says no."""
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("DISPLAY", ":4711")  # nothing listens there
    assert display_available(probe_timeout_s=30) is False


def test_python_slots_do_not_leak_references_to_none(qapp):
    """PySide6-Essentials 6.12.0 drops one reference to None per slot call (crash after a while)."""
    from PySide6.QtWidgets import QPushButton

    button = QPushButton()
    button.setCheckable(True)
    calls = []
    button.toggled.connect(calls.append)  # list.append returns None
    before = sys.getrefcount(None)
    for i in range(500):
        button.setChecked(i % 2 == 0)  # starts unchecked: every call toggles
    assert len(calls) == 500
    assert sys.getrefcount(None) >= before - 5  # a few temporaries at most, not one per call


def test_stop_tone_is_three_click_free_pulses(tmp_path):
    samples = tone_samples()
    assert samples.dtype == np.dtype("<i2") and samples.max() > 15_000
    # Ramps: the first and last sample of every pulse are near zero (no click).
    assert abs(int(samples[0])) < 200
    path = write_tone_wav(tmp_path / "stop.wav")
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, SAMPLE_RATE_HZ)
        assert w.getnframes() == samples.size


def test_sound_plays_only_when_enabled(qapp):
    sound = StopSound(enabled=False)
    assert sound.play() is False and sound.played == 0
    sound.enabled = True
    assert sound.play() is True and sound.played == 1
    assert sound.backend in ("beep", "qtmultimedia")
