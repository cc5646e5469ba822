"""The optional STOP sound.

Decision: `vbt-monitor` depends on PySide6-Essentials, which has no QtMultimedia, and pulling
in PySide6-Addons (~200 MB) for one beep is not worth it. So the sound is:

* a generated three-pulse 880 Hz tone through ``QSoundEffect`` when QtMultimedia happens to be
  installed (someone installed the full PySide6); the WAV is synthesised once with the standard
  library's ``wave`` module, no audio files ship with the package;
* otherwise ``QApplication.beep()`` -- the platform's alert sound (on X11 the terminal bell;
  silent on the offscreen platform).

Either way it is optional (a checkbox on the dashboard, ``--no-sound``) and plays once per set,
when STOP first appears (the bridge's ``stop_raised`` signal).
"""

from __future__ import annotations

import logging
import tempfile
import wave
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

TONE_HZ = 880.0  # A5: cuts through gym noise without being shrill
PULSE_S = 0.12
GAP_S = 0.08
PULSES = 3
SAMPLE_RATE_HZ = 22_050


def tone_samples(
    *, tone_hz: float = TONE_HZ, pulse_s: float = PULSE_S, gap_s: float = GAP_S, pulses: int = PULSES,
    sample_rate_hz: int = SAMPLE_RATE_HZ,
) -> np.ndarray:
    """16-bit mono samples of the STOP pattern (pulses with 10 ms ramps, so they do not click)."""
    n_pulse = int(pulse_s * sample_rate_hz)
    n_gap = int(gap_s * sample_rate_hz)
    t = np.arange(n_pulse) / sample_rate_hz
    pulse = np.sin(2 * np.pi * tone_hz * t)
    ramp = min(n_pulse // 2, int(0.01 * sample_rate_hz))
    envelope = np.ones(n_pulse)
    envelope[:ramp] = np.linspace(0, 1, ramp)
    envelope[-ramp:] = np.linspace(1, 0, ramp)
    one = np.concatenate([pulse * envelope, np.zeros(n_gap)])
    signal = np.tile(one, pulses) * 0.6
    return (signal * 32767).astype("<i2")


def write_tone_wav(path: Path) -> Path:
    """Write the STOP pattern as a WAV file."""
    samples = tone_samples()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE_HZ)
        w.writeframes(samples.tobytes())
    return path


def multimedia_available() -> bool:
    """True when QtMultimedia (``QSoundEffect``) can be imported."""
    try:
        from PySide6 import QtMultimedia  # noqa: F401
    except ImportError:
        return False
    return True


class StopSound:
    """Plays the STOP sound when enabled.

    Args:
        enabled: Start enabled (the dashboard's checkbox / ``--no-sound`` control it).
    """

    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self.backend = "qtmultimedia" if multimedia_available() else "beep"
        self._effect = None
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None
        #: Times the sound was played (tests check it fires once per STOP).
        self.played = 0

    def _qt_effect(self):  # noqa: ANN202 - QSoundEffect
        if self._effect is None:
            from PySide6.QtCore import QUrl
            from PySide6.QtMultimedia import QSoundEffect

            self._tmpdir = tempfile.TemporaryDirectory(prefix="vbt-sound-")
            wav = write_tone_wav(Path(self._tmpdir.name) / "stop.wav")
            effect = QSoundEffect()
            effect.setSource(QUrl.fromLocalFile(str(wav)))
            effect.setVolume(0.8)
            self._effect = effect
        return self._effect

    def play(self) -> bool:
        """Play once if enabled; returns whether a sound was requested."""
        if not self.enabled:
            return False
        self.played += 1
        try:
            if self.backend == "qtmultimedia":
                self._qt_effect().play()
            else:
                from PySide6.QtWidgets import QApplication

                QApplication.beep()
        except Exception:  # noqa: BLE001 - a sound must never break the dashboard
            log.exception("could not play the STOP sound")
            return False
        return True


__all__ = ["StopSound", "multimedia_available", "tone_samples", "write_tone_wav"]
