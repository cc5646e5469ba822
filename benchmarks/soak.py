"""Soak: a simulated two-hour training session on three racks at once, with faults, through the live path.

Three sensors -- a Movesense (timestamps, gyro) on the squat rack, a Polar H10 (timestamps, no
gyro) on the bench and a WitMotion (no clock) on the deadlift platform -- each stream two hours of
sets and rests from the simulator (`vbt.sim`: athlete, bar, sensor errors, a Bluetooth link that
batches and jitters notifications, and reconnect gaps mid-rep and mid-rest). On top, every
rack's notifications are hit by random faults: bursty loss (3, 6 and 10 %), duplicates,
reordering, truncation and corrupted bytes, and each sensor clock runs off the host's by up to 1 %.

The three streams run concurrently through the live path -- `vbt.sources.simulated.SimulatedSource`
paced on one shared `vbt.clock.FakeClock` (simulated time: as fast as the CPU allows) into three
`vbt.session.Session` s (decoder, streaming pipeline, fatigue tracker) -- and every 10 minutes of
session time the benchmark prints:

* samples **in** (measured by the sensors), **out** (decoded and handed to the pipeline), **lost**
  (in - out), how many of those the **faults removed** (lost notifications and link gaps for
  sure; truncated, corrupted and reordered ones at most), and **lost beyond faults** (must be 0).
  Samples count when they reach the host (those measured during a link gap at their own time),
  so every column of a line is on the same clock. A clockless sensor's duplicated notifications
  cannot be told from new data and count as out: they hide as many lost samples;
* **reps** found (final) against the truth that ended by then, all racks together;
* memory: the process's resident memory now and its peak so far (RSS, VmHWM) and, with
  ``--tracemalloc`` (about 5x slower), Python's traced heap now and its peak over the last 10
  minutes (tracing starts after the session was simulated). It must stay flat.

At the end: per rack, reps matched to the truth (recall, false reps, mean |MCV error|), fault
counts, the checks, and exit status 1 if a check failed.

Usage::

    python benchmarks/soak.py                 # two hours of session time (about 5 min on one core)
    python benchmarks/soak.py --quick         # 20 minutes
    python benchmarks/soak.py --tracemalloc   # also trace the Python heap (about 5x slower)
    python benchmarks/soak.py --control       # the same sets with no faults: what the faults cost
    python benchmarks/soak.py --without corrupt --without loss   # what one kind of fault costs
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import math
import sys
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from firmware_protocols import get_protocol  # noqa: E402
from vbt.clock import FakeClock  # noqa: E402
from vbt.pipeline.events import RepFinal, RepRetracted  # noqa: E402
from vbt.session import Session  # noqa: E402
from vbt.sim import Athlete, Scenario, SimResult, simulate  # noqa: E402
from vbt.sim.link import LinkSpec  # noqa: E402
from vbt.sim.scenario import random_set  # noqa: E402
from vbt.sources import LINK_RECONNECTED, LinkEvent, RawPacket  # noqa: E402
from vbt.sources.simulated import SimulatedSource  # noqa: E402

MARK_S = 600.0  # a report line every 10 minutes of session time
#: How long after its lockout a rep must have been confirmed (the pipeline needs ~0.4 s) [D].
CONFIRM_S = 3.0


@dataclass(frozen=True)
class Rack:
    """One rack: sensor, lift and what goes wrong (rates are per notification)."""

    name: str
    sensor: str
    rate_hz: float
    exercise: str
    clock_drift: float  # fractional sample-clock error (+ = runs slow)
    drop: float  # long-run share of notifications lost
    burst: float  # mean length of a loss burst (notifications)
    duplicate: float = 0.005
    reorder: float = 0.005
    truncate: float = 0.003
    corrupt: float = 0.003
    gaps_per_hour: float = 3.0  # reconnect gaps of 2-10 s (link lost mid-rep or mid-rest)
    connection_interval_s: float = 0.03


#: ``--without`` names -> the `Rack` field that switches that fault off.
FAULT_FIELDS = {"clock": "clock_drift", "loss": "drop", "duplicate": "duplicate", "reorder": "reorder",
                "truncate": "truncate", "corrupt": "corrupt", "gaps": "gaps_per_hour"}

RACKS = (
    Rack("squat rack", "movesense", 104.0, "squat", clock_drift=-0.008, drop=0.03, burst=2.0),
    Rack("bench", "polar_h10", 100.0, "bench", clock_drift=0.01, drop=0.06, burst=3.0, connection_interval_s=0.045),
    Rack("platform", "witmotion", 50.0, "deadlift", clock_drift=0.01, drop=0.10, burst=2.0,
         connection_interval_s=0.015),
)


# --------------------------------------------------------------------------- the session of one rack


@dataclass
class Plan:
    """A rack's simulated session, its faulted stream and the accounting of every sample."""

    rack: Rack
    sim: SimResult
    items: list[tuple[float, object]]  # what the host receives, in arrival order
    sample_true_s: np.ndarray  # true time of every sample the sensor measured
    #: Every notification the sensor sent (before the faults): arrival time and samples carried.
    packet_arrival_s: np.ndarray = field(default_factory=lambda: np.empty(0))
    packet_samples: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    removed_sure: list[tuple[float, int]] = field(default_factory=list)  # (time, samples) lost notifications / gaps
    removed_maybe: list[tuple[float, int]] = field(default_factory=list)  # truncated, corrupted, reordered
    duplicated: list[tuple[float, int]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    gaps: tuple[tuple[float, float], ...] = ()


def _gilbert(rng: np.random.Generator, n: int, rate: float, burst: float) -> np.ndarray:
    """Bursty losses (two-state Gilbert channel): long-run ``rate``, mean run ``burst``."""
    if rate <= 0:
        return np.zeros(n, bool)
    leave = 1.0 / burst
    enter = rate * leave / (1.0 - rate)
    lost = np.zeros(n, bool)
    state = False
    u = rng.random(n)
    for i in range(n):
        state = (u[i] >= leave) if state else (u[i] < enter)
        lost[i] = state
    return lost


def plan_rack(rack: Rack, index: int, duration_s: float, seed: int) -> Plan:
    """Simulate the rack's session and apply its faults to the notifications."""
    rng = np.random.default_rng([seed, index])
    athlete = Athlete.random(int(rng.integers(2**31)))
    n_sets = int(math.ceil(duration_s / 180.0)) + 1  # ~1 min sets, 2-4 min rests: more than enough
    sets = [random_set(rng, rack.exercise, rest_before_s=3.0 if i == 0 else None) for i in range(n_sets)]
    # The sensor with this rack's clock error: draw it as the simulator would, then set the drift.
    probe = simulate(Scenario(athlete, sets[:1], rate_hz=rack.rate_hz, sensor=rack.sensor, faults="typical",
                              lead_in_s=1.0, tail_s=1.0), seed=seed + index)
    spec = dataclasses.replace(probe.sensor_spec, clock_drift=rack.clock_drift)
    n_gaps = rng.poisson(rack.gaps_per_hour * duration_s / 3600.0)
    gaps = tuple(sorted((float(rng.uniform(60.0, duration_s - 60.0)), float(rng.uniform(2.0, 10.0)))
                        for _ in range(n_gaps)))
    link = LinkSpec(connection_interval_s=rack.connection_interval_s, max_per_event=8, latency_s=0.006,
                    jitter_s=0.002, stall_rate_per_min=0.5, gaps=gaps, supervision_timeout_s=1.0)
    sim = simulate(Scenario(athlete, sets, rate_hz=rack.rate_hz, sensor=rack.sensor, faults="typical",
                            sensor_spec=spec, link=link), seed=seed + index)
    assert sim.packets is not None

    # Samples per notification, as the host decoder sees them (reset at every reconnect).
    protocol = get_protocol(rack.sensor)
    decoder = protocol.decoder(sim.stream_config)
    per_packet = []
    reconnects = sorted(e.host_time_s for e in sim.link_events if e.kind == LINK_RECONNECTED)
    r = 0
    for t, uuid, payload in sim.packets:
        while r < len(reconnects) and reconnects[r] <= t:
            decoder.reset()
            r += 1
        per_packet.append(sum(len(b) for b in decoder.feed(uuid, payload, t)))
    true_t = np.asarray(sim.sensor_true_times())
    sent = sum(per_packet)
    gap_mask = np.zeros(len(true_t), bool)
    for g0, d in gaps:  # the sensor streams nothing while the link is down
        gap_mask |= (true_t >= g0) & (true_t < g0 + d)
    n_gap_samples = int(gap_mask.sum())

    plan = Plan(rack, sim, [], true_t, gaps=gaps,
                packet_arrival_s=np.array([t for t, _, _ in sim.packets]),
                packet_samples=np.array(per_packet, dtype=np.int64))
    plan.removed_sure += [(float(t), 1) for t in true_t[gap_mask]]
    # A notification still queued when the link died is lost with it (its samples are just
    # before the gap): count those with the gap too.
    edge = len(true_t) - n_gap_samples - sent
    assert edge >= 0, (len(true_t), n_gap_samples, sent)  # never more sent than measured
    if edge:
        plan.removed_sure.append((float(gaps[0][0]), edge))
    frng = np.random.default_rng([seed, index, 1])
    lost = _gilbert(frng, len(sim.packets), rack.drop, rack.burst)
    counts = dict.fromkeys(("lost", "duplicated", "reordered", "truncated", "corrupted"), 0)
    out: list[tuple[float, object]] = [(e.host_time_s, e) for e in sim.link_events]
    held: tuple[float, RawPacket, int] | None = None  # a notification delayed behind the next one
    for k, (t, uuid, payload) in enumerate(sim.packets):
        n = per_packet[k]
        if lost[k]:
            counts["lost"] += 1
            plan.removed_sure.append((t, n))
            continue
        u = frng.random(4)
        if u[0] < rack.truncate and len(payload) > 1:
            payload = payload[: int(frng.integers(1, len(payload)))]
            counts["truncated"] += 1
            plan.removed_maybe.append((t, n))
        elif u[1] < rack.corrupt:
            data = bytearray(payload)
            for _ in range(max(1, len(data) // 8)):
                data[int(frng.integers(len(data)))] = int(frng.integers(256))
            payload = bytes(data)
            counts["corrupted"] += 1
            plan.removed_maybe.append((t, n))
        packet = RawPacket(t, uuid, payload)
        if held is not None:  # the delayed one arrives right after this one
            out.append((t, packet))
            out.append((t, dataclasses.replace(held[1], host_time_s=t)))
            held = None
            continue
        if u[2] < rack.reorder:
            held = (t, packet, n)
            counts["reordered"] += 1
            plan.removed_maybe.append((t, n))  # clocked decoders reject a late notification
            continue
        out.append((t, packet))
        if u[3] < rack.duplicate:
            out.append((t, packet))
            counts["duplicated"] += 1
            plan.duplicated.append((t, n))
    if held is not None:
        out.append(held[:2])
    out.sort(key=lambda x: (x[0], 0 if isinstance(x[1], LinkEvent) else 1))  # stable: keeps swaps
    plan.removed_sure.sort()
    plan.items = out
    plan.counts = counts
    return plan


class PlannedSource(SimulatedSource):
    """`SimulatedSource` pacing a prepared (faulted) item list instead of the simulation's own."""

    def __init__(self, plan: Plan, clock: FakeClock) -> None:
        super().__init__(plan.sim, speed=1.0, clock=clock)
        self._items = plan.items

    def items(self) -> list[tuple[float, object]]:
        return self._items


class CountingSession(Session):
    """A `Session` that counts the samples its pipeline receives and keeps the final reps."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.samples_out = 0
        self.final: dict[tuple[int, int], object] = {}

    def start(self, header) -> None:  # noqa: ANN001
        super().start(header)
        feed = self.pipeline.feed

        def counted(batch):  # noqa: ANN001, ANN202
            self.samples_out += len(batch)
            return feed(batch)

        self.pipeline.feed = counted  # type: ignore[method-assign]
        self.add_listener(self._on_event)

    def _on_event(self, event) -> None:  # noqa: ANN001
        if isinstance(event, RepFinal) and event.rep is not None:
            self.final[(event.set_index, event.rep.index)] = event.rep
        elif isinstance(event, RepRetracted):
            self.final.pop((event.set_index, event.rep_index), None)


# --------------------------------------------------------------------------- reporting


def _samples_in(plan: Plan, t: float) -> int:
    """Samples measured by ``t``, counted as the host would have received them (in flight: not yet).

    Samples in sent notifications count at the notification's arrival time; samples the sensor
    measured while the link was down count at their own time (they never arrive). So every
    column of a report line is counted on the same clock.
    """
    sent = int(plan.packet_samples[: int(np.searchsorted(plan.packet_arrival_s, t, side="right"))].sum())
    in_gaps = sum(n for x, n in plan.removed_sure if x <= t and any(g0 <= x < g0 + d for g0, d in plan.gaps))
    return sent + in_gaps


def _sum_until(pairs: list[tuple[float, int]], t: float) -> int:
    """Samples in ``(time, samples)`` pairs (in time order) up to ``t``."""
    if not pairs:
        return 0
    times = np.fromiter((x for x, _ in pairs), float, len(pairs))
    counts = np.fromiter((n for _, n in pairs), np.int64, len(pairs))
    return int(counts[: int(np.searchsorted(times, t, side="right"))].sum())


def _rss_mb() -> tuple[float, float]:
    """Resident memory now and its peak so far (MB)."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kB on Linux
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0, peak
    except OSError:
        pass
    return peak, peak


def _truth_reps(plan: Plan, until_s: float) -> list:
    return [r for r in plan.sim.labels.reps if r.concentric_end_s + CONFIRM_S <= until_s]


def _in_gap(rep, gaps) -> bool:  # noqa: ANN001
    return any(rep.concentric_start_s < g0 + d and rep.concentric_end_s > g0 for g0, d in gaps)


def _match(found: list, truth: list) -> list[tuple[object, object]]:
    """Greedy one-to-one matching of found reps to true reps by concentric overlap."""
    pairs, used = [], set()
    for rep in sorted(found, key=lambda r: r.start_s):
        best, best_overlap = None, 0.0
        for j, true in enumerate(truth):
            if j in used:
                continue
            overlap = min(rep.end_s, true.concentric_end_s) - max(rep.start_s, true.concentric_start_s)
            if overlap > best_overlap:
                best, best_overlap = j, overlap
        if best is not None:
            used.add(best)
            pairs.append((rep, truth[best]))
    return pairs


@dataclass
class Row:
    minute: int
    s_in: int
    s_out: int
    removed_sure: int
    removed_maybe: int
    duplicated: int
    reps_found: int
    reps_truth: int
    traced_mb: float
    peak_mb: float
    rss_mb: float
    rss_peak_mb: float
    beyond_per_rack: list[int] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return self.s_in - self.s_out

    @property
    def beyond(self) -> int:
        """Samples lost beyond what the faults removed, per rack (one rack's extras hide nothing)."""
        return sum(self.beyond_per_rack)


HEADER = (f"{'time':>5} {'samples in':>11} {'out':>10} {'lost':>8} {'by faults':>17} {'beyond':>7} {'dup':>6} "
          f"{'reps found/truth':>17} {'RSS MB':>7} {'peak':>5} {'heap MB':>8} {'peak':>6}")


def _print_row(row: Row) -> None:
    faults = f"{row.removed_sure}+<={row.removed_maybe}"
    heap = f"{row.traced_mb:8.2f} {row.peak_mb:6.2f}" if row.traced_mb or row.peak_mb else f"{'-':>8} {'-':>6}"
    print(f"{row.minute:4d}' {row.s_in:11d} {row.s_out:10d} {row.lost:8d} {faults:>17} {row.beyond:7d} {row.duplicated:6d} "
          f"{row.reps_found:8d}/{row.reps_truth:<8d} {row.rss_mb:7.0f} {row.rss_peak_mb:5.0f} {heap}", flush=True)


async def run_soak(plans: list[Plan], duration_s: float, traced: bool) -> tuple[list[Row], list[CountingSession]]:
    clock = FakeClock()
    sessions = [CountingSession(PlannedSource(p, clock)) for p in plans]
    rows: list[Row] = []

    async def reporter() -> None:
        start = clock.monotonic()
        mark = MARK_S
        while mark <= duration_s + 1e-6:
            await clock.sleep_until(start + mark)
            now = mark
            if traced:
                current, peak = tracemalloc.get_traced_memory()
                tracemalloc.reset_peak()
            else:
                current = peak = 0
            beyond = [max(0, _samples_in(p, now) - s.samples_out - _sum_until(p.removed_sure, now)
                          - _sum_until(p.removed_maybe, now)) for p, s in zip(plans, sessions, strict=True)]
            rows.append(Row(
                beyond_per_rack=beyond,
                minute=int(round(now / 60)),
                s_in=sum(_samples_in(p, now) for p in plans),
                s_out=sum(s.samples_out for s in sessions),
                removed_sure=sum(_sum_until(p.removed_sure, now) for p in plans),
                removed_maybe=sum(_sum_until(p.removed_maybe, now) for p in plans),
                duplicated=sum(_sum_until(p.duplicated, now) for p in plans),
                reps_found=sum(len(s.final) for s in sessions),
                reps_truth=sum(len(_truth_reps(p, now)) for p in plans),
                traced_mb=current / 1e6, peak_mb=peak / 1e6, rss_mb=_rss_mb()[0], rss_peak_mb=_rss_mb()[1],
            ))
            _print_row(rows[-1])
            mark += MARK_S
        for s in sessions:  # the session is over: everybody stops (their streams end here anyway)
            s.stop()

    print(HEADER, flush=True)
    await asyncio.gather(reporter(), *(s.run() for s in sessions))
    return rows, sessions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=float, default=2.0, help="session length (default 2)")
    parser.add_argument("--quick", action="store_true", help="20 minutes instead")
    parser.add_argument("--seed", type=int, default=1, help="seed of athletes, sets and faults (default 1)")
    parser.add_argument("--tracemalloc", action="store_true", help="also trace the Python heap (about 5x slower)")
    parser.add_argument("--control", action="store_true",
                        help="the same sessions without faults (no loss, damage, gaps or clock error)")
    parser.add_argument("--without", action="append", default=[], choices=sorted(FAULT_FIELDS),
                        help="leave out one kind of fault (repeatable): what it costs")
    args = parser.parse_args(argv)
    duration_s = 1200.0 if args.quick else args.hours * 3600.0
    off = set(FAULT_FIELDS) if args.control else set(args.without)
    racks = tuple(dataclasses.replace(r, **{FAULT_FIELDS[name]: 0.0 for name in off}) for r in RACKS)

    t0 = time.perf_counter()
    plans = [plan_rack(rack, i, duration_s, args.seed) for i, rack in enumerate(racks)]
    for p in plans:  # stream only the session's length
        p.items = [it for it in p.items if it[0] <= duration_s]
    t_sim = time.perf_counter() - t0
    without = "all faults" if args.control else ", ".join(sorted(off))
    print(f"soak: {duration_s / 3600:.2f} h, {len(plans)} racks at once, seed {args.seed}"
          + (f", without {without}" if off else "") + f"; simulated in {t_sim:.0f} s")
    for p in plans:
        r = p.rack
        print(f"  {r.name:10s} {r.sensor:10s} {r.rate_hz:g} Hz {r.exercise:8s} clock {100 * r.clock_drift:+.1f} %, "
              f"{len(p.sim.labels.sets)} sets, loss {100 * r.drop:g} % (bursts of {r.burst:g}), "
              f"{len(p.gaps)} link gaps ({', '.join(f'{d:.0f} s' for _, d in p.gaps)}), "
              + ", ".join(f"{v} {k}" for k, v in p.counts.items()))
    if args.tracemalloc:
        tracemalloc.start()
    t1 = time.perf_counter()
    rows, sessions = asyncio.run(run_soak(plans, duration_s, args.tracemalloc))
    t_run = time.perf_counter() - t1
    if args.tracemalloc:
        tracemalloc.stop()

    print()
    ok = True
    for p, s in zip(plans, sessions, strict=True):
        result = s.result()
        truth = _truth_reps(p, duration_s)
        measurable = [t for t in truth if not _in_gap(t, p.gaps)]
        found = [r for r in result.reps if r.end_s <= duration_s]
        pairs = _match(found, truth)
        err = [abs(rep.mean_velocity_mps - true.sensor_mean_velocity_mps) for rep, true in pairs]
        trusted = [e for (rep, _), e in zip(pairs, err, strict=True) if rep.quality >= 0.5]
        in_gap_found = sum(1 for _, true in pairs if _in_gap(true, p.gaps))
        print(f"{p.rack.name:10s} reps found {len(found)} of {len(truth)} ({len(truth) - len(measurable)} inside link "
              f"gaps, {in_gap_found} of those found): matched {len(pairs)}, false {len(found) - len(pairs)}, "
              f"missed {len(measurable) - (len(pairs) - in_gap_found)} of {len(measurable)} measurable; "
              f"|MCV error| mean {np.mean(err) if err else float('nan'):.3f} m/s "
              f"({len(trusted)} reps of quality >= 0.5: {np.mean(trusted) if trusted else float('nan'):.3f}); "
              f"{len(result.warnings)} warnings")
    last = rows[-1]
    first_flat = next((r for r in rows if r.minute >= 20), rows[0])
    growth = last.traced_mb - first_flat.traced_mb
    rss_growth = last.rss_mb - first_flat.rss_mb
    print()
    print(f"{sum(len(p.items) for p in plans)} notifications and events, {last.s_in} samples in, {last.s_out} out, "
          f"{last.lost} lost: {last.removed_sure} removed by lost notifications and link gaps, up to "
          f"{last.removed_maybe} by truncated/corrupted/reordered ones; {last.beyond} lost beyond the faults "
          f"({last.duplicated} samples in duplicated notifications)")
    heap = (f"; traced heap {first_flat.traced_mb:.2f} MB at {first_flat.minute}' -> {last.traced_mb:.2f} MB at "
            f"{last.minute}' ({growth:+.2f} MB)") if args.tracemalloc else ""
    print(f"run: {t_run:.0f} s for {duration_s / 3600:.2f} h of {len(plans)} racks ({duration_s * len(plans) / t_run:.0f}x "
          f"real time per rack); RSS {first_flat.rss_mb:.0f} MB at {first_flat.minute}' -> {last.rss_mb:.0f} MB at "
          f"{last.minute}' ({rss_growth:+.0f} MB), peak {last.rss_peak_mb:.0f} MB{heap}")
    if last.beyond:
        ok = False
        racks_hit = ", ".join(f"{p.rack.name} {n}" for p, n in zip(plans, last.beyond_per_rack, strict=True) if n)
        print(f"CHECK FAILED: {last.beyond} samples lost beyond what the faults removed ({racks_hit})")
    if len(rows) >= 3 and rss_growth > 20.0:
        ok = False
        print(f"CHECK FAILED: resident memory grew by {rss_growth:.0f} MB from minute {first_flat.minute} to {last.minute}")
    if args.tracemalloc and len(rows) >= 3 and growth > 1.0:
        ok = False
        print(f"CHECK FAILED: the traced heap grew by {growth:.2f} MB from minute {first_flat.minute} to {last.minute}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
