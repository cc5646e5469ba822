"""The live trace: newest samples always drawn, window follows the data, scale grows then resets."""

from __future__ import annotations

import numpy as np

from vbt.ui.model import RingBuffer
from vbt.ui.trace import DEFAULT_WINDOW_S, MAX_Y_MPS, VelocityTrace


def test_the_newest_samples_are_on_screen_after_every_redraw(qtbot):
    buf = RingBuffer(10_000)
    trace = VelocityTrace(buf, origin=lambda: 100.0)
    qtbot.addWidget(trace)
    trace.resize(800, 300)
    trace.show()
    for k in range(6):  # 6 chunks of 5 s, one redraw each (as the frame timer would)
        t = 100.0 + np.arange(k * 500, (k + 1) * 500) * 0.01
        buf.append(t, np.sin(t))
        trace.redraw()
        x, _ = trace.curve.getData()
        assert x is not None and x[-1] == t[-1] - 100.0  # not clipped away
        (x0, x1), _ = trace.getPlotItem().viewRange()
        assert x1 == t[-1] - 100.0 and x1 - x0 == DEFAULT_WINDOW_S
    assert trace.redraws == 6


def test_y_scale_grows_is_capped_and_resets(qtbot):
    buf = RingBuffer(1000)
    trace = VelocityTrace(buf)
    qtbot.addWidget(trace)
    buf.append(np.arange(10) * 0.1, np.full(10, 1.5))
    trace.redraw()
    assert trace.getPlotItem().viewRange()[1] == [-1.5 * 1.15, 1.5 * 1.15]
    buf.append(1 + np.arange(10) * 0.1, np.full(10, 40.0))  # a drifting estimate
    trace.redraw()
    assert trace.getPlotItem().viewRange()[1] == [-MAX_Y_MPS, MAX_Y_MPS]
    buf.clear()
    trace.redraw()
    assert trace._y_limit == 1.0  # noqa: SLF001 - a new session starts at the default scale
