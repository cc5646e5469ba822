"""Live sessions in the dashboard with virtual sensors: connect, link drop, reconnect,
disconnect, connect again; recording on/off (also when the disk fills up); set markers.

The virtual sensor is the BLE layer's emulated WitMotion on the in-process bumble stack,
streaming closed-form reps (`AnalyticRepsFeed`: exact known velocities); the dashboard talks
to it through the unchanged `BleSource`, on a `FakeClock` so seconds of lifting pass at once.
"""

from __future__ import annotations

import pytest

from vbt.ble.faults import FaultPlan, LinkDrop
from vbt.ble.feeds import AnalyticRepsFeed
from vbt.clock import FakeClock
from vbt.errors import RecordingWriteError
from vbt.recording.reader import open_recording
from vbt.sources import LINK_MARKER, LinkEvent, RawPacket
from vbt.ui import messages as m
from vbt.ui.controller import virtual_choices
from vbt.ui.launch import build_dashboard

FEED = AnalyticRepsFeed(reps=4, rep_s=1.6, rest_s=1.0, lead_in_s=2.0, tail_s=2.0)


@pytest.fixture
def live(qapp):
    built = []

    def make(**kw):
        clock = FakeClock(until_idle=True)
        dash = build_dashboard(offscreen=True, db_path=False, sound=False, size=(1400, 900), fps=10.0, clock=clock,
                               virtual_feed=lambda protocol, seed: FEED, lift=m.LiftInfo("squat"), **kw)
        dash.window.show()
        built.append(dash)
        return dash, clock

    yield make
    for dash in built:
        dash.close()


def _choice() -> m.SensorChoice:
    return next(c for c in virtual_choices() if c.protocol == "witmotion")


def _wait_state(qtbot, dash, state: str, timeout_ms: int = 30_000) -> None:
    qtbot.waitUntil(lambda: dash.model.link.state == state, timeout=timeout_ms)
    dash.bridge.drain()


def _wait_feed_done(qtbot, dash, clock, started_s: float, margin_s: float = 2.0) -> None:
    """Until the analytic set is over on the sensor (plus time for the last rep's lockout)."""
    qtbot.waitUntil(lambda: clock.monotonic() > started_s + FEED.duration_s + margin_s, timeout=60_000)
    dash.bridge.drain()


def test_connect_drop_reconnect_disconnect_and_connect_again(qtbot, live):
    dash, clock = live(faults=FaultPlan(link_drops=(LinkDrop(at_s=1.0, back_after_s=0.5),)))
    panel = dash.window.sensor_panel
    assert panel.connect_button.isEnabled() and not panel.disconnect_button.isEnabled()
    panel.picker.setCurrentIndex(panel.picker.findText(_choice().label))
    panel.connect_button.click()
    _wait_state(qtbot, dash, m.CONN_CONNECTED)
    started = clock.monotonic()
    assert not panel.connect_button.isEnabled() and panel.disconnect_button.isEnabled()
    assert not panel.picker.isEnabled()
    # The link drops one second into streaming and comes back: the panel said so on the way.
    _wait_feed_done(qtbot, dash, clock, started)
    states = [s for s, _ in dash.model.connection_history]
    i = states.index(m.CONN_RECONNECTING)
    assert m.CONN_CONNECTED in states[:i] and m.CONN_CONNECTED in states[i + 1:]
    assert dash.model.link.state == m.CONN_CONNECTED
    health = dash.window.link_panel
    assert health.text("rate").endswith("Hz") and health.text("rssi").endswith("dBm")
    assert health.text("battery").endswith("%") and health.text("latency").endswith("ms")
    # Every analytic rep became a bar with (about) its exact mean velocity.
    reps = dash.model.current_set.reps
    truth = [r.mean_concentric_velocity_mps for r in FEED.rep_truth]
    assert len(reps) == len(truth)
    for rep, v in zip(reps, truth, strict=True):
        assert rep.mean_velocity_mps == pytest.approx(v, abs=0.08)

    panel.disconnect_button.click()
    _wait_state(qtbot, dash, m.CONN_FINISHED)
    assert panel.connect_button.isEnabled() and not panel.disconnect_button.isEnabled()
    assert dash.model.finished is not None and dash.model.finished.error == ""
    assert len(dash.model.finished.result.reps) == len(truth)

    panel.connect_button.click()  # the same sensor again: a fresh session
    _wait_state(qtbot, dash, m.CONN_CONNECTED)
    assert dash.model.sets == [] or not dash.model.sets[0].ended
    panel.disconnect_button.click()
    _wait_state(qtbot, dash, m.CONN_FINISHED)


def test_recording_writes_the_raw_stream_and_markers(qtbot, live, tmp_path):
    dash, clock = live(recordings_dir=tmp_path)
    dash.backend.connect_sensor(_choice())
    _wait_state(qtbot, dash, m.CONN_CONNECTED)
    assert dash.window.recording_panel.button.isEnabled()
    dash.window.recording_panel.button.click()  # Record
    qtbot.waitUntil(lambda: dash.model.recording.active, timeout=10_000)
    dash.window.set_panel.end_button.click()  # manual "End set" goes into the stream
    _wait_feed_done(qtbot, dash, clock, clock.monotonic())
    dash.window.recording_panel.button.click()  # stop recording
    qtbot.waitUntil(lambda: not dash.model.recording.active, timeout=10_000)
    dash.bridge.drain()
    state = dash.model.recording
    assert state.error == "" and state.packets > 0
    rec = open_recording(state.path)
    items = list(rec)
    packets = [x for x in items if isinstance(x, RawPacket)]
    assert len(packets) == state.packets
    markers = [x for x in items if isinstance(x, LinkEvent) and x.kind == LINK_MARKER]
    assert [dict(x.detail) for x in markers] == [{"set": "end"}]
    assert rec.header.sensor == "witmotion" and rec.header.exercise == "squat"
    dash.backend.disconnect()
    _wait_state(qtbot, dash, m.CONN_FINISHED)


def test_disk_full_stops_the_recording_but_not_the_live_view(qtbot, live, tmp_path, monkeypatch):
    from vbt.recording import writer as writer_module

    calls = {"n": 0}
    real = writer_module.RecordingWriter.write_item

    def failing(self, item):
        calls["n"] += 1
        if calls["n"] > 50:
            raise RecordingWriteError(self.path, "the disk is full (ENOSPC)")
        return real(self, item)

    monkeypatch.setattr(writer_module.RecordingWriter, "write_item", failing)
    dash, clock = live(recordings_dir=tmp_path)
    dash.backend.connect_sensor(_choice())
    _wait_state(qtbot, dash, m.CONN_CONNECTED)
    started = clock.monotonic()
    dash.backend.set_recording(True, tmp_path)
    qtbot.waitUntil(lambda: bool(dash.model.recording.error), timeout=30_000)
    dash.bridge.drain()
    assert "disk is full" in dash.model.recording.error and not dash.model.recording.active
    assert "disk is full" in dash.window.recording_panel.status.text()
    assert "disk is full" in dash.window.status_label.text()
    # The session carries on: the reps still arrive and the link is still up.
    _wait_feed_done(qtbot, dash, clock, started)
    assert dash.model.link.state == m.CONN_CONNECTED
    assert len(dash.model.current_set.reps) == FEED.reps
    assert len(list(open_recording(dash.model.recording.path))) == 50  # what was written stays readable
    dash.backend.disconnect()
    _wait_state(qtbot, dash, m.CONN_FINISHED)


def test_scan_without_bluetooth_keeps_the_virtual_sensors(qtbot, live):
    """CI has no Bluetooth adapter: Scan says so in one line and the virtual sensors stay."""
    dash, _ = live()
    before = dash.window.sensor_panel.picker.count()
    dash.window.sensor_panel.scan_button.click()
    qtbot.waitUntil(lambda: any(n.text.startswith("scan:") for n in dash.model.notices), timeout=60_000)
    dash.bridge.drain()
    texts = [n.text for n in dash.model.notices]
    assert any("Bluetooth is not available" in t for t in texts) or texts[-1].startswith("scan:")
    assert dash.window.sensor_panel.picker.count() >= before == len(virtual_choices())


def test_a_sensor_that_is_not_there_leaves_the_panel_idle_with_the_reason(qtbot, live):
    dash, _ = live()
    dash.backend.connect_sensor(m.SensorChoice("WT901BLE-nowhere", "ble", "witmotion", "WT901BLE-nowhere"))
    qtbot.waitUntil(lambda: dash.model.finished is not None, timeout=60_000)
    dash.bridge.drain()
    assert dash.model.link.state == m.CONN_IDLE
    error = dash.model.finished.error
    assert "WT901BLE-nowhere" in error or "Bluetooth is not available" in error  # not found / no adapter
    assert dash.window.sensor_panel.connect_button.isEnabled()
    assert error in dash.window.status_label.text()
