"""Nordic Thingy:52 Motion service (TMS): wire specification and codec.

Verified on hardware: **no** -- from the vendor firmware source (as summarised) and third-party code.

Provenance
----------
* Nordic's firmware, github.com/NordicSemiconductor/Nordic-Thingy52-FW:
  ``include/ble_services/ble_tms.h`` (UUIDs, ``ble_tms_config_t``, ``ble_tms_raw_t``),
  ``ble_tms.c``, ``m_motion.c`` (raw data = the MPU-9250's Q16.16 values shifted into
  Q6.10 / Q11.5 / Q12.4 for BLE) -- as summarised in ``shared/reference/sensors.md`` section 6.
* Cross-checked with ``aiothingy`` 0.0.3 on PyPI (downloaded, read): the config struct
  ``<HHHHB`` (step, temperature-compensation and magnetometer-compensation intervals in ms,
  motion frequency in Hz, wake-on-motion) and the raw layout ``<9h`` with acc / 1024 and
  compass / 16 agree. **Disagreement:** aiothingy scales the gyro by 1/256; the firmware's
  Q11.5 format (11 integer bits) means 1/32, which we follow [unverified on hardware].
* [unverified] The accelerometer range. The firmware drives the MPU-9250 through InvenSense's
  eMD library, whose defaults are +/-2 g and +/-2000 deg/s; nothing in the BLE protocol changes
  them. So +/-2 g is assumed: samples beyond it are rejected as impossible. If a Thingy with
  other firmware shows ``bad_frames`` climbing during fast lifts, decode with
  ``options["accel_limit_g"]`` set to its real range. +/-2 g saturates on explosive lifts.
* [unverified] Motion frequency limits 5-200 Hz (``BLE_TMS_CONFIG_MPUF_MIN/MAX`` as we recall
  them; sensors.md says 1-200) and the other config limits (step 100-5000 ms, temperature
  100-5000 ms, magnetometer 100-1000 ms, wake-on-motion 0/1).

GATT profile (base UUID ``EF68xxxx-9B35-4933-9B10-52FFA9740042``)
------------------------------------------------------------------

============================================  ===========================  ==================
UUID                                          Role                         Properties
============================================  ===========================  ==================
``ef680400-9b35-4933-9b10-52ffa9740042``      Motion service               --
``ef680401-9b35-4933-9b10-52ffa9740042``      motion configuration         read, write
``ef680406-9b35-4933-9b10-52ffa9740042``      raw data                     notify
``0000180f-...`` / ``00002a19-...``           battery level (u8 %)         read, notify
============================================  ===========================  ==================

(0x0402 tap, 0x0403 orientation, 0x0404 quaternion, 0x0405 steps, 0x0407 Euler, 0x0408 rotation
matrix, 0x0409 heading and 0x040A gravity exist but are not used.) Advertised name ``Thingy``
by default (user-settable), with the Thingy configuration service ``EF680100-...`` in the
advertisement [unverified]. All fields are **little-endian**.

Raw data notification (18 bytes, no counter, no time)
-----------------------------------------------------

==========  =====  =====================  =======================================
Offset      Type   Field                  Scale
==========  =====  =====================  =======================================
0, 2, 4     i16    accelerometer x, y, z  Q6.10: raw / 1024 -> g
6, 8, 10    i16    gyroscope x, y, z      Q11.5: raw / 32 -> deg/s (saturates at +/-1024)
12, 14, 16  i16    compass x, y, z        Q12.4: raw / 16 -> uT (kept in ``info``)
==========  =====  =====================  =======================================

Configuration (9 bytes, read/write 0x0401; write the whole struct)
------------------------------------------------------------------
``step_interval_ms u16, temp_comp_interval_ms u16, magnet_comp_interval_ms u16,
motion_freq_hz u16, wake_on_motion u8``; defaults 1000 / 500 / 500 / **10 Hz** / 1.
Example, 100 Hz with the other defaults: ``E8 03 F4 01 F4 01 64 00 01``.

Streaming starts when raw-data notifications are enabled, at ``motion_freq_hz``
(`Thingy52.start_writes` writes the config first). Stopping is disabling notifications
(`Thingy52.stop_writes` is empty, so the saved rate is left as configured).
The frame has no counter or time: ``sensor_time_s`` is None and duplicated, lost or
reordered notifications cannot be detected. A notification that is not 18 bytes, or an
acceleration beyond the accelerometer's range, is a bad frame.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from ._base import Decoder, Encoder, SensorProtocol, VirtualDevice, normalize_uuid
from ._framing import Resolution, batch_from_notifications, quantize
from ._types import (
    STANDARD_GRAVITY_MPS2,
    EncodedNotification,
    GattCharacteristic,
    GattService,
    ImuBatch,
    Notification,
    StreamConfig,
    Write,
)

SERVICE_UUID = "ef680400-9b35-4933-9b10-52ffa9740042"
CONFIG_UUID = "ef680401-9b35-4933-9b10-52ffa9740042"
RAW_UUID = "ef680406-9b35-4933-9b10-52ffa9740042"
BATTERY_SERVICE_UUID = normalize_uuid("180f")
BATTERY_LEVEL_UUID = normalize_uuid("2a19")

FRAME_LEN = 18
ACC_LSB_PER_G = 1024.0  # Q6.10
GYRO_LSB_PER_DPS = 32.0  # Q11.5
COMPASS_LSB_PER_UT = 16.0  # Q12.4
ACCEL_MPS2_PER_LSB = STANDARD_GRAVITY_MPS2 / ACC_LSB_PER_G
GYRO_RADS_PER_LSB = math.pi / 180.0 / GYRO_LSB_PER_DPS

CONFIG_STRUCT = struct.Struct("<HHHHB")
#: (step, temperature, magnetometer intervals ms, motion Hz, wake on motion) at power-on.
DEFAULT_CONFIG = (1000, 500, 500, 10, 1)
#: Accepted ranges for each config field [unverified; see the module docstring].
CONFIG_LIMITS = ((100, 5000), (100, 5000), (100, 1000), (5, 200), (0, 1))

#: A constant magnetic field (uT, sensor frame) the virtual sensor reports: roughly a
#: mid-latitude Earth field with the sensor lying flat; vbt does not use the compass.
VIRTUAL_FIELD_UT = (20.0, 0.0, -40.0)


def config_bytes(motion_freq_hz: int, *, step_ms: int = 1000, temp_ms: int = 500, magnet_ms: int = 500,
                 wake_on_motion: int = 1) -> bytes:
    """The 9-byte motion configuration with the given motion (raw data) frequency."""
    return CONFIG_STRUCT.pack(step_ms, temp_ms, magnet_ms, motion_freq_hz, wake_on_motion)


def parse_config(payload: bytes) -> tuple[int, int, int, int, int] | None:
    """The config fields, or None if the struct is the wrong size or out of range."""
    if len(payload) != CONFIG_STRUCT.size:
        return None
    fields = CONFIG_STRUCT.unpack(payload)
    if any(not lo <= v <= hi for v, (lo, hi) in zip(fields, CONFIG_LIMITS, strict=True)):
        return None
    return fields  # type: ignore[return-value]


class Thingy52Decoder(Decoder):
    """Decodes raw-data notifications (18 bytes), config reads/notifications and battery level.

    Options: ``accel_limit_g`` (default: the configured range) -- the largest believable |acc|.
    """

    protocol_name = "thingy52"
    version = "1"

    def __init__(self, config: StreamConfig, *, strict: bool = False) -> None:
        super().__init__(config, strict=strict)
        self._with_gyro = config.gyro_range_dps is not None
        limit_g = float(config.options.get("accel_limit_g", config.accel_range_g))  # type: ignore[arg-type]
        self._acc_limit_lsb = limit_g * ACC_LSB_PER_G

    def _raw(self, payloads: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray | None] | None:
        good = []
        for p in payloads:
            if len(p) != FRAME_LEN:
                self._problem("bad_frames", f"raw data notification of {len(p)} bytes, expected 18",
                              nbytes=len(p), data=p)
                continue
            good.append(p)
        if not good:
            return None
        rows = np.frombuffer(b"".join(good), dtype="<i2").reshape(-1, 9)
        ok = np.abs(rows[:, 0:3]).max(axis=1) <= self._acc_limit_lsb
        if not ok.all():
            for i in np.flatnonzero(~ok):
                self._problem("bad_frames", "acceleration beyond the accelerometer range", nbytes=FRAME_LEN,
                              data=good[int(i)])
            rows = rows[ok]
            if rows.shape[0] == 0:
                return None
        self.stats.frames += rows.shape[0]
        self.stats.samples += rows.shape[0]
        self.info["compass_ut"] = (rows[-1, 6:9] / COMPASS_LSB_PER_UT).tolist()
        acc = rows[:, 0:3].astype(np.float64) * ACCEL_MPS2_PER_LSB
        gyro = rows[:, 3:6].astype(np.float64) * GYRO_RADS_PER_LSB if self._with_gyro else None
        return acc, gyro

    def _other(self, uuid: str, payload: bytes) -> None:
        if uuid == CONFIG_UUID:
            fields = parse_config(payload)
            if fields is None:
                self._problem("bad_frames", "motion config is not a valid 9-byte struct", data=payload)
                return
            self.stats.other_frames += 1
            self.info["motion_config"] = dict(zip(
                ("step_interval_ms", "temp_comp_interval_ms", "magnet_comp_interval_ms", "motion_freq_hz",
                 "wake_on_motion"), fields, strict=True))
        elif uuid == BATTERY_LEVEL_UUID:
            if len(payload) == 1 and payload[0] <= 100:
                self.stats.other_frames += 1
                self.battery_pct = float(payload[0])
            else:
                self._problem("bad_frames", "battery level must be one byte 0..100", data=payload)
        else:
            self.stats.unknown += 1

    def feed(self, char_uuid: str, payload: bytes, host_time_s: float) -> list[ImuBatch]:
        self.stats.notifications += 1
        self.stats.bytes_in += len(payload)
        uuid = normalize_uuid(char_uuid)
        if uuid != RAW_UUID:
            self._other(uuid, bytes(payload))
            return []
        got = self._raw([bytes(payload)])
        if got is None:
            return []
        return [ImuBatch(host_time_s, got[0], got[1], None, self.config.rate_hz)]

    def feed_many(
        self, char_uuid: str, payloads: Sequence[bytes], host_times_s: Sequence[float] | np.ndarray
    ) -> list[ImuBatch]:
        """Vectorised: every well-formed 18-byte notification is one sample (same result as `feed`)."""
        times = np.asarray(host_times_s, dtype=np.float64)
        if len(payloads) != times.shape[0]:
            raise ValueError(f"{len(payloads)} payloads but {times.shape[0]} host times")
        uuid = normalize_uuid(char_uuid)
        if uuid != RAW_UUID or self.strict:
            return super().feed_many(char_uuid, payloads, times)
        self.stats.notifications += len(payloads)
        self.stats.bytes_in += sum(len(p) for p in payloads)
        sizes_ok = np.fromiter((len(p) == FRAME_LEN for p in payloads), dtype=bool, count=len(payloads))
        good_times = times[sizes_ok]
        got = self._raw([bytes(p) for p in payloads])
        if got is None:
            return []
        acc, gyro = got
        if acc.shape[0] != good_times.shape[0]:  # some rejected for range: recompute which
            rows = np.frombuffer(b"".join(bytes(p) for p, k in zip(payloads, sizes_ok, strict=True) if k),
                                 dtype="<i2").reshape(-1, 9)
            good_times = good_times[np.abs(rows[:, 0:3]).max(axis=1) <= self._acc_limit_lsb]
        return batch_from_notifications(acc, gyro, None, good_times, self.config.rate_hz)


class Thingy52Encoder(Encoder):
    """Samples -> 18-byte raw-data notifications (one per sample), saturating like the chip.

    The compass field is `VIRTUAL_FIELD_UT` (not simulated; vbt does not use it).
    """

    def __init__(self, config: StreamConfig) -> None:
        super().__init__(config)
        self._acc_max_lsb = config.accel_range_g * ACC_LSB_PER_G
        self._compass = quantize(np.array(VIRTUAL_FIELD_UT), COMPASS_LSB_PER_UT)

    def encode(
        self, accel_mps2: np.ndarray, gyro_rads: np.ndarray | None, sensor_time_s: np.ndarray
    ) -> list[EncodedNotification]:
        acc = np.asarray(accel_mps2, dtype=np.float64).reshape(-1, 3)
        n = acc.shape[0]
        gyro = np.zeros((n, 3)) if gyro_rads is None else np.asarray(gyro_rads, dtype=np.float64).reshape(n, 3)
        rows = np.empty((n, 9), dtype="<i2")
        rows[:, 0:3] = np.clip(quantize(acc, 1.0 / ACCEL_MPS2_PER_LSB), -self._acc_max_lsb, self._acc_max_lsb)
        rows[:, 3:6] = quantize(gyro, 1.0 / GYRO_RADS_PER_LSB)
        rows[:, 6:9] = self._compass
        raw = rows.tobytes()
        return [EncodedNotification(RAW_UUID, raw[i * FRAME_LEN : (i + 1) * FRAME_LEN], i) for i in range(n)]


class Thingy52VirtualDevice(VirtualDevice):
    """A Thingy:52 as a state machine: the 9-byte motion config (persistent) and raw data on notify.

    Invalid config writes are rejected (the firmware answers with an ATT error; here they are
    counted in ``rejected_writes`` and change nothing).
    """

    protocol: ClassVar[type[SensorProtocol]]

    def __init__(self, name: str = "Thingy", *, battery_pct: float = 87.0) -> None:
        super().__init__(name, battery_pct=battery_pct)
        self.motion_config = config_bytes(DEFAULT_CONFIG[3])
        self.rejected_writes = 0
        self._encoder: Thingy52Encoder | None = None
        self._encoder_config: StreamConfig | None = None

    @property
    def streaming(self) -> bool:
        return RAW_UUID in self.subscribed

    def read(self, char_uuid: str) -> bytes:
        uuid = normalize_uuid(char_uuid)
        if uuid == CONFIG_UUID:
            return self.motion_config
        if uuid == BATTERY_LEVEL_UUID:
            return bytes((round(self.battery_pct),))
        return b""

    def on_write(self, char_uuid: str, payload: bytes) -> list[Notification]:
        fields = parse_config(payload) if normalize_uuid(char_uuid) == CONFIG_UUID else None
        if fields is None:
            self.rejected_writes += 1
            return []
        self.motion_config = bytes(payload)
        base = self.protocol.default_config()
        self.config = StreamConfig(float(fields[3]), base.accel_range_g, base.gyro_range_dps, {})
        return []

    def encode(
        self, accel_mps2: np.ndarray, gyro_rads: np.ndarray | None, sensor_time_s: np.ndarray
    ) -> list[EncodedNotification]:
        if self._encoder is None or self._encoder_config != self.config:
            self._encoder = Thingy52Encoder(self.config)
            self._encoder_config = self.config
        return self._encoder.encode(accel_mps2, gyro_rads, sensor_time_s)


class Thingy52(SensorProtocol):
    """Nordic Thingy:52 Motion service raw data: acc + gyro (+ compass) at 5-200 Hz, no timestamps."""

    name = "thingy52"
    display_name = "Nordic Thingy:52 (Motion service raw data)"
    name_patterns = (r"^Thingy",)
    advertised_service_uuids = ("ef680100-9b35-4933-9b10-52ffa9740042",)  # Thingy configuration service
    services = (
        GattService(
            SERVICE_UUID,
            (
                GattCharacteristic(CONFIG_UUID, ("read", "write"), "motion configuration (9 bytes)"),
                GattCharacteristic(RAW_UUID, ("notify",), "raw acc/gyro/compass"),
            ),
            "Thingy Motion service",
        ),
        GattService(BATTERY_SERVICE_UUID, (GattCharacteristic(BATTERY_LEVEL_UUID, ("read", "notify"), "battery %"),),
                    "Battery"),
    )
    notify_uuids = (RAW_UUID,)
    rates_hz = (5.0, 10.0, 20.0, 25.0, 50.0, 100.0, 200.0)
    default_rate_hz = 10.0
    accel_ranges_g = (2.0,)
    default_accel_range_g = 2.0
    gyro_ranges_dps = (2000.0,)
    default_gyro_range_dps = 2000.0
    has_sensor_clock = False
    verified_on_hardware = False
    battery_read_uuid = BATTERY_LEVEL_UUID
    stream_framing: ClassVar[str] = "packets"
    provenance = "Nordic-Thingy52-FW ble_tms.h/m_motion.c (via sensors.md); cross-checked with PyPI aiothingy 0.0.3"
    setup_notes = (
        "vbt writes the motion config for 100-200 Hz (saved by the Thingy). The accelerometer is "
        "+/-2 g [unverified]: fine for slow strength work, it saturates on explosive lifts; the gyro "
        "format saturates at 1024 deg/s."
    )

    @classmethod
    def resolution(cls, config: StreamConfig) -> Resolution:
        """Q6.10 g and Q11.5 deg/s steps; no clock."""
        return Resolution(ACCEL_MPS2_PER_LSB, GYRO_RADS_PER_LSB if config.gyro_range_dps else 0.0, 0.0)

    @classmethod
    def limits(cls, config: StreamConfig) -> tuple[float, float]:
        """Acc: the chip range; gyro: what Q11.5 can carry (+/-1024 deg/s)."""
        return config.accel_range_g * STANDARD_GRAVITY_MPS2, 32768 * GYRO_RADS_PER_LSB

    @classmethod
    def start_writes(cls, config: StreamConfig) -> list[Write]:
        rate = int(config.rate_hz)
        return [Write(CONFIG_UUID, config_bytes(rate), True, 0.0, f"motion config: raw data at {rate} Hz")]

    @classmethod
    def stop_writes(cls, config: StreamConfig) -> list[Write]:
        return []  # disabling raw-data notifications stops the stream

    @classmethod
    def decoder(cls, config: StreamConfig | None = None, *, strict: bool = False) -> Thingy52Decoder:
        return Thingy52Decoder(config or cls.default_config(), strict=strict)

    @classmethod
    def encoder(cls, config: StreamConfig | None = None) -> Thingy52Encoder:
        return Thingy52Encoder(config or cls.default_config())

    @classmethod
    def virtual_device(cls, name: str | None = None) -> Thingy52VirtualDevice:
        return Thingy52VirtualDevice(name or "Thingy")


Thingy52VirtualDevice.protocol = Thingy52

__all__ = [
    "CONFIG_UUID",
    "RAW_UUID",
    "SERVICE_UUID",
    "Thingy52",
    "Thingy52Decoder",
    "Thingy52Encoder",
    "Thingy52VirtualDevice",
    "config_bytes",
]
