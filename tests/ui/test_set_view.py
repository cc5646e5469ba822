"""The set view as pixels: bar colours and heights, banner, readout, overlay, screenshot."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QImage
from ui_factories import SET_MCVS, make_rep, make_set

from vbt.errors import OutputFileError, UsageError
from vbt.ui import theme
from vbt.ui.messages import LiftInfo
from vbt.ui.model import SetState
from vbt.ui.screenshot import render_set_view
from vbt.ui.set_view import SetView, vl_text


def _close(c: QColor, hex_colour: str, tol: int = 12) -> bool:
    ref = QColor(hex_colour)
    return max(abs(c.red() - ref.red()), abs(c.green() - ref.green()), abs(c.blue() - ref.blue())) <= tol


@pytest.fixture
def view(qtbot):
    w = SetView()
    qtbot.addWidget(w)
    w.resize(1600, 1000)
    w.show()
    qtbot.waitExposed(w)
    return w


def _grab(view) -> QImage:
    return view.grab().toImage()


def test_bars_have_the_zone_colour_and_the_right_height(view):
    view.set_state(SetState.from_set_result(make_set(), stop_velocity_mps=0.56))
    image = _grab(view)
    chart = view.chart
    lay = chart.chart_layout()
    rects = chart.bar_rects()
    assert [r.index for r, _ in rects] == list(range(1, 9))
    for rep, rect in rects:
        x = int(rect.center().x())
        y = int(rect.bottom() - 0.1 * rect.height())  # low in the bar, clear of its labels
        pixel = QColor(image.pixel(chart.mapTo(view, rect.topLeft().toPoint()).x() + (x - int(rect.left())),
                                   chart.mapTo(view, rect.topLeft().toPoint()).y() + (y - int(rect.top()))))
        if rep.index == 4:  # low quality: faded and hatched, never the solid zone colour
            assert not _close(pixel, theme.ZONE_COLOURS["continue"])
            continue
        zone = "stop" if rep.index >= 7 else "continue"
        assert _close(pixel, theme.ZONE_COLOURS[zone]), (rep.index, pixel.name())
        # Walk up the bar's edge column until the colour changes: that is the drawn top.
        col = chart.mapTo(view, rect.topLeft().toPoint()).x() + int(rect.width() * 0.1)
        y_img = chart.mapTo(view, rect.bottomLeft().toPoint()).y() - 3
        while _close(QColor(image.pixel(col, y_img)), theme.ZONE_COLOURS[zone], tol=40):
            y_img -= 1
        drawn_top = y_img + 1 - chart.mapTo(view, rect.topLeft().toPoint()).y() + rect.top()
        assert abs(drawn_top - lay.y_of(SET_MCVS[rep.index - 1])) <= 2.5


def test_banner_readout_and_overlay_for_a_stop_set(view):
    view.set_lift(LiftInfo("squat", 140.0, 2))
    view.set_state(SetState.from_set_result(make_set()))
    assert view.banner.headline == "STOP - about 1 rep left" and view.banner.is_stop
    image = _grab(view)
    assert _close(QColor(image.pixel(view.banner.x() + 30, view.banner.y() + view.banner.height() // 2)),
                  theme.ZONE_COLOURS["stop"])
    texts = [t for t, *_ in view.readout.lines()]
    assert texts[:2] == ["REP 8", "0.51"] and "VL 31 %" in texts and "RIR 1 (0-2)" in texts
    assert view.overlay.curve_count == 8


def test_neutral_banner_while_continuing(view):
    view.set_lift(LiftInfo("bench", 80.0, 2))
    state = SetState(index=3)
    state.upsert_rep(make_rep(1, 0.6, vl=0.0, rir=7.0))
    view.set_state(state)
    assert not view.banner.is_stop
    assert view.banner.headline == "SET 3  |  bench 80 kg  |  target RIR 2  |  1 rep"


def test_failed_attempt_is_drawn_as_a_failed_slot(view):
    view.set_state(SetState.from_set_result(make_set(failed_attempt=True)))
    assert view.banner.headline == "STOP - failed rep" and view.banner.level == "failure"
    items = [type(item).__name__ for item, _ in view.chart.bar_rects()]
    assert items == ["RepResult"] * 8 + ["FailedAttempt"]
    assert any("FAILED" in t for t, *_ in view.readout.lines())


def test_provisional_rep_is_an_outline_until_final(view):
    state = SetState(index=1)
    state.upsert_rep(make_rep(1, 0.6, provisional=True))
    view.set_state(state)
    image = _grab(view)
    _, rect = view.chart.bar_rects()[0]
    centre = view.chart.mapTo(view, rect.center().toPoint())
    # Only a faint fill inside a provisional bar: far darker than the solid zone colour.
    assert QColor(image.pixel(centre)).lightness() < QColor(theme.ZONE_COLOURS["pending"]).lightness()
    assert view.readout.lines()[0][0] == "REP 1  (provisional)"


def test_vl_text_signs():
    assert vl_text(make_rep(1, 0.5, vl=27.4)) == "-27%"
    assert vl_text(make_rep(1, 0.5, vl=-3.2)) == "+3%"
    assert vl_text(make_rep(1, 0.5, vl=0.2)) == "0%"
    assert vl_text(make_rep(1, 0.5)) == ""


def test_screenshot_renders_the_set_to_a_png(qapp, tmp_path):
    out = render_set_view(SetState.from_set_result(make_set()), tmp_path / "set.png",
                          lift=LiftInfo("squat", 140.0, 2), size=(1200, 750))
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1200, 750)
    colours = {image.pixel(x, y) for x in range(0, 1200, 7) for y in range(0, 750, 7)}
    assert len(colours) > 50  # a real picture, not a blank canvas
    assert _close(QColor(image.pixel(18, 45)), theme.ZONE_COLOURS["stop"])  # the STOP banner, left of its text


def test_screenshot_path_errors_are_usage_errors(qapp, tmp_path):
    with pytest.raises(OutputFileError, match="does not exist"):
        render_set_view(None, tmp_path / "missing" / "x.png")
    with pytest.raises(UsageError, match=r"\.png"):
        render_set_view(None, tmp_path / "x.txt")
