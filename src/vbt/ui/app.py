"""QApplication bootstrap, offscreen-safe, and the "is there a display at all?" check.

`vbt replay FILE` opens the dashboard when a display exists and otherwise prints the set's
per-rep report in the terminal (the README quick start must work over SSH and in CI). Qt
cannot be asked politely: when the platform plugin cannot connect (a stale ``DISPLAY`` after
an SSH session ended, a Wayland socket that is gone) it aborts the whole process. So
`display_available` decides *before* creating the application: on Linux and the BSDs no
``DISPLAY``/``WAYLAND_DISPLAY`` means no display, and when one is set, a throw-away
subprocess tries to open the platform first. macOS and Windows always have a display.
"""

from __future__ import annotations

import os
import subprocess
import sys

from vbt.ui import theme

#: Platform plugins that draw into memory only (no window a person could see).
HEADLESS_PLATFORMS = ("offscreen", "minimal", "vnc-less")

_PROBE = (
    "import sys\n"
    "from PySide6.QtGui import QGuiApplication\n"
    "app = QGuiApplication(sys.argv[:1])\n"
    "print(app.platformName())\n"
)


def display_available(*, probe_timeout_s: float = 20.0) -> bool:
    """True when Qt can open a window a person can see.

    Args:
        probe_timeout_s: Limit for the subprocess that tries to open the platform plugin
            (a hung X server must not hang `vbt replay`).
    """
    platform = os.environ.get("QT_QPA_PLATFORM", "").strip().lower()
    if platform.split(":")[0] in HEADLESS_PLATFORMS:
        return False
    if sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            return False
        try:
            proc = subprocess.run(
                [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=probe_timeout_s, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            return False
        name = proc.stdout.strip().lower()
        return proc.returncode == 0 and bool(name) and name not in HEADLESS_PLATFORMS
    return True


def ensure_app(*, offscreen: bool = False):  # noqa: ANN201 - QApplication (Qt imported lazily)
    """The process's QApplication, created on first use and themed.

    Args:
        offscreen: Render into memory only (screenshots, headless checks). Only honoured when
            the application does not exist yet; an existing one is reused as it is.
    """
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        if offscreen:
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
        # pyqtgraph must see the Qt binding we use; PySide6 is the only one we depend on.
        os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
        app = QApplication(sys.argv[:1])
        app.setApplicationName("vbt-monitor")
        app.setOrganizationName("vbt-monitor")
        apply_theme(app)
    elif not isinstance(app, QApplication):
        # Qt aborts the whole process on the first widget built under a QCoreApplication.
        raise RuntimeError(
            f"a {type(app).__name__} already exists in this process; the dashboard needs a QApplication "
            "(create the QApplication before anything else creates a Qt application)"
        )
    return app


def apply_theme(app) -> None:  # noqa: ANN001 - QApplication
    """Dark theme and pyqtgraph defaults (antialiased lines on the dashboard background)."""
    import pyqtgraph as pg

    pg.setConfigOptions(antialias=True, background=theme.BACKGROUND, foreground=theme.TEXT_DIM)
    app.setStyle("Fusion")
    app.setStyleSheet(theme.STYLESHEET)


__all__ = ["HEADLESS_PLATFORMS", "apply_theme", "display_available", "ensure_app"]
