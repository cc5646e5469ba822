"""Control panels: sensor picker, link health, lift inputs, set override, recording, replay transport.

Presentation only: each panel shows state it is given (``set_*`` methods) and reports what the
user asked for through Qt signals. The main window turns signals into worker commands, so the
panels never touch the session, a file or the network, and tests drive them by clicking.

Link health thresholds (when a figure turns amber) follow sensors.md and anchors.md section 6:
a measured rate under 90 % of the configured one means notifications are lost or the sensor
runs slow; more than 2 % dropped is worse than the < 1 % a good gym link achieves; RSSI under
-85 dBm is where BLE links start dropping; latency over 300 ms breaks the "feedback within
~200 ms of lockout" anchor.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from vbt.ui import messages as m
from vbt.ui import theme
from vbt.ui.messages import SensorChoice
from vbt.ui.model import LinkView

RATE_OK_FRACTION = 0.9
DROP_WARN_PCT = 2.0
RSSI_WARN_DBM = -85.0
BATTERY_WARN_PCT = 20.0
LATENCY_WARN_MS = 300.0

#: Replay speeds offered (None = as fast as possible).
SPEEDS: tuple[float | None, ...] = (0.5, 1.0, 2.0, 5.0, 10.0, None)


def speed_label(speed: float | None) -> str:
    """``"0.5x"``, ``"10x"``, ``"max"``."""
    return "max" if speed is None else f"{speed:g}x"


def clock_text(seconds: float) -> str:
    """``m:ss`` for the transport's position label."""
    seconds = max(0.0, seconds)
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


class SensorPanel(QGroupBox):
    """Pick a sensor (real or virtual), scan, connect and disconnect."""

    scan_requested = Signal()
    connect_requested = Signal(object)  # SensorChoice
    disconnect_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Sensor", parent)
        self.picker = QComboBox()
        self.picker.setMinimumWidth(200)
        self.scan_button = QPushButton("Scan")
        self.connect_button = QPushButton("Connect")
        self.disconnect_button = QPushButton("Disconnect")
        self.state_label = QLabel("not connected")
        self.state_label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.picker)
        row = QHBoxLayout()
        for b in (self.scan_button, self.connect_button, self.disconnect_button):
            row.addWidget(b)
        layout.addLayout(row)
        layout.addWidget(self.state_label)
        self.scan_button.clicked.connect(self.scan_requested)
        self.connect_button.clicked.connect(self._connect_clicked)
        self.disconnect_button.clicked.connect(self.disconnect_requested)
        self._state = m.CONN_IDLE
        self.set_connection(m.CONN_IDLE)

    def set_choices(self, choices: list[SensorChoice]) -> None:
        """Replace the picker's entries (keeps the current one selected if still there)."""
        current = self.current_choice()
        self.picker.clear()
        for c in choices:
            self.picker.addItem(c.label, c)
        if current is not None:
            for i in range(self.picker.count()):
                if self.picker.itemData(i) == current:
                    self.picker.setCurrentIndex(i)
        self._update_buttons()

    def current_choice(self) -> SensorChoice | None:
        """The picked sensor (None when the picker is empty)."""
        data = self.picker.currentData()
        return data if isinstance(data, SensorChoice) else None

    def _connect_clicked(self) -> None:
        choice = self.current_choice()
        if choice is not None:
            self.connect_requested.emit(choice)

    def set_connection(self, state: str, detail: str = "", sensor: str = "") -> None:
        """Show the connection state; enables exactly the buttons that make sense in it."""
        self._state = state
        words = {
            m.CONN_IDLE: "not connected",
            m.CONN_CONNECTING: "connecting...",
            m.CONN_CONNECTED: "connected",
            m.CONN_RECONNECTING: "link lost - reconnecting...",
            m.CONN_LOST: "link lost - gave up",
            m.CONN_REPLAYING: "replaying a recording",
            m.CONN_FINISHED: "stream ended",
        }
        text = words.get(state, state)
        if sensor:
            text += f": {sensor}"
        if detail:
            text += f"\n{detail}"
        self.state_label.setText(text)
        colour = {m.CONN_CONNECTED: theme.ZONE_COLOURS["continue"], m.CONN_RECONNECTING: theme.WARNING,
                  m.CONN_LOST: theme.THRESHOLD}.get(state, theme.TEXT_DIM)
        self.state_label.setStyleSheet(f"color: {colour};")
        self._update_buttons()

    def _update_buttons(self) -> None:
        busy = self._state in (m.CONN_CONNECTING, m.CONN_CONNECTED, m.CONN_RECONNECTING)
        self.connect_button.setEnabled(not busy and self.picker.count() > 0)
        self.disconnect_button.setEnabled(busy)
        self.scan_button.setEnabled(not busy)
        self.picker.setEnabled(not busy)


class LinkHealthPanel(QGroupBox):
    """Measured rate, drops, RSSI, battery and latency; amber when a figure is poor."""

    FIELDS = ("rate", "dropped", "rssi", "battery", "latency", "bad")
    TITLES = {"rate": "Rate", "dropped": "Dropped", "rssi": "RSSI", "battery": "Battery",
              "latency": "Latency", "bad": "Bad frames"}

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Link health", parent)
        grid = QGridLayout(self)
        self.values: dict[str, QLabel] = {}
        for row, key in enumerate(self.FIELDS):
            title = QLabel(self.TITLES[key])
            title.setStyleSheet(f"color: {theme.TEXT_DIM};")
            value = QLabel("--")
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(title, row, 0)
            grid.addWidget(value, row, 1)
            self.values[key] = value

    def text(self, key: str) -> str:
        """The text shown for figure ``key`` (tests read it)."""
        return self.values[key].text()

    def is_warning(self, key: str) -> bool:
        """True when figure ``key`` is shown as a warning (amber)."""
        return theme.WARNING in self.values[key].styleSheet()

    def _put(self, key: str, text: str, warn: bool = False) -> None:
        self.values[key].setText(text)
        self.values[key].setStyleSheet(f"color: {theme.WARNING}; font-weight: bold;" if warn else "")

    def set_link(self, link: LinkView) -> None:
        """Show the connection's health figures, amber where they explain poor reps."""
        h = link.health
        if h.rate_hz is None:
            self._put("rate", "--")
        else:
            nominal = f" / {h.nominal_rate_hz:g}" if h.nominal_rate_hz else ""
            low = h.nominal_rate_hz is not None and h.rate_hz < RATE_OK_FRACTION * h.nominal_rate_hz
            self._put("rate", f"{h.rate_hz:.1f}{nominal} Hz", low)
        if h.drop_pct is None:
            self._put("dropped", f"{h.dropped}" if h.dropped else "--")
        else:  # the share is measured from the sample clock; the count only where the link reports it
            count = f" ({h.dropped})" if h.dropped else ""
            self._put("dropped", f"{h.drop_pct:.1f} %{count}", h.drop_pct > DROP_WARN_PCT)
        self._put("rssi", "--" if h.rssi_dbm is None else f"{h.rssi_dbm:.0f} dBm",
                  h.rssi_dbm is not None and h.rssi_dbm < RSSI_WARN_DBM)
        self._put("battery", "--" if h.battery_pct is None else f"{h.battery_pct:.0f} %",
                  h.battery_pct is not None and h.battery_pct < BATTERY_WARN_PCT)
        self._put("latency", "--" if h.latency_ms is None else f"{h.latency_ms:.0f} ms",
                  h.latency_ms is not None and h.latency_ms > LATENCY_WARN_MS)
        self._put("bad", str(h.bad_frames), h.bad_frames > 0)


class LiftPanel(QGroupBox):
    """Exercise, load and target RIR (what the fatigue tracker needs)."""

    lift_changed = Signal(object)  # LiftInfo

    def __init__(self, exercises: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        """Args: exercises: (name, title) pairs for the exercise picker."""
        super().__init__("Lift", parent)
        self.exercise = QComboBox()
        for name, title in exercises:
            self.exercise.addItem(title, name)
        self.load = QDoubleSpinBox()
        self.load.setRange(0.0, 600.0)
        self.load.setDecimals(1)
        self.load.setSingleStep(2.5)
        self.load.setSuffix(" kg")
        self.load.setSpecialValueText("unknown")  # 0 = not given
        self.target_rir = QSpinBox()
        self.target_rir.setRange(1, 3)
        self.target_rir.setValue(2)
        form = QFormLayout(self)
        form.addRow("Exercise", self.exercise)
        form.addRow("Load", self.load)
        form.addRow("Target RIR", self.target_rir)
        self.exercise.currentIndexChanged.connect(self._changed)
        self.load.valueChanged.connect(self._changed)
        self.target_rir.valueChanged.connect(self._changed)
        self._quiet = False

    def lift(self) -> m.LiftInfo:
        """The lift the inputs describe (load 0 = unknown)."""
        load = self.load.value()
        return m.LiftInfo(exercise=str(self.exercise.currentData()), load_kg=load if load > 0 else None,
                          target_rir=int(self.target_rir.value()))

    def set_lift(self, lift: m.LiftInfo) -> None:
        """Show ``lift`` without emitting ``lift_changed``."""
        self._quiet = True
        try:
            i = self.exercise.findData(lift.exercise)
            if i >= 0:
                self.exercise.setCurrentIndex(i)
            self.load.setValue(lift.load_kg or 0.0)
            self.target_rir.setValue(int(lift.target_rir))
        finally:
            self._quiet = False

    def _changed(self, *_: object) -> None:
        if not self._quiet:
            self.lift_changed.emit(self.lift())


class SetPanel(QGroupBox):
    """Manual override of the automatic set start/end (rest detection)."""

    start_set_requested = Signal()
    end_set_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Set", parent)
        self.start_button = QPushButton("Start set")
        self.end_button = QPushButton("End set")
        note = QLabel("Sets start and end by themselves (rest detection); these override it.")
        note.setWordWrap(True)
        note.setStyleSheet(f"color: {theme.TEXT_DIM};")
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        row.addWidget(self.start_button)
        row.addWidget(self.end_button)
        layout.addLayout(row)
        layout.addWidget(note)
        self.start_button.clicked.connect(self.start_set_requested)
        self.end_button.clicked.connect(self.end_set_requested)
        self.set_enabled(False)

    def set_enabled(self, enabled: bool) -> None:
        """Enable the override buttons (only while a stream runs)."""
        self.start_button.setEnabled(enabled)
        self.end_button.setEnabled(enabled)


class RecordingPanel(QGroupBox):
    """Recording on/off, the file being written and why recording stopped."""

    recording_toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Recording", parent)
        self.button = QPushButton("Record")
        self.button.setCheckable(True)
        self.status = QLabel("off")
        self.status.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.button)
        layout.addWidget(self.status)
        self.button.toggled.connect(self._toggled)
        self._quiet = False

    def _toggled(self, on: bool) -> None:
        if not self._quiet:
            self.recording_toggled.emit(on)

    def set_state(self, state: m.RecordingState) -> None:
        """Show the worker's recording state (the button follows it, without re-emitting)."""
        self._quiet = True
        try:
            self.button.setChecked(state.active)
            self.button.setText("Stop recording" if state.active else "Record")
        finally:
            self._quiet = False
        if state.error:
            self.status.setText(state.error)
            self.status.setStyleSheet(f"color: {theme.THRESHOLD};")
        elif state.active:
            self.status.setText(f"writing {state.path}")
            self.status.setStyleSheet(f"color: {theme.ZONE_COLOURS['continue']};")
        else:
            self.status.setText(f"off (last: {state.path})" if state.path else "off")
            self.status.setStyleSheet(f"color: {theme.TEXT_DIM};")

    def set_available(self, available: bool) -> None:
        """Enable the Record button (only for live streams)."""
        self.button.setEnabled(available)


class ReplayTransport(QGroupBox):
    """Open a recording; play/pause, seek, speed 0.5x-10x or as fast as possible."""

    open_requested = Signal()
    pause_toggled = Signal(bool)  # True = pause
    seek_requested = Signal(float)  # seconds
    speed_changed = Signal(object)  # float | None

    #: Slider resolution (s per step).
    SLIDER_STEP_S = 0.1

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Replay", parent)
        self.open_button = QPushButton("Open recording...")
        self.play_button = QPushButton("Pause")
        self.play_button.setCheckable(True)  # checked = paused
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.position = QLabel("0:00 / 0:00")
        self.speed = QComboBox()
        for s in SPEEDS:
            self.speed.addItem(speed_label(s), s)
        self.speed.setCurrentIndex(SPEEDS.index(1.0))
        layout = QVBoxLayout(self)
        layout.addWidget(self.open_button)
        row = QHBoxLayout()
        row.addWidget(self.play_button)
        row.addWidget(QLabel("Speed"))
        row.addWidget(self.speed)
        layout.addLayout(row)
        layout.addWidget(self.slider)
        layout.addWidget(self.position)
        self.open_button.clicked.connect(self.open_requested)
        self.play_button.toggled.connect(self._pause_toggled)
        self.slider.sliderReleased.connect(self._seek)
        self.speed.currentIndexChanged.connect(lambda _: self.speed_changed.emit(self.speed.currentData()))
        self._quiet = False
        self.set_active(False)

    def _pause_toggled(self, paused: bool) -> None:
        self.play_button.setText("Play" if paused else "Pause")
        if not self._quiet:
            self.pause_toggled.emit(paused)

    def _seek(self) -> None:
        self.seek_requested.emit(self.slider.value() * self.SLIDER_STEP_S)

    def set_active(self, active: bool) -> None:
        """Enable the transport (a recording is loaded) or leave only "Open" usable."""
        for w in (self.play_button, self.slider, self.speed):
            w.setEnabled(active)

    def set_speed(self, speed: float | None) -> None:
        """Show ``speed`` without emitting ``speed_changed``."""
        i = self.speed.findData(speed)
        if i >= 0 and i != self.speed.currentIndex():
            self.speed.blockSignals(True)
            self.speed.setCurrentIndex(i)
            self.speed.blockSignals(False)

    def set_progress(self, progress: m.ReplayProgress) -> None:
        """Follow the worker's position (not while the user drags the slider)."""
        self.set_active(True)
        steps = int(progress.duration_s / self.SLIDER_STEP_S)
        if self.slider.maximum() != steps:
            self.slider.setRange(0, steps)
        if not self.slider.isSliderDown():
            self.slider.blockSignals(True)
            self.slider.setValue(int(progress.position_s / self.SLIDER_STEP_S))
            self.slider.blockSignals(False)
        self.position.setText(f"{clock_text(progress.position_s)} / {clock_text(progress.duration_s)}")
        self._quiet = True
        try:
            self.play_button.setChecked(progress.paused)
        finally:
            self._quiet = False
        self.set_speed(progress.speed)


__all__ = [
    "SPEEDS",
    "LiftPanel",
    "LinkHealthPanel",
    "RecordingPanel",
    "ReplayTransport",
    "SensorChoice",
    "SensorPanel",
    "SetPanel",
    "clock_text",
    "speed_label",
]
