"""Colours and type sizes of the dashboard, in one place (no widgets here).

A dark theme: in a gym the screen sits a few metres away, often under bright lights, and
saturated bars on a near-black ground keep their contrast from a distance. Zone colours follow
the traffic-light convention lifters already know from commercial VBT apps: green keep going,
red stop, crimson failure (bright enough to read on the dark ground). Every zone also differs in *shape* (hatching, outline, a cross),
so the chart still reads for colour-blind lifters.
"""

from __future__ import annotations

from vbt.ui.model import ZONE_CONTINUE, ZONE_FAILURE, ZONE_PENDING, ZONE_STOP

BACKGROUND = "#121417"
PANEL = "#1b1e23"
GRID = "#2c3139"
TEXT = "#f2f4f7"
TEXT_DIM = "#9aa3ae"
REFERENCE = "#7fd1ff"  # best-rep reference line
THRESHOLD = "#ff5a5f"  # stop threshold line
WARNING = "#ffb020"

ZONE_COLOURS: dict[str, str] = {
    ZONE_CONTINUE: "#2fb463",
    ZONE_STOP: "#e23b3b",
    ZONE_FAILURE: "#c2185b",
    ZONE_PENDING: "#6b7480",
}

ZONE_LABELS: dict[str, str] = {
    ZONE_CONTINUE: "3+ reps left",
    ZONE_STOP: "STOP: 1-2 left",
    ZONE_FAILURE: "0 left / failed",
    ZONE_PENDING: "assessing",
}

#: Banner backgrounds: neutral while the lifter keeps going, the zone colour when it says STOP.
BANNER_NEUTRAL = "#242a31"

STYLESHEET = f"""
QWidget {{ background-color: {BACKGROUND}; color: {TEXT}; }}
QGroupBox {{ border: 1px solid {GRID}; border-radius: 6px; margin-top: 14px; padding-top: 6px; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 8px; padding: 0 4px; color: {TEXT_DIM}; }}
QPushButton {{ background-color: #2a3038; border: 1px solid #3a424d; border-radius: 5px; padding: 5px 10px; }}
QPushButton:hover {{ background-color: #343c46; }}
QPushButton:checked {{ background-color: #a3212a; border-color: #d33; }}
QPushButton:disabled {{ color: #5c6570; }}
QComboBox, QDoubleSpinBox, QSpinBox, QLineEdit {{ background-color: #20252b; border: 1px solid #3a424d;
  border-radius: 4px; padding: 3px 6px; }}
QTableWidget, QTreeWidget, QListWidget {{ background-color: {PANEL}; gridline-color: {GRID};
  alternate-background-color: #1f2329; }}
QHeaderView::section {{ background-color: #232830; color: {TEXT_DIM}; border: none; padding: 4px; }}
QStatusBar {{ color: {TEXT_DIM}; }}
QSlider::groove:horizontal {{ height: 6px; background: #2c3139; border-radius: 3px; }}
QSlider::handle:horizontal {{ background: {REFERENCE}; width: 14px; margin: -5px 0; border-radius: 7px; }}
"""

__all__ = [
    "BACKGROUND",
    "BANNER_NEUTRAL",
    "GRID",
    "PANEL",
    "REFERENCE",
    "STYLESHEET",
    "TEXT",
    "TEXT_DIM",
    "THRESHOLD",
    "WARNING",
    "ZONE_COLOURS",
    "ZONE_LABELS",
]
