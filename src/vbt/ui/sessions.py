"""This session's sets, and previous sets from the athlete-history database.

`SetsTable` lists every set of the running session (reps, best and last mean velocity,
velocity loss, RIR, how it ended); clicking a row shows that set in the set view, and "Follow
live" returns to the newest set. `HistoryTable` shows earlier sets read from the history
database (`vbt.fatigue.history`), so the lifter can compare today's set with last week's.
Both are presentation only: rows come in through ``set_*`` methods.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from vbt.pipeline.results import FLAG_FAILURE, FLAG_STOP
from vbt.ui import theme
from vbt.ui.messages import HistoryRow
from vbt.ui.model import SetState, reps_left, rir_lower_bound


def _fmt(value: float | None, fmt: str) -> str:
    return "--" if value is None else format(value, fmt)


def set_summary(state: SetState) -> list[str]:
    """The table cells of one set: set, reps, best, last, VL %, RIR, status."""
    reps = state.reps
    best = state.reference_rep
    last = state.last_rep
    failed = len(state.failed_attempts)
    rep_text = str(len(reps)) + (f" +{failed} failed" if failed else "")
    rir = None if last is None else reps_left(last)
    lower = 0 if last is None else rir_lower_bound(last)
    if state.stop_rep_index is not None:
        rep = next(r for r in reps if r.index == state.stop_rep_index)
        status = f"STOP at rep {rep.index}" if rep.flag == FLAG_STOP else f"failure at rep {rep.index}"
    elif failed:
        status = "failed attempt"
    else:
        status = "ended" if state.ended else "in progress"
    return [
        str(state.index),
        rep_text,
        _fmt(None if best is None else best.mean_velocity_mps, ".2f"),
        _fmt(None if last is None else last.mean_velocity_mps, ".2f"),
        _fmt(state.velocity_loss_pct, ".0f"),
        str(rir) if rir is not None else (f"{lower}+" if lower else "--"),
        status,
    ]


class SetsTable(QWidget):
    """This session's sets; selecting one shows it, "Follow live" shows the newest."""

    set_selected = Signal(object)  # int set index, or None = follow live

    HEADERS = ("Set", "Reps", "Best m/s", "Last m/s", "VL %", "RIR", "Status")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, len(self.HEADERS))
        self.table.setHorizontalHeaderLabels(list(self.HEADERS))
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.follow_button = QPushButton("Follow live")
        self.follow_button.setEnabled(False)
        title = QLabel("This session")
        title.setStyleSheet(f"color: {theme.TEXT_DIM};")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(title)
        layout.addWidget(self.table)
        layout.addWidget(self.follow_button)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.follow_button.clicked.connect(self._follow)
        self._indices: list[int] = []
        self._quiet = False

    def row_texts(self) -> list[list[str]]:
        """All cells as text (tests read the table this way)."""
        return [[self.table.item(r, c).text() for c in range(self.table.columnCount())]
                for r in range(self.table.rowCount())]

    def set_sets(self, sets: list[SetState]) -> None:
        """Show ``sets`` (keeps the selection on the same set)."""
        self._quiet = True
        try:
            selected = self.selected_index()
            self.table.setRowCount(len(sets))
            self._indices = [s.index for s in sets]
            for row, state in enumerate(sets):
                cells = set_summary(state)
                stop = state.stop_rep_index is not None
                failure = any(r.flag == FLAG_FAILURE for r in state.reps) or bool(state.failed_attempts)
                for col, text in enumerate(cells):
                    item = QTableWidgetItem(text)
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                    if col == len(cells) - 1 and (stop or failure):
                        item.setForeground(QColor(theme.ZONE_COLOURS["failure" if failure and not stop else "stop"]))
                    self.table.setItem(row, col, item)
            if selected in self._indices:
                self.table.selectRow(self._indices.index(selected))
        finally:
            self._quiet = False

    def selected_index(self) -> int | None:
        """Number of the selected set (None: nothing selected, follow live)."""
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self._indices):
            return None
        return self._indices[rows[0].row()]

    def select_set(self, index: int | None) -> None:
        """Select a set by number (None clears the selection: follow live)."""
        if index is None or index not in self._indices:
            self.table.clearSelection()
        else:
            self.table.selectRow(self._indices.index(index))

    def _selection_changed(self) -> None:
        if self._quiet:
            return
        index = self.selected_index()
        self.follow_button.setEnabled(index is not None)
        self.set_selected.emit(index)

    def _follow(self) -> None:
        self._quiet = True
        try:
            self.table.clearSelection()
        finally:
            self._quiet = False
        self.follow_button.setEnabled(False)
        self.set_selected.emit(None)


class HistoryTable(QWidget):
    """Previous sets from the athlete-history database (newest first)."""

    set_selected = Signal(object)  # HistoryRow

    HEADERS = ("Date", "Exercise", "Load", "Reps", "Best m/s", "VL %", "RIR")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("Previous sets")
        self.title.setStyleSheet(f"color: {theme.TEXT_DIM};")
        self.table = QTableWidget(0, len(self.HEADERS))
        self.table.setHorizontalHeaderLabels(list(self.HEADERS))
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"color: {theme.TEXT_DIM};")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.table)
        layout.addWidget(self.message)
        self._rows: list[HistoryRow] = []
        self.table.itemSelectionChanged.connect(self._selection_changed)

    def set_rows(self, rows: list[HistoryRow], message: str = "") -> None:
        """Show ``rows``; ``message`` explains an empty or unavailable history."""
        self._rows = list(rows)
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            cells = [row.date, row.exercise, _fmt(row.load_kg, "g") + ("" if row.load_kg is None else " kg"),
                     str(row.reps), _fmt(row.best_mps, ".2f"), _fmt(row.velocity_loss_pct, ".0f"),
                     _fmt(row.rir, ".0f")]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.table.setItem(r, c, item)
        self.message.setText(message or ("" if rows else "no previous sets in the history database"))

    def _selection_changed(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows and rows[0].row() < len(self._rows):
            self.set_selected.emit(self._rows[rows[0].row()])


__all__ = ["HistoryRow", "HistoryTable", "SetsTable", "set_summary"]
