"""MbientLab MetaMotion R/C/S (MetaWear protocol): wire specification and codec.

Verified on hardware: **no** -- from the vendor SDK source only.

Provenance
----------
MbientLab's C++ SDK, MetaWear-SDK-Cpp as shipped in the ``metawear`` 1.0.8 sdist on PyPI
(downloaded and read, not installed): ``src/metawear/sensor/cpp/accelerometer_bosch.cpp`` and
``accelerometer_bosch_register.h`` (register numbers per chip, ``FSR_BITMASKS`` 0x3/0x5/0x8/0xC
for BMI160 and 0-3 for BMI270, scales 16384/8192/4096/2048 LSB per g, ``set_odr``: BMI160
bwp = 2, us = 0 and BMI270 bwp = 2, us = 1 at >= 12.5 Hz, start ``03 01 01``, stop
``03 01 00``, enable ``03 02 01 00``, disable ``03 02 00 01``), ``gyro_bosch.cpp`` /
``gyro_bosch_register.h`` (config ``odr:4 | bwp:2`` then ``range:3``, LSB per deg/s 16.4 /
32.8 / 65.6 / 131.2 / 262.4, data register 5 on BMI160 and 4 on BMI270, packed 7 / 5),
``sensor_fusion.cpp`` (MODE write ``19 02 <mode> <acc_range | (gyro_range + 1) << 4>``, the
SDK itself configures acc/gyro at 100 Hz, then enables and starts them, output enable
``19 03 <mask> 00``, start ``19 01 01``, stop ``19 01 00`` + ``19 03 00 7F``),
``core/cpp/datasignal.cpp`` (subscribe = ``[module, register, 1]``, unsubscribe ``..., 0``),
``core/cpp/settings*.{h,cpp}`` (BATTERY_STATE register 0x0C, connection parameters 0x09),
``impl/cpp/datainterpreter.cpp`` (acc = i16 / scale g, gyro = i16 / scale deg/s, fusion float
vectors are m/s^2 and the SDK divides by 9.80665, corrected acc is mg) and
``impl/cpp/metawearboard.cpp`` (every command is a write *without* response except MACRO).
Summarised in ``shared/reference/sensors.md`` section 4.

GATT profile
------------

============================================  =====================  ==========================
UUID                                          Role                   Properties
============================================  =====================  ==========================
``326a9000-85cb-9195-d9dd-464cfbbae75a``      MetaWear service       --
``326a9001-85cb-9195-d9dd-464cfbbae75a``      commands               write, write w/o response
``326a9006-85cb-9195-d9dd-464cfbbae75a``      notifications          notify
============================================  =====================  ==========================

Packets (both directions): ``[module_id, register_id, payload...]``, one packet per write or
notification, at most 18 payload bytes; a read sets bit 0x80 on the register and the reply
echoes it. Modules: ACCELEROMETER 0x03, SETTINGS 0x11, GYRO 0x13, SENSOR_FUSION 0x19.
Discovery: read ``[module, 0x80]`` -> ``[module, 0x80, implementation, revision, ...]``;
accelerometer implementation 1 = BMI160 (MetaMotion R/C), 4 = BMI270 (MetaMotion S); gyro
implementation 0 = BMI160, 1 = BMI270. All multi-byte fields are **little-endian**.

==========================  ===================  ===================  =========================
Register                    BMI160               BMI270               Payload
==========================  ===================  ===================  =========================
acc power (start/stop)      03 01                03 01                1 / 0
acc data interrupt enable   03 02                03 02                01 00 / 00 01
acc config                  03 03                03 03                conf, range
acc data (1 sample)         03 04                03 04                i16 x, y, z
acc packed (3 samples)      03 1C                03 05                3 x (i16 x, y, z)
gyro power / enable / conf  13 01 / 13 02 / 13 03  same              as acc
gyro data (1 sample)        13 05                13 04                i16 x, y, z
gyro packed (3 samples)     13 07                13 05                3 x (i16 x, y, z)
==========================  ===================  ===================  =========================

* acc conf = ``odr | bwp << 4 | us << 7``: odr 0x06 25 Hz, 0x07 50, **0x08 100**, 0x09 200,
  0x0A 400 Hz; BMI160 100 Hz -> 0x28, BMI270 100 Hz -> 0xA8. Range BMI160 0x03/0x05/0x08/0x0C,
  BMI270 0/1/2/3 for +/-2/4/8/16 g; scale 32768/range LSB per g.
* gyro conf = ``odr | bwp << 4`` (odr as acc from 25 Hz, bwp 2 -> 100 Hz = 0x28); range 0
  2000, 1 1000, 2 500, 3 250, 4 125 deg/s with 16.4, 32.8, 65.6, 131.2, 262.4 LSB per deg/s (the
  SDK's factors: +/-2000 dps saturates at 32767/16.4 = 1998 deg/s).
* Sensor fusion (IMU_PLUS = mode 2): GRAVITY ``19 09`` and LINEAR_ACC ``19 0A`` notifications
  carry 3 x f32 m/s^2 each, at 100 Hz; subscribe ``19 09 01`` / ``19 0A 01``, output mask bit
  ``1 << index`` (gravity 5, linear acc 6 -> 0x60).
* Battery: write ``11 8C`` -> notification ``11 8C <charge % u8> <voltage mV u16>``.
* Connection parameters: ``11 09 <min u16> <max u16> <latency u16> <timeout u16>`` (1.25 ms
  and 10 ms units); ``11 09 06 00 06 00 00 00 58 02`` = 7.5 ms, the setting MbientLab
  recommends above 100 Hz.

Streaming choices (`MetaWear.start_writes`)
-------------------------------------------
About 100 notifications/s is the practical budget (MbientLab forum), so the packed signals
(3 samples per notification) are used whenever the streams would exceed it (acc above 100 Hz,
or acc + gyro at 100 Hz), together with the 7.5 ms connection interval. Order per the SDK:
configure, subscribe, enable, start (accelerometer, then gyro). Stop: power off, disable,
unsubscribe. ``options["chip"]`` is ``"bmi160"`` (default, MetaMotion R/C) or ``"bmi270"``
(MetaMotion S); a module-info reply in the stream overrides it.

``metawear_fusion`` (a second registry entry for the same device) runs sensor fusion and emits
**specific force** = linear acceleration + gravity (both in the sensor frame), so that its
samples mean the same as every other sensor's (+9.81 m/s^2 up at rest); the gravity vector
and linear acceleration stay available in ``info``.

What the decoder cannot know
----------------------------
No packet carries a time or counter: ``sensor_time_s`` is None, and duplicated, lost or
reordered notifications cannot be detected (``duplicates``/``out_of_order`` stay 0). Acc and
gyro (and fusion gravity and linear acc) are separate notifications; the decoder pairs them
first-in first-out (same ODR, same chip), which a lost notification would shift -- documented,
not detectable. Samples of one stream waiting more than 2 s for the other are dropped and
counted in ``info["unpaired_samples"]``. A packet of the wrong length, a fusion float that is
NaN/inf or beyond the range, or a battery reading above 100 % is a bad frame.
"""

from __future__ import annotations

import math
import struct
from collections import deque
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

SERVICE_UUID = "326a9000-85cb-9195-d9dd-464cfbbae75a"
COMMAND_UUID = "326a9001-85cb-9195-d9dd-464cfbbae75a"
NOTIFY_UUID = "326a9006-85cb-9195-d9dd-464cfbbae75a"
DEVICE_INFO_SERVICE_UUID = normalize_uuid("180a")

MOD_ACC = 0x03
MOD_SETTINGS = 0x11
MOD_GYRO = 0x13
MOD_FUSION = 0x19
READ = 0x80
REG_INFO = 0x00  # read as 0x80: module discovery

REG_POWER = 0x01
REG_INTERRUPT_ENABLE = 0x02
REG_CONFIG = 0x03
#: (module, chip) -> (single-sample data register, packed data register)
DATA_REGISTERS = {
    (MOD_ACC, "bmi160"): (0x04, 0x1C),
    (MOD_ACC, "bmi270"): (0x04, 0x05),
    (MOD_GYRO, "bmi160"): (0x05, 0x07),
    (MOD_GYRO, "bmi270"): (0x04, 0x05),
}
ACC_IMPLEMENTATION = {"bmi160": 1, "bmi270": 4}
GYRO_IMPLEMENTATION = {"bmi160": 0, "bmi270": 1}

FUSION_ENABLE = 0x01
FUSION_MODE = 0x02
FUSION_OUTPUT_ENABLE = 0x03
FUSION_GRAVITY = 0x09
FUSION_LINEAR_ACC = 0x0A
FUSION_MODE_IMU_PLUS = 2
FUSION_OUTPUT_MASK = (1 << 5) | (1 << 6)  # gravity, linear acceleration

SETTINGS_CONNECTION_PARAMS = 0x09
SETTINGS_BATTERY = 0x0C
BATTERY_READ = bytes((MOD_SETTINGS, SETTINGS_BATTERY | READ))  # 11 8C
#: 7.5 ms min/max interval, latency 0, 6 s supervision timeout (MbientLab's high-rate advice).
FAST_CONNECTION = bytes.fromhex("11 09 06 00 06 00 00 00 58 02")

#: Output data rate codes (acc and gyro; the gyro has no 12.5 Hz).
ODR_CODE = {12.5: 0x05, 25.0: 0x06, 50.0: 0x07, 100.0: 0x08, 200.0: 0x09, 400.0: 0x0A, 800.0: 0x0B, 1600.0: 0x0C}
ACC_RANGE_CODE = {
    "bmi160": {2.0: 0x03, 4.0: 0x05, 8.0: 0x08, 16.0: 0x0C},
    "bmi270": {2.0: 0x00, 4.0: 0x01, 8.0: 0x02, 16.0: 0x03},
}
GYRO_RANGE_CODE = {2000.0: 0, 1000.0: 1, 500.0: 2, 250.0: 3, 125.0: 4}
#: LSB per deg/s for each gyro range code (SDK FSR_SCALE).
GYRO_LSB_PER_DPS = (16.4, 32.8, 65.6, 131.2, 262.4)
#: Fusion MODE byte: acc range index (0-3 = 2/4/8/16 g) | (gyro index (0-3 = 2000..250) + 1) << 4.
FUSION_ACC_INDEX = {2.0: 0, 4.0: 1, 8.0: 2, 16.0: 3}
FUSION_GYRO_INDEX = {2000.0: 0, 1000.0: 1, 500.0: 2, 250.0: 3}

NOTIFICATIONS_PER_S_BUDGET = 100.0
MAX_PAIR_WAIT_S = 2.0
DPS_TO_RADS = math.pi / 180.0


def acc_lsb_per_g(range_g: float) -> float:
    """Accelerometer LSB per g: 16384 at +/-2 g ... 2048 at +/-16 g."""
    return 32768.0 / range_g


def acc_conf(rate_hz: float, chip: str) -> int:
    """acc conf byte ``odr | bwp << 4 | us << 7`` as the SDK's ``set_odr`` builds it (>= 12.5 Hz)."""
    us = 1 if chip == "bmi270" else 0
    return ODR_CODE[float(rate_hz)] | 2 << 4 | us << 7


def gyro_conf(rate_hz: float) -> int:
    """gyro conf byte ``odr | bwp << 4`` with the SDK's default bwp = 2."""
    return ODR_CODE[float(rate_hz)] | 2 << 4


def use_packed(rate_hz: float, with_gyro: bool) -> bool:
    """Packed signals whenever single-sample notifications would exceed ~100/s."""
    return rate_hz * (2 if with_gyro else 1) > NOTIFICATIONS_PER_S_BUDGET


def _chip(config: StreamConfig) -> str:
    chip = str(config.options.get("chip", "bmi160")).lower()
    if chip not in ("bmi160", "bmi270"):
        raise ValueError(f"metawear: chip {chip!r} not supported; use 'bmi160' (MetaMotion R/C) or 'bmi270' (S)")
    return chip


class _Fifo:
    """Samples of one stream waiting for their partner (numpy rows in a deque of blocks)."""

    def __init__(self) -> None:
        self.blocks: deque[np.ndarray] = deque()
        self.count = 0

    def push(self, rows: np.ndarray) -> None:
        self.blocks.append(rows)
        self.count += rows.shape[0]

    def pop(self, n: int) -> np.ndarray:
        out = []
        need = n
        while need:
            b = self.blocks[0]
            if b.shape[0] <= need:
                out.append(self.blocks.popleft())
                need -= b.shape[0]
            else:
                out.append(b[:need])
                self.blocks[0] = b[need:]
                need = 0
        self.count -= n
        return out[0] if len(out) == 1 else np.concatenate(out)

    def clear(self) -> None:
        self.blocks.clear()
        self.count = 0


class MetaWearDecoder(Decoder):
    """Decodes MetaWear notifications: acc/gyro data (single or packed), fusion, battery, module info.

    Options: ``chip`` (``bmi160``/``bmi270``), ``fusion`` (True: gravity + linear acc packets).
    """

    protocol_name = "metawear"
    version = "1"

    def __init__(self, config: StreamConfig, *, strict: bool = False) -> None:
        super().__init__(config, strict=strict)
        self.chip = _chip(config)
        self.fusion = bool(config.options.get("fusion", False))
        self._with_gyro = config.gyro_range_dps is not None and not self.fusion
        self._acc_scale = STANDARD_GRAVITY_MPS2 / acc_lsb_per_g(config.accel_range_g)
        gyro_code = GYRO_RANGE_CODE.get(float(config.gyro_range_dps or 2000.0), 0)
        self._gyro_scale = DPS_TO_RADS / GYRO_LSB_PER_DPS[gyro_code]
        self._fusion_limit = config.accel_range_g * STANDARD_GRAVITY_MPS2 * 1.05
        self._a = _Fifo()
        self._b = _Fifo()  # gyro (raw mode) or linear acceleration (fusion)
        self._max_wait = max(3, int(MAX_PAIR_WAIT_S * float(config.rate_hz)))
        self.info["unpaired_samples"] = 0
        self.info["chip"] = self.chip
        self._routes: dict[tuple[int, int], tuple[str, int]] = {}
        self._build_routes()

    def _build_routes(self) -> None:
        """(module, register) -> (stream, samples per packet) for the current chip."""
        acc_single, acc_packed = DATA_REGISTERS[(MOD_ACC, self.chip)]
        gyro_single, gyro_packed = DATA_REGISTERS[(MOD_GYRO, self.chip)]
        self._routes = {
            (MOD_ACC, acc_single): ("acc", 1),
            (MOD_ACC, acc_packed): ("acc", 3),
            (MOD_GYRO, gyro_single): ("gyro", 1),
            (MOD_GYRO, gyro_packed): ("gyro", 3),
            (MOD_FUSION, FUSION_GRAVITY): ("gravity", 1),
            (MOD_FUSION, FUSION_LINEAR_ACC): ("linear", 1),
        }

    def reset(self) -> None:
        self._a.clear()
        self._b.clear()

    def _module_info(self, module: int, payload: bytes) -> None:
        self.stats.other_frames += 1
        if len(payload) < 3:
            self.info[f"module_0x{module:02x}"] = None  # absent
            return
        impl = payload[2]
        self.info[f"module_0x{module:02x}"] = {"implementation": impl, "revision": payload[3] if len(payload) > 3 else None}
        chip = None
        if module == MOD_ACC:
            chip = {v: k for k, v in ACC_IMPLEMENTATION.items()}.get(impl)
        elif module == MOD_GYRO:
            chip = {v: k for k, v in GYRO_IMPLEMENTATION.items()}.get(impl)
        if chip and chip != self.chip:
            self.chip = chip
            self.info["chip"] = chip
            self._build_routes()

    def _battery(self, payload: bytes) -> None:
        if len(payload) != 5 or payload[2] > 100:
            self._problem("bad_frames", "battery state must be 11 8C <percent 0..100> <mV u16>", data=payload)
            return
        self.stats.other_frames += 1
        self.battery_pct = float(payload[2])
        self.info["battery_v"] = struct.unpack_from("<H", payload, 3)[0] / 1000.0

    def _packet(self, payload: bytes) -> None:
        if len(payload) < 2:
            self._problem("bad_frames", f"packet of {len(payload)} bytes has no module/register header",
                          nbytes=len(payload), data=payload)
            return
        module, register = payload[0], payload[1]
        if register == READ | REG_INFO:
            self._module_info(module, payload)
            return
        if module == MOD_SETTINGS and register == READ | SETTINGS_BATTERY:
            self._battery(payload)
            return
        route = self._routes.get((module, register))
        if route is None:
            self.stats.unknown += 1
            return
        stream, per_packet = route
        body = payload[2:]
        if stream in ("acc", "gyro"):
            if len(body) != 6 * per_packet:
                self._problem("bad_frames", f"{stream} packet 0x{module:02x} 0x{register:02x} has {len(body)} "
                              f"data bytes, expected {6 * per_packet}", nbytes=len(payload), data=payload)
                return
            raw = np.frombuffer(body, dtype="<i2").reshape(per_packet, 3).astype(np.float64)
            if stream == "acc":
                if self.fusion:
                    self.stats.other_frames += 1
                    return
                self.stats.frames += 1
                self._a.push(raw * self._acc_scale)
            elif self._with_gyro:
                self.stats.frames += 1
                self._b.push(raw * self._gyro_scale)
            else:
                self.stats.other_frames += 1
            return
        # fusion float vectors, m/s^2
        if not self.fusion:
            self.stats.other_frames += 1
            return
        if len(body) != 12:
            self._problem("bad_frames", f"fusion packet has {len(body)} data bytes, expected 12",
                          nbytes=len(payload), data=payload)
            return
        with np.errstate(invalid="ignore"):  # a corrupted float may be a signalling NaN: rejected below
            vec = np.frombuffer(body, dtype="<f4").astype(np.float64).reshape(1, 3)
        # gravity is ~9.81 m/s^2 long; linear acceleration = specific force - gravity
        limit = 1.05 * STANDARD_GRAVITY_MPS2 if stream == "gravity" else self._fusion_limit + 1.05 * STANDARD_GRAVITY_MPS2
        if not np.isfinite(vec).all() or np.abs(vec).max() > limit:
            self._problem("bad_frames", f"fusion {stream} value {vec.ravel().tolist()} is not finite or beyond range",
                          nbytes=len(payload), data=payload)
            return
        self.stats.frames += 1
        if stream == "gravity":
            self._a.push(vec)
            self.info["gravity_mps2"] = vec.ravel().tolist()
        else:
            self._b.push(vec)
            self.info["linear_acc_mps2"] = vec.ravel().tolist()

    def _emit(self) -> tuple[np.ndarray, np.ndarray | None] | None:
        if not self.fusion and not self._with_gyro:
            if not self._a.count:
                return None
            acc = self._a.pop(self._a.count)
            self.stats.samples += acc.shape[0]
            return acc, None
        # pair first-in first-out; a stream far ahead of its partner means samples were lost
        for fifo, other in ((self._a, self._b), (self._b, self._a)):
            excess = fifo.count - other.count - self._max_wait
            if excess > 0:
                fifo.pop(excess)
                self.info["unpaired_samples"] = int(self.info["unpaired_samples"]) + excess  # type: ignore[call-overload]
        n = min(self._a.count, self._b.count)
        if n == 0:
            return None
        a = self._a.pop(n)
        b = self._b.pop(n)
        if self.fusion:
            force = a + b  # specific force = gravity + linear acceleration
            ok = np.abs(force).max(axis=1) <= self._fusion_limit
            if not ok.all():
                for _ in range(int((~ok).sum())):
                    self._problem("bad_frames", "gravity + linear acceleration exceeds the accelerometer range")
                force = force[ok]
                if force.shape[0] == 0:
                    return None
            self.stats.samples += force.shape[0]
            return force, None
        self.stats.samples += n
        return a, b

    def _feed_arrays(self, char_uuid: str, payload: bytes) -> tuple[np.ndarray, np.ndarray | None] | None:
        self.stats.notifications += 1
        self.stats.bytes_in += len(payload)
        if normalize_uuid(char_uuid) != NOTIFY_UUID:
            self.stats.unknown += 1
            return None
        self._packet(bytes(payload))
        return self._emit()

    def feed(self, char_uuid: str, payload: bytes, host_time_s: float) -> list[ImuBatch]:
        got = self._feed_arrays(char_uuid, payload)
        if got is None:
            return []
        return [ImuBatch(host_time_s, got[0], got[1], None, self.config.rate_hz)]

    def feed_many(
        self, char_uuid: str, payloads: Sequence[bytes], host_times_s: Sequence[float] | np.ndarray
    ) -> list[ImuBatch]:
        """The same per-packet path as `feed`, merged into one batch with per-sample arrival times."""
        times = np.asarray(host_times_s, dtype=np.float64)
        if len(payloads) != times.shape[0]:
            raise ValueError(f"{len(payloads)} payloads but {times.shape[0]} host times")
        accs, gyros, arrivals = [], [], []
        for payload, host_t in zip(payloads, times.tolist(), strict=True):
            got = self._feed_arrays(char_uuid, payload)
            if got is not None:
                accs.append(got[0])
                gyros.append(got[1])
                arrivals.append(np.full(got[0].shape[0], host_t))
        if not accs:
            return []
        gyro = None if gyros[0] is None else np.concatenate(gyros)  # type: ignore[arg-type]
        return batch_from_notifications(np.concatenate(accs), gyro, None, np.concatenate(arrivals),
                                        self.config.rate_hz)


class MetaWearFusionDecoder(MetaWearDecoder):
    """The MetaWear decoder labelled for the fusion protocol (errors name ``metawear_fusion``)."""

    protocol_name = "metawear_fusion"


class MetaWearEncoder(Encoder):
    """Samples -> the notifications a MetaMotion sends: acc (+gyro) single or packed, or fusion.

    Packed signals are used exactly when `start_writes` subscribes them (`use_packed`), unless
    ``options["packed"]`` says otherwise. A partly filled packed packet is never sent (the
    firmware only sends full ones), so `flush` returns nothing for packed streams.
    In fusion mode the gravity vector is an on-the-fly estimate (a 1 s low-pass of the
    specific force, scaled to 9.80665 m/s^2) standing in for the Bosch fusion's; the linear
    acceleration is the specific force minus it, so their sum is the input up to f32 rounding.
    """

    def __init__(self, config: StreamConfig) -> None:
        super().__init__(config)
        self.chip = _chip(config)
        self.fusion = bool(config.options.get("fusion", False))
        self.with_gyro = config.gyro_range_dps is not None and not self.fusion
        self.packed = bool(config.options.get("packed", use_packed(config.rate_hz, self.with_gyro))) and not self.fusion
        self._acc_lsb_per_mps2 = acc_lsb_per_g(config.accel_range_g) / STANDARD_GRAVITY_MPS2
        code = GYRO_RANGE_CODE.get(float(config.gyro_range_dps or 2000.0), 0)
        self._gyro_lsb_per_rads = GYRO_LSB_PER_DPS[code] / DPS_TO_RADS
        self._acc_reg = DATA_REGISTERS[(MOD_ACC, self.chip)][1 if self.packed else 0]
        self._gyro_reg = DATA_REGISTERS[(MOD_GYRO, self.chip)][1 if self.packed else 0]
        self._pending_acc = np.zeros((0, 3), dtype=np.int64)
        self._pending_gyro = np.zeros((0, 3), dtype=np.int64)
        self._gravity: np.ndarray | None = None
        self._last_t: float | None = None

    def _fusion(self, acc: np.ndarray, t: np.ndarray) -> list[EncodedNotification]:
        out = []
        fs = self.config.accel_range_g * STANDARD_GRAVITY_MPS2
        acc = np.clip(acc, -fs, fs)
        for i in range(acc.shape[0]):
            a = acc[i]
            dt = 0.0 if self._last_t is None else max(float(t[i]) - self._last_t, 0.0)
            self._last_t = float(t[i])
            norm = float(np.linalg.norm(a))
            if self._gravity is None:
                self._gravity = a / norm * STANDARD_GRAVITY_MPS2 if norm > 1e-6 else np.array([0.0, 0.0, STANDARD_GRAVITY_MPS2])
            else:
                alpha = min(dt / 1.0, 1.0)  # 1 s time constant
                g = self._gravity + alpha * (a - self._gravity)
                gn = float(np.linalg.norm(g))
                if gn > 1e-6:
                    self._gravity = g / gn * STANDARD_GRAVITY_MPS2
            grav32 = self._gravity.astype("<f4")
            linear32 = (a - grav32.astype(np.float64)).astype("<f4")
            out.append(EncodedNotification(NOTIFY_UUID, bytes((MOD_FUSION, FUSION_GRAVITY)) + grav32.tobytes(), i))
            out.append(EncodedNotification(NOTIFY_UUID, bytes((MOD_FUSION, FUSION_LINEAR_ACC)) + linear32.tobytes(), i))
        return out

    def encode(
        self, accel_mps2: np.ndarray, gyro_rads: np.ndarray | None, sensor_time_s: np.ndarray
    ) -> list[EncodedNotification]:
        acc = np.asarray(accel_mps2, dtype=np.float64).reshape(-1, 3)
        n = acc.shape[0]
        t = np.asarray(sensor_time_s, dtype=np.float64).reshape(n)
        if self.fusion:
            return self._fusion(acc, t)
        raw_acc = quantize(acc, self._acc_lsb_per_mps2)
        raw_gyro = None
        if self.with_gyro:
            g = np.zeros((n, 3)) if gyro_rads is None else np.asarray(gyro_rads, dtype=np.float64).reshape(n, 3)
            raw_gyro = quantize(g, self._gyro_lsb_per_rads)
        if not self.packed:
            out = []
            for i in range(n):
                out.append(EncodedNotification(NOTIFY_UUID, bytes((MOD_ACC, self._acc_reg)) + raw_acc[i].astype("<i2").tobytes(), i))
                if raw_gyro is not None:
                    out.append(EncodedNotification(NOTIFY_UUID, bytes((MOD_GYRO, self._gyro_reg)) + raw_gyro[i].astype("<i2").tobytes(), i))
            return out
        carried = self._pending_acc.shape[0]
        all_acc = np.concatenate([self._pending_acc, raw_acc])
        all_gyro = np.concatenate([self._pending_gyro, raw_gyro]) if raw_gyro is not None else None
        full = all_acc.shape[0] // 3 * 3
        out = []
        for k in range(0, full, 3):
            last = k + 2 - carried
            out.append(EncodedNotification(NOTIFY_UUID, bytes((MOD_ACC, self._acc_reg)) + all_acc[k : k + 3].astype("<i2").tobytes(), last))
            if all_gyro is not None:
                out.append(EncodedNotification(NOTIFY_UUID, bytes((MOD_GYRO, self._gyro_reg)) + all_gyro[k : k + 3].astype("<i2").tobytes(), last))
        self._pending_acc = all_acc[full:]
        if all_gyro is not None:
            self._pending_gyro = all_gyro[full:]
        return out


class MetaWearVirtualDevice(VirtualDevice):
    """A MetaMotion board as a state machine: module info, acc/gyro/fusion registers, battery.

    Streams what the host configured, subscribed, enabled and started, in the packet format it
    subscribed (single or packed). Writes to unknown modules are ignored (the firmware does the
    same); ``ignored_writes`` counts them. A disconnect drops the BLE subscription but the
    firmware keeps its module state [assumption: MbientLab recommends a reset after reconnecting].
    """

    protocol: ClassVar[type[SensorProtocol]]

    def __init__(self, name: str = "MetaWear", *, battery_pct: float = 87.0, chip: str = "bmi160") -> None:
        super().__init__(name, battery_pct=battery_pct)
        self.chip = chip
        self.ignored_writes = 0
        self.registers: dict[tuple[int, int], bytes] = {
            (MOD_ACC, REG_CONFIG): bytes((acc_conf(100.0, chip), ACC_RANGE_CODE[chip][2.0])),
            (MOD_GYRO, REG_CONFIG): bytes((gyro_conf(100.0), GYRO_RANGE_CODE[2000.0])),
            (MOD_FUSION, FUSION_MODE): bytes((0, 0x13)),
        }
        self.powered: set[int] = set()
        self.enabled: set[int] = set()
        #: (module, register) signals the host subscribed to with ``[module, register, 1]``.
        self.routes: set[tuple[int, int]] = set()
        self.fusion_running = False
        self.fusion_mask = 0
        self.connection_params: bytes | None = None
        self._encoder: MetaWearEncoder | None = None
        self._encoder_config: StreamConfig | None = None

    def _data_regs(self, module: int) -> tuple[int, int]:
        return DATA_REGISTERS[(module, self.chip)]

    @property
    def streaming(self) -> bool:
        if NOTIFY_UUID not in self.subscribed:
            return False
        if self.fusion_running:
            return (MOD_FUSION, FUSION_LINEAR_ACC) in self.routes and (MOD_FUSION, FUSION_GRAVITY) in self.routes
        return MOD_ACC in self.powered and MOD_ACC in self.enabled and any(
            (MOD_ACC, r) in self.routes for r in self._data_regs(MOD_ACC)
        )

    def _rate_from_conf(self, conf: int) -> float:
        code = conf & 0x0F
        return {v: k for k, v in ODR_CODE.items()}.get(code, 100.0)

    def _current_config(self) -> StreamConfig:
        acc_conf_b, acc_range_b = self.registers[(MOD_ACC, REG_CONFIG)]
        acc_range = {v: k for k, v in ACC_RANGE_CODE[self.chip].items()}.get(acc_range_b, 2.0)
        rate = self._rate_from_conf(acc_conf_b)
        opts: dict[str, object] = {"chip": self.chip}
        if self.fusion_running:
            opts["fusion"] = True
            return StreamConfig(100.0, acc_range, None, opts)
        gyro = None
        gyro_active = MOD_GYRO in self.powered and MOD_GYRO in self.enabled and any(
            (MOD_GYRO, r) in self.routes for r in self._data_regs(MOD_GYRO))
        if gyro_active:
            g_range_code = self.registers[(MOD_GYRO, REG_CONFIG)][1] & 0x07
            gyro = {v: k for k, v in GYRO_RANGE_CODE.items()}.get(g_range_code, 2000.0)
        packed_reg = self._data_regs(MOD_ACC)[1]
        opts["packed"] = (MOD_ACC, packed_reg) in self.routes
        return StreamConfig(rate, acc_range, gyro, opts)

    def _reply(self, payload: bytes) -> list[Notification]:
        return [Notification(NOTIFY_UUID, payload)] if NOTIFY_UUID in self.subscribed else []

    def on_write(self, char_uuid: str, payload: bytes) -> list[Notification]:
        if normalize_uuid(char_uuid) != COMMAND_UUID or len(payload) < 2 or len(payload) > 20:
            self.ignored_writes += 1
            return []
        module, register, body = payload[0], payload[1], payload[2:]
        if register == READ | REG_INFO:
            info = {
                MOD_ACC: bytes((ACC_IMPLEMENTATION[self.chip], 1)),
                MOD_GYRO: bytes((GYRO_IMPLEMENTATION[self.chip], 1)),
                MOD_FUSION: bytes((0, 2)),
                MOD_SETTINGS: bytes((0, 9)),
            }.get(module, b"")
            return self._reply(bytes((module, READ)) + info)
        if module == MOD_SETTINGS:
            if register == READ | SETTINGS_BATTERY:
                mv = round(3300 + 9 * self.battery_pct)  # a Li-ion-like 3.3-4.2 V curve
                return self._reply(bytes((MOD_SETTINGS, READ | SETTINGS_BATTERY, round(self.battery_pct))) + struct.pack("<H", mv))
            if register == SETTINGS_CONNECTION_PARAMS and len(body) == 8:
                self.connection_params = bytes(body)
                return []
        elif module in (MOD_ACC, MOD_GYRO):
            single, packed = self._data_regs(module)
            if register == REG_POWER and len(body) == 1:
                (self.powered.add if body[0] else self.powered.discard)(module)
            elif register == REG_INTERRUPT_ENABLE and len(body) == 2:
                if body[0]:
                    self.enabled.add(module)
                if body[1]:
                    self.enabled.discard(module)
            elif register == REG_CONFIG and len(body) == 2:
                self.registers[(module, REG_CONFIG)] = bytes(body)
            elif register in (single, packed) and len(body) == 1:
                (self.routes.add if body[0] else self.routes.discard)((module, register))
            else:
                self.ignored_writes += 1
            self.config = self._current_config()
            return []
        elif module == MOD_FUSION:
            if register == FUSION_MODE and len(body) == 2:
                self.registers[(MOD_FUSION, FUSION_MODE)] = bytes(body)
            elif register == FUSION_OUTPUT_ENABLE and len(body) == 2:
                self.fusion_mask = (self.fusion_mask | body[0]) & ~body[1]
            elif register == FUSION_ENABLE and len(body) == 1:
                self.fusion_running = bool(body[0]) and self.registers[(MOD_FUSION, FUSION_MODE)][0] != 0
            elif register in (FUSION_GRAVITY, FUSION_LINEAR_ACC) and len(body) == 1:
                (self.routes.add if body[0] else self.routes.discard)((MOD_FUSION, register))
            else:
                self.ignored_writes += 1
            self.config = self._current_config()
            return []
        self.ignored_writes += 1
        return []

    def encode(
        self, accel_mps2: np.ndarray, gyro_rads: np.ndarray | None, sensor_time_s: np.ndarray
    ) -> list[EncodedNotification]:
        if self._encoder is None or self._encoder_config != self.config:
            self._encoder = MetaWearEncoder(self.config)
            self._encoder_config = self.config
        return self._encoder.encode(accel_mps2, gyro_rads, sensor_time_s)


class MetaWear(SensorProtocol):
    """MbientLab MetaMotion R/C (BMI160) and S (BMI270): raw accelerometer + gyro streaming."""

    name = "metawear"
    display_name = "MbientLab MetaMotion R/C/S (MetaWear)"
    name_patterns = (r"^MetaWear\b", r"^MetaMotion")
    advertised_service_uuids = (SERVICE_UUID,)
    services = (
        GattService(
            SERVICE_UUID,
            (
                GattCharacteristic(COMMAND_UUID, ("write-without-response", "write"), "commands [module, register, ...]"),
                GattCharacteristic(NOTIFY_UUID, ("notify",), "data and read replies"),
            ),
            "MetaWear",
        ),
    )
    notify_uuids = (NOTIFY_UUID,)
    rates_hz = (25.0, 50.0, 100.0, 200.0, 400.0)
    default_rate_hz = 100.0
    accel_ranges_g = (2.0, 4.0, 8.0, 16.0)
    default_accel_range_g = 2.0
    gyro_ranges_dps = (125.0, 250.0, 500.0, 1000.0, 2000.0)
    default_gyro_range_dps = 2000.0
    has_sensor_clock = False
    verified_on_hardware = False
    stream_framing: ClassVar[str] = "packets"
    provenance = "MetaWear-SDK-Cpp (in the PyPI metawear 1.0.8 sdist): accelerometer_bosch, gyro_bosch, sensor_fusion, settings, datainterpreter"
    setup_notes = (
        "Press the button to wake it. Above 100 Hz (or acc + gyro at 100 Hz) vbt uses the packed "
        "signals and a 7.5 ms connection interval; 200 Hz with gyro is the recommended setting. "
        "Set options chip=bmi270 for a MetaMotionS (or let vbt read it from the board)."
    )

    @classmethod
    def resolution(cls, config: StreamConfig) -> Resolution:
        """One LSB: range/32768 g; gyro 1/(16.4..262.4) deg/s; no clock."""
        acc = STANDARD_GRAVITY_MPS2 / acc_lsb_per_g(config.accel_range_g)
        gyro = 0.0
        if config.gyro_range_dps is not None:
            gyro = DPS_TO_RADS / GYRO_LSB_PER_DPS[GYRO_RANGE_CODE[float(config.gyro_range_dps)]]
        return Resolution(acc, gyro, 0.0)

    @classmethod
    def limits(cls, config: StreamConfig) -> tuple[float, float]:
        """The i16 full scale with the SDK's factors (+/-2000 dps reads at most 1998 deg/s)."""
        res = cls.resolution(config)
        return 32768 * res.accel_mps2, 32768 * res.gyro_rads

    @classmethod
    def _acc_writes(cls, config: StreamConfig, chip: str, packed: bool) -> tuple[list[Write], list[Write], list[Write], list[Write]]:
        single, packed_reg = DATA_REGISTERS[(MOD_ACC, chip)]
        reg = packed_reg if packed else single
        rng = ACC_RANGE_CODE[chip][float(config.accel_range_g)]
        return (
            [Write(COMMAND_UUID, bytes((MOD_ACC, REG_CONFIG, acc_conf(config.rate_hz, chip), rng)), False, 0.0,
                   f"acc config {config.rate_hz:g} Hz +/-{config.accel_range_g:g} g")],
            [Write(COMMAND_UUID, bytes((MOD_ACC, reg, 1)), False, 0.0, "subscribe acc " + ("packed" if packed else "data"))],
            [Write(COMMAND_UUID, bytes((MOD_ACC, REG_INTERRUPT_ENABLE, 1, 0)), False, 0.0, "enable acc sampling")],
            [Write(COMMAND_UUID, bytes((MOD_ACC, REG_POWER, 1)), False, 0.0, "start acc")],
        )

    @classmethod
    def _gyro_writes(cls, config: StreamConfig, chip: str, packed: bool) -> tuple[list[Write], list[Write], list[Write], list[Write]]:
        single, packed_reg = DATA_REGISTERS[(MOD_GYRO, chip)]
        reg = packed_reg if packed else single
        rng = GYRO_RANGE_CODE[float(config.gyro_range_dps or 2000.0)]
        return (
            [Write(COMMAND_UUID, bytes((MOD_GYRO, REG_CONFIG, gyro_conf(config.rate_hz), rng)), False, 0.0,
                   f"gyro config {config.rate_hz:g} Hz {config.gyro_range_dps:g} dps")],
            [Write(COMMAND_UUID, bytes((MOD_GYRO, reg, 1)), False, 0.0, "subscribe gyro " + ("packed" if packed else "data"))],
            [Write(COMMAND_UUID, bytes((MOD_GYRO, REG_INTERRUPT_ENABLE, 1, 0)), False, 0.0, "enable gyro sampling")],
            [Write(COMMAND_UUID, bytes((MOD_GYRO, REG_POWER, 1)), False, 0.0, "start gyro")],
        )

    @classmethod
    def start_writes(cls, config: StreamConfig) -> list[Write]:
        chip = _chip(config)
        with_gyro = config.gyro_range_dps is not None
        packed = use_packed(config.rate_hz, with_gyro)
        writes: list[Write] = []
        if packed:
            writes.append(Write(COMMAND_UUID, FAST_CONNECTION, False, 0.0, "7.5 ms connection interval"))
        acc = cls._acc_writes(config, chip, packed)
        gyro = cls._gyro_writes(config, chip, packed) if with_gyro else ([], [], [], [])
        for step in range(4):  # configure, subscribe, enable, start -- acc then gyro
            writes += acc[step] + gyro[step]
        return writes

    @classmethod
    def stop_writes(cls, config: StreamConfig) -> list[Write]:
        chip = _chip(config)
        with_gyro = config.gyro_range_dps is not None
        packed = use_packed(config.rate_hz, with_gyro)
        writes = [Write(COMMAND_UUID, bytes((MOD_ACC, REG_POWER, 0)), False, 0.0, "stop acc"),
                  Write(COMMAND_UUID, bytes((MOD_ACC, REG_INTERRUPT_ENABLE, 0, 1)), False, 0.0, "disable acc sampling"),
                  Write(COMMAND_UUID, bytes((MOD_ACC, DATA_REGISTERS[(MOD_ACC, chip)][int(packed)], 0)), False, 0.0,
                        "unsubscribe acc")]
        if with_gyro:
            writes += [Write(COMMAND_UUID, bytes((MOD_GYRO, REG_POWER, 0)), False, 0.0, "stop gyro"),
                       Write(COMMAND_UUID, bytes((MOD_GYRO, REG_INTERRUPT_ENABLE, 0, 1)), False, 0.0, "disable gyro sampling"),
                       Write(COMMAND_UUID, bytes((MOD_GYRO, DATA_REGISTERS[(MOD_GYRO, chip)][int(packed)], 0)), False, 0.0,
                             "unsubscribe gyro")]
        return writes

    @classmethod
    def battery_writes(cls) -> list[Write]:
        return [Write(COMMAND_UUID, BATTERY_READ, False, 0.0, "read battery state (11 8C)")]

    @classmethod
    def module_info_writes(cls) -> list[Write]:
        """Reads that reveal the chip variant (``03 80``, ``13 80``); replies update the decoder."""
        return [Write(COMMAND_UUID, bytes((m, READ | REG_INFO)), False, 0.0, f"read module 0x{m:02x} info")
                for m in (MOD_ACC, MOD_GYRO)]

    @classmethod
    def decoder(cls, config: StreamConfig | None = None, *, strict: bool = False) -> MetaWearDecoder:
        return MetaWearDecoder(config or cls.default_config(), strict=strict)

    @classmethod
    def encoder(cls, config: StreamConfig | None = None) -> MetaWearEncoder:
        return MetaWearEncoder(config or cls.default_config())

    @classmethod
    def virtual_device(cls, name: str | None = None) -> MetaWearVirtualDevice:
        return MetaWearVirtualDevice(name or "MetaWear")


class MetaWearFusionVirtualDevice(MetaWearVirtualDevice):
    """The same virtual board, labelled for the fusion protocol (power-on config = fusion defaults)."""


class MetaWearFusion(MetaWear):
    """The same board running Bosch sensor fusion (IMU_PLUS): gravity + linear acceleration at 100 Hz.

    Options: ``chip``, ``fusion_gyro_range_dps`` (2000 default; the fusion's gyro setting).
    """

    name = "metawear_fusion"
    display_name = "MbientLab MetaMotion, sensor fusion (linear acc + gravity)"
    name_patterns = ()
    advertised_service_uuids = ()
    rates_hz = (100.0,)
    default_rate_hz = 100.0
    gyro_ranges_dps = ()
    default_gyro_range_dps = None
    accel_ranges_g = (2.0, 4.0, 8.0, 16.0)
    default_accel_range_g = 16.0  # the SDK's fusion default

    @classmethod
    def default_config(cls) -> StreamConfig:
        return StreamConfig(100.0, 16.0, None, {"fusion": True})

    @classmethod
    def make_config(cls, rate_hz: float | None = None, accel_range_g: float | None = None,
                    gyro_range_dps: float | None | bool = True, **options: object) -> StreamConfig:
        config = super().make_config(rate_hz, accel_range_g, False, **options)
        return StreamConfig(config.rate_hz, config.accel_range_g, None, {"fusion": True, **config.options})

    @classmethod
    def resolution(cls, config: StreamConfig) -> Resolution:
        """f32 rounding of gravity and linear acceleration (two roundings near full scale)."""
        fs = config.accel_range_g * STANDARD_GRAVITY_MPS2
        return Resolution(4.0 * fs * 2.0**-23, 0.0, 0.0)

    @classmethod
    def limits(cls, config: StreamConfig) -> tuple[float, float]:
        """Specific force beyond 1.05 x the accelerometer range is impossible (f32 sums are checked)."""
        return 1.05 * config.accel_range_g * STANDARD_GRAVITY_MPS2, 0.0

    @classmethod
    def start_writes(cls, config: StreamConfig) -> list[Write]:
        chip = _chip(config)
        gyro_range = float(config.options.get("fusion_gyro_range_dps", 2000.0))  # type: ignore[arg-type]
        mode_ranges = FUSION_ACC_INDEX[float(config.accel_range_g)] | (FUSION_GYRO_INDEX[gyro_range] + 1) << 4
        sensors = StreamConfig(100.0, config.accel_range_g, gyro_range, {"chip": chip})
        acc = cls._acc_writes(sensors, chip, False)
        gyro = cls._gyro_writes(sensors, chip, False)
        return [
            Write(COMMAND_UUID, bytes((MOD_FUSION, FUSION_MODE, FUSION_MODE_IMU_PLUS, mode_ranges)), False, 0.0,
                  "fusion mode IMU_PLUS"),
            *acc[0], *gyro[0],  # the SDK's write_config sets acc and gyro to 100 Hz itself
            Write(COMMAND_UUID, bytes((MOD_FUSION, FUSION_GRAVITY, 1)), False, 0.0, "subscribe gravity"),
            Write(COMMAND_UUID, bytes((MOD_FUSION, FUSION_LINEAR_ACC, 1)), False, 0.0, "subscribe linear acc"),
            *acc[2], *gyro[2], *acc[3], *gyro[3],
            Write(COMMAND_UUID, bytes((MOD_FUSION, FUSION_OUTPUT_ENABLE, FUSION_OUTPUT_MASK, 0)), False, 0.0,
                  "enable gravity + linear acc outputs"),
            Write(COMMAND_UUID, bytes((MOD_FUSION, FUSION_ENABLE, 1)), False, 0.0, "start fusion"),
        ]

    @classmethod
    def stop_writes(cls, config: StreamConfig) -> list[Write]:
        return [
            Write(COMMAND_UUID, bytes((MOD_FUSION, FUSION_ENABLE, 0)), False, 0.0, "stop fusion"),
            Write(COMMAND_UUID, bytes((MOD_FUSION, FUSION_OUTPUT_ENABLE, 0, 0x7F)), False, 0.0, "clear fusion outputs"),
            Write(COMMAND_UUID, bytes((MOD_ACC, REG_POWER, 0)), False, 0.0, "stop acc"),
            Write(COMMAND_UUID, bytes((MOD_GYRO, REG_POWER, 0)), False, 0.0, "stop gyro"),
            Write(COMMAND_UUID, bytes((MOD_ACC, REG_INTERRUPT_ENABLE, 0, 1)), False, 0.0, "disable acc sampling"),
            Write(COMMAND_UUID, bytes((MOD_GYRO, REG_INTERRUPT_ENABLE, 0, 1)), False, 0.0, "disable gyro sampling"),
            Write(COMMAND_UUID, bytes((MOD_FUSION, FUSION_GRAVITY, 0)), False, 0.0, "unsubscribe gravity"),
            Write(COMMAND_UUID, bytes((MOD_FUSION, FUSION_LINEAR_ACC, 0)), False, 0.0, "unsubscribe linear acc"),
        ]

    @classmethod
    def decoder(cls, config: StreamConfig | None = None, *, strict: bool = False) -> MetaWearDecoder:
        config = config or cls.default_config()
        return MetaWearFusionDecoder(StreamConfig(config.rate_hz, config.accel_range_g, None,
                                                  {**config.options, "fusion": True}), strict=strict)

    @classmethod
    def encoder(cls, config: StreamConfig | None = None) -> MetaWearEncoder:
        config = config or cls.default_config()
        return MetaWearEncoder(StreamConfig(config.rate_hz, config.accel_range_g, None, {**config.options, "fusion": True}))

    @classmethod
    def virtual_device(cls, name: str | None = None) -> MetaWearVirtualDevice:
        return MetaWearFusionVirtualDevice(name or "MetaWear")


MetaWearVirtualDevice.protocol = MetaWear
MetaWearFusionVirtualDevice.protocol = MetaWearFusion

__all__ = [
    "COMMAND_UUID",
    "NOTIFY_UUID",
    "SERVICE_UUID",
    "MetaWear",
    "MetaWearDecoder",
    "MetaWearEncoder",
    "MetaWearFusion",
    "MetaWearVirtualDevice",
]
