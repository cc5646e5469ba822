"""Why reps are missed, added or mismeasured: causes ranked, with evidence from the simulator's truth.

Runs a fixed simulated corpus (the generator of ``benchmarks/accuracy.py``, seeds from 3,000,000:
disjoint from the tests' and from the accuracy benchmark's) through the real chain with an
instrumented `StreamingPipeline` that records its internals -- every still anchor, every closed
motion segment (vertical acceleration, up vectors, drift fit), the causal velocity, every rep
decision and stream break -- and compares them with the simulator's truth (bar-centre and
sensor-point motion, orientation, ideal sensor readings, link gaps).

It prints:

* a ranked table of causes of **missed reps**, **extra reps**, false and missed **failed
  attempts**, and reps with **|MCV error| > 0.05 m/s**, each with counts and shares;
* an **MCV error decomposition** per rep, averaged over the corpus (mean absolute contribution
  and bias of each part). MCV = ROM / duration, so the error splits exactly into a *duration*
  part (concentric boundary timing: ``ROM_true (1/D_det - 1/D_true)``, needing no time
  alignment with the truth) and ROM parts: lever arm (sensor point against bar centre, from
  the labels) and the estimation error of the sensor point's vertical velocity over the
  detected concentric, split by source -- bias and gravity reading, orientation / gravity
  leakage, accelerometer scale and cross-axis (acting on the motion's acceleration), time
  base (sample rate) -- each integrated and drift-corrected exactly as the pipeline corrected
  that segment; *rest* is what remains (noise, anti-alias smearing, hold motion at anchors);
* the **causal velocity at each true lockout** (what live stop detection sees) against the
  truth, with the same decomposition (no drift correction: integrated from the opening anchor);
* **anchors**: how many still anchors fell where the bar was really moving.

Usage::

    python benchmarks/diagnose.py                 # 100 sessions
    python benchmarks/diagnose.py --sessions 40 --verbose
    python benchmarks/diagnose.py --seed-base 3000000 --only 3000007   # one session, details
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import accuracy  # noqa: E402  (same corpus generator and matching)

import vbt.pipeline.orientation as ori_mod  # noqa: E402
import vbt.pipeline.streaming as streaming_mod  # noqa: E402
import vbt.session as session_mod  # noqa: E402
from vbt.pipeline.events import FailedAttemptEvent, RepFinal  # noqa: E402
from vbt.pipeline.metrics import integral  # noqa: E402
from vbt.pipeline.reps import RepFinder  # noqa: E402
from vbt.pipeline.streaming import StreamingPipeline  # noqa: E402
from vbt.pipeline.velocity import cumtrapz  # noqa: E402
from vbt.sim import random_scenario, simulate  # noqa: E402
from vbt.sim.sensor import quat_to_matrix  # noqa: E402

SEED_BASE = 3_000_000
#: A rep whose MCV is off by more than this is an outlier to explain (m/s).
OUTLIER_MPS = 0.05
#: An anchor is false when the true sensor-point speed in its window exceeds this (m/s).
FALSE_ANCHOR_MPS = 0.05

# --------------------------------------------------------------------------- instrumentation

_CTX: dict[str, object] = {"mode": None, "calls": []}


def _wrap_module_function(module: object, name: str) -> None:
    fn = getattr(module, name)
    if getattr(fn, "_diag", False):
        return

    def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        out = fn(*args, **kwargs)
        if _CTX["mode"] is not None:
            _CTX["calls"].append((name, args, kwargs, out))  # type: ignore[union-attr]
        return out

    wrapper._diag = True  # type: ignore[attr-defined]
    setattr(module, name, wrapper)


@dataclass
class SegmentRecord:
    """One closed motion segment as the pipeline processed it."""

    t: np.ndarray
    dt: np.ndarray
    acc: np.ndarray
    up: np.ndarray | None  # up vectors used (smoothed), None without gyro
    path: str  # "gyro", "norm" or "projection"
    a: np.ndarray  # vertical acceleration integrated
    fu: np.ndarray  # the "specific force along the estimated up" part of a
    v: np.ndarray  # final velocity
    integ_kwargs: dict
    anchored: bool
    drift: float
    filled: np.ndarray


@dataclass
class CausalRecord:
    """Causal (live) estimate over one open segment."""

    t: list[np.ndarray] = field(default_factory=list)
    v: list[np.ndarray] = field(default_factory=list)
    a: list[np.ndarray] = field(default_factory=list)
    fu: list[np.ndarray] = field(default_factory=list)
    dt: list[np.ndarray] = field(default_factory=list)
    acc: list[np.ndarray] = field(default_factory=list)

    def cat(self, name: str) -> np.ndarray:
        parts = getattr(self, name)
        return np.concatenate(parts) if parts else np.empty(0)


@dataclass
class Instrumentation:
    segments: list[SegmentRecord] = field(default_factory=list)
    causal: list[CausalRecord] = field(default_factory=list)
    anchors: list[dict] = field(default_factory=list)  # still entries
    breaks: list[float] = field(default_factory=list)
    decisions: list[dict] = field(default_factory=list)


class _DiagFinder(RepFinder):
    diag: Instrumentation

    def _decide(self, ib, it, how, at_s, out):  # noqa: ANN001, ANN202
        n0 = len(out)
        held0 = self._held
        s = self._s
        rec = {"how": how, "t_bottom": float(s.t[s.loc(ib)]) if s.loc(ib) >= 0 else math.nan,
               "t_top": float(s.t[s.loc(it)]), "rise": float(s.p[s.loc(it)] - s.p[max(s.loc(ib), 0)])}
        ok = super()._decide(ib, it, how, at_s, out)
        new = out[n0:]
        if any(isinstance(e, RepFinal) for e in new) or (self._held is not None and self._held is not held0):
            rec["outcome"] = "rep"
        elif any(isinstance(e, FailedAttemptEvent) for e in new):
            rec["outcome"] = "failed"
        else:
            rec["outcome"] = "reject" if ok else "pending"
        self.diag.decisions.append(rec)
        return ok


class DiagPipeline(StreamingPipeline):
    """`StreamingPipeline` that records its internals into ``self.diag``."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.diag = Instrumentation()
        finder = _DiagFinder(self.settings)
        finder.diag = self.diag
        self.finder = finder
        self._cur_causal: CausalRecord | None = None

    def _on_break(self, out):  # noqa: ANN001, ANN202
        self.diag.breaks.append(float(self._buf.t[-1]) if len(self._buf.t) else math.nan)
        return super()._on_break(out)

    def _enter_still(self, start_g, k, **kw):  # noqa: ANN001, ANN202
        b = self._buf
        vc = float(b.vc[k - b.base]) if self._state == "moving" else 0.0
        self.diag.anchors.append({"t_start": float(b.t[max(start_g, b.base) - b.base]), "t_enter": float(b.t[k - b.base]),
                                  "from": self._state, "vc": vc})
        return super()._enter_still(start_g, k, **kw)

    def _start_segment(self, s):  # noqa: ANN001, ANN202
        self._cur_causal = CausalRecord()
        self.diag.causal.append(self._cur_causal)
        return super()._start_segment(s)

    def _causal(self, g0, g1):  # noqa: ANN001, ANN202
        _CTX["mode"] = "causal"
        _CTX["calls"] = []
        try:
            v, p = super()._causal(g0, g1)
        finally:
            _CTX["mode"] = None
        b = self._buf
        sl = b.sl(g0, g1)
        rec = self._cur_causal
        if rec is not None:
            acc = b.acc[sl].copy()
            calls = [c for c in _CTX["calls"] if c[0] == "vertical_accel"]
            _, args, _, (a, x) = calls[-1]
            up = args[1]
            fu = np.einsum("ij,ij->i", acc, up) if up is not None else np.sign(acc @ args[2]) * np.linalg.norm(acc, axis=1)
            dt = b.dt[sl].copy()
            if g0 == self._seg_start:
                dt[0] = 0.0
            rec.t.append(b.t[sl].copy())
            rec.v.append(v.copy())
            rec.a.append(np.asarray(a).copy())
            rec.fu.append(fu)
            rec.dt.append(dt)
            rec.acc.append(acc)
        return v, p

    def _close_segment(self, e, w0, at_s, out, *, anchored):  # noqa: ANN001, ANN202
        b = self._buf
        s = self._seg_start
        if e <= s or self._anchor is None:
            return super()._close_segment(e, w0, at_s, out, anchored=anchored)
        sl = b.sl(s, e + 1)
        t = b.t[sl].copy()
        dt = b.dt[sl].copy()
        dt[0] = 0.0
        acc = b.acc[sl].copy()
        filled = b.filled[sl].copy()
        n_pieces = len(self.diag.segments)
        _CTX["mode"] = "close"
        _CTX["calls"] = []
        captured: list = []
        orig_on_piece = self.finder.on_piece

        def on_piece(piece, at):  # noqa: ANN001, ANN202
            captured.append(piece)
            return orig_on_piece(piece, at)

        self.finder.on_piece = on_piece  # type: ignore[method-assign]
        try:
            super()._close_segment(e, w0, at_s, out, anchored=anchored)
        finally:
            _CTX["mode"] = None
            self.finder.on_piece = orig_on_piece  # type: ignore[method-assign]
        if not captured:
            return None
        piece = captured[0]
        calls = _CTX["calls"]
        va = [c for c in calls if c[0] == "vertical_accel"]
        integ = [c for c in calls if c[0] == "integrate_segment"]
        _, vargs, _, (a_main, _) = va[-1]
        up = vargs[1]
        chosen = 0
        for i, (_, _a, _k, kin) in enumerate(integ):
            if np.array_equal(kin.velocity_mps, piece.velocity_mps):
                chosen = i
        _, iargs, ikw, _ = integ[chosen]
        a_used = np.asarray(iargs[0])
        if up is not None:
            path, fu = "gyro", np.einsum("ij,ij->i", acc, up)
        elif chosen == 0:
            path, fu = "norm", np.sign(acc @ vargs[2]) * np.linalg.norm(acc, axis=1)
        else:
            path, fu = "projection", acc @ vargs[2]
        kw = dict(ikw)
        self.diag.segments.append(SegmentRecord(
            t=t, dt=dt, acc=acc, up=None if up is None else np.asarray(up).copy(), path=path, a=a_used.copy(), fu=fu,
            v=piece.velocity_mps.copy(), integ_kwargs=kw, anchored=anchored, drift=piece.drift_mps, filled=filled,
        ))
        assert len(self.diag.segments) == n_pieces + 1
        return None


def install() -> None:
    """Route the session through `DiagPipeline` and record the helper calls it makes."""
    _wrap_module_function(ori_mod, "vertical_accel")
    _wrap_module_function(streaming_mod, "integrate_segment")
    session_mod.StreamingPipeline = DiagPipeline  # type: ignore[misc]


# --------------------------------------------------------------------------- drift-correction operator


def correction(v_raw: np.ndarray, a_used: np.ndarray, dt: np.ndarray, t: np.ndarray, kw: dict) -> np.ndarray:
    """What `integrate_segment` subtracts from ``v_raw`` (linear in ``v_raw`` for a fixed segment).

    Mirrors `vbt.pipeline.velocity.integrate_segment`: the branch and the acceleration-
    proportional basis are fixed by the segment's own acceleration, so applying this to each
    error component splits the final velocity error exactly.
    """
    from vbt.pipeline import velocity as vel

    detrend = kw.get("detrend", True)
    still_from = kw.get("still_from")
    bias_known = kw.get("bias_known", True)
    clipped = kw.get("clipped")
    v = v_raw
    zero = np.zeros_like(v)
    if len(v) == 0:
        return zero
    usable = still_from is not None and len(v) - max(still_from, 1) >= vel._MIN_STILL_SAMPLES
    burst = float(np.max(np.abs(a_used))) >= vel._BURST_MPS2 or (clipped is not None and bool(np.any(clipped)))
    tau = t - t[0]
    if detrend and usable and (bias_known or burst):
        sat = clipped is not None and bool(np.any(clipped))
        u = cumtrapz(clipped.astype(float) if sat else np.abs(a_used), dt)
        if u[-1] > 0.0:
            u = u / u[-1]
            lo = max(int(still_from or 0), 1)
            tw, uw, vw = tau[lo:], u[lo:], v[lo:]
            lam = vel._SLOPE_RIDGE_S2 * len(vw)
            tu = float(np.dot(tw, uw))
            lhs = np.array([[float(np.dot(tw, tw)) + lam, tu], [tu, float(np.dot(uw, uw))]])
            rhs = np.array([float(np.dot(vw, tw)), float(np.dot(vw, uw))])
            bb, d = np.linalg.solve(lhs, rhs)
            return bb * tau + d * u
    if detrend and len(v) > 1:
        lo = len(v) - 1 if still_from is None else min(max(still_from, 1), len(v) - 1)
        den = float(np.sum(tau[lo:] ** 2))
        if den > 0:
            return float(np.sum(v[lo:] * tau[lo:])) / den * tau
    return zero


# --------------------------------------------------------------------------- truth access


class TruthView:
    """Truth of one simulation mapped onto the pipeline's time axis.

    The pipeline's times are host-axis estimates: a sample's pipeline time is its true time
    plus the link's minimum delay (fitted per segment, from the samples themselves, so a slowly
    accumulating rate error cannot misalign the comparison). Velocity features are further
    delayed by the sensor's causal anti-alias filter (its group delay, computed from the
    simulated filter).
    """

    def __init__(self, sim) -> None:  # noqa: ANN001
        from scipy import signal

        from vbt.sim.lift import PHYSICS_RATE_HZ
        from vbt.sim.sensor import lowpass_sos

        self.sim = sim
        tr = sim.truth
        self.tr = tr
        spec = sim.sensor_spec
        self.g = float(spec.g_local_mps2)
        self.t_true = sim.sensor_true_times()
        _, self.acc_meas, _ = sim.sensor_samples()
        _, self.acc_ideal, _ = sim.sensor_samples(errors=False, gyro=False)
        if spec.chip != "ideal":
            self.MS = (np.eye(3) + np.asarray(spec.accel_cross)) @ np.diag(1.0 + np.asarray(spec.accel_scale))
        else:
            self.MS = np.eye(3)
        self.delay = 0.0
        if spec.lowpass_fraction:
            sos = lowpass_sos(spec.lowpass_fraction * sim.scenario.rate_hz, PHYSICS_RATE_HZ, spec.lowpass_order)
            _, gd = signal.group_delay(signal.sos2tf(sos), w=[1.0], fs=PHYSICS_RATE_HZ)
            self.delay = float(gd[0]) / PHYSICS_RATE_HZ
        self._off_t = np.array([0.0])
        self._off = np.array([0.0])

    def fit_offsets(self, segs: list[SegmentRecord]) -> None:
        """Per-segment link offset: the shift that best lines the samples up with the sensor's."""
        ts_list, off_list = [], []
        prev: float | None = None
        for s in segs:
            keep = np.flatnonzero(~s.filled)
            if len(keep) < 20:
                continue
            if len(keep) > 400:
                keep = keep[:: len(keep) // 400]
            ts, accs = s.t[keep], s.acc[keep]
            grid = np.arange(-0.05, 0.6, 0.001) if prev is None else np.arange(prev - 0.05, prev + 0.05, 0.001)
            best = self._search(ts, accs, grid)
            best = self._search(ts, accs, np.arange(best - 0.001, best + 0.001, 0.0001))
            prev = best
            ts_list.append(float(np.mean(s.t)))
            off_list.append(best)
        if ts_list:
            self._off_t = np.array(ts_list)
            self._off = np.array(off_list)

    def _search(self, ts: np.ndarray, accs: np.ndarray, grid: np.ndarray) -> float:
        tt = ts[None, :] - grid[:, None]
        err = np.zeros(len(grid))
        for j in range(3):
            x = np.interp(tt.ravel(), self.t_true, self.acc_meas[:, j]).reshape(tt.shape)
            err += np.mean((x - accs[None, :, j]) ** 2, axis=1)
        return float(grid[int(np.argmin(err))])

    def off_link(self, t_pipe: np.ndarray | float) -> np.ndarray:
        return np.interp(t_pipe, self._off_t, self._off)

    def off_v(self, t_pipe: np.ndarray | float) -> np.ndarray:
        return self.off_link(t_pipe) + self.delay

    def to_true(self, t_pipe: float) -> float:
        """A pipeline time of a velocity feature on the truth axis."""
        return float(t_pipe - self.off_v(t_pipe))

    def to_pipe(self, t_true: float) -> float:
        return float(t_true + self.off_v(t_true))

    def up_true(self, t_pipe: np.ndarray) -> np.ndarray:
        """True up direction in the sensor frame at the samples' true times."""
        tt = t_pipe - self.off_link(t_pipe)
        q = np.stack([np.interp(tt, self.tr.t_s, self.tr.sensor_quat_wxyz[:, j]) for j in range(4)], -1)
        q /= np.linalg.norm(q, axis=1, keepdims=True)
        R = quat_to_matrix(q)  # sensor -> world
        return R[:, 2, :]

    def ideal_f(self, t_pipe: np.ndarray) -> np.ndarray:
        tt = t_pipe - self.off_link(t_pipe)
        return np.stack([np.interp(tt, self.t_true, self.acc_ideal[:, j]) for j in range(3)], -1)

    def true_dt(self, t_pipe: np.ndarray) -> np.ndarray:
        """True step before each sample (sample times mapped through the nearest true sample)."""
        tt = t_pipe - self.off_link(t_pipe)
        k = np.clip(np.searchsorted(self.t_true, tt), 1, len(self.t_true) - 1)
        k = np.where(np.abs(self.t_true[k - 1] - tt) < np.abs(self.t_true[k] - tt), k - 1, k)
        tk = self.t_true[k]
        return np.diff(tk, prepend=tk[0])

    def v_sensor(self, t_pipe: np.ndarray) -> np.ndarray:
        return np.interp(t_pipe - self.off_v(t_pipe), self.tr.t_s, self.tr.sensor_velocity_mps[:, 2])

    def a_sensor(self, t_pipe: np.ndarray) -> np.ndarray:
        return np.interp(t_pipe - self.off_v(t_pipe), self.tr.t_s, self.tr.sensor_accel_mps2[:, 2])

    def mcv(self, start: float, end: float, *, sensor: bool) -> float:
        """Mean true vertical velocity over [start, end] (true axis)."""
        tr = self.tr
        v = tr.sensor_velocity_mps[:, 2] if sensor else tr.bar_velocity_mps[:, 2]
        return integral(tr.t_s, v, start, end) / max(end - start, 1e-9)


COMPONENTS = ("bias/gravity", "orientation", "scale/cross", "timebase", "rest")


def segment_components(seg: SegmentRecord, tv: TruthView, *, detrended: bool = True) -> dict[str, np.ndarray]:
    """Velocity error of a segment split by source (each drift-corrected like the segment)."""
    t, dt = seg.t, seg.dt
    f = seg.acc
    ut = tv.up_true(t)
    fi = tv.ideal_f(t)
    fu_true = np.einsum("ij,ij->i", f, ut)
    # Scale and cross-axis errors acting on gravity are constant while the orientation is: they
    # are part of the gravity reading (what a ZUPT re-measures); only their action on the
    # motion's own acceleration is a scale error.
    dyn = fi - tv.g * ut
    scale_dyn = np.einsum("ij,ij->i", dyn @ tv.MS.T - dyn, ut)
    scale_all = np.einsum("ij,ij->i", fi @ tv.MS.T - fi, ut)
    comp_a = {
        "bias/gravity": (seg.a - seg.fu + tv.g) + np.einsum("ij,ij->i", f - fi @ tv.MS.T, ut) + scale_all - scale_dyn,
        "orientation": seg.fu - fu_true,
        "scale/cross": scale_dyn,
    }
    # The true vertical acceleration as the sensor measured it (ideal, filtered) vs the physics.
    a_ideal_vert = np.einsum("ij,ij->i", fi, ut) - tv.g
    out: dict[str, np.ndarray] = {}
    for name, ea in comp_a.items():
        ev = cumtrapz(ea, dt)
        out[name] = ev - (correction(ev, seg.a, dt, t, seg.integ_kwargs) if detrended else 0.0)
    # Time base: the pipeline's steps against the true ones.
    dtt = tv.true_dt(t)
    dtt[0] = 0.0
    ev = cumtrapz(seg.a, dt) - cumtrapz(seg.a, dtt)
    out["timebase"] = ev - (correction(ev, seg.a, dt, t, seg.integ_kwargs) if detrended else 0.0)
    v_raw = cumtrapz(seg.a, dt)
    v_final = v_raw - (correction(v_raw, seg.a, dt, t, seg.integ_kwargs) if detrended else 0.0)
    total = v_final - tv.v_sensor(t)
    out["rest"] = total - sum(out[k] for k in COMPONENTS if k != "rest")
    out["_total"] = total
    out["_ideal_vs_physics"] = cumtrapz(a_ideal_vert - tv.a_sensor(t), dt)
    return out


def mean_over(t: np.ndarray, y: np.ndarray, a: float, b: float) -> float:
    return integral(t, y, a, b) / max(b - a, 1e-9)


# --------------------------------------------------------------------------- per-session analysis


@dataclass
class Findings:
    missed: Counter = field(default_factory=Counter)
    extra: Counter = field(default_factory=Counter)
    false_failed: Counter = field(default_factory=Counter)
    missed_failed: Counter = field(default_factory=Counter)
    outliers: Counter = field(default_factory=Counter)
    n_true: int = 0
    n_matched: int = 0
    n_failed_true: int = 0
    comp: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    comp_keys: list[tuple] = field(default_factory=list)
    causal: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    causal_worst: list[tuple[float, str]] = field(default_factory=list)
    anchors: Counter = field(default_factory=Counter)
    low_quality: int = 0
    examples: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def example(self, cat: str, text: str) -> None:
        if len(self.examples[cat]) < 4:
            self.examples[cat].append(text)


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return min(a1, b1) - max(a0, b0)


def analyse_session(seed: int, p: dict, fnd: Findings, *, verbose: bool = False) -> None:
    scenario = random_scenario(np.random.default_rng(seed), exercise=p["exercise"], rate_hz=p["rate"], gyro=p["gyro"],
                               faults=p["faults"], sensor=p["sensor"], n_sets=p["n_sets"])
    if p["sensor"] != "samples":
        scenario.rate_hz = accuracy.PROTOCOL_RATES[p["sensor"]][0][p["rate"]]
    sim = simulate(scenario, seed=seed)
    captured: list[DiagPipeline] = []
    orig_start = session_mod.Session.start

    def start(self, header):  # noqa: ANN001, ANN202
        orig_start(self, header)
        captured.append(self.pipeline)

    session_mod.Session.start = start  # type: ignore[method-assign]
    try:
        res = accuracy.analyse(sim, p["exercise"])
    finally:
        session_mod.Session.start = orig_start  # type: ignore[method-assign]
    pipe = captured[0]
    diag = pipe.diag
    tv = TruthView(sim)
    tv.fit_offsets(diag.segments)
    T = tv.to_true
    tag = f"{seed} {p['exercise']} {p['rate']:.0f}Hz {'gyro' if p['gyro'] else 'nogyro'} {p['faults']} {p['sensor']}"

    det = [r for s in res.sets for r in s.reps]
    true = [r for s in sim.labels.sets for r in s.reps]
    fails_true = [f for s in sim.labels.sets for f in s.failed_attempts]
    fails_det = [f for s in res.sets for f in s.failed_attempts]
    events = [e for s in sim.labels.sets for e in s.events]
    fnd.n_true += len(true)
    fnd.n_failed_true += len(fails_true)
    # Match as the accuracy benchmark does (detected times shifted onto the truth axis).
    used: dict[int, int] = {}
    det_match: dict[int, int] = {}
    for i, d in enumerate(det):
        best, best_ov = None, 0.0
        for j, t in enumerate(true):
            ov = _overlap(T(d.start_s), T(d.end_s), t.concentric_start_s, t.concentric_end_s)
            if j not in used and ov > best_ov:
                best, best_ov = j, ov
        if best is not None:
            used[best] = i
            det_match[i] = best
    fnd.n_matched += len(used)
    gaps = [(g0, g0 + d) for g0, d in sim.link_spec.gaps]
    breaks = [T(b) for b in diag.breaks]

    # anchors: true speed in each still window
    anchor_true: list[tuple[float, float, float]] = []
    for an in diag.anchors:
        t0, t1 = T(an["t_start"]), T(an["t_enter"])
        m = (tv.tr.t_s >= t0) & (tv.tr.t_s <= t1)
        sp = float(np.max(np.abs(tv.tr.sensor_velocity_mps[m, 2]))) if m.any() else 0.0
        anchor_true.append((t0, t1, sp))
        if an["from"] != "moving":
            continue
        fnd.anchors["anchors from motion"] += 1
        if sp > FALSE_ANCHOR_MPS:
            where = "other motion"
            for s in sim.labels.sets:
                for r in s.reps:
                    if r.concentric_start_s <= t1 and t0 <= r.concentric_end_s:
                        where = "inside a concentric"
                    elif r.eccentric_start_s is not None and r.eccentric_start_s <= t1 and t0 <= r.eccentric_end_s:
                        where = "inside an eccentric"
                for f in s.failed_attempts:
                    if f.start_s <= t1 and t0 <= f.end_s:
                        where = "inside a failed attempt"
            fnd.anchors[f"false anchor ({where})"] += 1

    # ---- missed reps
    for j, r in enumerate(true):
        if j in used:
            continue
        lo = (r.eccentric_start_s if r.eccentric_start_s is not None else r.concentric_start_s) - 0.3
        hi = r.concentric_end_s + 0.5
        cat = None
        if any(_overlap(r.concentric_start_s, r.concentric_end_s, a, b) > 0 for a, b in gaps):
            cat = "link outage during the concentric (no data)"
        elif any(_overlap(lo, hi, a, b) > 0 for a, b in gaps) or any(lo <= b <= hi for b in breaks):
            cat = "link gap / stream break before or around the concentric"
        if cat is None:
            inside = [a for a in anchor_true if r.concentric_start_s + 0.05 < a[1] < r.concentric_end_s - 0.05 and a[2] > FALSE_ANCHOR_MPS]
            if inside:
                cat = "false still anchor inside the concentric (grind zeroed)"
        if cat is None and any(_overlap(T(f.start_s), T(f.end_s), r.concentric_start_s, r.concentric_end_s) > 0 for f in fails_det):
            cat = "reported as a failed attempt"
        if cat is None:
            for i, d in enumerate(det):
                if _overlap(T(d.start_s), T(d.end_s), r.concentric_start_s, r.concentric_end_s) > 0 and i in det_match:
                    cat = "merged with another rep's detection"
                    break
        if cat is None:
            dec = [d for d in diag.decisions if _overlap(T(d["t_bottom"]), T(d["t_top"]), r.concentric_start_s, r.concentric_end_s) > 0]
            outs = {d["outcome"] for d in dec}
            if "reject" in outs:
                d = [d for d in dec if d["outcome"] == "reject"][-1]
                ratio = d["rise"] / max(r.rom_m, 1e-3)
                cat = f"rejected by the segmenter (rise {'<' if ratio < 0.8 else '>='} 80 % of true ROM)"
            elif "rep" in outs:
                cat = "accepted then dropped (pick-up / held)"
            elif dec:
                cat = "undecided (pending at the end)"
            else:
                # the final stream never showed a rise: how far did it move over the concentric?
                rise = math.nan
                for seg in diag.segments:
                    ts, te = tv.to_pipe(r.concentric_start_s), tv.to_pipe(r.concentric_end_s)
                    if seg.t[0] <= ts and seg.t[-1] >= te:
                        pp = cumtrapz(seg.v, seg.dt)
                        rise = float(np.interp(te, seg.t, pp) - np.interp(ts, seg.t, pp))
                if math.isnan(rise):
                    cat = "no final segment covers the concentric"
                else:
                    cat = "final velocity shows no rise (anchor/drift)" if rise < 0.5 * r.rom_m else "no rise decision (zigzag)"
        fnd.missed[cat] += 1
        fnd.example(cat, f"{tag} rep {r.index} @ {r.concentric_start_s:.2f}-{r.concentric_end_s:.2f} MCV {r.mean_velocity_mps:.2f}")

    # ---- extra reps
    for i, d in enumerate(det):
        if i in det_match:
            continue
        a0, a1 = T(d.start_s), T(d.end_s)
        cat = None
        if any(_overlap(a0, a1, f.start_s, f.end_s) > 0 for f in fails_true):
            cat = "a failed attempt counted as a rep"
        if cat is None:
            for r in true:
                if _overlap(a0, a1, r.concentric_start_s - 0.2, r.concentric_end_s + 0.2) > 0:
                    cat = "split of a true rep"
        if cat is None:
            kinds = [e.kind for e in events if _overlap(a0, a1, e.start_s - 0.3, e.end_s + 0.3) > 0]
            cat = f"non-rep event: {kinds[0]}" if kinds else "other motion"
        fnd.extra[cat] += 1
        fnd.example(cat, f"{tag} det {d.start_s:.2f}-{d.end_s:.2f} ROM {d.rom_m:.2f} MCV {d.mean_velocity_mps:.2f}")

    # ---- failed attempts
    for f in fails_det:
        a0, a1 = T(f.start_s), T(f.end_s)
        if any(_overlap(a0, a1, x.start_s, x.end_s) > 0 for x in fails_true):
            continue
        cat = None
        for r in true:
            if _overlap(a0, a1, r.concentric_start_s, r.concentric_end_s) > 0:
                cat = "true rep taken for a failed attempt"
        if cat is None:
            kinds = [e.kind for e in events if _overlap(a0, a1, e.start_s - 0.3, e.end_s + 0.3) > 0]
            cat = f"non-rep event: {kinds[0]}" if kinds else "other motion"
        fnd.false_failed[cat] += 1
        fnd.example("FA " + cat, f"{tag} {f.start_s:.2f}-{f.end_s:.2f} rise {f.rom_m:.2f}")
    for x in fails_true:
        if any(_overlap(T(f.start_s), T(f.end_s), x.start_s, x.end_s) > 0 for f in fails_det):
            continue
        if any(_overlap(T(d.start_s), T(d.end_s), x.start_s, x.end_s) > 0 for d in det):
            cat = "counted as a rep"
        elif any(_overlap(x.start_s - 0.5, x.end_s + 0.5, a, b) > 0 for a, b in gaps):
            cat = "in a link gap"
        else:
            dec = [d for d in diag.decisions if _overlap(T(d["t_bottom"]), T(d["t_top"]), x.start_s, x.end_s) > 0]
            cat = f"decision: {dec[-1]['outcome']} (rise {dec[-1]['rise']:.2f} of {x.rom_m:.2f})" if dec else "no decision"
            cat = cat.split(" (")[0]
        fnd.missed_failed[cat] += 1
        fnd.example("MFA " + cat, f"{tag} {x.start_s:.2f}-{x.end_s:.2f} rom {x.rom_m:.2f} {x.outcome}")

    # ---- MCV decomposition
    seg_cache: dict[int, dict[str, np.ndarray]] = {}
    for i, j in det_match.items():
        d, r = det[i], true[j]
        if d.quality < 0.5:
            fnd.low_quality += 1
        e_total = d.mean_velocity_mps - r.mean_velocity_mps
        # MCV = ROM / duration, so its error splits exactly into a duration part (boundary
        # timing, independent of any time alignment with the truth) and a ROM part.
        dur_true = r.concentric_end_s - r.concentric_start_s
        duration = r.rom_m * (1.0 / d.duration_s - 1.0 / dur_true)
        lever = ((r.sensor_rom_m if r.sensor_rom_m is not None else r.rom_m) - r.rom_m) / d.duration_s
        parts = {"duration": duration, "lever arm": lever}
        k = next((n for n, s in enumerate(diag.segments) if s.t[0] <= d.start_s and s.t[-1] >= d.end_s), None)
        if k is not None:
            if k not in seg_cache:
                seg_cache[k] = segment_components(diag.segments[k], tv)
            comps = seg_cache[k]
            seg = diag.segments[k]
            for name in COMPONENTS[:-1]:
                parts[name] = mean_over(seg.t, comps[name], d.start_s, d.end_s)
        else:
            for name in COMPONENTS[:-1]:
                parts[name] = 0.0
        parts["rest"] = e_total - sum(parts.values())
        for name, val in parts.items():
            fnd.comp[name].append(val)
        fnd.comp["_total"].append(e_total)
        fnd.comp_keys.append((p["exercise"], p["rate"], p["gyro"], p["faults"], d.quality))
        if abs(e_total) > OUTLIER_MPS:
            dom = max(parts, key=lambda n: abs(parts[n]))
            fnd.outliers[dom] += 1
            fnd.example("MCV " + dom, f"{tag} rep@{d.start_s:.2f} err {e_total:+.3f} " +
                        " ".join(f"{n}={v:+.3f}" for n, v in parts.items()))

    # ---- causal velocity at true lockouts
    for r in true:
        tq = tv.to_pipe(r.concentric_end_s + 0.15)  # pipeline axis, into the lockout hold
        for cr in diag.causal:
            t = cr.cat("t")
            if len(t) < 3 or not (t[0] < tq <= t[-1]):
                continue
            vc = float(np.interp(tq, t, cr.cat("v")))
            vt = float(tv.v_sensor(np.array([tq]))[0])
            seg = SegmentRecord(t=t, dt=cr.cat("dt"), acc=np.concatenate(cr.acc), up=None, path="", a=cr.cat("a"),
                                fu=cr.cat("fu"), v=cr.cat("v"), integ_kwargs={"detrend": False}, anchored=False,
                                drift=0.0, filled=np.zeros(len(t), bool))
            comps = segment_components(seg, tv, detrended=False)
            fnd.causal["_err"].append(vc - vt)
            fnd.causal["_elapsed"].append(tq - t[0])
            for name in COMPONENTS:
                fnd.causal[name].append(float(np.interp(tq, t, comps[name])))
            fnd.causal["_key"].append(p["gyro"])  # type: ignore[arg-type]
            fnd.causal_worst.append((abs(vc - vt), f"{tag} rep {r.index} lockout@{r.concentric_end_s:.2f} "
                                     f"err {vc - vt:+.3f} after {tq - t[0]:.2f} s " + " ".join(
                                         f"{n}={float(np.interp(tq, t, comps[n])):+.3f}" for n in COMPONENTS)))
            break
        else:
            fnd.causal["_anchored"].append(1.0)
    if verbose:
        e = [det[i].mean_velocity_mps - true[j].mean_velocity_mps for i, j in det_match.items()]
        print(f"{tag}: reps {len(used)}/{len(true)} extra {len(det) - len(det_match)} off {tv._off.mean() * 1000:.0f}+"
              f"{tv.delay * 1000:.0f} ms MCV MAE {np.mean(np.abs(e)) if e else math.nan:.3f}", flush=True)


# --------------------------------------------------------------------------- report


def _ranked(title: str, c: Counter, total: int, examples: dict[str, list[str]], prefix: str = "") -> None:
    n = sum(c.values())
    print(f"\n{title}: {n}" + (f" (of {total})" if total else ""))
    for cat, k in c.most_common():
        print(f"  {k:5d}  {100 * k / max(n, 1):5.1f} %  {cat}")
        for ex in examples.get(prefix + cat, [])[:2]:
            print(f"               e.g. {ex}")


def report(f: Findings) -> None:
    print(f"\nreps: {f.n_true} labelled, {f.n_matched} matched ({100 * f.n_matched / max(f.n_true, 1):.1f} %), "
          f"{f.low_quality} matched reps with quality < 0.5")
    _ranked("MISSED REPS", f.missed, f.n_true, f.examples)
    _ranked("EXTRA REPS", f.extra, 0, f.examples)
    _ranked("FALSE FAILED ATTEMPTS", f.false_failed, 0, f.examples, "FA ")
    _ranked("MISSED FAILED ATTEMPTS", f.missed_failed, f.n_failed_true, f.examples, "MFA ")
    _ranked(f"REPS WITH |MCV ERROR| > {OUTLIER_MPS} (dominant part)", f.outliers, f.n_matched, f.examples, "MCV ")
    tot = np.array(f.comp["_total"])
    if len(tot):
        print(f"\nMCV ERROR DECOMPOSITION over {len(tot)} matched reps: total MAE {np.abs(tot).mean():.4f}, "
              f"bias {tot.mean():+.4f} m/s")
        print(f"  {'part':<14} {'MAE':>7} {'bias':>8} {'RMS':>7}   share of squared error")
        ss = float(np.sum(tot**2))
        for name in ("duration", "lever arm", *COMPONENTS):
            x = np.array(f.comp[name])
            print(f"  {name:<14} {np.abs(x).mean():7.4f} {x.mean():+8.4f} {np.sqrt(np.mean(x**2)):7.4f}   "
                  f"{100 * float(np.sum(x * tot)) / ss:6.1f} %")
        keys = f.comp_keys
        for label, fn in (("exercise", lambda k: k[0]), ("rate", lambda k: f"{k[1]:.0f} Hz"),
                          ("gyro", lambda k: "gyro" if k[2] else "no gyro"), ("faults", lambda k: k[3])):
            groups = defaultdict(list)
            for i, k in enumerate(keys):
                groups[fn(k)].append(i)
            print(f"\n  MAE of each part by {label}:")
            print(f"  {'':<10} {'n':>5} {'total':>7} " + " ".join(f"{n[:9]:>9}" for n in ("duration", "lever arm", *COMPONENTS)))
            for g in sorted(groups, key=str):
                idx = groups[g]
                row = [np.abs(tot[idx]).mean()] + [np.abs(np.array(f.comp[n])[idx]).mean() for n in ("duration", "lever arm", *COMPONENTS)]
                print(f"  {g!s:<10} {len(idx):5d} " + " ".join(f"{x:7.4f}" if i == 0 else f"{x:9.4f}" for i, x in enumerate(row)))
        q = np.array([k[4] for k in keys])
        good = q >= 0.5
        if good.any():
            print(f"\n  reps with quality >= 0.5: {good.sum()}, MCV MAE {np.abs(tot[good]).mean():.4f}; "
                  f"quality < 0.5: {(~good).sum()}, MAE {np.abs(tot[~good]).mean() if (~good).any() else math.nan:.4f}")
    ce = np.array(f.causal["_err"])
    if len(ce):
        print(f"\nCAUSAL VELOCITY 0.15 s after each true lockout ({len(ce)} reps still in their segment, "
              f"{len(f.causal['_anchored'])} already anchored): median |error| {np.median(np.abs(ce)):.3f} m/s, "
              f"p90 {np.percentile(np.abs(ce), 90):.3f}, median time since anchor {np.median(f.causal['_elapsed']):.2f} s")
        gy = np.array(f.causal["_key"], dtype=bool)
        for name in COMPONENTS:
            x = np.array(f.causal[name])
            print(f"  {name:<14} median |part| {np.median(np.abs(x)):.3f}  (gyro {np.median(np.abs(x[gy])) if gy.any() else math.nan:.3f}, "
                  f"no gyro {np.median(np.abs(x[~gy])) if (~gy).any() else math.nan:.3f})  mean {x.mean():+.3f}")
        for _, line in sorted(f.causal_worst, reverse=True)[:12]:
            print(f"    worst: {line}")
    print("\nANCHORS (still periods entered from motion):")
    for k, n in f.anchors.most_common():
        print(f"  {n:6d}  {k}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=100)
    ap.add_argument("--seed-base", type=int, default=SEED_BASE)
    ap.add_argument("--only", type=int, nargs="*", help="analyse only these seeds")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    install()
    rng = np.random.default_rng(args.seed_base)
    fnd = Findings()
    t0 = time.perf_counter()
    for i in range(args.sessions):
        p = accuracy.plan(i, rng)
        seed = args.seed_base + i
        if args.only and seed not in args.only:
            continue
        analyse_session(seed, p, fnd, verbose=args.verbose or bool(args.only))
        if not args.verbose and i % 10 == 9:
            print(f"  {i + 1}/{args.sessions} sessions ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    report(fnd)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
