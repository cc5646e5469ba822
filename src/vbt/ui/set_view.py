"""The set view a lifter reads from two metres away.

Four parts, top to bottom / left to right:

* `StopBanner` -- a full-width band: neutral while the lifter keeps going, and an unmistakable
  red "STOP - about N reps left" when the set reaches 1-2 reps in reserve (deep red with
  "STOP - no reps left" / "STOP - failed rep" at failure). Its text comes from
  `vbt.ui.model.stop_advice`, so every view says the same thing.
* `LastRepReadout` -- the last rep's mean velocity in very large digits (coloured by zone),
  its velocity loss, the RIR estimate with its band, the forecast "about N reps left" and,
  when it applies, why the rep is of low quality.
* `RepBarChart` -- one bar per rep (mean concentric velocity), coloured by fatigue zone, with
  the velocity value above and velocity loss / RIR inside each bar; the best-rep reference
  line and the stop threshold; failed attempts drawn as a cross in their place in the
  sequence; low-quality reps hatched with a "?"; provisional reps (before lockout confirms
  them) drawn as an outline.
* `RepCurveOverlay` -- every rep's concentric velocity-time curve on one plot (anchors.md
  section 7.10, the whole-curve fatigue view), the newest drawn thickest.

The bar chart and readout are painted with QPainter, not pyqtgraph: they change once per rep,
so speed does not matter, while exact control of very large type does. Sizes scale with the
widget, so the same code serves the dashboard, a projector and the screenshot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QHBoxLayout, QSizePolicy, QVBoxLayout, QWidget

from vbt.pipeline.results import FailedAttempt, RepResult
from vbt.ui import theme
from vbt.ui.messages import LiftInfo
from vbt.ui.model import (
    ZONE_CONTINUE,
    ZONE_FAILURE,
    ZONE_PENDING,
    ZONE_STOP,
    SetState,
    forecast_text,
    is_low_quality,
    rep_zone,
    rir_text,
    stop_advice,
)

FONT_FAMILY = "DejaVu Sans"


def _font(px: float, *, bold: bool = False, condensed: bool = False) -> QFont:
    font = QFont(FONT_FAMILY)
    font.setPixelSize(max(6, int(round(px))))
    font.setBold(bold)
    if condensed:
        font.setStretch(QFont.Stretch.SemiCondensed)
    return font


def _colour(name: str, alpha: int = 255) -> QColor:
    c = QColor(name)
    c.setAlpha(alpha)
    return c


def vl_text(rep: RepResult) -> str:
    """Velocity loss as the bar shows it: ``-27%`` slower than the best rep, ``+3%`` faster."""
    if rep.velocity_loss_pct is None:
        return ""
    vl = rep.velocity_loss_pct
    if abs(vl) < 0.5:
        return "0%"
    return f"-{vl:.0f}%" if vl > 0 else f"+{-vl:.0f}%"


def nice_ceiling(value: float, step: float = 0.1) -> float:
    """Round ``value`` up to a multiple of ``step`` (axis limits)."""
    return step * math.ceil(value / step - 1e-9)


def fit_font(text: str, max_width: float, max_px: float, *, bold: bool = False, min_px: float = 8) -> QFont:
    """The largest font (<= ``max_px``) in which ``text`` fits ``max_width`` pixels."""
    px = max_px
    font = _font(px, bold=bold)
    while px > min_px:
        width = QFontMetricsF(font).horizontalAdvance(text)
        if width <= max_width:
            break
        px = max(min_px, px * max_width / max(width, 1.0) * 0.98)
        font = _font(px, bold=bold)
        if px == min_px:
            break
    return font


class StopBanner(QWidget):
    """Full-width band: neutral set header, or the STOP message in the zone colour."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.headline = ""
        self.detail = ""
        self.level = ""  # "" (neutral), "stop" or "failure"
        self.setMinimumHeight(60)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def set_message(self, headline: str, detail: str = "", level: str = "") -> None:
        """Show a headline (and a smaller detail line); ``level`` picks the colours."""
        if (headline, detail, level) != (self.headline, self.detail, self.level):
            self.headline, self.detail, self.level = headline, detail, level
            self.update()

    @property
    def is_stop(self) -> bool:
        """True while the banner says STOP."""
        return self.level in (ZONE_STOP, ZONE_FAILURE)

    def paintEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt override
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = QRectF(self.rect())
        bg = theme.ZONE_COLOURS[self.level] if self.is_stop else theme.BANNER_NEUTRAL
        p.fillRect(r, QColor(bg))
        h = r.height()
        pad = 0.25 * h
        if self.is_stop:
            # Thick white frame: the band must look different from anything else on screen
            # even to someone who cannot tell red from green.
            p.setPen(QPen(QColor("white"), max(3.0, h * 0.06)))
            p.drawRect(r.adjusted(2, 2, -2, -2))
        text_rect = r.adjusted(pad, 0, -pad, 0)
        if self.detail:
            head_font = fit_font(self.headline, text_rect.width() * 0.62, h * 0.62, bold=True)
            p.setFont(head_font)
            p.setPen(QColor("white"))
            p.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, self.headline)
            head_w = QFontMetricsF(head_font).horizontalAdvance(self.headline)
            detail_rect = text_rect.adjusted(head_w + pad, 0, 0, 0)
            p.setFont(fit_font(self.detail, detail_rect.width(), h * 0.32))
            p.setPen(QColor("white") if self.is_stop else QColor(theme.TEXT_DIM))
            p.drawText(detail_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, self.detail)
        else:
            p.setFont(fit_font(self.headline, text_rect.width(), h * 0.62, bold=True))
            p.setPen(QColor("white"))
            p.drawText(text_rect, Qt.AlignmentFlag.AlignCenter, self.headline)
        p.end()


class LastRepReadout(QWidget):
    """The last rep in very large type: velocity (zone colour), VL %, RIR band, forecast."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state: SetState | None = None
        self.setMinimumWidth(220)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)

    def set_state(self, state: SetState | None) -> None:
        """Show ``state`` (None: no set yet)."""
        self.state = state
        self.update()

    def lines(self) -> list[tuple[str, str, float, bool]]:
        """(text, colour, height fraction, bold) per line; also what tests read."""
        state = self.state
        rep = state.last_rep if state is not None else None
        if rep is None:
            title = f"SET {state.index}" if state is not None else "NO SET YET"
            return [
                (title, theme.TEXT_DIM, 0.07, True),
                ("--", theme.TEXT_DIM, 0.30, True),
                ("m/s mean velocity", theme.TEXT_DIM, 0.06, False),
                (forecast_text(None), theme.TEXT_DIM, 0.06, False),
            ]
        zone = rep_zone(rep)
        colour = theme.ZONE_COLOURS[zone]
        status = "provisional" if rep.provisional else ""
        lines = [
            (f"REP {rep.index}" + (f"  ({status})" if status else ""), theme.TEXT_DIM, 0.07, True),
            (f"{rep.mean_velocity_mps:.2f}", colour, 0.30, True),
            ("m/s mean velocity", theme.TEXT_DIM, 0.055, False),
        ]
        if rep.velocity_loss_pct is None:
            lines.append(("VL --", theme.TEXT, 0.12, True))
        else:  # the signed velocity loss, as the literature and the JSON report define it
            lines.append((f"VL {rep.velocity_loss_pct:.0f} %", theme.TEXT, 0.12, True))
        rir = rir_text(rep)
        lines.append((rir if rir else "RIR --", theme.TEXT, 0.10, True))
        failed_after = [f for f in state.failed_attempts if f.start_s >= rep.end_s] if state is not None else []
        if failed_after:
            lines.append(("then a FAILED attempt: no reps left", theme.THRESHOLD, 0.06, True))
        else:
            lines.append((forecast_text(rep), theme.TEXT_DIM, 0.06, False))
        extra = f"peak {rep.peak_velocity_mps:.2f} m/s   ROM {rep.rom_m * 100:.0f} cm"
        lines.append((extra, theme.TEXT_DIM, 0.05, False))
        if is_low_quality(rep):
            lines.append((f"LOW QUALITY ({rep.quality:.0%})", theme.WARNING, 0.06, True))
            lines.append((rep.quality_reasons[0] if rep.quality_reasons else "unreliable signal",
                          theme.WARNING, 0.045, False))
        return lines

    def paintEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt override
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = QRectF(self.rect())
        p.fillRect(r, QColor(theme.PANEL))
        lines = self.lines()
        total = sum(f for _, _, f, _ in lines) * 1.18
        scale = min(1.0, 0.96 / total) if total else 1.0
        y = r.top() + r.height() * 0.03
        pad = r.width() * 0.06
        for text, colour, frac, bold in lines:
            line_h = r.height() * frac * scale
            font = fit_font(text, r.width() - 2 * pad, line_h, bold=bold)
            p.setFont(font)
            p.setPen(QColor(colour))
            box = QRectF(r.left() + pad, y, r.width() - 2 * pad, line_h * 1.18)
            p.drawText(box, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
            y += line_h * 1.18
        p.end()


@dataclass(frozen=True, slots=True)
class ChartLayout:
    """Geometry of the bar chart at one widget size."""

    full: QRectF
    plot: QRectF
    base: float  # base type size (px); everything scales with it
    vmax: float  # top of the velocity axis (m/s)
    items: list[RepResult | FailedAttempt]
    slot_w: float
    bar_w: float

    def y_of(self, velocity_mps: float) -> float:
        """Pixel row of a velocity on the chart."""
        v = max(0.0, min(velocity_mps, self.vmax))
        return self.plot.bottom() - v / self.vmax * self.plot.height()

    def centre_x(self, slot: int) -> float:
        """Pixel column of the centre of slot ``slot``."""
        return self.plot.left() + self.slot_w * (slot + 0.5)


class RepBarChart(QWidget):
    """One bar per rep, with failed attempts, reference and stop lines (see module doc)."""

    #: Slots drawn even for a short set, so the first bar is not a wall of colour.
    MIN_SLOTS = 6

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state: SetState | None = None
        self.setMinimumSize(320, 220)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_state(self, state: SetState | None) -> None:
        """Show ``state`` (None: no set yet)."""
        self.state = state
        self.update()

    def y_max(self) -> float:
        """Top of the velocity axis (m/s): 25 % headroom over the tallest thing drawn."""
        state = self.state
        values = [0.4]
        if state is not None:
            values += [r.mean_velocity_mps for r in state.reps if math.isfinite(r.mean_velocity_mps)]
            ref = state.reference_rep
            if ref is not None:
                values.append(ref.mean_velocity_mps)
            if state.stop_velocity_mps is not None:
                values.append(state.stop_velocity_mps)
        return nice_ceiling(max(values) * 1.25)

    def chart_layout(self) -> ChartLayout:
        """Where everything goes at the current size (painting and tests share it)."""
        full = QRectF(self.rect())
        base = max(11.0, min(full.height() / 22.0, full.width() / 40.0))
        right = QFontMetricsF(_font(base * 1.15, bold=True)).horizontalAdvance("best 0.00") + base * 0.8
        plot = full.adjusted(base * 3.6, base * 2.2, -right, -base * 2.4)
        items = self.state.sequence() if self.state is not None else []
        n_slots = max(self.MIN_SLOTS, len(items))
        slot_w = plot.width() / n_slots
        return ChartLayout(full=full, plot=plot, base=base, vmax=self.y_max(), items=items,
                           slot_w=slot_w, bar_w=slot_w * 0.74)

    def bar_rects(self) -> list[tuple[RepResult | FailedAttempt, QRectF]]:
        """The rectangle of every bar (failed attempts: their whole slot), left to right."""
        lay = self.chart_layout()
        out: list[tuple[RepResult | FailedAttempt, QRectF]] = []
        for i, item in enumerate(lay.items):
            cx = lay.centre_x(i)
            if isinstance(item, FailedAttempt):
                out.append((item, QRectF(cx - lay.bar_w / 2, lay.plot.top(), lay.bar_w, lay.plot.height())))
            else:
                top = lay.y_of(item.mean_velocity_mps)
                out.append((item, QRectF(cx - lay.bar_w / 2, top, lay.bar_w, lay.plot.bottom() - top)))
        return out

    def paintEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt override
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        lay = self.chart_layout()
        full, plot, base, vmax = lay.full, lay.plot, lay.base, lay.vmax
        p.fillRect(full, QColor(theme.BACKGROUND))
        state = self.state

        # Axis and grid.
        step = 0.1 if vmax <= 1.0 else 0.2
        p.setFont(_font(base * 0.9))
        v = 0.0
        while v <= vmax + 1e-9:
            y = lay.y_of(v)
            p.setPen(QPen(QColor(theme.GRID), 1))
            p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            p.setPen(QColor(theme.TEXT_DIM))
            p.drawText(QRectF(full.left(), y - base, plot.left() - full.left() - base * 0.4, 2 * base),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, f"{v:.1f}")
            v += step
        p.save()
        p.translate(full.left() + base * 0.8, plot.center().y())
        p.rotate(-90)
        p.drawText(QRectF(-plot.height() / 2, -base, plot.height(), 2 * base), Qt.AlignmentFlag.AlignCenter,
                   "mean velocity (m/s)")
        p.restore()
        self._legend(p, full, plot, base)

        if not lay.items:
            p.setFont(_font(base * 1.6, bold=True))
            p.setPen(QColor(theme.TEXT_DIM))
            p.drawText(plot, Qt.AlignmentFlag.AlignCenter, "waiting for the first rep")
            p.end()
            return

        # Reference and stop lines first: bars and their labels stay readable on top, and
        # the lines show in the gaps between bars; labels sit in the right margin.
        ref = state.reference_rep if state is not None else None
        if ref is not None:
            self._hline(p, lay.y_of(ref.mean_velocity_mps), plot, full, base, theme.REFERENCE,
                        f"best {ref.mean_velocity_mps:.2f}", Qt.PenStyle.DashLine)
        if state is not None and state.stop_velocity_mps is not None:
            self._hline(p, lay.y_of(state.stop_velocity_mps), plot, full, base, theme.THRESHOLD,
                        f"stop {state.stop_velocity_mps:.2f}", Qt.PenStyle.DashDotLine)

        value_px = min(base * 2.2, lay.bar_w * 0.36)
        inner_px = min(base * 1.5, lay.bar_w * 0.27)
        for i, item in enumerate(lay.items):
            cx = lay.centre_x(i)
            if isinstance(item, FailedAttempt):
                self._failed(p, cx, lay.bar_w, plot, base, value_px)
            else:
                self._bar(p, item, cx, lay.bar_w, lay.y_of, plot, base, value_px, inner_px, state)
        p.end()

    # ------------------------------------------------------------------ pieces
    def _bar(self, p: QPainter, rep: RepResult, cx: float, bar_w: float, y_of, plot: QRectF,  # noqa: ANN001
             base: float, value_px: float, inner_px: float, state: SetState | None) -> None:
        zone = rep_zone(rep)
        colour = theme.ZONE_COLOURS[zone]
        top = y_of(rep.mean_velocity_mps)
        rect = QRectF(cx - bar_w / 2, top, bar_w, plot.bottom() - top)
        low = is_low_quality(rep)
        if rep.provisional:
            p.setBrush(QBrush(_colour(colour, 70)))
            p.setPen(QPen(QColor(colour), max(2.0, base * 0.18), Qt.PenStyle.DashLine))
        else:
            if low:  # opaque ground first, so lines behind a faded bar do not show through
                p.fillRect(rect, QColor(theme.BACKGROUND))
            p.setBrush(QBrush(_colour(colour, 120 if low else 255)))
            p.setPen(Qt.PenStyle.NoPen)
        p.drawRect(rect)
        if low:
            # Hatching over a faded bar: "do not trust this one" without relying on colour.
            p.setBrush(QBrush(QColor("white"), Qt.BrushStyle.BDiagPattern))
            p.setPen(QPen(QColor(theme.WARNING), max(2.0, base * 0.15), Qt.PenStyle.DotLine))
            p.drawRect(rect)
        # Value above the bar.
        p.setFont(_font(value_px, bold=True))
        p.setPen(QColor(theme.TEXT))
        value = f"{rep.mean_velocity_mps:.2f}" + ("?" if low else "")
        box = QRectF(cx - bar_w, top - value_px * 1.35, 2 * bar_w, value_px * 1.3)
        tight = p.boundingRect(box, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom, value)
        p.fillRect(tight.adjusted(-2, 0, 2, 0), QColor(theme.BACKGROUND))
        p.drawText(box, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom, value)
        # VL and RIR inside the bar (above the x labels when the bar is too short for them).
        inner = []
        if state is not None and rep.index == state.reference_rep_index:
            inner.append("best")
        else:
            vl = vl_text(rep)
            if vl:
                inner.append(vl)
        rir = rir_text(rep).split(" (")[0]
        if rir:
            inner.append(rir)
        if inner:
            need = inner_px * 1.25 * len(inner) + inner_px * 0.4
            p.setFont(_font(inner_px, bold=True))
            if rect.height() >= need:
                p.setPen(QColor("white"))
                y = rect.top() + inner_px * 0.3
            else:
                p.setPen(QColor(theme.TEXT))
                y = top - value_px * 1.35 - need
            for text in inner:
                p.drawText(QRectF(cx - bar_w / 2, y, bar_w, inner_px * 1.25), Qt.AlignmentFlag.AlignCenter, text)
                y += inner_px * 1.25
        # Rep number under the axis.
        p.setFont(_font(base * 1.1, bold=True))
        p.setPen(QColor(theme.TEXT_DIM))
        p.drawText(QRectF(cx - bar_w / 2, plot.bottom() + base * 0.3, bar_w, base * 1.6),
                   Qt.AlignmentFlag.AlignCenter, str(rep.index))

    def _failed(self, p: QPainter, cx: float, bar_w: float, plot: QRectF, base: float, value_px: float) -> None:
        size = min(bar_w * 0.7, plot.height() * 0.25)
        cy = plot.bottom() - size * 0.5 - base * 0.3
        p.setPen(QPen(QColor(theme.ZONE_COLOURS[ZONE_FAILURE]), max(3.0, size * 0.16), Qt.PenStyle.SolidLine,
                      Qt.PenCapStyle.RoundCap))
        p.drawLine(QPointF(cx - size / 2, cy - size / 2), QPointF(cx + size / 2, cy + size / 2))
        p.drawLine(QPointF(cx - size / 2, cy + size / 2), QPointF(cx + size / 2, cy - size / 2))
        p.setFont(_font(min(value_px, base * 1.3), bold=True))
        p.setPen(QColor(theme.ZONE_COLOURS[ZONE_FAILURE]))
        p.drawText(QRectF(cx - bar_w, cy - size / 2 - value_px * 1.4, 2 * bar_w, value_px * 1.3),
                   Qt.AlignmentFlag.AlignCenter, "failed")
        p.setFont(_font(base * 1.1, bold=True))
        p.drawText(QRectF(cx - bar_w / 2, plot.bottom() + base * 0.3, bar_w, base * 1.6),
                   Qt.AlignmentFlag.AlignCenter, "X")

    def _hline(self, p: QPainter, y: float, plot: QRectF, full: QRectF, base: float, colour: str,
               label: str, style: Qt.PenStyle) -> None:
        p.setPen(QPen(QColor(colour), max(2.0, base * 0.2), style))
        p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        p.setFont(_font(base * 1.15, bold=True))
        p.setPen(QColor(colour))
        p.drawText(QRectF(plot.right() + base * 0.4, y - base, full.right() - plot.right() - base * 0.4, 2 * base),
                   Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, label)

    def _legend(self, p: QPainter, full: QRectF, plot: QRectF, base: float) -> None:
        x = plot.left()
        y = full.top() + base * 0.5
        sq = base * 0.9
        p.setFont(_font(base * 0.85))
        fm = QFontMetricsF(p.font())
        entries = [(theme.ZONE_COLOURS[z], theme.ZONE_LABELS[z], Qt.BrushStyle.SolidPattern)
                   for z in (ZONE_CONTINUE, ZONE_STOP, ZONE_FAILURE)]
        entries.append((theme.ZONE_COLOURS[ZONE_PENDING], "low quality (?)", Qt.BrushStyle.BDiagPattern))
        for colour, label, brush in entries:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QBrush(QColor(colour)))
            p.drawRect(QRectF(x, y, sq, sq))
            if brush != Qt.BrushStyle.SolidPattern:
                p.setBrush(QBrush(QColor("white"), brush))
                p.drawRect(QRectF(x, y, sq, sq))
            x += sq + base * 0.3
            p.setPen(QColor(theme.TEXT_DIM))
            p.drawText(QPointF(x, y + sq * 0.85), label)
            x += fm.horizontalAdvance(label) + base * 1.2


class RepCurveOverlay(pg.PlotWidget):
    """Every rep's concentric velocity curve, overlaid from concentric start (pyqtgraph)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background=theme.BACKGROUND)
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        item = self.getPlotItem()
        item.showGrid(x=True, y=True, alpha=0.15)
        item.setLabel("bottom", "time from concentric start", units="s")
        item.setLabel("left", "velocity", units="m/s")
        for axis in ("left", "bottom"):  # m/s and s, never "mm/s" or "ks"
            item.getAxis(axis).enableAutoSIPrefix(False)
        item.setTitle("rep velocity curves (newest thickest)", color=theme.TEXT_DIM, size="10pt")
        self._curves: list[pg.PlotDataItem] = []
        self._signature: tuple = ()

    @property
    def curve_count(self) -> int:
        """Rep curves drawn (tests check one per rep)."""
        return len(self._curves)

    def set_state(self, state: SetState | None) -> None:
        """Show ``state`` (None: no set yet)."""
        reps = [] if state is None else [r for r in state.reps if r.t_s is not None and r.velocity_mps is not None]
        signature = tuple((r.index, r.provisional, id(r.velocity_mps)) for r in reps)
        if signature == self._signature:
            return
        self._signature = signature
        for c in self._curves:
            self.removeItem(c)
        self._curves = []
        n = len(reps)
        for i, rep in enumerate(reps):
            t = np.asarray(rep.t_s, dtype=float)
            v = np.asarray(rep.velocity_mps, dtype=float)
            if t.size < 2:
                continue
            newest = i == n - 1
            colour = _colour(theme.ZONE_COLOURS[rep_zone(rep)], 255 if newest else 90 + int(120 * (i + 1) / n))
            pen = pg.mkPen(colour, width=4 if newest else 2,
                           style=Qt.PenStyle.DashLine if rep.provisional else Qt.PenStyle.SolidLine)
            self._curves.append(self.plot(t - t[0], v, pen=pen, name=f"rep {rep.index}"))


class SetView(QWidget):
    """Banner + last-rep readout + bar chart (+ curve overlay): the whole set at a glance.

    Args:
        with_overlay: Include the rep-curve overlay under the bars (the dashboard does; a
            small embedded view may not).
    """

    def __init__(self, parent: QWidget | None = None, *, with_overlay: bool = True) -> None:
        super().__init__(parent)
        self.state: SetState | None = None
        self.lift: LiftInfo | None = None
        #: Replaces the neutral banner text (e.g. "HISTORY ..." for a previous set).
        self.title = ""
        self.banner = StopBanner(self)
        self.readout = LastRepReadout(self)
        self.chart = RepBarChart(self)
        self.overlay = RepCurveOverlay(self) if with_overlay else None
        self.setAutoFillBackground(True)
        pal = self.palette()
        pal.setColor(self.backgroundRole(), QColor(theme.BACKGROUND))
        self.setPalette(pal)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addWidget(self.banner, 11)
        middle = QHBoxLayout()
        middle.setSpacing(6)
        middle.addWidget(self.readout, 30)
        middle.addWidget(self.chart, 70)
        layout.addLayout(middle, 62)
        if self.overlay is not None:
            layout.addWidget(self.overlay, 27)
        self.set_state(None)

    def set_lift(self, lift: LiftInfo | None) -> None:
        """Exercise / load / target RIR for the banner's header line."""
        self.lift = lift
        self._update_banner()

    def set_state(self, state: SetState | None) -> None:
        """Show ``state`` (None: no set yet)."""
        self.state = state
        self.readout.set_state(state)
        self.chart.set_state(state)
        if self.overlay is not None:
            self.overlay.set_state(state)
        self._update_banner()

    def set_title(self, title: str) -> None:
        """Text for the neutral banner instead of the live set header ("" restores it)."""
        self.title = title
        self._update_banner()

    def header_text(self) -> str:
        """The neutral banner's text: set, lift, target, reps (or the review title)."""
        if self.title:
            return self.title
        parts = [f"SET {self.state.index}" if self.state is not None else "NO SET YET"]
        if self.lift is not None:
            what = self.lift.exercise
            if self.lift.load_kg is not None:
                what += f" {self.lift.load_kg:g} kg"
            parts.append(what)
            parts.append(f"target RIR {self.lift.target_rir}")
        if self.state is not None:
            n = len(self.state.reps)
            parts.append(f"{n} rep" + ("" if n == 1 else "s"))
            if self.state.ended:
                parts.append("set ended")
        return "  |  ".join(parts)

    def _update_banner(self) -> None:
        advice = stop_advice(self.state)
        if advice is None:
            self.banner.set_message(self.header_text())
        else:
            self.banner.set_message(advice.headline, advice.detail, advice.level)


__all__ = ["ChartLayout", "LastRepReadout", "RepBarChart", "RepCurveOverlay", "SetView", "StopBanner", "vl_text"]
