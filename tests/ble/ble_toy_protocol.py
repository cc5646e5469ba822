"""A small test-only sensor protocol that exercises the GATT features the real families use.

Not a real device. It has what WitMotion lacks, so the BLE layer is tested on all of it:
a readable standard battery level (0x2A19, as Polar and Thingy:52 expose), a control point
that answers with *indications* (like Polar PMD), several samples per notification (like
Polar/MetaWear packing) and a sample counter (a sensor clock, so drops are detectable).

Wire format (little-endian):
* control point FFF2 write ``01 <rate u16>`` -> start at rate (Hz); reply indication
  ``F0 01 00``; ``02`` -> stop, reply ``F0 02 00``; anything else -> reply ``F0 xx 01``.
* data FFF1 notification: two samples, each ``<counter u16> <ax ay az i16, mg>``, then one
  byte: XOR of all the previous bytes (so corruption is detectable).
"""

from __future__ import annotations

import struct

import numpy as np

from firmware_protocols import (
    STANDARD_GRAVITY_MPS2,
    Decoder,
    EncodedNotification,
    Encoder,
    GattCharacteristic,
    GattService,
    ImuBatch,
    Notification,
    SensorProtocol,
    StreamConfig,
    VirtualDevice,
    Write,
    normalize_uuid,
)

SERVICE = normalize_uuid("fff0")
DATA = normalize_uuid("fff1")
CONTROL = normalize_uuid("fff2")
BATTERY_SERVICE = normalize_uuid("180f")
BATTERY_LEVEL = normalize_uuid("2a19")
SAMPLES_PER_NOTIFICATION = 2
_SAMPLE = struct.Struct("<H3h")


def _xor(data: bytes) -> int:
    value = 0
    for b in data:
        value ^= b
    return value


class ToyDecoder(Decoder):
    protocol_name = "toy"

    def __init__(self, config: StreamConfig, *, strict: bool = False) -> None:
        super().__init__(config, strict=strict)
        self._wraps = 0
        self._last: int | None = None

    def reset(self) -> None:
        self._last = None

    def feed(self, char_uuid: str, payload: bytes, host_time_s: float) -> list[ImuBatch]:
        self.stats.notifications += 1
        self.stats.bytes_in += len(payload)
        uuid = normalize_uuid(char_uuid)
        if uuid == CONTROL:
            self.stats.other_frames += 1
            return []
        if uuid != DATA:
            self.stats.unknown += 1
            return []
        if len(payload) != _SAMPLE.size * SAMPLES_PER_NOTIFICATION + 1:
            self._problem("bad_frames", f"length {len(payload)}", nbytes=len(payload), data=payload)
            return []
        if _xor(payload[:-1]) != payload[-1]:
            self._problem("bad_frames", "checksum", nbytes=len(payload), data=payload)
            return []
        counters, acc = [], []
        for k in range(SAMPLES_PER_NOTIFICATION):
            c, ax, ay, az = _SAMPLE.unpack_from(payload, k * _SAMPLE.size)
            counters.append(c)
            acc.append((ax, ay, az))
        unwrapped = []
        for c in counters:
            if self._last is not None and c < self._last % 65536 and self._last % 65536 - c > 32768:
                self._wraps += 1
            value = self._wraps * 65536 + c
            if self._last is not None and value <= self._last:
                self.stats.duplicates += 1
                return []
            self._last = value
            unwrapped.append(value)
        self.stats.frames += 1
        self.stats.samples += len(unwrapped)
        accel = np.asarray(acc, dtype=float) / 1000.0 * STANDARD_GRAVITY_MPS2
        t = np.asarray(unwrapped, dtype=float) / self.config.rate_hz
        return [ImuBatch(host_time_s, accel, None, t, self.config.rate_hz)]


class ToyEncoder(Encoder):
    def __init__(self, config: StreamConfig) -> None:
        super().__init__(config)
        self._buffer: list[bytes] = []

    def encode(self, accel_mps2, gyro_rads, sensor_time_s) -> list[EncodedNotification]:
        out = []
        mg = np.clip(np.round(accel_mps2 / STANDARD_GRAVITY_MPS2 * 1000.0), -32768, 32767).astype(int)
        for i in range(len(mg)):
            counter = int(round(sensor_time_s[i] * self.config.rate_hz)) % 65536
            self._buffer.append(_SAMPLE.pack(counter, *mg[i]))
            if len(self._buffer) == SAMPLES_PER_NOTIFICATION:
                body = b"".join(self._buffer)
                out.append(EncodedNotification(DATA, body + bytes([_xor(body)]), i))
                self._buffer = []
        return out


class ToyVirtualDevice(VirtualDevice):
    def __init__(self, name: str = "TOY-0001", *, battery_pct: float = 64.0) -> None:
        super().__init__(name, battery_pct=battery_pct)
        self.started = False
        self._encoder: ToyEncoder | None = None

    @property
    def streaming(self) -> bool:
        return self.started and DATA in self.subscribed

    def on_disconnect(self) -> None:
        super().on_disconnect()
        self.started = False
        self._encoder = None

    def on_write(self, char_uuid: str, payload: bytes) -> list[Notification]:
        if normalize_uuid(char_uuid) != CONTROL or not payload:
            return []
        if payload[0] == 0x01 and len(payload) == 3:
            rate = struct.unpack_from("<H", payload, 1)[0]
            self.config = StreamConfig(float(rate), 16.0, None)
            self.started = True
            self._encoder = None
            return [Notification(CONTROL, bytes([0xF0, 0x01, 0x00]))]
        if payload[0] == 0x02:
            self.started = False
            return [Notification(CONTROL, bytes([0xF0, 0x02, 0x00]))]
        return [Notification(CONTROL, bytes([0xF0, payload[0], 0x01]))]

    def read(self, char_uuid: str) -> bytes:
        if normalize_uuid(char_uuid) == BATTERY_LEVEL:
            return bytes([int(round(self.battery_pct))])
        return b""

    def encode(self, accel_mps2, gyro_rads, sensor_time_s) -> list[EncodedNotification]:
        if self._encoder is None:
            self._encoder = ToyEncoder(self.config)
        return self._encoder.encode(accel_mps2, gyro_rads, sensor_time_s)


class ToyProtocol(SensorProtocol):
    name = "toy"
    display_name = "Toy test sensor"
    name_patterns = (r"^TOY-",)
    advertised_service_uuids = (SERVICE,)
    services = (
        GattService(SERVICE, (
            GattCharacteristic(DATA, ("notify",)),
            GattCharacteristic(CONTROL, ("write", "indicate")),
        )),
        GattService(BATTERY_SERVICE, (GattCharacteristic(BATTERY_LEVEL, ("read", "notify")),)),
    )
    notify_uuids = (CONTROL, DATA)
    rates_hz = (25.0, 50.0, 100.0, 200.0)
    default_rate_hz = 50.0
    accel_ranges_g = (16.0,)
    default_accel_range_g = 16.0
    has_sensor_clock = True
    battery_read_uuid = BATTERY_LEVEL

    @classmethod
    def start_writes(cls, config: StreamConfig) -> list[Write]:
        return [Write(CONTROL, bytes([0x01]) + struct.pack("<H", int(config.rate_hz)), True, 0.0, "start")]

    @classmethod
    def stop_writes(cls, config: StreamConfig) -> list[Write]:
        return [Write(CONTROL, bytes([0x02]), True, 0.0, "stop")]

    @classmethod
    def decoder(cls, config: StreamConfig | None = None, *, strict: bool = False) -> ToyDecoder:
        return ToyDecoder(config or cls.default_config(), strict=strict)

    @classmethod
    def encoder(cls, config: StreamConfig | None = None) -> ToyEncoder:
        return ToyEncoder(config or cls.default_config())

    @classmethod
    def virtual_device(cls, name: str | None = None) -> ToyVirtualDevice:
        return ToyVirtualDevice(name or "TOY-0001")


ToyVirtualDevice.protocol = ToyProtocol
