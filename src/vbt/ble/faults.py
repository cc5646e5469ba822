"""Radio timing and fault injection for virtual sensors: `RadioModel`, `FaultPlan`.

bumble's LocalLink delivers every PDU on the next loop turn and never loses one (sensors.md
§11), so whatever real links do to notifications has to be added on purpose. A
`VirtualSensorPeripheral` applies a `RadioModel` (when notifications leave) and a `FaultPlan`
(what goes wrong) to its stream. The fault list is the reliability issue's: "link lost mid-rep
and mid-rest; sensor powers off; adapter disappears; 0-10 % of notifications dropped;
notifications duplicated, reordered, truncated or corrupted; host timestamps batched and
jittered; sample-rate changes mid-stream". Adapter removal is a property of the central's side
(`VirtualAir.remove_adapter`).

All randomness comes from the plan's ``seed``, so a faulty run is reproducible.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class RadioModel:
    """When notifications leave the sensor.

    Attributes:
        connection_interval_s: BLE delivers notifications only at connection events; with a
            value here every notification waits for the next event and all that are ready go
            together (the batching hosts see as several notifications with nearly one arrival
            time). BLE allows 7.5 ms to 4 s; iOS grants no less than 15 ms (science.md §6.2).
            None sends each notification as soon as its last sample exists.
        jitter_s: Each delivery is delayed by a uniform random 0..``jitter_s`` (host scheduling
            and radio retries), never reordering deliveries.
    """

    connection_interval_s: float | None = None
    jitter_s: float = 0.0

    def __post_init__(self) -> None:
        ci = self.connection_interval_s
        if ci is not None and not 0.0075 <= ci <= 4.0:
            raise ValueError(f"connection_interval_s {ci} outside BLE's 7.5 ms .. 4 s; use a value in range or None")
        if self.jitter_s < 0:
            raise ValueError(f"jitter_s {self.jitter_s} must not be negative")


@dataclass(frozen=True, slots=True)
class LinkDrop:
    """The sensor drops the link (supervision timeout) at a stream time, and maybe returns.

    Attributes:
        at_s: Stream time (seconds since the sensor first started streaming).
        back_after_s: Seconds until it advertises again; None = never (battery died).
        reset: True if it comes back from a power cycle: power-on defaults, so the host must
            re-apply its configuration.
    """

    at_s: float
    back_after_s: float | None = 2.0
    reset: bool = False


@dataclass(frozen=True, slots=True)
class RateChange:
    """The sensor changes its output rate by itself at a stream time (firmware quirk, reset)."""

    at_s: float
    rate_hz: float


@dataclass(frozen=True, slots=True)
class Stall:
    """The sensor keeps the link but stops notifying data at a stream time.

    Seen on real links when another app rewrote the sensor's output rate, or a notification
    pipeline (firmware or host stack) hangs while the link layer stays up.

    Attributes:
        at_s: Stream time (seconds since the sensor first started streaming).
        cure: What revives it: ``"write"`` (any host write, e.g. the configuration written
            again) or ``"reconnect"`` (only a new connection).
    """

    at_s: float
    cure: str = "write"

    def __post_init__(self) -> None:
        if self.cure not in ("write", "reconnect"):
            raise ValueError(f"cure {self.cure!r} must be 'write' or 'reconnect'")


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """What goes wrong on a virtual sensor's link.

    Attributes:
        link_drops: Scheduled link losses.
        rate_changes: Scheduled spontaneous rate changes.
        stalls: Scheduled silences with the link up (see `Stall`).
        garbage_at_s: Stream times at which a notification of random bytes is sent on the
            first streamed characteristic.
        garbage_prob: Per-delivery probability of an extra random-bytes notification.
        drop_prob: Long-run fraction of notifications lost (0-1).
        drop_burst: Mean length of a run of lost notifications (Gilbert model: losses on a
            BLE link come in bursts during fades and retries; 1 = independent losses).
        duplicate_prob: Probability that a notification is delivered twice.
        reorder_prob: Probability that a notification swaps place with the next one.
        truncate_prob: Probability that a notification loses a random tail.
        corrupt_prob: Probability that random bytes of a notification are replaced.
        seed: Seed of every random choice above.
    """

    link_drops: tuple[LinkDrop, ...] = ()
    rate_changes: tuple[RateChange, ...] = ()
    stalls: tuple[Stall, ...] = ()
    garbage_at_s: tuple[float, ...] = ()
    garbage_prob: float = 0.0
    drop_prob: float = 0.0
    drop_burst: float = 1.0
    duplicate_prob: float = 0.0
    reorder_prob: float = 0.0
    truncate_prob: float = 0.0
    corrupt_prob: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("garbage_prob", "drop_prob", "duplicate_prob", "reorder_prob", "truncate_prob", "corrupt_prob"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ValueError(f"{name} {value} must be in [0, 1)")
        if self.drop_burst < 1.0:
            raise ValueError(f"drop_burst {self.drop_burst} must be >= 1 (mean run length)")

    @property
    def mangles(self) -> bool:
        """True if the plan alters, loses or adds notifications (not only schedules events)."""
        return any((self.garbage_prob, self.drop_prob, self.duplicate_prob, self.reorder_prob,
                    self.truncate_prob, self.corrupt_prob, self.garbage_at_s))

    @classmethod
    def preset(cls, name: str, *, seed: int = 0, duration_s: float | None = None) -> FaultPlan:
        """Named fault levels for ``--faults`` and demos.

        * ``none``: a perfect link.
        * ``typical``: ~1 % bursty loss (the issue asks for 0-10 %).
        * ``harsh``: ~5 % bursty loss (the top of science.md §6.3's 2-5 % stress range),
          duplicates, reordering, truncation, corruption, garbage and, when ``duration_s`` is
          known, a 3 s link loss at 45 % of it.

        Raises:
            ValueError: naming the unknown preset.
        """
        key = name.strip().lower()
        if key == "none":
            return cls(seed=seed)
        if key == "typical":
            return cls(drop_prob=0.01, drop_burst=2.0, seed=seed)
        if key == "harsh":
            drops = (LinkDrop(at_s=0.45 * duration_s, back_after_s=3.0),) if duration_s else ()
            return cls(
                link_drops=drops, drop_prob=0.05, drop_burst=3.0, duplicate_prob=0.005, reorder_prob=0.005,
                truncate_prob=0.003, corrupt_prob=0.003, garbage_prob=0.002, seed=seed,
            )
        raise ValueError(f"unknown fault preset {name!r}; use none, typical or harsh")

    @staticmethod
    def radio_preset(name: str) -> RadioModel:
        """The radio timing that goes with a preset (``none``: no batching).

        15 ms is the shortest interval iOS grants (science.md §6.2); 2 ms jitter is science.md
        §6.3's stress value; the harsh 45 ms / 10 ms is a design assumption (a congested link).
        """
        key = name.strip().lower()
        if key == "typical":
            return RadioModel(connection_interval_s=0.015, jitter_s=0.002)
        if key == "harsh":
            return RadioModel(connection_interval_s=0.045, jitter_s=0.010)
        return RadioModel()


@dataclass
class FaultState:
    """Running state of a `FaultPlan` on one sensor (random generator, loss-burst state, counts)."""

    plan: FaultPlan
    rng: random.Random = field(init=False)
    in_loss_burst: bool = False
    counts: dict[str, int] = field(default_factory=lambda: {
        "dropped": 0, "duplicated": 0, "reordered": 0, "truncated": 0, "corrupted": 0, "garbage": 0,
    })

    def __post_init__(self) -> None:
        self.rng = random.Random(self.plan.seed)

    def lose(self) -> bool:
        """Gilbert two-state loss: stationary loss rate ``drop_prob``, mean burst ``drop_burst``."""
        plan = self.plan
        if plan.drop_prob <= 0.0:
            return False
        leave = 1.0 / plan.drop_burst
        enter = plan.drop_prob * leave / (1.0 - plan.drop_prob)
        if self.in_loss_burst:
            self.in_loss_burst = self.rng.random() >= leave
        else:
            self.in_loss_burst = self.rng.random() < enter
        return self.in_loss_burst

    def chance(self, p: float) -> bool:
        return p > 0.0 and self.rng.random() < p

    def garbage(self, length: int) -> bytes:
        return bytes(self.rng.randrange(256) for _ in range(max(1, length)))

    def truncate(self, payload: bytes) -> bytes:
        if len(payload) <= 1:
            return payload
        return payload[: self.rng.randrange(1, len(payload))]

    def corrupt(self, payload: bytes) -> bytes:
        data = bytearray(payload)
        for _ in range(max(1, len(data) // 8)):
            data[self.rng.randrange(len(data))] = self.rng.randrange(256)
        return bytes(data)


__all__ = ["FaultPlan", "FaultState", "LinkDrop", "RadioModel", "RateChange", "Stall"]
