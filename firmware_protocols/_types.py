"""Value types shared by every sensor protocol: decoded samples, GATT profile, writes, stats.

Pure data: standard library and NumPy only. Units are SI and named in every field
(``accel_mps2``, ``gyro_rads``, ``sensor_time_s``), whatever the sensor sends on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

#: Standard gravity (m/s^2), the conversion every vendor SDK uses between g and m/s^2.
STANDARD_GRAVITY_MPS2 = 9.80665


@dataclass(frozen=True, slots=True, eq=False)
class ImuBatch:
    """Samples decoded from one notification (or one CSV/recording block), in SI units.

    Attributes:
        host_time_s: Host receive time of the notification that completed these samples
            (seconds, the recording's/host's monotonic scale). Every sample in the batch
            arrived together; the pipeline reconstructs per-sample times.
        accel_mps2: ``(n, 3)`` float64 specific force in the sensor frame, m/s^2. At rest the
            vector points *up* with magnitude ~9.81 (what an accelerometer measures).
        gyro_rads: ``(n, 3)`` float64 angular rate in the sensor frame, rad/s, or ``None``
            for accelerometer-only sensors/configurations.
        sensor_time_s: ``(n,)`` float64 per-sample time on the *sensor's* clock (unwrapped,
            seconds, arbitrary origin), or ``None`` when the sensor sends no time or counter.
        rate_hz: The configured (nominal) sample rate of these samples, when known.
        arrival_time_s: ``(n,)`` per-sample host receive time, for a batch that merges several
            notifications (bulk decoding, offline replay); ``None`` means every sample arrived
            at ``host_time_s``. When given, ``host_time_s`` equals its last element.
    """

    host_time_s: float
    accel_mps2: np.ndarray
    gyro_rads: np.ndarray | None = None
    sensor_time_s: np.ndarray | None = None
    rate_hz: float | None = None
    arrival_time_s: np.ndarray | None = None

    def __post_init__(self) -> None:
        acc = self.accel_mps2
        if acc.ndim != 2 or acc.shape[1] != 3:
            raise ValueError(f"accel_mps2 must have shape (n, 3), got {acc.shape}")
        n = acc.shape[0]
        if self.gyro_rads is not None and self.gyro_rads.shape != (n, 3):
            raise ValueError(f"gyro_rads must have shape ({n}, 3), got {self.gyro_rads.shape}")
        if self.sensor_time_s is not None and self.sensor_time_s.shape != (n,):
            raise ValueError(f"sensor_time_s must have shape ({n},), got {self.sensor_time_s.shape}")
        if self.arrival_time_s is not None and self.arrival_time_s.shape != (n,):
            raise ValueError(f"arrival_time_s must have shape ({n},), got {self.arrival_time_s.shape}")

    def arrival_times(self) -> np.ndarray:
        """Per-sample host receive times, ``(n,)`` (all equal to ``host_time_s`` unless merged)."""
        if self.arrival_time_s is not None:
            return self.arrival_time_s
        return np.full(len(self), self.host_time_s)

    def __len__(self) -> int:
        return int(self.accel_mps2.shape[0])

    @property
    def has_gyro(self) -> bool:
        return self.gyro_rads is not None

    def same_samples(self, other: ImuBatch, atol: float = 0.0) -> bool:
        """True when both batches hold the same samples and times (within ``atol``)."""

        def close(a: np.ndarray | None, b: np.ndarray | None) -> bool:
            if a is None or b is None:
                return a is b
            return a.shape == b.shape and bool(np.allclose(a, b, rtol=0.0, atol=atol))

        return (
            abs(self.host_time_s - other.host_time_s) <= atol
            and close(self.accel_mps2, other.accel_mps2)
            and close(self.gyro_rads, other.gyro_rads)
            and close(self.sensor_time_s, other.sensor_time_s)
            and close(self.arrival_times(), other.arrival_times())
        )


@dataclass(frozen=True, slots=True)
class Notification:
    """One notification/indication a sensor sends: the characteristic and its value bytes."""

    char_uuid: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class EncodedNotification:
    """A notification an encoder produced, and which input sample completed it.

    ``last_sample_index`` lets a simulator give the notification its send time (a sensor can
    only send a packet once its last sample exists), then add radio latency and batching.
    """

    char_uuid: str
    payload: bytes
    last_sample_index: int


@dataclass(frozen=True, slots=True)
class Write:
    """A GATT write the host sends to configure, start or stop a sensor.

    Attributes:
        char_uuid: Characteristic to write.
        payload: Bytes to write.
        response: Write-with-response (True) or write-without-response (False).
        delay_after_s: How long the host should wait before the next write (vendor SDKs
            pause e.g. 100 ms after a WitMotion unlock).
        description: Short human text for logs ("set rate 200 Hz").
    """

    char_uuid: str
    payload: bytes
    response: bool = True
    delay_after_s: float = 0.0
    description: str = ""


@dataclass(frozen=True, slots=True)
class GattCharacteristic:
    """One characteristic of a sensor's GATT profile.

    ``properties`` uses bleak's names: ``read``, ``write``, ``write-without-response``,
    ``notify``, ``indicate``.
    """

    uuid: str
    properties: tuple[str, ...]
    description: str = ""


@dataclass(frozen=True, slots=True)
class GattService:
    """One primary service and its characteristics."""

    uuid: str
    characteristics: tuple[GattCharacteristic, ...]
    description: str = ""


@dataclass(frozen=True, slots=True)
class StreamConfig:
    """What the host asked the sensor to stream, and what a decoder needs to know about it.

    Attributes:
        rate_hz: Output data rate requested.
        accel_range_g: Accelerometer full scale (+/- g).
        gyro_range_dps: Gyro full scale (+/- deg/s), or ``None`` to stream no gyro.
        options: Protocol-specific extras that the bytes alone do not carry (e.g. a Polar
            compression factor, a MetaWear chip variant). Keys are documented per protocol.
    """

    rate_hz: float
    accel_range_g: float
    gyro_range_dps: float | None = None
    options: dict[str, object] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "rate_hz": self.rate_hz,
            "accel_range_g": self.accel_range_g,
            "gyro_range_dps": self.gyro_range_dps,
            "options": dict(self.options),
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> StreamConfig:
        return cls(
            rate_hz=float(data["rate_hz"]),  # type: ignore[arg-type]
            accel_range_g=float(data["accel_range_g"]),  # type: ignore[arg-type]
            gyro_range_dps=None if data.get("gyro_range_dps") is None else float(data["gyro_range_dps"]),  # type: ignore[arg-type]
            options=dict(data.get("options") or {}),  # type: ignore[call-overload]
        )


@dataclass(slots=True)
class DecoderStats:
    """What a decoder saw and what it had to skip. Counters only ever grow (until ``reset``).

    Attributes:
        notifications: Notifications fed.
        bytes_in: Payload bytes fed.
        frames: Well-formed data frames decoded.
        samples: IMU samples emitted.
        skipped_bytes: Bytes discarded while resynchronising or as part of bad frames.
        bad_frames: Frames rejected (bad checksum, length, header, impossible values).
        resyncs: Times the decoder lost frame sync and searched for the next header.
        duplicates: Notifications/frames recognised as repeats and dropped.
        out_of_order: Frames whose sensor time ran backwards (dropped).
        other_frames: Valid non-IMU frames (register replies, command responses).
        unknown: Notifications on characteristics or with frame types this decoder ignores.
    """

    notifications: int = 0
    bytes_in: int = 0
    frames: int = 0
    samples: int = 0
    skipped_bytes: int = 0
    bad_frames: int = 0
    resyncs: int = 0
    duplicates: int = 0
    out_of_order: int = 0
    other_frames: int = 0
    unknown: int = 0

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


__all__ = [
    "STANDARD_GRAVITY_MPS2",
    "DecoderStats",
    "EncodedNotification",
    "GattCharacteristic",
    "GattService",
    "ImuBatch",
    "Notification",
    "StreamConfig",
    "Write",
    "merge_batches",
]


def merge_batches(batches: list[ImuBatch]) -> ImuBatch | None:
    """Concatenate consecutive batches into one, keeping per-sample arrival times.

    Gyro and sensor time are kept only if every batch has them (else dropped: a stream does not
    switch mid-way in practice). Returns None for an empty list.
    """
    batches = [b for b in batches if len(b)]
    if not batches:
        return None
    if len(batches) == 1:
        return batches[0]
    acc = np.concatenate([b.accel_mps2 for b in batches])
    gyro = np.concatenate([b.gyro_rads for b in batches]) if all(b.gyro_rads is not None for b in batches) else None  # type: ignore[misc]
    st = (
        np.concatenate([b.sensor_time_s for b in batches])  # type: ignore[misc]
        if all(b.sensor_time_s is not None for b in batches)
        else None
    )
    arrival = np.concatenate([b.arrival_times() for b in batches])
    return ImuBatch(float(arrival[-1]), acc, gyro, st, batches[-1].rate_hz, arrival)
