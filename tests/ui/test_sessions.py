"""This session's sets list and the history tab: previous sets from the database, saved live sets."""

from __future__ import annotations

from pathlib import Path

import pytest
from ui_factories import make_set

from vbt.analysis import analyze_path
from vbt.ble.feeds import AnalyticRepsFeed
from vbt.clock import FakeClock
from vbt.fatigue.history import HistoryDb
from vbt.ui import messages as m
from vbt.ui.controller import virtual_choices
from vbt.ui.launch import build_dashboard
from vbt.ui.main_window import REVIEW
from vbt.ui.model import SetState
from vbt.ui.sessions import SetsTable, set_summary

RECORDINGS = Path(__file__).resolve().parents[2] / "recordings"


def test_set_summary_cells():
    state = SetState.from_set_result(make_set(index=2, failed_attempt=True))
    assert set_summary(state) == ["2", "8 +1 failed", "0.74", "0.51", "31", "0", "STOP at rep 7"]


def test_sets_table_selection_and_follow_live(qtbot):
    table = SetsTable()
    qtbot.addWidget(table)
    picked = []
    table.set_selected.connect(picked.append)
    table.set_sets([SetState.from_set_result(make_set(index=i)) for i in (1, 2)])
    table.table.selectRow(1)
    assert picked == [2] and table.follow_button.isEnabled()
    table.follow_button.click()
    assert picked == [2, None] and table.selected_index() is None


@pytest.fixture
def db_with_a_set(tmp_path):
    path = tmp_path / "history.sqlite3"
    result = analyze_path(RECORDINGS / "bench_failed_attempt_witmotion_50hz.jsonl.gz")
    with HistoryDb(path) as db:
        db.save_analysis(result, athlete="ana", recording_path=RECORDINGS / "bench_failed_attempt_witmotion_50hz.jsonl.gz")
    return path, result


def test_history_tab_lists_and_shows_previous_sets(qtbot, qapp, db_with_a_set):
    path, result = db_with_a_set
    dash = build_dashboard(offscreen=True, db_path=path, athlete="ana", lift=m.LiftInfo("bench"), sound=False,
                           fps=10.0, clock=FakeClock())
    try:
        table = dash.window.history_table
        qtbot.waitUntil(lambda: table.table.rowCount() == len(result.sets), timeout=10_000)
        cells = [table.table.item(0, c).text() for c in range(table.table.columnCount())]
        assert cells[1] == "bench" and cells[3] == str(len(result.sets[0].reps))
        table.table.selectRow(0)
        qtbot.waitUntil(lambda: dash.model.review is not None, timeout=10_000)
        dash.bridge.drain()
        view = dash.window.set_view
        assert dash.window.viewed_set == REVIEW
        assert [r.to_dict() for r in view.state.reps] == [r.to_dict() for r in result.sets[0].reps]
        assert view.banner.is_stop or view.header_text().startswith("HISTORY")
        dash.window.sets_table.follow_button.click()
        assert dash.window.viewed_set is None and dash.window.set_view.state is None
    finally:
        dash.close()


def test_missing_database_says_so_in_the_tab(qtbot, qapp, tmp_path):
    dash = build_dashboard(offscreen=True, db_path=tmp_path / "none.sqlite3", lift=m.LiftInfo("squat"), sound=False,
                           fps=10.0, clock=FakeClock())
    try:
        qtbot.waitUntil(lambda: "no squat sets" in dash.window.history_table.message.text(), timeout=10_000)
    finally:
        dash.close()


def test_a_live_session_is_saved_to_the_history_when_it_ends(qtbot, qapp, tmp_path):
    path = tmp_path / "history.sqlite3"
    feed = AnalyticRepsFeed(reps=3, rep_s=1.6, lead_in_s=2.0, tail_s=2.0)
    clock = FakeClock(until_idle=True)
    dash = build_dashboard(offscreen=True, db_path=path, athlete="ben", lift=m.LiftInfo("squat"), sound=False,
                           fps=10.0, clock=clock, virtual_feed=lambda p, s: feed, save_live_sets=True)
    try:
        dash.backend.connect_sensor(next(c for c in virtual_choices() if c.protocol == "witmotion"))
        qtbot.waitUntil(lambda: dash.model.link.state == m.CONN_CONNECTED, timeout=30_000)
        started = clock.monotonic()
        qtbot.waitUntil(lambda: clock.monotonic() > started + feed.duration_s + 2.0, timeout=60_000)
        dash.backend.disconnect()
        qtbot.waitUntil(lambda: dash.window.history_table.table.rowCount() == 1, timeout=30_000)
        with HistoryDb(path, create=False) as db:
            rows = db.sets(athlete="ben")
        assert len(rows) == 1 and rows[0].n_reps == 3 and rows[0].exercise == "squat"
        assert any("saved to the history" in n.text for n in dash.model.notices)
    finally:
        dash.close()
