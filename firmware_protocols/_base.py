"""The contracts every sensor protocol implements: `SensorProtocol`, `Decoder`, `Encoder`, `VirtualDevice`.

A protocol module (``firmware_protocols/<vendor>_<model>.py``) provides four things:

* a `SensorProtocol` subclass: the *declarative* description of one sensor family --
  advertisement match, GATT profile, the writes that configure/start/stop streaming, supported
  rates and ranges, and provenance (verified on hardware or from the vendor spec only);
* a `Decoder`: a streaming parser fed one notification at a time (bytes in, SI samples out)
  that copes with frames split or merged across notifications, unwraps sensor counters,
  and *never raises* on bytes from the air unless ``strict=True`` (then `ProtocolError`);
* an `Encoder`: the reverse, samples in, the exact notifications the real sensor would send
  out (for the simulator and the virtual sensors);
* a `VirtualDevice`: the sensor side of the conversation as a pure state machine (answers
  configuration writes, knows when it is streaming), which the BLE emulator wires to a
  real GATT server.

Nothing here imports ``vbt``, bleak, asyncio or Qt.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from ._types import (
    DecoderStats,
    EncodedNotification,
    GattService,
    ImuBatch,
    Notification,
    StreamConfig,
    Write,
)

_BASE_UUID_SUFFIX = "-0000-1000-8000-00805f9b34fb"
_UUID16_RE = re.compile(r"^(0x)?[0-9a-fA-F]{4}$")


def normalize_uuid(uuid: str) -> str:
    """Return the lower-case 128-bit form of a UUID; 16-bit forms (``"ffe4"``) are expanded."""
    u = uuid.strip()
    if _UUID16_RE.match(u):
        return f"0000{u[-4:].lower()}{_BASE_UUID_SUFFIX}"
    return u.lower()


class ProtocolError(ValueError):
    """Strict-mode decoding error: what was wrong with the bytes, and where.

    Args:
        sensor: Protocol name (e.g. ``"witmotion"``).
        offset: Byte offset in the notification (or in the decoder's buffer), if known.
        reason: What was wrong.
        data: The offending bytes (shown as hex, at most 64 bytes).
    """

    def __init__(self, sensor: str, offset: int | None, reason: str, data: bytes = b"") -> None:
        where = f" at byte {offset}" if offset is not None else ""
        shown = data[:64].hex()
        more = "..." if len(data) > 64 else ""
        text = f"{sensor}: {reason}{where}"
        if data:
            text += f" (bytes {shown}{more})"
        super().__init__(text)
        self.sensor = sensor
        self.offset = offset
        self.reason = reason
        self.data = bytes(data)


class Decoder(ABC):
    """Streaming decoder for one sensor: feed notifications, get `ImuBatch` objects.

    Args:
        config: What the host configured (rate, ranges, protocol options). Decoders use it
            for what the bytes do not carry (nominal rate, full scale, compression factor).
        strict: Raise `ProtocolError` on the first problem instead of counting and skipping.

    Contract (checked for every decoder by ``tests/firmware_protocols/test_contract.py``):

    * ``feed`` never raises when ``strict`` is False, whatever the bytes; problems go to
      `stats` and decoding resynchronises.
    * Splitting or merging the same byte stream across notifications (same host times for
      the samples they complete) gives the same samples.
    * Emitted values are finite and within the configured full scale.
    """

    #: Registry name of the protocol this decoder belongs to.
    protocol_name: ClassVar[str] = ""
    #: Version of the decoding logic; bump it whenever output for the same bytes changes,
    #: so recordings and stored results can say which decoder produced them.
    version: ClassVar[str] = "1"

    def __init__(self, config: StreamConfig, *, strict: bool = False) -> None:
        self.config = config
        self.strict = strict
        self.stats = DecoderStats()
        #: Last battery level reported by the sensor (percent), if the protocol carries it.
        self.battery_pct: float | None = None
        #: Other device facts learned from the stream (firmware, chip variant, factors...).
        self.info: dict[str, object] = {}

    @abstractmethod
    def feed(self, char_uuid: str, payload: bytes, host_time_s: float) -> list[ImuBatch]:
        """Decode one notification.

        Args:
            char_uuid: Characteristic the notification came from (any UUID form).
            payload: The notification's value bytes, exactly as received.
            host_time_s: Host receive time (seconds).

        Returns:
            Zero or more batches of samples completed by this notification.
        """

    def feed_many(
        self, char_uuid: str, payloads: Sequence[bytes], host_times_s: Sequence[float] | np.ndarray
    ) -> list[ImuBatch]:
        """Decode several notifications from one characteristic; same samples as feeding each.

        Decoders may override this with a vectorised path (offline replay of long recordings);
        the default simply calls `feed` in order.
        """
        out: list[ImuBatch] = []
        for payload, t in zip(payloads, host_times_s, strict=True):
            out.extend(self.feed(char_uuid, payload, float(t)))
        return out

    def reset(self) -> None:  # noqa: B027 - optional hook; stateless decoders keep the default
        """Forget partial frames and counter history (e.g. after a reconnect); keep `stats`."""

    def _problem(self, counter: str, reason: str, *, nbytes: int = 0, offset: int | None = None,
                 data: bytes = b"") -> None:
        """Count a problem (``counter`` is a `DecoderStats` field) or raise in strict mode."""
        setattr(self.stats, counter, getattr(self.stats, counter) + 1)
        if nbytes:
            self.stats.skipped_bytes += nbytes
        if self.strict:
            raise ProtocolError(self.protocol_name, offset, reason, data)


class Encoder(ABC):
    """Turns samples into the notifications the real sensor would send.

    Args:
        config: Stream configuration to encode for (rate, ranges, options).

    Encoders are stateful where the sensor is (delta-compression references, packing several
    samples per packet, counters, timestamps), so consecutive ``encode`` calls continue one
    stream; ``flush`` emits any partly filled packet the sensor would still send.
    """

    def __init__(self, config: StreamConfig) -> None:
        self.config = config

    @abstractmethod
    def encode(
        self,
        accel_mps2: np.ndarray,
        gyro_rads: np.ndarray | None,
        sensor_time_s: np.ndarray,
    ) -> list[EncodedNotification]:
        """Encode consecutive samples.

        Args:
            accel_mps2: ``(n, 3)`` specific force in m/s^2 (values beyond full scale saturate,
                as on the real chip).
            gyro_rads: ``(n, 3)`` rad/s, or None if the stream has no gyro.
            sensor_time_s: ``(n,)`` sample times on the sensor's clock (seconds).

        Returns:
            Notifications in send order; ``last_sample_index`` counts from the first sample of
            this call.
        """

    def flush(self) -> list[EncodedNotification]:
        """Emit what is buffered (a partly filled packet), if the sensor would send it."""
        return []


class VirtualDevice(ABC):
    """The sensor side of a protocol, as a pure state machine (no radio, no asyncio).

    Args:
        name: Advertised local name.
        battery_pct: Battery level to report.

    The BLE emulator calls `on_subscribe` / `on_write` / `read` when the host acts and sends
    whatever they return as notifications; while `streaming` is True it feeds simulated
    samples through `encode` at ``config.rate_hz`` and notifies the result.
    """

    protocol: ClassVar[type[SensorProtocol]]

    def __init__(self, name: str, *, battery_pct: float = 87.0) -> None:
        self.name = name
        self.battery_pct = battery_pct
        #: Current stream configuration (starts at the sensor's power-on defaults).
        self.config: StreamConfig = self.protocol.default_config()
        self.subscribed: set[str] = set()

    @property
    @abstractmethod
    def streaming(self) -> bool:
        """True while the device should push IMU notifications."""

    def on_subscribe(self, char_uuid: str) -> list[Notification]:
        """The host enabled notifications on ``char_uuid``."""
        self.subscribed.add(normalize_uuid(char_uuid))
        return []

    def on_unsubscribe(self, char_uuid: str) -> list[Notification]:
        """The host disabled notifications on ``char_uuid``."""
        self.subscribed.discard(normalize_uuid(char_uuid))
        return []

    @abstractmethod
    def on_write(self, char_uuid: str, payload: bytes) -> list[Notification]:
        """The host wrote ``payload``; update state and return the sensor's immediate replies."""

    def read(self, char_uuid: str) -> bytes:
        """Value of a readable characteristic (battery level, feature bytes...)."""
        return b""

    def on_disconnect(self) -> None:
        """The link dropped: real sensors forget subscriptions (and some, their config)."""
        self.subscribed.clear()

    @abstractmethod
    def encode(
        self, accel_mps2: np.ndarray, gyro_rads: np.ndarray | None, sensor_time_s: np.ndarray
    ) -> list[EncodedNotification]:
        """Samples -> notifications under the *current* configuration."""


class SensorProtocol(ABC):
    """Declarative description of one sensor family (class attributes + class methods).

    Subclasses are registered in ``firmware_protocols.PROTOCOLS`` under `name`.
    """

    #: Registry key, lower case (``"witmotion"``).
    name: ClassVar[str]
    #: Human name for tables and the UI (``"WitMotion WT901BLECL / WT9011DCL (BLE 5.0)"``).
    display_name: ClassVar[str]
    #: Regexes (``re.search``) matched against the advertised local name.
    name_patterns: ClassVar[tuple[str, ...]] = ()
    #: Service UUIDs the sensor advertises (any one is enough to match).
    advertised_service_uuids: ClassVar[tuple[str, ...]] = ()
    #: The GATT profile the sensor exposes (what the virtual sensor serves).
    services: ClassVar[tuple[GattService, ...]] = ()
    #: Characteristics the host subscribes to, in order.
    notify_uuids: ClassVar[tuple[str, ...]] = ()
    #: Sample rates the sensor can stream (Hz).
    rates_hz: ClassVar[tuple[float, ...]] = ()
    default_rate_hz: ClassVar[float]
    #: Accelerometer full-scale choices (+/- g) and the power-on default.
    accel_ranges_g: ClassVar[tuple[float, ...]] = ()
    default_accel_range_g: ClassVar[float]
    #: Gyro full-scale choices (+/- deg/s); empty when the sensor has no gyro.
    gyro_ranges_dps: ClassVar[tuple[float, ...]] = ()
    default_gyro_range_dps: ClassVar[float | None] = None
    #: True when the stream carries sensor timestamps or counters.
    has_sensor_clock: ClassVar[bool] = False
    #: True only when the byte layout was checked against a real device's capture.
    verified_on_hardware: ClassVar[bool] = False
    #: Where the layout comes from (SDK files, datasheet pages).
    provenance: ClassVar[str] = ""
    #: User-facing set-up advice: how to wake it, pairing, recommended rate.
    setup_notes: ClassVar[str] = ""

    @classmethod
    def matches(cls, local_name: str | None, service_uuids: Sequence[str] = ()) -> bool:
        """Does an advertisement (local name, advertised service UUIDs) belong to this family?"""
        if local_name and any(re.search(p, local_name) for p in cls.name_patterns):
            return True
        wanted = {normalize_uuid(u) for u in cls.advertised_service_uuids}
        return any(normalize_uuid(u) in wanted for u in service_uuids)

    @classmethod
    def default_config(cls) -> StreamConfig:
        """The configuration the sensor has at power-on."""
        return StreamConfig(cls.default_rate_hz, cls.default_accel_range_g, cls.default_gyro_range_dps)

    @classmethod
    def make_config(
        cls,
        rate_hz: float | None = None,
        accel_range_g: float | None = None,
        gyro_range_dps: float | None | bool = True,
        **options: object,
    ) -> StreamConfig:
        """Validate a requested configuration against the sensor's capabilities.

        Args:
            rate_hz: Requested rate; None for the default. Must be one of `rates_hz`.
            accel_range_g: Requested accelerometer range; None for the default.
            gyro_range_dps: A range, True for the default range, False/None for no gyro.

        Raises:
            ValueError: naming the value and listing the supported ones.
        """
        rate = cls.default_rate_hz if rate_hz is None else float(rate_hz)
        if cls.rates_hz and rate not in cls.rates_hz:
            raise ValueError(f"{cls.name}: rate {rate_hz} Hz not supported; use one of {list(cls.rates_hz)}")
        acc = cls.default_accel_range_g if accel_range_g is None else float(accel_range_g)
        if cls.accel_ranges_g and acc not in cls.accel_ranges_g:
            raise ValueError(f"{cls.name}: accel range {accel_range_g} g not supported; use one of {list(cls.accel_ranges_g)}")
        gyro: float | None
        if gyro_range_dps is True:
            gyro = cls.default_gyro_range_dps
        elif gyro_range_dps is False or gyro_range_dps is None:
            gyro = None
        else:
            gyro = float(gyro_range_dps)
            if gyro not in cls.gyro_ranges_dps:
                raise ValueError(f"{cls.name}: gyro range {gyro_range_dps} dps not supported; use one of {list(cls.gyro_ranges_dps)}")
        return StreamConfig(rate, acc, gyro, dict(options))

    @classmethod
    @abstractmethod
    def start_writes(cls, config: StreamConfig) -> list[Write]:
        """Writes that configure rate/range and start streaming (after subscribing)."""

    @classmethod
    @abstractmethod
    def stop_writes(cls, config: StreamConfig) -> list[Write]:
        """Writes that stop streaming cleanly."""

    @classmethod
    def battery_writes(cls) -> list[Write]:
        """Writes that make the sensor report its battery level in the stream (may be empty)."""
        return []

    #: A readable characteristic holding the battery level as one u8 percent (0x2A19), if any.
    battery_read_uuid: ClassVar[str | None] = None

    @classmethod
    @abstractmethod
    def decoder(cls, config: StreamConfig | None = None, *, strict: bool = False) -> Decoder:
        """A fresh streaming decoder for ``config`` (the default configuration if None)."""

    @classmethod
    @abstractmethod
    def encoder(cls, config: StreamConfig | None = None) -> Encoder:
        """A fresh encoder producing this sensor's notifications for ``config``."""

    @classmethod
    @abstractmethod
    def virtual_device(cls, name: str | None = None) -> VirtualDevice:
        """A sensor-side state machine for the BLE emulator."""


__all__ = [
    "Decoder",
    "Encoder",
    "ProtocolError",
    "SensorProtocol",
    "VirtualDevice",
    "normalize_uuid",
]
