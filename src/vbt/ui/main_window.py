"""The dashboard window: controls on the left, the set view in the middle, trace and sets below.

The window is glue: it lays out the panels, forwards what the user asks for to the backend
(`vbt.ui.worker.DashboardBackend`: every call returns at once, the work happens on the worker
thread) and redraws the parts of itself that the bridge reports as changed. It holds no
session state of its own; everything it shows comes from `vbt.ui.model.DashboardModel`.

Redraws are driven by `vbt.ui.bridge.Bridge.updated`, which fires at most once per frame of
the bridge's timer, so a 200 Hz stream costs the same drawing effort as a 25 Hz one.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QLabel,
    QMainWindow,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from vbt.ui import messages as m
from vbt.ui import model as md
from vbt.ui.bridge import Bridge
from vbt.ui.controls import (
    LiftPanel,
    LinkHealthPanel,
    RecordingPanel,
    ReplayTransport,
    SensorChoice,
    SensorPanel,
    SetPanel,
)
from vbt.ui.model import StopAdvice
from vbt.ui.sessions import HistoryRow, HistoryTable, SetsTable
from vbt.ui.set_view import SetView
from vbt.ui.sound import StopSound
from vbt.ui.trace import VelocityTrace

#: `MainWindow.viewed_set` value while a previous set from the history is shown.
REVIEW = -1

#: File-dialog filter for recordings.
RECORDING_FILTER = "vbt recordings (*.jsonl *.jsonl.gz);;CSV files (*.csv);;All files (*)"


class Backend(Protocol):
    """What the window asks of the worker side (see `vbt.ui.worker.DashboardBackend`)."""

    def open_replay(self, path: Path, *, speed: float | None = 1.0) -> None: ...
    def scan(self) -> None: ...
    def connect_sensor(self, choice: SensorChoice) -> None: ...
    def disconnect(self) -> None: ...
    def pause(self, paused: bool) -> None: ...
    def seek(self, position_s: float) -> None: ...
    def set_speed(self, speed: float | None) -> None: ...
    def start_set(self) -> None: ...
    def end_set(self) -> None: ...
    def set_recording(self, on: bool, path: Path | None = None) -> None: ...
    def set_lift(self, lift: m.LiftInfo) -> None: ...
    def load_history(self) -> None: ...
    def show_history_set(self, row: HistoryRow) -> None: ...
    def shutdown(self) -> None: ...


def default_exercises() -> list[tuple[str, str]]:
    """(name, title) of every catalogue exercise, for the lift picker."""
    from vbt.fatigue import catalogue

    return [(name, catalogue.lookup(name).title) for name in catalogue.names()]


class MainWindow(QMainWindow):
    """The dashboard.

    Args:
        bridge: Message pump from the worker (owns the model).
        backend: Where user commands go.
        sensor_choices: Entries for the sensor picker (virtual sensors and scan results).
        sound: The STOP sound (None: a default, enabled one).
        recordings_dir: Where "Record" puts new recordings.
    """

    def __init__(
        self,
        bridge: Bridge,
        backend: Backend,
        *,
        sensor_choices: Sequence[SensorChoice] = (),
        sound: StopSound | None = None,
        recordings_dir: Path | None = None,
        exercises: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__()
        self.bridge = bridge
        self.model = bridge.model
        self.backend = backend
        self.sound = sound if sound is not None else StopSound()
        self.recordings_dir = recordings_dir or Path.cwd()
        #: The set shown (None: follow the newest set live; `REVIEW`: a set from the history).
        self.viewed_set: int | None = None
        self.setWindowTitle("vbt-monitor")
        self.resize(1500, 950)

        # Left: controls (scrollable, so small laptop screens still reach every panel).
        self.sensor_panel = SensorPanel()
        self.model.sensor_choices = list(sensor_choices)  # a scan replaces them later
        self.link_panel = LinkHealthPanel()
        self.lift_panel = LiftPanel(exercises if exercises is not None else default_exercises())
        self.set_panel = SetPanel()
        self.recording_panel = RecordingPanel()
        self.transport = ReplayTransport()
        self.sound_box = QCheckBox("Sound on STOP")
        self.sound_box.setChecked(self.sound.enabled)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        for w in (self.sensor_panel, self.link_panel, self.lift_panel, self.set_panel,
                  self.recording_panel, self.transport, self.sound_box):
            side_layout.addWidget(w)
        side_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(side)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(300)
        scroll.setMaximumWidth(380)

        # Centre: set view over (trace | sets/history).
        self.set_view = SetView()
        self.trace = VelocityTrace(self.model.trace, origin=lambda: self.model.trace_origin_s)
        self.sets_table = SetsTable()
        self.history_table = HistoryTable()
        tabs = QTabWidget()
        tabs.addTab(self.sets_table, "Sets")
        tabs.addTab(self.history_table, "History")
        self.tabs = tabs
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(self.trace)
        bottom.addWidget(tabs)
        bottom.setStretchFactor(0, 3)
        bottom.setStretchFactor(1, 2)
        bottom.setSizes([620, 480])
        centre = QSplitter(Qt.Orientation.Vertical)
        centre.addWidget(self.set_view)
        centre.addWidget(bottom)
        centre.setStretchFactor(0, 3)
        centre.setStretchFactor(1, 1)
        outer = QSplitter(Qt.Orientation.Horizontal)
        outer.addWidget(scroll)
        outer.addWidget(centre)
        outer.setStretchFactor(1, 1)
        self.setCentralWidget(outer)
        self.status_label = QLabel("")
        self.statusBar().addWidget(self.status_label, 1)

        open_action = QAction("Open recording...", self)
        open_action.setShortcut(QKeySequence.StandardKey.Open)
        open_action.triggered.connect(self.ask_open_replay)
        self.addAction(open_action)
        space = QAction("Play/pause", self)
        space.setShortcut(QKeySequence(Qt.Key.Key_Space))
        space.triggered.connect(lambda: self.transport.play_button.toggle())
        self.addAction(space)

        # User -> backend.
        self.sensor_panel.scan_requested.connect(self.backend.scan)
        self.sensor_panel.connect_requested.connect(self._connect)
        self.sensor_panel.disconnect_requested.connect(self.backend.disconnect)
        self.lift_panel.lift_changed.connect(self.backend.set_lift)
        self.set_panel.start_set_requested.connect(self.backend.start_set)
        self.set_panel.end_set_requested.connect(self.backend.end_set)
        self.recording_panel.recording_toggled.connect(self._record)
        self.transport.open_requested.connect(self.ask_open_replay)
        self.transport.pause_toggled.connect(self.backend.pause)
        self.transport.seek_requested.connect(self.backend.seek)
        self.transport.speed_changed.connect(self.backend.set_speed)
        self.sound_box.toggled.connect(self._sound_toggled)
        self.sets_table.set_selected.connect(self.show_set)
        self.history_table.set_selected.connect(self._history_selected)

        # Worker -> screen.
        self.bridge.updated.connect(self.refresh)
        self.bridge.stop_raised.connect(self._stop_raised)
        self.refresh(set(md.DIRTY_KEYS))

    # ------------------------------------------------------------------ user actions
    def ask_open_replay(self) -> None:
        """Ask for a recording with a file dialog and replay it."""
        path, _ = QFileDialog.getOpenFileName(self, "Open a recording", str(self.recordings_dir), RECORDING_FILTER)
        if path:
            self.open_replay(Path(path))

    def open_replay(self, path: Path, *, speed: float | None = 1.0) -> None:
        """Start replaying ``path`` (the previous session's view is cleared)."""
        self.viewed_set = None
        self.backend.open_replay(path, speed=speed)

    def _connect(self, choice: SensorChoice) -> None:
        self.viewed_set = None
        self.backend.connect_sensor(choice)

    def _record(self, on: bool) -> None:
        self.backend.set_recording(on, self.recordings_dir if on else None)

    def _sound_toggled(self, on: bool) -> None:
        self.sound.enabled = on

    def _stop_raised(self, advice: StopAdvice) -> None:
        if self.viewed_set is None:
            self.sound.play()

    def _history_selected(self, row: HistoryRow) -> None:
        self.viewed_set = REVIEW
        self.sets_table.follow_button.setEnabled(True)
        self.backend.show_history_set(row)

    def show_set(self, index: int | None) -> None:
        """Show set ``index`` of this session (None: follow the newest set live)."""
        self.viewed_set = index
        if index is None:
            self.sets_table.select_set(None)
        self.refresh({md.DIRTY_SET})

    # ------------------------------------------------------------------ redraw
    def shown_set(self) -> md.SetState | None:
        """The set the set view shows: a reviewed one, a picked one, or the newest."""
        if self.viewed_set == REVIEW:
            return self.model.review
        if self.viewed_set is not None:
            state = self.model.set_by_index(self.viewed_set)
            if state is not None:
                return state
        return self.model.current_set

    def refresh(self, dirty: set[str]) -> None:
        """Redraw the parts named in ``dirty`` (called once per frame at most)."""
        model = self.model
        if md.DIRTY_LIFT in dirty and model.lift is not None:
            self.lift_panel.set_lift(model.lift)
            self.set_view.set_lift(model.lift)
        if dirty & {md.DIRTY_SET, md.DIRTY_SETS}:
            reviewing = self.viewed_set == REVIEW
            self.set_view.set_title(f"HISTORY  |  {model.review_title}" if reviewing else "")
            self.set_view.set_lift(model.review_lift if reviewing else model.lift)
            self.set_view.set_state(self.shown_set())
        if md.DIRTY_SETS in dirty:
            self.sets_table.set_sets(model.sets)
            self.trace.set_sets(model.sets)
        if md.DIRTY_TRACE in dirty:
            self.trace.redraw()
        if dirty & {md.DIRTY_LINK, md.DIRTY_CONNECTION}:
            link = model.link
            self.sensor_panel.set_connection(link.state, link.detail, link.sensor)
            self.link_panel.set_link(link)
            live = link.state in (m.CONN_CONNECTED, m.CONN_RECONNECTING, m.CONN_REPLAYING)
            self.set_panel.set_enabled(live)
            self.recording_panel.set_available(link.state in (m.CONN_CONNECTED, m.CONN_RECONNECTING)
                                               or model.recording.active)
        if md.DIRTY_PROGRESS in dirty and model.progress is not None:
            self.transport.set_progress(model.progress)
        if md.DIRTY_RECORDING in dirty:
            self.recording_panel.set_state(model.recording)
        if md.DIRTY_NOTICE in dirty and model.notices:
            notice = model.notices[-1]
            self.status_label.setText(notice.text)
            self.status_label.setStyleSheet("color: #ff5a5f;" if notice.level == "error" else "")
        if md.DIRTY_HISTORY in dirty:
            self.history_table.set_rows(model.history, model.history_message)
        if md.DIRTY_SCAN in dirty:
            self.sensor_panel.set_choices(model.sensor_choices)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.bridge.stop()
        self.backend.shutdown()
        super().closeEvent(event)


__all__ = ["RECORDING_FILTER", "REVIEW", "Backend", "MainWindow", "default_exercises"]
