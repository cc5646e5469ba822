"""Session events -> UI messages: mapping, hindsight re-sends, stop threshold, link health."""

from __future__ import annotations

import numpy as np
import pytest
from ui_factories import SET_MCVS, make_rep

from vbt.fatigue.tracker import FatigueTracker
from vbt.pipeline import events as ev
from vbt.pipeline.results import FailedAttempt, SetResult
from vbt.sources import LinkEvent
from vbt.ui import messages as m
from vbt.ui.model import DashboardModel
from vbt.ui.translate import EventTranslator, stop_threshold_mps


def _bare_rep(i: int, mcv: float, **kw):
    rep = make_rep(i, mcv, **kw)
    rep.velocity_loss_pct = rep.rir_estimate = rep.rir_interval = None
    return rep


def _run_set(translator: EventTranslator, tracker: FatigueTracker, mcvs, *, failed: bool = False) -> SetResult:
    sr = SetResult(index=1, start_s=0.0, end_s=0.0)
    translator(ev.SetStarted(at_s=0.5, set_index=1, start_s=0.0))
    for i, mcv in enumerate(mcvs, start=1):
        prov = _bare_rep(i, mcv * 0.98, provisional=True)
        translator(ev.TraceEvent(at_s=prov.start_s, t_s=prov.t_s, velocity_mps=prov.velocity_mps))
        translator(ev.RepProvisional(at_s=prov.end_s, set_index=1, rep=prov))
        final = _bare_rep(i, mcv)
        sr.reps.append(final)
        sr.end_s = final.end_s
        tracker.assess(sr)
        translator(ev.RepFinal(at_s=final.end_s + 0.1, set_index=1, rep=final, set_result=sr))
    if failed:
        attempt = FailedAttempt(sr.end_s + 2.0, sr.end_s + 4.0, 0.15)
        sr.failed_attempts.append(attempt)
        tracker.assess(sr)
        translator(ev.FailedAttemptEvent(at_s=sr.end_s + 4.5, set_index=1, attempt=attempt, set_result=sr))
    translator(ev.SetEnded(at_s=sr.end_s + 30, set_index=1, set_result=sr))
    return sr


def test_model_ends_with_exactly_the_assessed_set():
    out: list = []
    translator = EventTranslator(out.append)
    sr = _run_set(translator, FatigueTracker("squat", vl_cutoff_pct=20.0), SET_MCVS)
    model = DashboardModel()
    model.apply_all(out)
    shown = model.current_set
    assert [r.mean_velocity_mps for r in shown.reps] == list(SET_MCVS)
    assert [r.flag for r in shown.reps] == [r.flag for r in sr.reps]
    assert [r.velocity_loss_pct for r in shown.reps] == [r.velocity_loss_pct for r in sr.reps]
    # VL cut-off 20 % of the best first-two rep (0.74): stop from rep 6 (0.59, -20.3 %).
    assert shown.stop_rep_index == 6 and shown.reference_rep_index == 2
    assert model.trace.total == sum(r.t_s.size for r in sr.reps)
    # Results are copies: changing the session's objects later does not change the screen.
    sr.reps[0].mean_velocity_mps = 9.9
    assert shown.reps[0].mean_velocity_mps == SET_MCVS[0]


#: A squat set grinding down towards the squat's minimum velocity threshold (~0.3 m/s).
GRIND_MCVS = (0.62, 0.64, 0.60, 0.55, 0.50, 0.44, 0.38, 0.32)


def test_failed_attempt_re_sends_the_rep_it_proves_was_the_last():
    out: list = []
    translator = EventTranslator(out.append)
    _run_set(translator, FatigueTracker("squat"), GRIND_MCVS, failed=True)
    model = DashboardModel()
    model.apply_all(out)
    last = model.current_set.reps[-1]
    assert last.flag == "failure" and last.rir_estimate == 0.0
    resent = [x for x in out if isinstance(x, m.RepUpdate) and x.rep.index == len(GRIND_MCVS)]
    assert len(resent) >= 3  # provisional, final, and the hindsight update
    assert len(model.current_set.failed_attempts) == 1


def test_failed_attempt_after_fast_reps_is_shown_but_not_believed():
    # Five reps near 0.65 m/s are far from a squat's failure velocity: a "failed attempt" after
    # them is more likely a mis-detection (a re-rack dip) than failure, so the last rep keeps its
    # velocity-based estimate, while the attempt itself is still shown.
    out: list = []
    translator = EventTranslator(out.append)
    _run_set(translator, FatigueTracker("squat"), SET_MCVS[:5], failed=True)
    model = DashboardModel()
    model.apply_all(out)
    last = model.current_set.reps[-1]
    assert last.flag != "failure" and last.rir_estimate != 0.0
    assert len(model.current_set.failed_attempts) == 1


def test_stop_threshold_with_a_vl_cutoff_is_the_cutoff_velocity():
    tracker = FatigueTracker("squat", vl_cutoff_pct=20.0)
    sr = SetResult(index=1, start_s=0.0, end_s=10.0, reps=[_bare_rep(i, v) for i, v in enumerate(SET_MCVS[:4], 1)])
    tracker.assess(sr)
    threshold = stop_threshold_mps(FatigueTracker("squat", vl_cutoff_pct=20.0), sr)
    assert threshold == pytest.approx(0.74 * 0.8, abs=0.002)


def test_stop_threshold_separates_stop_from_continue_for_the_rir_rule():
    tracker, probe = FatigueTracker("bench"), FatigueTracker("bench")
    sr = SetResult(index=1, start_s=0.0, end_s=10.0, reps=[_bare_rep(i, v) for i, v in enumerate(SET_MCVS[:5], 1)])
    tracker.assess(sr)
    threshold = stop_threshold_mps(probe, sr)
    assert threshold is not None and 0.0 < threshold < SET_MCVS[4]
    for velocity, expect in ((threshold - 0.01, "stop"), (threshold + 0.01, "continue")):
        trial = SetResult(index=1, start_s=0.0, end_s=20.0,
                          reps=[*(_bare_rep(i, v) for i, v in enumerate(SET_MCVS[:5], 1)), _bare_rep(6, velocity)])
        FatigueTracker("bench").assess(trial)
        assert (trial.reps[-1].flag in ("stop", "failure")) == (expect == "stop")


def test_link_events_become_health_and_connection_state():
    out: list = []
    translator = EventTranslator(out.append)
    translator(LinkEvent(1.0, "connected", {"name": "WT901BLE68"}))
    translator(LinkEvent(2.0, "status", {"rssi_dbm": -71, "battery_pct": 64, "dropped": 3}))
    translator(ev.TimingStatus(at_s=2.0, rate_hz=99.2, missing_pct=0.5, samples=200))
    translator(LinkEvent(3.0, "disconnected", {"reason": "timeout"}))
    model = DashboardModel()
    model.apply_all(out)
    h = model.link.health
    assert (h.rssi_dbm, h.battery_pct, h.dropped, h.rate_hz, h.drop_pct) == (-71, 64, 3, 99.2, 0.5)
    assert model.link.state == m.CONN_RECONNECTING and model.link.sensor == "WT901BLE68"
    assert "link dropped (timeout)" in model.notices[-1].text


def test_a_broken_event_never_escapes_the_listener():
    translator = EventTranslator(lambda msg: (_ for _ in ()).throw(RuntimeError("boom")))
    translator(ev.TraceEvent(at_s=0.0, t_s=np.array([0.0]), velocity_mps=np.array([0.0])))  # no raise
