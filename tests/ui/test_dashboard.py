"""The whole dashboard replaying bundled recordings, offscreen, on a FakeClock.

Everything real runs: the window, the bridge's frame timer, the worker thread with its own
asyncio loop, `ReplaySource` paced by the (fake) clock, the `Session` and the fatigue
tracker. The truth to compare with is ``vbt analyze`` on the same file: the bars must be
exactly its reps, STOP must sit on the rep it flags, and no trace sample may be lost -- also
when replaying at 10x.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from vbt.analysis import analyze_path
from vbt.clock import FakeClock
from vbt.pipeline.results import FLAG_FAILURE, FLAG_STOP
from vbt.ui import messages as m
from vbt.ui.launch import build_dashboard
from vbt.ui.model import stop_advice

RECORDINGS = Path(__file__).resolve().parents[2] / "recordings"


@pytest.fixture
def make_dashboard(qapp):
    built = []

    def make(**kw):
        kw.setdefault("clock", FakeClock())
        # 10 frames/s: the tests check what is drawn, not how smoothly (CI has 2 busy cores).
        dash = build_dashboard(offscreen=True, db_path=False, sound=False, size=(1400, 900), fps=10.0, **kw)
        built.append(dash)
        dash.window.show()
        return dash

    yield make
    for dash in built:
        dash.close()


def _finish(qtbot, dash, timeout_ms: int = 60_000) -> None:
    qtbot.waitUntil(lambda: dash.model.finished is not None, timeout=timeout_ms)
    dash.bridge.drain()


@pytest.mark.parametrize(("name", "speed"), [
    ("demo_squat.jsonl.gz", 10.0),
    ("bench_failed_attempt_witmotion_50hz.jsonl.gz", 1.0),
    ("squat_3sets_polar_h10_50hz.jsonl.gz", 1.0),
])
def test_replay_to_the_end_shows_every_rep_and_the_stop(qtbot, make_dashboard, name, speed):
    path = RECORDINGS / name
    offline = analyze_path(path)
    dash = make_dashboard()
    dash.window.open_replay(path, speed=speed)
    _finish(qtbot, dash)
    model, window = dash.model, dash.window
    assert model.finished.error == ""
    assert model.finished.result.to_dict() == offline.to_dict()

    # One bar per rep with the analysed value, for every set (each shown in the set view).
    sets = [s for s in offline.sets]
    assert [r[0] for r in window.sets_table.row_texts()] == [str(s.index) for s in model.sets]
    for sr in sets:
        window.show_set(sr.index)
        shown = window.set_view.state
        bars = [item for item, _ in window.set_view.chart.bar_rects() if hasattr(item, "mean_velocity_mps")]
        assert [b.to_dict() for b in bars] == [r.to_dict() for r in sr.reps]
        flagged = [r.index for r in sr.reps if r.flag in (FLAG_STOP, FLAG_FAILURE)]
        assert shown.stop_rep_index == (flagged[0] if flagged else None)
        advice = stop_advice(shown)
        assert window.set_view.banner.is_stop == (advice is not None)
        if advice is not None:
            assert window.set_view.banner.headline == advice.headline
    window.show_set(None)
    if name == "demo_squat.jsonl.gz":  # the quick-start demo is a set stopped at 2 RIR
        assert window.set_view.banner.is_stop and window.set_view.banner.headline.startswith("STOP - about ")
        assert window.sets_table.row_texts()[0][-1].startswith("STOP at rep")

    # Nothing lost between the worker and the screen, whatever the replay speed.
    sent = dash.backend.controller.translator_stats["trace_points"]
    assert model.trace.total == sent > 0
    assert dash.bridge.frames < dash.bridge.received / 5  # redraws follow the timer, not the data
    assert window.transport.position.text().endswith(window.transport.position.text().split(" / ")[0])


def test_pause_holds_the_replay_and_play_continues(qtbot, make_dashboard):
    path = RECORDINGS / "deadlift_polar_h10_25hz.jsonl.gz"
    dash = make_dashboard()
    dash.backend.open_replay(path, speed=1.0, paused=True)
    qtbot.waitUntil(lambda: dash.model.progress is not None and dash.model.progress.paused, timeout=10_000)
    # The paused replay's clock keeps running (the position reports tick), yet nothing plays.
    clock = dash.backend.controller.clock
    start = clock.monotonic()
    qtbot.waitUntil(lambda: clock.monotonic() > start + 5.0, timeout=10_000)
    dash.bridge.drain()
    assert dash.model.progress.position_s == 0.0 and dash.model.trace.total == 0
    assert dash.window.transport.play_button.text() == "Play"
    dash.window.transport.play_button.click()  # resume
    _finish(qtbot, dash)
    assert dash.model.finished.result.to_dict() == analyze_path(path).to_dict()
    assert dash.window.transport.play_button.text() == "Play"  # at the end: play again from the top


def test_seek_back_replays_the_live_path_and_ends_the_same(qtbot, make_dashboard):
    path = RECORDINGS / "bench_failed_attempt_witmotion_50hz.jsonl.gz"
    dash = make_dashboard()
    dash.window.open_replay(path)
    _finish(qtbot, dash)
    first = dash.model.finished.result.to_dict()
    starts = dash.model.counts["SessionStarted"]
    # At the end the replay is paused; seeking back shows that moment, still paused.
    dash.backend.seek(20.0)
    qtbot.waitUntil(lambda: dash.model.counts["SessionStarted"] > starts and dash.model.progress is not None
                    and dash.model.progress.paused and dash.model.progress.position_s >= 20.0, timeout=60_000)
    dash.bridge.drain()
    assert dash.model.finished is None
    shown = [r.end_s for s in dash.model.sets for r in s.reps]
    assert shown and max(shown) < 20.0  # only what had happened by then
    assert len(shown) < sum(len(s["reps"]) for s in first["sets"])
    dash.window.transport.play_button.click()
    _finish(qtbot, dash)
    assert dash.model.finished.result.to_dict() == first
    assert [(s.index, len(s.reps)) for s in dash.model.sets] == [(s["index"], len(s["reps"])) for s in first["sets"]]


def test_speed_and_lift_inputs_reach_the_worker(qtbot, make_dashboard):
    dash = make_dashboard()
    dash.window.transport.speed.setCurrentIndex(dash.window.transport.speed.findData(None))  # "max"
    dash.window.lift_panel.target_rir.setValue(3)
    dash.backend.wait_idle()
    controller = dash.backend.controller
    assert controller._speed is None  # noqa: SLF001 - the worker-side state is the point of the test
    assert controller.lift.target_rir == 3
    qtbot.waitUntil(lambda: dash.model.lift is not None and dash.model.lift.target_rir == 3, timeout=5_000)
    assert isinstance(dash.model.lift, m.LiftInfo)
