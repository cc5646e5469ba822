"""Rep segmentation on the drift-corrected velocity/position stream.

The streaming pipeline hands over one *motion piece* per closed motion segment (from one still
anchor to the next, or to a break), with the final, detrended velocity and the bar position
(continuous across pieces: the bar does not move while still). `RepFinder` walks the position
with a hysteresis "zigzag" (a direction change counts only after the bar reverses by
`PipelineSettings.turn_hysteresis_m`), so a sticking region, a hitch or a pause inside a
phase never splits it (science.md §2, Martínez-Cava 2019), and decides each *upward phase*:

* **Rep** -- its concentric ROM passes the exercise's absolute floor and ceiling, the relative
  rule (>= `rel_rom_fraction` of the set's median ROM so far, science.md §2), the duration and
  peak-velocity floors, and the bar is back at lockout: within `lockout_tolerance_fraction` of
  the height the preceding descent started from. Decided as soon as the bar is still at the
  top (the live path's "final" moment) or, in touch-and-go runs without a top pause, when it
  starts down again.
* **Failed attempt** -- after a descent of rep depth, the bar rose at least
  `failed_min_rise_m` but went back down having covered less than `failed_max_fraction` of the
  descent / the set's reps (the stall itself may be still: the decision waits for the descent,
  or for the set to time out). Reported as `FailedAttempt`, never as a rep.
* **Nothing** -- unrack lifts, walk-out bobbing, re-racking and setting the bar down are small
  or downward moves with no rep-depth descent before them.

Concentric-first lifts (deadlift from the floor, OHP from the rack position, rows) have no
descent before their first rep; the absolute ROM floor alone applies then. A bent-over row set
starts with a pick-up from the floor (profile ``pick_up_first``): the first rep-sized rise of
such a set is held until the next bottom -- if that bottom is clearly higher than where the
rise began, it was the pick-up, not a rep (Pendlay rows return to the floor every rep). The
end of such a set mirrors it: the lifter stands up from the bent-over hang (the bar rises a
few tenths of a metre, short of a rep's top) and sets the bar down, to the floor, below the
hang. So a row rise that ends short of lockout or of the set's reps -- a partial rep or a
failed attempt by the rules above -- is held: if it turns out to be the set's last rise and
the bar then went clearly below where it began, it was standing up, and is nothing.

Sets: a set starts with its first rep or failed attempt; `PipelineSettings.set_gap_s` without
either ends it. All decisions depend only on the sample sequence, so the live path and
`vbt analyze` agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vbt.pipeline.events import (
    FailedAttemptEvent,
    PipelineEvent,
    RepFinal,
    RepRetracted,
    SetEnded,
    SetStarted,
)
from vbt.pipeline.metrics import ConcentricMetrics, concentric_bounds, concentric_metrics, lockout_plateau
from vbt.pipeline.quality import QualityInputs, rep_quality
from vbt.pipeline.results import FailedAttempt, RepResult, SetResult
from vbt.pipeline.settings import PipelineSettings

#: A pick-up is recognised when the next bottom is this much above where the rise began (m).
_PICK_UP_RISE_M = 0.10
#: Reps below this quality (e.g. a gap bridged mid-rep) do not set the set's reference ROM:
#: one doubled ROM would otherwise turn every following rep into a "failed attempt".
_ROM_REF_MIN_QUALITY = 0.3
#: A descent counts as this rise's eccentric only if its top is at most this long before the
#: concentric starts (slow eccentric plus a long paused bottom, s).
_DESCENT_MAX_AGE_S = 12.0
#: Samples of history kept before the oldest point the segmenter may still need.
_KEEP_MARGIN = 8


@dataclass(slots=True)
class MotionPiece:
    """One closed motion segment of the final stream.

    Attributes:
        t_s, velocity_mps, position_m: Final kinematics (velocity zero at both ends if
            ``anchored``).
        accel_mps2: Vertical acceleration used for integration.
        accel_event_mps2: Low-passed vertical acceleration (propulsive-phase end).
        filled, clipped: Per-sample flags from the time base.
        drift_mps: Drift removed by the detrend.
        anchored: The segment ended in a still anchor (else: a break or end of input).
        anchor_before_s: Duration of the still period that opened the segment.
        segment_s: Duration of the segment.
    """

    t_s: np.ndarray
    velocity_mps: np.ndarray
    position_m: np.ndarray
    accel_mps2: np.ndarray
    accel_event_mps2: np.ndarray
    filled: np.ndarray
    clipped: np.ndarray
    drift_mps: float = 0.0
    anchored: bool = True
    anchor_before_s: float = 1.0
    segment_s: float = 0.0


@dataclass(slots=True)
class _Provisional:
    set_index: int
    rep_index: int
    start_s: float
    end_s: float


@dataclass(slots=True)
class _Held:
    """A rep held back until the next bottom (pick-up check)."""

    bottom_p: float
    rep: RepResult
    metrics: ConcentricMetrics


@dataclass(slots=True)
class _Partial:
    """A row rise that ended short of lockout, held for the stand-up check.

    ``rep`` is the partial rep it would be, None for a failed attempt (``metrics``). ``below``:
    the next bottom was clearly below where the rise began (a set-down, or drift).
    """

    bottom_p: float
    metrics: ConcentricMetrics
    rep: RepResult | None = None
    below: bool = False


@dataclass(slots=True)
class _Stream:
    """The final stream, kept only as far back as segmentation may still look."""

    base: int = 0
    t: np.ndarray = field(default_factory=lambda: np.empty(0))
    v: np.ndarray = field(default_factory=lambda: np.empty(0))
    p: np.ndarray = field(default_factory=lambda: np.empty(0))
    a: np.ndarray = field(default_factory=lambda: np.empty(0))
    ae: np.ndarray = field(default_factory=lambda: np.empty(0))
    filled: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=bool))
    clipped: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=bool))
    piece: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    pieces: dict[int, MotionPiece] = field(default_factory=dict)
    next_piece: int = 0

    @property
    def end(self) -> int:
        """Global index one past the last sample."""
        return self.base + len(self.t)

    def append(self, piece: MotionPiece) -> tuple[int, int]:
        if len(self.t) and len(piece.t_s) and piece.t_s[0] <= self.t[-1]:
            # A piece may start on the last sample of the previous one (a stop of one window).
            keep = piece.t_s > self.t[-1]
            piece = MotionPiece(
                piece.t_s[keep], piece.velocity_mps[keep], piece.position_m[keep], piece.accel_mps2[keep],
                piece.accel_event_mps2[keep], piece.filled[keep], piece.clipped[keep], piece.drift_mps,
                piece.anchored, piece.anchor_before_s, piece.segment_s,
            )
        pid = self.next_piece
        self.next_piece += 1
        self.pieces[pid] = piece
        n = len(piece.t_s)
        g0 = self.end
        self.t = np.concatenate((self.t, piece.t_s))
        self.v = np.concatenate((self.v, piece.velocity_mps))
        self.p = np.concatenate((self.p, piece.position_m))
        self.a = np.concatenate((self.a, piece.accel_mps2))
        self.ae = np.concatenate((self.ae, piece.accel_event_mps2))
        self.filled = np.concatenate((self.filled, piece.filled))
        self.clipped = np.concatenate((self.clipped, piece.clipped))
        self.piece = np.concatenate((self.piece, np.full(n, pid, dtype=np.int64)))
        return g0, g0 + n - 1

    def trim(self, keep_from: int) -> None:
        cut = keep_from - self.base
        if cut <= 0:
            return
        cut = min(cut, len(self.t))
        for name in ("t", "v", "p", "a", "ae", "filled", "clipped", "piece"):
            setattr(self, name, getattr(self, name)[cut:])
        self.base += cut
        alive = set(np.unique(self.piece).tolist())
        for pid in [k for k in self.pieces if k not in alive]:
            del self.pieces[pid]

    def loc(self, g: int) -> int:
        return g - self.base


class RepFinder:
    """Turns motion pieces into rep, failed-attempt and set events (see module doc).

    Args:
        settings: Pipeline settings (segmentation fields and the exercise profile).
    """

    def __init__(self, settings: PipelineSettings) -> None:
        self.settings = settings
        self.profile = settings.exercise
        self.sets: list[SetResult] = []
        self._open: SetResult | None = None
        self._last_activity_s: float | None = None
        self._roms: list[float] = []
        self._s = _Stream()
        self._dir = 0  # 0 unknown, +1 rising, -1 falling
        self._ext = -1  # global index of the running extreme (or reference sample when dir 0)
        self._ref_max = -1
        self._ref_min = -1
        self._bottom = -1
        self._top = -1  # previous confirmed top (start of the descent before the current rise)
        self._decided = False
        self._stall_start_s: float | None = None
        self._held: _Held | None = None
        self._partial: _Partial | None = None
        self._provisionals: list[_Provisional] = []

    # ------------------------------------------------------------------ public

    @property
    def open_set(self) -> SetResult | None:
        """The set currently in progress, if any."""
        return self._open

    def median_rom(self) -> float | None:
        """Median ROM of the current set's trustworthy reps so far."""
        return float(np.median(self._roms)) if self._roms else None

    def next_slot(self, start_s: float) -> tuple[int, int]:
        """(set index, rep index) a rep starting at ``start_s`` would get (for provisionals)."""
        pending = 0
        if self._open is not None and (
            self._last_activity_s is None or start_s - self._last_activity_s < self.settings.set_gap_s
        ):
            pending = sum(1 for p in self._provisionals if p.set_index == self._open.index)
            held = self._n_held()
            return self._open.index, len(self._open.reps) + held + pending + 1
        pending = sum(1 for p in self._provisionals if p.set_index == len(self.sets) + 1)
        held = self._n_held()
        return len(self.sets) + 1, held + pending + 1

    def _n_held(self) -> int:
        """Reps decided but not yet emitted (pick-up and stand-up checks)."""
        partial = self._partial is not None and self._partial.rep is not None
        return (1 if self._held is not None else 0) + (1 if partial else 0)

    def add_provisional(self, set_index: int, rep_index: int, start_s: float, end_s: float) -> None:
        """Remember a provisional rep shown live, to confirm or retract it later."""
        self._provisionals.append(_Provisional(set_index, rep_index, start_s, end_s))

    def on_piece(self, piece: MotionPiece, at_s: float) -> list[PipelineEvent]:
        """Add a closed motion piece; returns the decisions it allows."""
        if len(piece.t_s) == 0:
            return []
        out: list[PipelineEvent] = []
        g0, g1 = self._s.append(piece)
        if g1 < g0:
            return out
        self._walk(g0, g1, at_s, out)
        if self._dir > 0 and not self._decided:
            p = self._s.p
            top = self._ext
            if piece.anchored and p[self._s.loc(g1)] >= p[self._s.loc(top)] - self.settings.turn_hysteresis_m:
                # The bar stopped at (or just under) the top of a rise: lockout or a stall.
                if self._decide(self._bottom, top, "still", at_s, out):
                    self._decided = True
                    self._stall_start_s = None
                elif self._stall_start_s is None:
                    self._stall_start_s = float(self._s.t[self._s.loc(g1)])
            elif not piece.anchored:
                # A break or the end of the stream: decide with what we have.
                if self._decide(self._bottom, top, "timeout", at_s, out):
                    pass
                self._decided = True
        self._retract_stale(float(piece.t_s[-1]), at_s, out)
        self._trim()
        return out

    def on_break(self, at_s: float) -> list[PipelineEvent]:
        """The stream broke: positions before and after are unrelated; restart the zigzag."""
        out: list[PipelineEvent] = []
        self._resolve_pending(at_s, out)
        self._settle_partial(False, None, at_s, out)  # positions after a break are unrelated
        self._dir = 0
        self._ext = self._ref_max = self._ref_min = -1
        self._bottom = self._top = -1
        self._decided = False
        self._stall_start_s = None
        self._s.trim(self._s.end)
        return out

    def on_tick(self, t_now_s: float, at_s: float) -> list[PipelineEvent]:
        """Time has advanced to ``t_now_s`` (input axis): end sets after a long enough rest."""
        out: list[PipelineEvent] = []
        gap = self.settings.set_gap_s
        if self._stall_start_s is not None and self._dir > 0 and not self._decided and t_now_s - self._stall_start_s >= gap:
            self._decide(self._bottom, self._ext, "timeout", at_s, out)
            self._decided = True
            self._stall_start_s = None
        if self._partial is not None and t_now_s - self._partial.metrics.end_s >= gap:
            self._settle_partial(True, self._lowest_since_top(), at_s, out)
        if self._held is not None and t_now_s - self._held.rep.end_s >= gap:
            self._release_held(at_s, out)
        stalled = self._stall_start_s is not None and not self._decided
        rested = self._last_activity_s is not None and t_now_s - self._last_activity_s >= gap
        if self._open is not None and rested and self._held is None and self._partial is None and not stalled:
            self._end_set(at_s, out)
        return out

    def finish(self, at_s: float) -> list[PipelineEvent]:
        """End of input: resolve whatever is pending and end the open set."""
        out: list[PipelineEvent] = []
        self._resolve_pending(at_s, out)
        self._settle_partial(True, self._lowest_since_top(), at_s, out)
        if self._held is not None:
            self._release_held(at_s, out)
        for p in list(self._provisionals):
            out.append(RepRetracted(at_s, p.set_index, p.rep_index, "not confirmed by the end of the input"))
        self._provisionals.clear()
        if self._open is not None:
            self._end_set(at_s, out)
        return out

    # ------------------------------------------------------------------ zigzag

    def _walk(self, g0: int, g1: int, at_s: float, out: list[PipelineEvent]) -> None:
        s = self._s
        p = s.p
        h = self.settings.turn_hysteresis_m
        i = g0
        if self._dir == 0 and self._ref_max < 0:
            self._ref_max = self._ref_min = g0
        while i <= g1:
            li, lend = s.loc(i), s.loc(g1) + 1
            seg = p[li:lend]
            if self._dir == 0:
                rmax = np.maximum.accumulate(np.concatenate(([p[s.loc(self._ref_max)]], seg)))[1:]
                rmin = np.minimum.accumulate(np.concatenate(([p[s.loc(self._ref_min)]], seg)))[1:]
                down = np.flatnonzero(seg <= rmax - h)
                up = np.flatnonzero(seg >= rmin + h)
                jd = int(down[0]) if down.size else None
                ju = int(up[0]) if up.size else None
                if jd is None and ju is None:
                    self._ref_max = self._argext(self._ref_max, i, g1, +1)
                    self._ref_min = self._argext(self._ref_min, i, g1, -1)
                    return
                if ju is None or (jd is not None and jd < ju):
                    self._top = self._argext(self._ref_max, i, i + jd, +1)
                    self._dir = -1
                    self._ext = self._argext(self._top, self._top, i + jd, -1)
                    i = i + jd + 1
                else:
                    self._bottom = self._argext(self._ref_min, i, i + ju, -1)
                    self._dir = +1
                    self._decided = False
                    self._ext = self._argext(self._bottom, self._bottom, i + ju, +1)
                    i = i + ju + 1
                continue
            ext_val = p[s.loc(self._ext)]
            if self._dir > 0:
                run = np.maximum.accumulate(np.concatenate(([ext_val], seg)))[1:]
                hit = np.flatnonzero(seg <= run - h)
                if not hit.size:
                    self._ext = self._argext(self._ext, i, g1, +1)
                    return
                j = i + int(hit[0])
                top = self._argext(self._ext, i, j, +1)
                if not self._decided:
                    self._decide(self._bottom, top, "descent", at_s, out)
                self._stall_start_s = None
                self._top = top
                self._dir = -1
                self._ext = self._argext(top, top, j, -1)
                i = j + 1
            else:
                run = np.minimum.accumulate(np.concatenate(([ext_val], seg)))[1:]
                hit = np.flatnonzero(seg >= run + h)
                if not hit.size:
                    self._ext = self._argext(self._ext, i, g1, -1)
                    return
                j = i + int(hit[0])
                bottom = self._argext(self._ext, i, j, -1)
                self._on_bottom(bottom, at_s, out)
                self._bottom = bottom
                self._dir = +1
                self._decided = False
                self._ext = self._argext(bottom, bottom, j, +1)
                i = j + 1

    def _argext(self, current: int, lo: int, hi: int, sign: int) -> int:
        """Global index of the max (sign +1) or min (-1) of ``current`` and samples ``lo..hi``."""
        s = self._s
        if hi < lo:
            return current
        seg = s.p[s.loc(lo) : s.loc(hi) + 1]
        j = int(np.argmax(seg)) if sign > 0 else int(np.argmin(seg))
        cand = lo + j
        cur_val = s.p[s.loc(current)]
        if (sign > 0 and seg[j] > cur_val) or (sign < 0 and seg[j] < cur_val):
            return cand
        return current

    # ------------------------------------------------------------------ decisions

    def _decide(self, ib: int, it: int, how: str, at_s: float, out: list[PipelineEvent]) -> bool:
        """Classify the rise from global ``ib`` to ``it``; True when it was decided."""
        s = self._s
        st = self.settings
        prof = self.profile
        lb, lt = s.loc(ib), s.loc(it)
        if lb < 0 or lt <= lb:
            return how != "still"
        t, v = s.t, s.v
        hi = min(lt + 2, len(t) - 1)
        ipk = lb + int(np.argmax(v[lb : lt + 1]))
        if v[ipk] <= 0:
            return how != "still"
        t_start, t_end = concentric_bounds(t, v, ipk, lb, hi)
        m = concentric_metrics(
            t, v, s.a, s.ae, t_start, t_end, gravity_mps2=st.local_gravity_mps2, load_kg=st.load_kg
        )
        # What is reported may be re-zeroed at an unanchored rest at lockout (`_rep_velocity`);
        # what is decided never is: the correction must not turn a rise into a failed attempt
        # or into nothing.
        report, v_report = m, v
        v_fix, rest_end = self._rep_velocity(ipk, lb, lt)
        if rest_end >= 0:
            # A negative residual puts the position's top before the rest: the end lies up to it.
            jpk = lb + int(np.argmax(v_fix[lb : lt + 1]))
            if v_fix[jpk] > 0:
                f0, f1 = concentric_bounds(t, v_fix, jpk, lb, max(hi, rest_end))
                report = concentric_metrics(
                    t, v_fix, s.a, s.ae, f0, f1, gravity_mps2=st.local_gravity_mps2, load_kg=st.load_kg
                )
                v_report = v_fix
        rom = m.rom_m
        depth = None
        if self._descent_before(ib, m.start_s):
            depth = float(s.p[s.loc(self._top)] - s.p[lb])
        median = self.median_rom()
        # The rise's own descent is the most direct reference; the set's median ROM only stands
        # in when that descent is unknown or too small to be a rep's. (A single oversized first
        # "rep" -- a row's pick-up, a rep doubled by a bridged gap -- would otherwise make
        # every later rep look like a failed attempt.)
        depth_ok = depth is not None and depth >= prof.min_rom_m
        ref = depth if depth_ok else (median or 0.0)
        back_at_top = depth_ok and rom >= (1.0 - st.lockout_tolerance_fraction) * depth
        geom_ok = (
            rom >= prof.min_rom_m
            and rom <= prof.max_rom_m
            and (median is None or rom >= st.rel_rom_fraction * median or back_at_top)
            and m.duration_s >= st.min_concentric_s
            and m.peak_velocity_mps >= st.min_peak_velocity_mps
        )
        at_lockout = depth is None or depth < prof.min_rom_m or rom >= (1.0 - st.lockout_tolerance_fraction) * depth
        # A row rise short of lockout, or short of the set's reps, may be the lifter standing up
        # before setting the bar down: the next bottom tells (module docstring).
        short = not at_lockout or (median is not None and rom < (1.0 - st.lockout_tolerance_fraction) * median)
        defer = prof.pick_up_first and short
        is_rep = geom_ok and (at_lockout or rom >= st.failed_max_fraction * ref)
        if how == "still":
            if geom_ok and at_lockout:
                self._settle_before(lb, at_s, out)
                if defer:
                    self._defer(ib, lb, report, v_report, None)
                else:
                    self._accept(ib, it, report, v_report, at_s, out)
                return True
            return False
        context = (depth is not None and depth >= prof.min_rom_m) or median is not None
        failed = context and rom >= st.failed_min_rise_m and rom < st.failed_max_fraction * max(ref, prof.min_rom_m)
        if is_rep or failed:
            self._settle_before(lb, at_s, out)
        if defer and how == "descent" and (is_rep or failed):
            self._defer(ib, lb, report, v_report, None if is_rep else m)
            return True
        if is_rep:
            self._accept(ib, it, report, v_report, at_s, out)
            return True
        if failed:
            self._fail(m, at_s, out)
        else:
            self._retract_overlapping(m.start_s, m.end_s, at_s, out, "not a rep (range of motion or speed too small)")
        return True

    def _settle_before(self, lb: int, at_s: float, out: list[PipelineEvent]) -> None:
        """A new rep or failed attempt: a held row rise was its set's last only if this one
        starts a new set."""
        if self._partial is not None:
            gap = float(self._s.t[lb]) - self._partial.metrics.end_s
            self._settle_partial(gap >= self.settings.set_gap_s, None, at_s, out)

    def _defer(self, ib: int, lb: int, m: ConcentricMetrics, v: np.ndarray, failed: ConcentricMetrics | None) -> None:
        """Hold a row rise for the stand-up check: a rep (``failed`` None) or a failed attempt."""
        bottom_p = float(self._s.p[lb])
        if failed is None:
            self._partial = _Partial(bottom_p, m, self._make_rep(ib, m, v))
        else:
            self._partial = _Partial(bottom_p, failed)

    def _descent_before(self, ib: int, start_s: float) -> bool:
        """Whether the descent from the previous top to bottom ``ib`` leads into this rise.

        A top more than `_DESCENT_MAX_AGE_S` before the concentric starts belongs to an earlier
        set or to handling between sets (the zigzag carries its state across rests); its
        "depth" says nothing about this rise.
        """
        s = self._s
        if not (s.base <= self._top < ib):
            return False
        return start_s - float(s.t[s.loc(self._top)]) <= _DESCENT_MAX_AGE_S

    def _accept(
        self, ib: int, it: int, m: ConcentricMetrics, v: np.ndarray, at_s: float, out: list[PipelineEvent]
    ) -> None:
        self._admit(self._make_rep(ib, m, v), float(self._s.p[self._s.loc(ib)]), m, at_s, out)

    def _admit(self, rep: RepResult, bottom_p: float, m: ConcentricMetrics, at_s: float, out: list[PipelineEvent]) -> None:
        """Emit a rep, or hold a row set's first rise for the pick-up check."""
        if self.profile.pick_up_first and self._starts_new_set(rep.start_s) and self._held is None:
            self._held = _Held(bottom_p, rep, m)
            return
        self._emit_rep(rep, at_s, out)

    def _rep_velocity(self, ipk: int, lb: int, lt: int) -> tuple[np.ndarray, int]:
        """The stream's velocity, re-zeroed at this rep's lockout if the bar rested there unanchored.

        A rest at lockout that the still detector did not anchor keeps the velocity's residual
        drift (`lockout_plateau`); zero velocity there is one more ZUPT, applied as the linear
        detrend does between anchors: a ramp from the piece's opening anchor to the plateau,
        and back to zero at its closing anchor. Only this rep's metrics use it; the stream
        (positions for segmentation) is left as it is. Returns the velocity and the last
        sample of the rest (-1 when there was nothing to correct).
        """
        s = self._s
        pid = int(s.piece[ipk])
        pa = int(np.searchsorted(s.piece, pid, side="left"))
        pz = int(np.searchsorted(s.piece, pid, side="right")) - 1
        # The rest must be at lockout height: within the lockout tolerance of the rise's top.
        p_min = float(s.p[lb] + (1.0 - self.settings.lockout_tolerance_fraction) * (s.p[lt] - s.p[lb]))
        found = lockout_plateau(s.t, s.v, s.a, s.p, ipk, pz, p_min)
        if found is None:
            return s.v, -1
        first, last, level = found
        piece = s.pieces.get(pid)
        t_a = float(piece.t_s[0]) if piece is not None and len(piece.t_s) else float(s.t[pa])
        t_c = 0.5 * float(s.t[first] + s.t[last])
        t_z = float(s.t[pz])
        tt = s.t[pa : pz + 1]
        ramp = np.full(len(tt), level)
        rise = tt < t_c
        ramp[rise] = level * (tt[rise] - t_a) / max(t_c - t_a, 1e-9)
        if piece is None or piece.anchored:
            fall = tt > t_c
            ramp[fall] = level * (t_z - tt[fall]) / max(t_z - t_c, 1e-9)
        v = s.v.copy()
        v[pa : pz + 1] -= ramp
        return v, last

    def _make_rep(self, ib: int, m: ConcentricMetrics, v: np.ndarray) -> RepResult:
        s = self._s
        ecc = None
        if self._descent_before(ib, m.start_s):
            # The descent is the negative-velocity phase between the previous top and this
            # bottom, bounded like a concentric (a bottom pause is not part of it).
            lt, lb = s.loc(self._top), s.loc(ib)
            if lb - lt >= 2:
                neg = -s.v[lt : lb + 1]
                k = lt + int(np.argmax(neg))
                if s.v[k] < 0:
                    d0, d1 = concentric_bounds(s.t, -s.v, k, lt, lb)
                    ecc = max(0.0, d1 - d0)
        inside = (s.t >= m.start_s) & (s.t <= m.end_s)
        pieces = np.unique(s.piece[inside]) if inside.any() else np.unique(s.piece[s.loc(ib) : s.loc(ib) + 1])
        meta = [s.pieces[int(k)] for k in pieces if int(k) in s.pieces]
        q_in = QualityInputs(
            filled_share=float(s.filled[inside].mean()) if inside.any() else 0.0,
            clipped=bool(s.clipped[inside].any()),
            anchored=all(mp.anchored for mp in meta),
            drift_mps=max((abs(mp.drift_mps) for mp in meta), default=0.0),
            segment_s=max((mp.segment_s for mp in meta), default=0.0),
            anchor_before_s=meta[0].anchor_before_s if meta else 1.0,
            rate_hz=_rate_of(s.t[inside]) if inside.sum() > 2 else 100.0,
        )
        quality, reasons = rep_quality(q_in)
        return RepResult(
            index=0,
            start_s=m.start_s,
            end_s=m.end_s,
            mean_velocity_mps=m.mean_velocity_mps,
            mean_propulsive_velocity_mps=m.mean_propulsive_velocity_mps,
            peak_velocity_mps=m.peak_velocity_mps,
            rom_m=m.rom_m,
            duration_s=m.duration_s,
            time_to_peak_s=m.peak_time_s - m.start_s,
            mean_power_w=m.mean_power_w,
            quality=quality,
            quality_reasons=reasons,
            eccentric_duration_s=ecc,
            t_s=s.t[inside].copy(),
            velocity_mps=v[inside].copy(),
        )

    def _starts_new_set(self, start_s: float) -> bool:
        return self._open is None or (
            self._last_activity_s is not None and start_s - self._last_activity_s >= self.settings.set_gap_s
        )

    def _ensure_set(self, start_s: float, at_s: float, out: list[PipelineEvent]) -> SetResult:
        if self._open is not None and self._starts_new_set(start_s):
            self._end_set(at_s, out)
        if self._open is None:
            st = SetResult(index=len(self.sets) + 1, start_s=start_s, end_s=start_s)
            self.sets.append(st)
            self._open = st
            self._roms = []
            out.append(SetStarted(at_s, st.index, start_s))
        return self._open

    def _emit_rep(self, rep: RepResult, at_s: float, out: list[PipelineEvent]) -> None:
        set_start = rep.start_s - (rep.eccentric_duration_s or 0.0)
        st = self._ensure_set(set_start, at_s, out)
        rep.index = len(st.reps) + 1
        st.reps.append(rep)
        st.end_s = max(st.end_s, rep.end_s)
        if rep.quality >= _ROM_REF_MIN_QUALITY:
            self._roms.append(rep.rom_m)
        self._last_activity_s = rep.end_s
        self._take_provisional(rep.start_s, rep.end_s)
        out.append(RepFinal(at_s, st.index, rep, st))

    def _fail(self, m: ConcentricMetrics, at_s: float, out: list[PipelineEvent]) -> None:
        st = self._ensure_set(m.start_s, at_s, out)
        attempt = FailedAttempt(m.start_s, m.end_s, m.rom_m)
        st.failed_attempts.append(attempt)
        st.end_s = max(st.end_s, m.end_s)
        self._last_activity_s = m.end_s
        self._retract_overlapping(m.start_s, m.end_s, at_s, out, "failed attempt")
        out.append(FailedAttemptEvent(at_s, st.index, attempt, st))

    def _lowest_since_top(self) -> float | None:
        """Lowest position of the descent in progress (None when not descending)."""
        s = self._s
        if self._dir < 0 and self._ext >= s.base:
            return float(s.p[s.loc(self._ext)])
        return None

    def _settle_partial(self, last: bool, lowest_p: float | None, at_s: float, out: list[PipelineEvent]) -> None:
        """Decide a row rise held for the stand-up check.

        ``last``: the set ended after it (no further rise within `set_gap_s`); ``lowest_p``:
        the lowest position since, if not yet known from a bottom. Standing up is the last
        rise of a set, followed by a descent clearly below where it began (to the floor);
        anything else is what the rules made of it: a rep or a failed attempt.
        """
        part, self._partial = self._partial, None
        if part is None:
            return
        below = part.below or (lowest_p is not None and lowest_p < part.bottom_p - _PICK_UP_RISE_M)
        m = part.metrics
        if last and below:
            self._retract_overlapping(m.start_s, m.end_s, at_s, out, "standing up to set the bar down")
        elif part.rep is not None:
            self._admit(part.rep, part.bottom_p, m, at_s, out)
        else:
            self._fail(m, at_s, out)

    def _on_bottom(self, bottom: int, at_s: float, out: list[PipelineEvent]) -> None:
        """A bottom was confirmed: settle a held stand-up or pick-up candidate."""
        part = self._partial
        if part is not None and not part.below:
            if float(self._s.p[self._s.loc(bottom)]) < part.bottom_p - _PICK_UP_RISE_M:
                part.below = True  # wait: standing up if nothing follows before the set ends
            else:
                self._settle_partial(False, None, at_s, out)
        if self._held is None:
            return
        rise = float(self._s.p[self._s.loc(bottom)]) - self._held.bottom_p
        if rise >= _PICK_UP_RISE_M:
            held, self._held = self._held, None
            self._retract_overlapping(held.rep.start_s, held.rep.end_s, at_s, out, "pick-up from the floor")
        else:
            self._release_held(at_s, out)

    def _release_held(self, at_s: float, out: list[PipelineEvent]) -> None:
        held, self._held = self._held, None
        if held is not None:
            self._emit_rep(held.rep, at_s, out)

    def _resolve_pending(self, at_s: float, out: list[PipelineEvent]) -> None:
        if self._dir > 0 and not self._decided and self._bottom >= self._s.base:
            self._decide(self._bottom, self._ext, "timeout", at_s, out)
            self._decided = True
        self._stall_start_s = None

    def _end_set(self, at_s: float, out: list[PipelineEvent]) -> None:
        st, self._open = self._open, None
        self._roms = []
        if st is not None:
            out.append(SetEnded(at_s, st.index, st))

    # ------------------------------------------------------------------ provisionals, memory

    def _take_provisional(self, start_s: float, end_s: float) -> None:
        self._provisionals = [p for p in self._provisionals if not _overlap(p, start_s, end_s)]

    def _retract_overlapping(self, start_s: float, end_s: float, at_s: float, out: list[PipelineEvent], why: str) -> None:
        keep = []
        for p in self._provisionals:
            if _overlap(p, start_s, end_s):
                out.append(RepRetracted(at_s, p.set_index, p.rep_index, why))
            else:
                keep.append(p)
        self._provisionals = keep

    def _retract_stale(self, final_until_s: float, at_s: float, out: list[PipelineEvent]) -> None:
        """Provisionals the final stream has passed without a rise of its own are retracted."""
        s = self._s
        live_from = None
        if self._dir > 0 and not self._decided and self._bottom >= s.base:
            live_from = float(s.t[s.loc(self._bottom)])
        keep = []
        for p in self._provisionals:
            covered = p.end_s < final_until_s - 0.3
            if self._held is not None and _overlap(p, self._held.rep.start_s, self._held.rep.end_s):
                covered = False
            if self._partial is not None and _overlap(p, self._partial.metrics.start_s, self._partial.metrics.end_s):
                covered = False
            if live_from is not None and p.end_s >= live_from:
                covered = False
            if covered:
                out.append(RepRetracted(at_s, p.set_index, p.rep_index, "not confirmed as a rep"))
            else:
                keep.append(p)
        self._provisionals = keep

    def _trim(self) -> None:
        """Drop history the segmenter can no longer need (bounded memory in long sessions)."""
        s = self._s
        need = [s.end - 1]
        # The zigzag's starting references only matter until it finds its first direction
        # (kept after that, they pinned every sample since the stream began: memory grew with
        # every set of a session).
        refs = (self._ref_max, self._ref_min) if self._dir == 0 else ()
        for g in (self._top, self._bottom, self._ext, *refs):
            if g >= s.base:
                need.append(g)
        s.trim(max(s.base, min(need) - _KEEP_MARGIN))


def _rate_of(t: np.ndarray) -> float:
    """Sample rate of a run of samples (median spacing)."""
    d = np.diff(t)
    d = d[d > 0]
    return 1.0 / float(np.median(d)) if d.size else 100.0


def _overlap(p: _Provisional, start_s: float, end_s: float) -> bool:
    return p.start_s < end_s + 0.25 and p.end_s > start_s - 0.25


__all__ = ["MotionPiece", "RepFinder"]
