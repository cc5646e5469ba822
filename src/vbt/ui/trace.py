"""Live bar-velocity trace: a scrolling pyqtgraph curve over the model's ring buffer.

Following pyqtgraph's ``scrollingPlots`` / ``PlotSpeedTest`` examples (style.md section 6):
samples land in a `vbt.ui.model.RingBuffer` as they arrive (any rate, any burst size) and the
curve is redrawn only by the window's fixed-rate timer (`VelocityTrace.redraw`), so drawing
cost does not grow with the data rate. ``setDownsampling(mode="peak")`` keeps the velocity
peaks when there are more samples than pixels, and ``setClipToView`` skips what is off screen.
Concentric phases of the reps in view are shaded in their zone colour, so the trace and the
bars can be matched at a glance.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from vbt.ui import theme
from vbt.ui.model import RingBuffer, SetState, rep_zone

#: Seconds of history the trace shows.
DEFAULT_WINDOW_S = 15.0
#: Largest velocity the axis grows to (m/s).
MAX_Y_MPS = 2.5


class VelocityTrace(pg.PlotWidget):
    """Scrolling velocity trace; call `redraw` from a timer, never per sample.

    Args:
        buffer: The ring buffer to draw (owned by the model, filled by the bridge).
        window_s: Seconds of history shown.
    """

    def __init__(self, buffer: RingBuffer, parent: QWidget | None = None, *, window_s: float = DEFAULT_WINDOW_S,
                 origin: Callable[[], float | None] | None = None):
        super().__init__(parent, background=theme.BACKGROUND)
        self.buffer = buffer
        #: Returns the time shown as 0 (live: the session start); None shows raw times.
        self.origin = origin or (lambda: 0.0)
        self.window_s = window_s
        self.setMenuEnabled(False)
        self.hideButtons()
        item = self.getPlotItem()
        item.showGrid(x=True, y=True, alpha=0.15)
        item.setLabel("left", "bar velocity", units="m/s")
        for axis in ("left", "bottom"):  # m/s and s, never "mm/s" or "ks"
            item.getAxis(axis).enableAutoSIPrefix(False)
        item.setLabel("bottom", "time", units="s")
        item.setDownsampling(mode="peak", auto=True)
        item.setClipToView(True)
        zero = item.addLine(y=0, pen=pg.mkPen(theme.GRID, width=1))
        zero.setZValue(-5)  # under the curve: a bar at rest reads exactly 0 and must stay visible
        # No antialiasing on the scrolling curve: it is redrawn every frame, and at 2 px on a
        # dark ground the difference is invisible while the raster cost is not.
        self.curve = item.plot(pen=pg.mkPen(theme.TEXT, width=2), antialias=False)
        self._regions: list[pg.LinearRegionItem] = []
        self._region_key: tuple = ()
        #: Redraws performed (tests check that drawing follows the timer, not the data).
        self.redraws = 0
        self._y_limit = 1.0

    def redraw(self) -> None:
        """Draw the newest ``window_s`` seconds of the buffer."""
        t, v = self.buffer.view()
        self.redraws += 1
        if t.size == 0:  # a new session: start again from the default scale
            self.curve.setData([], [])
            self._y_limit = 1.0
            return
        t0 = self.origin() or 0.0
        t_end = float(t[-1]) - t0
        t_start = t_end - self.window_s
        first = int(np.searchsorted(t, t_start + t0 - 1.0))
        peak = float(np.max(np.abs(v[first:]))) if t.size > first else 0.0
        # The y range only grows during a session, so the axis does not jump rep to rep.
        # Capped at 2.5 m/s: faster than any barbell lift, so a drifting causal estimate
        # cannot squash the reps into a flat line.
        self._y_limit = max(self._y_limit, min(MAX_Y_MPS, peak * 1.15))
        item = self.getPlotItem()
        # Range first, data second: clipToView clips new data to the view range in force when
        # the data is set, so the other order would hide the newest samples until the next frame.
        item.setXRange(t_start, t_end, padding=0.0)
        item.setYRange(-self._y_limit, self._y_limit, padding=0.0)
        self.curve.setData(t[first:] - t0, v[first:])

    def set_sets(self, sets: list[SetState]) -> None:
        """Shade the concentric phase of every rep of ``sets`` (only when they changed)."""
        t0 = self.origin() or 0.0
        spans = [(r.start_s - t0, r.end_s - t0, rep_zone(r)) for s in sets for r in s.reps]
        key = tuple(spans)
        if key == self._region_key:
            return
        self._region_key = key
        item = self.getPlotItem()
        while len(self._regions) > len(spans):
            item.removeItem(self._regions.pop())
        while len(self._regions) < len(spans):
            region = pg.LinearRegionItem(movable=False)
            region.setZValue(-10)
            for line in region.lines:
                line.setPen(pg.mkPen(None))
            item.addItem(region)
            self._regions.append(region)
        for region, (start, end, zone) in zip(self._regions, spans, strict=True):
            region.setRegion((start, end))
            colour = pg.mkColor(theme.ZONE_COLOURS[zone])
            colour.setAlpha(60)
            region.setBrush(pg.mkBrush(colour))

    def reset(self) -> None:
        """Forget the scale and the shaded reps (a new session)."""
        self._y_limit = 1.0
        self.set_sets([])
        self.redraw()


__all__ = ["DEFAULT_WINDOW_S", "VelocityTrace"]
