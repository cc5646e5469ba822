"""The Bluetooth LE link: packetisation, connection-event batching, host jitter, drops, gaps.

A sensor queues a notification as soon as its last sample exists (encoders report
``last_sample_index``). The link layer sends queued notifications at the next *connection
event* (every connection interval, at most ``max_per_event`` per event); the host's Bluetooth
stack and OS deliver them with a fixed latency plus jitter, and several notifications from one
event arrive together. Some notifications never arrive (bursty loss: a two-state
Gilbert-Elliott channel), the host sometimes stalls and then delivers a backlog, and the link
may drop for seconds and reconnect (a *gap*: the host notices after the supervision timeout).

Times: the host clock *is* the true time axis of the simulation. Host arrival time = true
time the notification was queued + connection-event wait + latency + jitter (+ stall).

Parameter table (science.md §6.2 [V]; [D] design assumption)
------------------------------------------------------------
===========================  =======================================  =========================================
Parameter                    Value                                    Source / reasoning
===========================  =======================================  =========================================
Connection interval          7.5-50 ms (1.25 ms steps); 15-30 ms      BLE 7.5 ms-4 s (TI SWRU271) [V]; iOS
                             typical                                  minimum 15 ms [V]
Notifications per event      enough for the stream x 1.5, >= 4        controllers send several per event [D]
Host latency                 2-15 ms fixed                            BlueZ/WinRT/CoreBluetooth stack [D]
Host jitter                  exponential, mean 0.3-3 ms; harsh 5 ms   OS scheduling [D]; "jitter up to one
                                                                      interval" is the event wait (§6.2)
Dropped notifications        0-3 % typical, 2-10 % harsh, bursts of   brief: 0-10 % bursty [D]
                             mean 1-8 notifications
Host stalls                  0.5/min typical, 3/min harsh, 30-150 ms  GC / OS pauses deliver backlogs [D]
Reconnect gaps               15 % of sessions one 2-8 s gap           RF dropouts; supervision timeout 100
                             (typical); harsh every ~3 min, 2-15 s    ms-32 s (§6.2) [V]; 0.5-4 s used [D]
===========================  =======================================  =========================================
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class LinkSpec:
    """A realised link (fixed for a session).

    Attributes:
        connection_interval_s: BLE connection interval.
        max_per_event: Notifications the link can carry per connection event.
        latency_s: Fixed host-stack latency after the connection event.
        jitter_s: Mean of the exponential per-event host jitter.
        drop_rate: Long-run share of notifications lost.
        drop_burst: Mean length of a loss burst (notifications).
        stall_rate_per_min: Host stalls per minute.
        stall_s: (min, max) stall duration.
        gaps: Reconnect gaps as (true start time, duration) in seconds.
        supervision_timeout_s: How long after the link dies the host reports the disconnection.
        samples_per_notification: Samples packed per notification in samples mode.
    """

    connection_interval_s: float = 0.015
    max_per_event: int = 6
    latency_s: float = 0.005
    jitter_s: float = 0.0
    drop_rate: float = 0.0
    drop_burst: float = 1.0
    stall_rate_per_min: float = 0.0
    stall_s: tuple[float, float] = (0.03, 0.15)
    gaps: tuple[tuple[float, float], ...] = ()
    supervision_timeout_s: float = 2.0
    samples_per_notification: int = 1

    @classmethod
    def ideal(cls, samples_per_notification: int = 1) -> LinkSpec:
        """A perfect link: 7.5 ms interval, constant 5 ms latency, no jitter, drops or gaps."""
        return cls(connection_interval_s=0.0075, max_per_event=64, latency_s=0.005,
                   samples_per_notification=samples_per_notification)

    @classmethod
    def random(
        cls,
        rng: np.random.Generator,
        *,
        faults: str = "typical",
        session_s: float = 60.0,
        notifications_per_s: float = 50.0,
        samples_per_notification: int = 1,
    ) -> LinkSpec:
        """Draw a link for a session of ``session_s`` seconds (parameter table)."""
        if faults == "none":
            return cls.ideal(samples_per_notification)
        harsh = faults == "harsh"
        ci = 0.00125 * int(rng.integers(6, 41 if harsh else 25))  # 7.5-50 ms (harsh) / 7.5-30 ms
        per_event = max(4, int(math.ceil(1.5 * notifications_per_s * ci)))
        gaps: list[tuple[float, float]] = []
        if harsh:
            t = float(rng.uniform(20.0, 180.0))
            while t < session_s - 5.0:
                d = float(rng.uniform(2.0, 15.0))
                gaps.append((t, d))
                t += d + float(rng.exponential(180.0)) + 10.0
        elif rng.random() < 0.15 and session_s > 20.0:
            gaps.append((float(rng.uniform(5.0, session_s - 10.0)), float(rng.uniform(2.0, 8.0))))
        return cls(
            connection_interval_s=ci,
            max_per_event=per_event,
            latency_s=float(rng.uniform(0.002, 0.015)),
            jitter_s=float(rng.uniform(0.3, 5.0 if harsh else 3.0)) * 1e-3,
            drop_rate=float(rng.uniform(0.02, 0.10) if harsh else rng.uniform(0.0, 0.03)),
            drop_burst=float(rng.uniform(1.0, 8.0)),
            stall_rate_per_min=3.0 if harsh else 0.5,
            gaps=tuple(gaps),
            supervision_timeout_s=float(rng.uniform(0.5, 4.0)),
            samples_per_notification=samples_per_notification,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready parameters (the labels file stores them)."""
        d = asdict(self)
        d["gaps"] = [list(g) for g in self.gaps]
        d["stall_s"] = list(self.stall_s)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LinkSpec:
        """Rebuild from `to_dict` output."""
        d = dict(data)
        d["gaps"] = tuple(tuple(g) for g in d.get("gaps", ()))
        d["stall_s"] = tuple(d.get("stall_s", (0.03, 0.15)))
        return cls(**d)


def in_gap(t_s: np.ndarray, gaps: tuple[tuple[float, float], ...]) -> np.ndarray:
    """Boolean mask: which times fall inside a reconnect gap."""
    mask = np.zeros(len(t_s), dtype=bool)
    for start, dur in gaps:
        mask |= (t_s >= start) & (t_s < start + dur)
    return mask


def _bursty_losses(rng: np.random.Generator, n: int, rate: float, burst: float) -> np.ndarray:
    """Gilbert-Elliott loss mask of length ``n`` with long-run loss ``rate`` and mean burst ``burst``."""
    lost = np.zeros(n, dtype=bool)
    if n == 0 or rate <= 0:
        return lost
    burst = max(burst, 1.0)
    mean_good = burst * (1.0 - rate) / rate
    i = int(rng.geometric(1.0 / (mean_good + 1.0))) - 1
    while i < n:
        b = int(rng.geometric(1.0 / burst))
        lost[i:i + b] = True
        i += b + int(rng.geometric(1.0 / (mean_good + 1.0)))
    return lost


def deliver(send_times_s: np.ndarray, spec: LinkSpec, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Host arrival times of notifications queued at ``send_times_s`` (sorted, true time).

    Returns:
        ``(arrival_s, delivered)``: arrival times for every notification (NaN where lost) and the
        boolean mask of delivered ones. Arrivals of delivered notifications never decrease.
    """
    s = np.asarray(send_times_s, dtype=float)
    n = len(s)
    delivered = ~_bursty_losses(rng, n, spec.drop_rate, spec.drop_burst)
    delivered &= ~in_gap(s, spec.gaps)
    ci = spec.connection_interval_s
    phase = float(rng.uniform(0.0, ci))
    # Earliest connection event at or after the queueing time.
    ev = np.ceil((s - phase) / ci).astype(np.int64)
    idx = np.nonzero(delivered)[0]
    ev_d = ev[idx]
    if len(ev_d):
        counts = np.bincount(ev_d - ev_d.min())
        if counts.max() > spec.max_per_event:
            ev_d = _enforce_capacity(ev_d, spec.max_per_event)
    arrival = np.full(n, np.nan)
    if len(idx):
        t_ev = phase + ev_d * ci
        # One OS jitter draw per connection event; notifications of one event follow closely.
        uniq, inv = np.unique(ev_d, return_inverse=True)
        jit = rng.exponential(spec.jitter_s, size=len(uniq)) if spec.jitter_s > 0 else np.zeros(len(uniq))
        order_in_event = np.arange(len(ev_d)) - np.searchsorted(ev_d, ev_d, side="left")
        a = t_ev + spec.latency_s + jit[inv] + order_in_event * 1e-4
        a = _stalls(a, spec, rng)
        arrival[idx] = np.maximum.accumulate(a)
    return arrival, delivered


def _enforce_capacity(ev: np.ndarray, cap: int) -> np.ndarray:
    """Push notifications beyond ``cap`` per event to later events (queue semantics)."""
    out = ev.copy()
    # notification k can use event out[k] only if out[k - cap] < out[k]
    for k in range(cap, len(out)):
        if out[k] <= out[k - cap]:
            out[k] = out[k - cap] + 1
    return out


def _stalls(a: np.ndarray, spec: LinkSpec, rng: np.random.Generator) -> np.ndarray:
    """Host pauses: everything arriving during a stall is delivered when it ends."""
    if spec.stall_rate_per_min <= 0 or len(a) == 0:
        return a
    t0, t1 = float(a[0]), float(a[-1])
    k = rng.poisson(spec.stall_rate_per_min * (t1 - t0) / 60.0)
    if k == 0:
        return a
    out = a.copy()
    for start in np.sort(rng.uniform(t0, t1, size=k)):
        end = start + rng.uniform(*spec.stall_s)
        sel = (out >= start) & (out < end)
        out[sel] = end + np.arange(int(sel.sum())) * 5e-5
    return out


__all__ = ["LinkSpec", "deliver", "in_gap"]
