"""Assemble and run the dashboard (used by ``vbt dashboard``, ``vbt replay`` and ``vbt demo``).

`build_dashboard` wires the pieces together -- the QApplication, the `Bridge` (message pump and
model), the `DashboardBackend` (worker thread + `SessionController`) and the `MainWindow` --
and `run_dashboard` shows the window and runs Qt's event loop until it closes. Tests use
`build_dashboard` directly with a `FakeClock`, so a whole replay finishes in moments.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vbt.clock import Clock
from vbt.ui import messages as m


@dataclass
class Dashboard:
    """A built (not yet shown) dashboard."""

    app: object  # QApplication
    bridge: object  # Bridge
    backend: object  # DashboardBackend
    window: object  # MainWindow

    @property
    def model(self):  # noqa: ANN201 - DashboardModel
        """The dashboard model (owned by the bridge)."""
        return self.bridge.model  # type: ignore[attr-defined]

    def close(self) -> None:
        """Close the window, stop the session and the worker (idempotent)."""
        self.window.close()  # type: ignore[attr-defined]
        self.backend.shutdown()  # type: ignore[attr-defined]


def build_dashboard(
    *,
    lift: m.LiftInfo | None = None,
    clock: Clock | None = None,
    db_path: Path | None | bool = None,
    athlete: str | None = None,
    virtual_feed: Callable[[object, int], object] | None = None,
    seed: int = 0,
    faults: str | object = "none",
    vl_cutoff_pct: float | None = None,
    save_live_sets: bool | None = None,
    sound: bool = True,
    fps: float = 30.0,
    recordings_dir: Path | None = None,
    offscreen: bool = False,
    size: tuple[int, int] | None = None,
) -> Dashboard:
    """Create the dashboard (window hidden; call `run_dashboard` or show it yourself).

    Args:
        lift: Initial exercise / load / target RIR (None: from the recording, else generic).
        clock: Clock for the worker (pacing, virtual sensors); a `FakeClock` runs instantly.
        db_path: History database (None: standard location; False: no history).
        athlete: Athlete for history and personalisation.
        virtual_feed: What virtual sensors measure (see `SessionController`).
        seed, faults: Simulated lifter / set seed and link faults of virtual sensors.
        vl_cutoff_pct: Optional fixed velocity-loss cut-off for the stop flag.
        save_live_sets: Store live sets in the history (None: real sensors only).
        sound: Start with the STOP sound enabled.
        fps: Redraw rate.
        recordings_dir: Where "Record" writes.
        offscreen: Render into memory only (screenshots, headless checks).
        size: Window size in pixels.
    """
    from vbt.ui.app import ensure_app
    from vbt.ui.bridge import Bridge
    from vbt.ui.controller import SessionController, virtual_choices
    from vbt.ui.main_window import MainWindow
    from vbt.ui.sound import StopSound
    from vbt.ui.worker import DashboardBackend

    app = ensure_app(offscreen=offscreen)
    bridge = Bridge(fps=fps)

    def make_controller() -> SessionController:
        return SessionController(bridge.post, clock=clock, lift=lift, db_path=db_path, athlete=athlete,
                                 virtual_feed=virtual_feed, seed=seed, faults=faults, vl_cutoff_pct=vl_cutoff_pct,
                                 save_live_sets=save_live_sets)

    backend = DashboardBackend(make_controller, bridge.post)
    window = MainWindow(bridge, backend, sensor_choices=virtual_choices(), sound=StopSound(enabled=sound),
                        recordings_dir=recordings_dir)
    if lift is not None:
        bridge.post(lift)
    if size is not None:
        window.resize(*size)
    bridge.start()
    backend.load_history()
    return Dashboard(app=app, bridge=bridge, backend=backend, window=window)


def run_dashboard(dash: Dashboard, *, quit_when_done: bool = False) -> int:
    """Show the window and run the Qt event loop; returns the exit status.

    Args:
        dash: From `build_dashboard`.
        quit_when_done: Close the window when the session ends (a replay reached its end).
    """
    window, bridge, app = dash.window, dash.bridge, dash.app
    if quit_when_done:
        from vbt.ui.model import DIRTY_FINISHED

        def maybe_quit(dirty: set[str]) -> None:
            if DIRTY_FINISHED in dirty and dash.model.finished is not None:
                window.close()  # type: ignore[attr-defined]

        bridge.updated.connect(maybe_quit)  # type: ignore[attr-defined]
    window.show()  # type: ignore[attr-defined]
    try:
        app.exec()  # type: ignore[attr-defined]
    finally:
        dash.backend.shutdown()  # type: ignore[attr-defined]
    finished = dash.model.finished
    return 1 if finished is not None and finished.error else 0




def run_until(dash: Dashboard, done: Callable[[], bool], *, timeout_s: float = 600.0, poll_ms: int = 20) -> bool:
    """Run the Qt event loop until ``done()`` is true (headless runs); False on timeout.

    The bridge keeps draining and the window keeps redrawing meanwhile, exactly as when a
    person watches.
    """
    from PySide6.QtCore import QDeadlineTimer, QEventLoop, QTimer

    if done():
        dash.bridge.drain()  # type: ignore[attr-defined]
        return True
    loop = QEventLoop()
    deadline = QDeadlineTimer(int(timeout_s * 1000))

    def check() -> None:
        if done() or deadline.hasExpired():
            loop.quit()

    timer = QTimer()
    timer.timeout.connect(check)
    timer.start(poll_ms)
    loop.exec()
    timer.stop()
    dash.bridge.drain()  # type: ignore[attr-defined]
    return done()


__all__ = ["Dashboard", "build_dashboard", "run_dashboard", "run_until"]
