"""WitMotion BLE 5.0 IMUs (WT901BLECL 5.0, WT9011DCL-BT5.0): wire specification and codec.

Verified on hardware: **no** -- from the vendor SDK source and datasheet only.

Provenance
----------
* WitMotion's own SDK, github.com/WITMOTION/WitBluetooth_BWT901BLE5_0:
  ``Python/BWT901BLE5.0_python_sdk/device_model.py`` (UUIDs, 0x61/0x71 framing and scales,
  ``writeReg`` = unlock / 100 ms / write / 100 ms / save), ``IOS_swift/...ProtocolResolver.swift``
  and ``...DataProcessor.swift`` (register polling, battery table), ``Windows_C#/.../Form1.cs``
  (bandwidth codes 0x04 = 20 Hz and 0x00 = 256 Hz). Summarised in
  ``shared/reference/sensors.md`` section 2 (tagged [src]/[doc]).
* WT901BLECL datasheet v20-0707 pp. 12-16 (register table, unlock, save).
* Rate codes 0x01-0x0D: WitMotion's WT901-family register table (HWT905 datasheet); checked
  against the third-party ``witmotion`` 0.0.1.dev0 package on PyPI (``protocol.py``,
  ``ReturnRateSelect``: 0x01 = 0.2 Hz ... 0x0B = 200 Hz, 0x0C single, 0x0D off) and its
  register enum (0x00 SAVE, 0x01 CALSW, 0x03 RATE, 0x3A-0x3C mag, 0x40 TEMP, 0x51-0x54 quaternion).
  [unverified] The WT901 datasheet names code 0x01 "0.1 Hz"; we follow the package (0.2 Hz).
* Bandwidth codes other than 0x00/0x04 (0x01 188, 0x02 98, 0x03 42, 0x05 10, 0x06 5 Hz) are the
  MPU-9250 digital low-pass settings the WT901 register 0x1F exposes [unverified on this module].

GATT profile (all three UUIDs use WitMotion's *non-standard* base ``...-00805f9a34fb``; note
``9a`` where the Bluetooth base UUID has ``9b``, so short forms like ``ffe4`` do not expand to
them -- the decoder accepts both spellings):

==========================================  ===========================  =====================
UUID                                        Role                         Properties
==========================================  ===========================  =====================
``0000ffe5-0000-1000-8000-00805f9a34fb``    service                      --
``0000ffe4-0000-1000-8000-00805f9a34fb``    data stream (0x61, 0x71)     notify
``0000ffe9-0000-1000-8000-00805f9a34fb``    commands                     write, write w/o resp
==========================================  ===========================  =====================

Advertisement: the SDK keeps devices whose name contains ``"WT"``; seen names are
``WT901BLE67``, ``WT901BLE68``, ``WT9011DCL...`` -- we match ``^B?WT9\\d`` plus the FFE5 service.

Streaming starts as soon as notifications on FFE4 are enabled, at the saved rate (10 Hz from
the factory). Every multi-byte field is **little-endian**.

0x61 data frame (20 bytes, no checksum)
---------------------------------------

======  =====  ====================  ================================================
Offset  Type   Field                 Scale
======  =====  ====================  ================================================
0       u8     header ``0x55``
1       u8     flag ``0x61``
2,4,6   i16    acc X, Y, Z           raw / 32768 * 16 g  (* 9.80665 -> m/s^2)
8,10,12 i16    gyro X, Y, Z          raw / 32768 * 2000 deg/s  (* pi/180 -> rad/s)
14..18  i16    roll, pitch, yaw      raw / 32768 * 180 deg (on-board Kalman angles)
======  =====  ====================  ================================================

The SDK scales acceleration as +/-16 g whatever register 0x21 (ACCRANGE) holds, so this codec
supports the 16 g / 2000 dps full scale only. Because 16 g and 2000 dps map onto the whole i16
range, no decoded value can exceed full scale.

0x71 register reply (20 bytes)
------------------------------
``55 71 <reg u16> <v0..v7: 8 x i16>`` -- the values of registers ``reg`` .. ``reg+7``, the
answer to a ``FF AA 27 <reg> 00`` read. Registers this decoder interprets: 0x03 RATE code,
0x1F BANDWIDTH code, 0x2E/0x2F firmware version, 0x40 temperature (/100 -> degC), **0x64
battery** (/100 -> V). The battery voltage maps to percent with the SDK's step table
(>= 3.96 V -> 100 %, 3.93 -> 90, 3.87 -> 75, 3.82 -> 60, 3.79 -> 50, 3.77 -> 40, 3.73 -> 30,
3.70 -> 20, 3.68 -> 15, 3.50 -> 10, 3.40 -> 5, else 0), giving `Decoder.battery_pct`.

Commands (5 bytes written to FFE9): ``FF AA <reg> <value u16 LE>``
------------------------------------------------------------------

==================  ====================  ===================================================
Purpose             Bytes                 Notes
==================  ====================  ===================================================
Unlock              ``FF AA 69 88 B5``    register writes are accepted for ~10 s afterwards
Save                ``FF AA 00 00 00``    persist registers to flash (``00 01 00`` = defaults)
Return rate         ``FF AA 03 RR 00``    RR: 0x01 0.2 Hz, 0x02 0.5, 0x03 1, 0x04 2, 0x05 5,
                                          **0x06 10 (default)**, 0x07 20, 0x08 50, 0x09 100,
                                          0x0A 125, **0x0B 200**, 0x0C single, 0x0D off
Bandwidth           ``FF AA 1F BW 00``    0x00 256 Hz, 0x01 188, 0x02 98, 0x03 42, 0x04 20,
                                          0x05 10, 0x06 5
Acc calibration     ``FF AA 01 01 00``    CALSW register; ``01 00 00`` back to normal
Mag calibration     ``FF AA 01 07 00``    end with ``FF AA 01 00 00``
Register read       ``FF AA 27 RG 00``    reply: one 0x71 frame on FFE4
==================  ====================  ===================================================

`WitMotion.start_writes` follows the SDK's ``writeReg`` for RATE and then BANDWIDTH (unlock,
100 ms, write, 100 ms, save, 100 ms each). The bandwidth is the widest low-pass setting not
above the Nyquist frequency (200 Hz -> 98 Hz, 100 Hz -> 42 Hz, 50 Hz -> 20 Hz), overridable
with ``options["bandwidth_hz"]``. Stopping is disabling notifications on FFE4 (what the SDK
does); `WitMotion.stop_writes` is empty on purpose so that the sensor's saved rate is never
left at "off" for the next app.

Framing and what the decoder can and cannot detect
--------------------------------------------------
Notifications are a byte *stream*: the module splits and merges frames across notifications,
and 0x71 replies interleave with 0x61 frames. Like the SDK, the decoder buffers bytes and cuts
20-byte frames starting at ``55 61``/``55 71``. There is no checksum, so the decoder
*confirms* each frame by the header that must follow it: a frame whose next two bytes are not
a header is rejected (``bad_frames``) and the walker resynchronises on the next ``0x55``
(``resyncs``, ``skipped_bytes``). A frame at the very end of the bytes received so far is
accepted while in sync (live latency matters more than the rare truncated frame) and held
until confirmed while resynchronising. The frame carries no counter or time, so duplicated or
reordered notifications **cannot be detected** (``duplicates``/``out_of_order`` stay 0) and
``sensor_time_s`` is None: the pipeline uses host arrival time and the nominal rate (field
reports: the real rate runs ~1 % below nominal, 197.8 Hz at "200 Hz").
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from ._base import Decoder, Encoder, SensorProtocol, VirtualDevice, normalize_uuid
from ._framing import (
    Resolution,
    batch_from_notifications,
    completing_notification,
    notification_ends,
    quantize,
)
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

SERVICE_UUID = "0000ffe5-0000-1000-8000-00805f9a34fb"
NOTIFY_UUID = "0000ffe4-0000-1000-8000-00805f9a34fb"
WRITE_UUID = "0000ffe9-0000-1000-8000-00805f9a34fb"
# Some tools (and users typing "ffe4") expand the short form with the standard Bluetooth base.
_NOTIFY_UUIDS = frozenset({NOTIFY_UUID, normalize_uuid("ffe4")})
_WRITE_UUIDS = frozenset({WRITE_UUID, normalize_uuid("ffe9")})

FRAME_LEN = 20
HEADER = 0x55
FLAG_DATA = 0x61
FLAG_REGISTER = 0x71
_FLAGS = (FLAG_DATA, FLAG_REGISTER)

ACCEL_FULL_SCALE_G = 16.0
GYRO_FULL_SCALE_DPS = 2000.0
ANGLE_FULL_SCALE_DEG = 180.0
#: m/s^2 per LSB and rad/s per LSB of the 0x61 frame (SDK: raw / 32768 * full scale).
ACCEL_MPS2_PER_LSB = ACCEL_FULL_SCALE_G * STANDARD_GRAVITY_MPS2 / 32768.0
GYRO_RADS_PER_LSB = GYRO_FULL_SCALE_DPS * math.pi / 180.0 / 32768.0

# Registers (WT901 register table).
REG_SAVE = 0x00
REG_CALSW = 0x01
REG_RATE = 0x03
REG_BANDWIDTH = 0x1F
REG_ACCRANGE = 0x21
REG_READ = 0x27
REG_VERSION_L = 0x2E
REG_VERSION_H = 0x2F
REG_AX = 0x34
REG_GX = 0x37
REG_HX = 0x3A
REG_ROLL = 0x3D
REG_TEMP = 0x40
REG_Q0 = 0x51
REG_BATTERY = 0x64
REG_KEY = 0x69
UNLOCK_VALUE = 0xB588

#: RATE register code -> output rate (Hz). 0x0C = single frame, 0x0D = output off.
RATE_HZ_BY_CODE: dict[int, float] = {
    0x01: 0.2, 0x02: 0.5, 0x03: 1.0, 0x04: 2.0, 0x05: 5.0, 0x06: 10.0,
    0x07: 20.0, 0x08: 50.0, 0x09: 100.0, 0x0A: 125.0, 0x0B: 200.0,
}
RATE_CODE_SINGLE = 0x0C
RATE_CODE_OFF = 0x0D
_RATE_CODE_BY_HZ = {hz: code for code, hz in RATE_HZ_BY_CODE.items()}
#: BANDWIDTH register code -> accelerometer/gyro low-pass bandwidth (Hz).
BANDWIDTH_HZ_BY_CODE: dict[int, float] = {
    0x00: 256.0, 0x01: 188.0, 0x02: 98.0, 0x03: 42.0, 0x04: 20.0, 0x05: 10.0, 0x06: 5.0,
}
_BANDWIDTH_CODE_BY_HZ = {hz: code for code, hz in BANDWIDTH_HZ_BY_CODE.items()}

#: The SDK's battery table: (minimum volts, percent), checked top-down.
BATTERY_TABLE: tuple[tuple[float, float], ...] = (
    (3.96, 100.0), (3.93, 90.0), (3.87, 75.0), (3.82, 60.0), (3.79, 50.0), (3.77, 40.0),
    (3.73, 30.0), (3.70, 20.0), (3.68, 15.0), (3.50, 10.0), (3.40, 5.0),
)
#: Battery register readings outside this range cannot come from a Li-ion cell.
_BATTERY_PLAUSIBLE_V = (2.0, 5.0)

#: Delay the SDK's writeReg waits after each step (s).
SDK_WRITE_DELAY_S = 0.1


def command(register: int, value: int) -> bytes:
    """One 5-byte command: ``FF AA <register> <value u16 LE>``."""
    return bytes((0xFF, 0xAA, register & 0xFF)) + struct.pack("<H", value & 0xFFFF)


UNLOCK = command(REG_KEY, UNLOCK_VALUE)  # FF AA 69 88 B5
SAVE = command(REG_SAVE, 0)  # FF AA 00 00 00


def battery_percent(volts: float) -> float:
    """Battery percent from cell voltage with the SDK's step table."""
    for threshold, pct in BATTERY_TABLE:
        if volts >= threshold:
            return pct
    return 0.0


def battery_volts_for_percent(pct: float) -> float:
    """A cell voltage that the SDK table maps into the band containing ``pct`` (virtual sensor)."""
    points = sorted((p, v) for v, p in BATTERY_TABLE)  # ascending percent
    if pct >= points[-1][0]:
        return 4.05
    if pct <= 0:
        return 3.30
    for (p0, v0), (p1, v1) in zip(points, points[1:], strict=False):
        if p0 <= pct < p1:
            return v0 + (v1 - v0) * (pct - p0) / (p1 - p0)
    return points[0][1]


def bandwidth_for_rate(rate_hz: float) -> float:
    """The widest low-pass bandwidth not above the Nyquist frequency of ``rate_hz``."""
    candidates = [bw for bw in BANDWIDTH_HZ_BY_CODE.values() if bw <= rate_hz / 2.0]
    return max(candidates) if candidates else min(BANDWIDTH_HZ_BY_CODE.values())


def _accepts(uuids: frozenset[str], char_uuid: str) -> bool:
    return normalize_uuid(char_uuid) in uuids


class WitMotionDecoder(Decoder):
    """Streaming decoder for the FFE4 byte stream (0x61 data frames, 0x71 register replies).

    ``config.gyro_range_dps = None`` drops the gyro fields (the frame always carries them).
    `registers` holds the latest value of every register seen in a 0x71 reply.
    """

    protocol_name = "witmotion"
    version = "1"

    def __init__(self, config: StreamConfig, *, strict: bool = False) -> None:
        super().__init__(config, strict=strict)
        self._buf = b""
        self._synced = True
        self._with_gyro = config.gyro_range_dps is not None
        self.registers: dict[int, int] = {}

    def reset(self) -> None:
        self._buf = b""
        self._synced = True

    # ----------------------------------------------------------------------- framing core

    def _skip(self, data: bytes, pos: int, end: int, reason: str) -> int:
        """Lose sync at ``pos`` and skip to the next possible header byte (0x55)."""
        if self._synced:
            self._synced = False
            self._problem("resyncs", reason, offset=pos, data=data[pos : pos + FRAME_LEN])
        nxt = data.find(b"\x55", pos + 1, end)
        if nxt < 0:
            nxt = end
        self.stats.skipped_bytes += nxt - pos
        return nxt

    def _scan(self, data: bytes, pos: int, end: int) -> tuple[list[int], int]:
        """Walk ``data[pos:end]`` (bytes received so far); return accepted frame starts, new pos.

        The decisions depend only on the bytes and on ``end`` (what has arrived), which is what
        makes the bulk path reproduce this one exactly.
        """
        frames: list[int] = []
        while pos < end:
            if data[pos] != HEADER:
                pos = self._skip(data, pos, end, f"expected frame header 0x55, got 0x{data[pos]:02x}")
                continue
            if pos + 1 >= end:
                break
            if data[pos + 1] not in _FLAGS:
                pos = self._skip(data, pos, end, f"unknown frame flag 0x{data[pos + 1]:02x} after 0x55")
                continue
            if end - pos < FRAME_LEN:
                break
            nxt = pos + FRAME_LEN
            lookahead = end - nxt
            ok: bool | None
            if lookahead >= 2:
                ok = data[nxt] == HEADER and data[nxt + 1] in _FLAGS
            elif lookahead == 1 and data[nxt] != HEADER:
                ok = False
            else:  # nothing (or only a 0x55) after the frame yet
                ok = True if self._synced else None
            if ok is None:
                break  # resynchronising: wait for the next header to confirm this frame
            if ok:
                frames.append(pos)
                pos = nxt
                self._synced = True
                continue
            if self._synced:
                self._problem("bad_frames", "frame not followed by a frame header (truncated or corrupt)",
                              offset=pos, data=data[pos : nxt + 2])
            pos = self._skip(data, pos, end, "frame not followed by a frame header")
        return frames, pos

    def _fast_run(self, arr: np.ndarray, pos: int) -> int:
        """Count frames from ``pos`` that are confirmed by a following header (bulk path)."""
        total = 0
        window = 256
        size = arr.shape[0]
        while True:
            n = min(window, (size - pos) // FRAME_LEN)
            if n <= 0:
                return total
            idx = pos + FRAME_LEN * np.arange(n)
            flag = arr[idx + 1]
            ok = (arr[idx] == HEADER) & ((flag == FLAG_DATA) | (flag == FLAG_REGISTER))
            la = pos + FRAME_LEN * n
            last_ok = la + 2 <= size and arr[la] == HEADER and arr[la + 1] in _FLAGS
            accepted = ok & np.append(ok[1:], last_ok)
            m = n if bool(accepted.all()) else int(np.argmin(accepted))
            total += m
            pos += FRAME_LEN * m
            if m < n or n < window:
                return total
            window = min(window * 4, 1 << 16)

    # ----------------------------------------------------------------------- decoding

    def _rows(self, data: bytes, starts: Sequence[int] | np.ndarray) -> np.ndarray:
        """``(m, 10)`` int16 fields of the frames at ``starts`` (field 0 = header + flag)."""
        if len(starts) == 1:
            return np.frombuffer(data, dtype="<i2", count=10, offset=int(starts[0])).reshape(1, 10)
        starts = np.asarray(starts, dtype=np.int64)
        if len(starts) > 1 and bool((np.diff(starts) == FRAME_LEN).all()):
            # Back-to-back frames (the usual case): a view of the bytes, no gather.
            return np.frombuffer(data, dtype="<i2", count=10 * len(starts), offset=int(starts[0])).reshape(-1, 10)
        arr = np.frombuffer(data, dtype=np.uint8)
        gathered = arr[starts[:, None] + np.arange(FRAME_LEN)]
        return gathered.view("<i2")

    def _split(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """Data-frame mask applied: accel, gyro (or None) in SI units; register rows handled."""
        is_data = (rows[:, 0].view(np.uint16) >> 8) == FLAG_DATA
        if not bool(is_data.all()):
            for row in rows[~is_data]:
                self._register_reply(row)
            rows = rows[is_data]
        accel = rows[:, 1:4].astype(np.float64) * ACCEL_MPS2_PER_LSB
        gyro = rows[:, 4:7].astype(np.float64) * GYRO_RADS_PER_LSB if self._with_gyro else None
        self.stats.frames += rows.shape[0]
        self.stats.samples += rows.shape[0]
        return accel, gyro, is_data

    def _register_reply(self, row: np.ndarray) -> None:
        self.stats.other_frames += 1
        start = int(row[1].view(np.uint16))
        for i, value in enumerate(row[2:10].tolist()):
            reg = start + i
            if reg == REG_BATTERY:
                volts = value / 100.0
                if not _BATTERY_PLAUSIBLE_V[0] <= volts <= _BATTERY_PLAUSIBLE_V[1]:
                    self._problem("bad_frames", f"battery register reads {volts:.2f} V, not a Li-ion cell")
                    continue
                self.info["battery_v"] = volts
                self.battery_pct = battery_percent(volts)
            elif reg == REG_RATE:
                self.info["rate_code"] = value
                if value in RATE_HZ_BY_CODE:
                    self.info["reported_rate_hz"] = RATE_HZ_BY_CODE[value]
            elif reg == REG_BANDWIDTH and value in BANDWIDTH_HZ_BY_CODE:
                self.info["bandwidth_hz"] = BANDWIDTH_HZ_BY_CODE[value]
            elif reg == REG_TEMP:
                self.info["temperature_c"] = value / 100.0
            elif reg in (REG_VERSION_L, REG_VERSION_H):
                self.info[f"version_reg_0x{reg:02x}"] = value & 0xFFFF
            self.registers[reg] = value

    def feed(self, char_uuid: str, payload: bytes, host_time_s: float) -> list[ImuBatch]:
        self.stats.notifications += 1
        self.stats.bytes_in += len(payload)
        if not _accepts(_NOTIFY_UUIDS, char_uuid):
            self.stats.unknown += 1
            return []
        data = self._buf + bytes(payload)
        starts, pos = self._scan(data, 0, len(data))
        self._buf = data[pos:]
        if not starts:
            return []
        accel, gyro, _ = self._split(self._rows(data, starts))
        if accel.shape[0] == 0:
            return []
        return [ImuBatch(host_time_s, accel, gyro, None, self.config.rate_hz)]

    def feed_many(
        self, char_uuid: str, payloads: Sequence[bytes], host_times_s: Sequence[float] | np.ndarray
    ) -> list[ImuBatch]:
        """Vectorised bulk decode; the same samples and arrival times as calling `feed` in order.

        Runs of frames confirmed by the next header are located with NumPy; anything irregular
        is handed to the same walker `feed` uses, one notification boundary at a time.
        """
        times = np.asarray(host_times_s, dtype=np.float64)
        if len(payloads) != times.shape[0]:
            raise ValueError(f"{len(payloads)} payloads but {times.shape[0]} host times")
        self.stats.notifications += len(payloads)
        if not _accepts(_NOTIFY_UUIDS, char_uuid):
            self.stats.bytes_in += sum(len(p) for p in payloads)
            self.stats.unknown += len(payloads)
            return []
        prefix = self._buf
        try:
            joined = b"".join(payloads)  # any bytes-like payloads, without a copy of each
        except TypeError:  # something `bytes()` converts but join does not take
            joined = b"".join(bytes(p) for p in payloads)
        data = prefix + joined
        self.stats.bytes_in += len(data) - len(prefix)
        lengths = np.fromiter(map(len, payloads), dtype=np.int64, count=len(payloads))
        ends = notification_ends(lengths, len(prefix))
        arr = np.frombuffer(data, dtype=np.uint8)
        n_notes = len(payloads)
        start_parts: list[np.ndarray] = []
        note_parts: list[np.ndarray] = []
        pos = 0
        j = 0  # next notification boundary the walker has not processed
        while True:
            if self._synced:
                m = self._fast_run(arr, pos)
                if m:
                    s = pos + FRAME_LEN * np.arange(m, dtype=np.int64)
                    start_parts.append(s)
                    note_parts.append(completing_notification(ends, s + (FRAME_LEN - 1)))
                    pos += FRAME_LEN * m
            j0 = int(np.searchsorted(ends, pos, side="right"))  # notification holding byte pos
            jj = max(j, j0)
            if jj >= n_notes:
                break
            found, pos = self._scan(data, pos, int(ends[jj]))
            if found:
                start_parts.append(np.asarray(found, dtype=np.int64))
                note_parts.append(np.full(len(found), jj, dtype=np.int64))
            j = jj + 1
        self._buf = data[pos:]
        if not start_parts:
            return []
        starts = np.concatenate(start_parts)
        notes = np.concatenate(note_parts)
        accel, gyro, is_data = self._split(self._rows(data, starts))
        return batch_from_notifications(accel, gyro, None, times[notes[is_data]], self.config.rate_hz)


class WitMotionEncoder(Encoder):
    """Samples -> the 0x61 notifications a WT901BLECL sends (one 20-byte frame each by default).

    Options: ``frames_per_notification`` (default 1; larger values emulate the module merging
    frames into one notification at a large MTU).

    The roll/pitch/yaw fields stand in for the module's on-board Kalman angles: roll and pitch
    from the accelerometer's gravity direction, yaw integrated from the z gyro. Decoders ignore
    them; they are there so the bytes look like the real sensor's.
    """

    def __init__(self, config: StreamConfig) -> None:
        super().__init__(config)
        self.frames_per_notification = max(1, int(config.options.get("frames_per_notification", 1)))  # type: ignore[call-overload]
        self._yaw_deg = 0.0
        self._last_t: float | None = None
        self._pending: list[bytes] = []
        self._pending_last = -1
        #: The last raw frame fields (i16 x 9), for the virtual device's register file.
        self.last_fields: tuple[int, ...] = (0,) * 9

    def frames(
        self, accel_mps2: np.ndarray, gyro_rads: np.ndarray | None, sensor_time_s: np.ndarray
    ) -> np.ndarray:
        """``(n, 20)`` uint8 frames for the samples (saturated, 16-bit quantised)."""
        acc = np.asarray(accel_mps2, dtype=np.float64).reshape(-1, 3)
        n = acc.shape[0]
        gyr = np.zeros((n, 3)) if gyro_rads is None else np.asarray(gyro_rads, dtype=np.float64).reshape(n, 3)
        t = np.asarray(sensor_time_s, dtype=np.float64).reshape(n)
        raw_acc = quantize(acc, 1.0 / ACCEL_MPS2_PER_LSB)
        raw_gyr = quantize(gyr, 1.0 / GYRO_RADS_PER_LSB)
        # tilt from gravity; yaw from the integrated z rate (the module's own fusion is unknown)
        roll = np.degrees(np.arctan2(acc[:, 1], acc[:, 2]))
        pitch = np.degrees(np.arctan2(-acc[:, 0], np.hypot(acc[:, 1], acc[:, 2])))
        dt = np.diff(t, prepend=t[0] if self._last_t is None else self._last_t) if n else t
        yaw = self._yaw_deg + np.cumsum(np.degrees(gyr[:, 2]) * dt)
        if n:
            self._yaw_deg = float(yaw[-1])
            self._last_t = float(t[-1])
        yaw = (yaw + 180.0) % 360.0 - 180.0
        angles = quantize(np.column_stack([roll, pitch, yaw]), 32768.0 / ANGLE_FULL_SCALE_DEG)
        fields = np.empty((n, 10), dtype="<i2")
        fields[:, 0] = np.frombuffer(bytes((HEADER, FLAG_DATA)), dtype="<i2")[0]
        fields[:, 1:4] = raw_acc
        fields[:, 4:7] = raw_gyr
        fields[:, 7:10] = angles
        if n:
            self.last_fields = tuple(int(v) for v in fields[-1, 1:])
        return fields.view(np.uint8).reshape(n, FRAME_LEN)

    def encode(
        self, accel_mps2: np.ndarray, gyro_rads: np.ndarray | None, sensor_time_s: np.ndarray
    ) -> list[EncodedNotification]:
        frames = self.frames(accel_mps2, gyro_rads, sensor_time_s)
        k = self.frames_per_notification
        if k == 1:
            return [EncodedNotification(NOTIFY_UUID, f.tobytes(), i) for i, f in enumerate(frames)]
        out: list[EncodedNotification] = []
        for i, f in enumerate(frames):
            self._pending.append(f.tobytes())
            if len(self._pending) == k:
                out.append(EncodedNotification(NOTIFY_UUID, b"".join(self._pending), i))
                self._pending = []
        self._pending_last = len(frames) - 1
        return out

    def flush(self) -> list[EncodedNotification]:
        if not self._pending:
            return []
        out = [EncodedNotification(NOTIFY_UUID, b"".join(self._pending), self._pending_last)]
        self._pending = []
        return out


#: Register values at power-on (factory defaults; battery/version filled per device).
_POWER_ON_REGISTERS: dict[int, int] = {
    REG_CALSW: 0,
    REG_RATE: 0x06,  # 10 Hz
    REG_BANDWIDTH: 0x04,  # 20 Hz [unverified factory default; the C# sample writes it]
    REG_ACCRANGE: 0x03,  # +/-16 g
    REG_VERSION_L: 0x1234,
    REG_VERSION_H: 0x0000,
    REG_TEMP: 2500,  # 25.00 degC
    REG_Q0: 32767,
}


class WitMotionVirtualDevice(VirtualDevice):
    """A WT901BLECL as a state machine: register file, unlock window, save, 0x71 replies.

    Writes other than unlock and register reads are ignored unless an unlock came first (the
    real module ignores them outside its ~10 s unlock window; this model has no clock, so an
    unlock stays valid until the next save). Unsaved registers survive a disconnect but not
    `power_cycle`. Streaming starts when FFE4 notifications are enabled, at the register rate.
    """

    protocol: ClassVar[type[SensorProtocol]]

    def __init__(self, name: str = "WT901BLE68", *, battery_pct: float = 87.0) -> None:
        super().__init__(name, battery_pct=battery_pct)
        self.registers: dict[int, int] = dict(_POWER_ON_REGISTERS)
        self.registers[REG_BATTERY] = round(battery_volts_for_percent(battery_pct) * 100)
        self.saved_registers = dict(self.registers)
        self.unlocked = False
        #: Writes the module would ignore (malformed, wrong characteristic, locked).
        self.ignored_writes = 0
        self._encoder: WitMotionEncoder | None = None
        self._encoder_config: StreamConfig | None = None
        self._apply_registers()

    @property
    def streaming(self) -> bool:
        return NOTIFY_UUID in self.subscribed and self.registers.get(REG_RATE) in RATE_HZ_BY_CODE

    def on_subscribe(self, char_uuid: str) -> list[Notification]:
        if _accepts(_NOTIFY_UUIDS, char_uuid):
            self.subscribed.add(NOTIFY_UUID)
            return []
        return super().on_subscribe(char_uuid)

    def on_unsubscribe(self, char_uuid: str) -> list[Notification]:
        if _accepts(_NOTIFY_UUIDS, char_uuid):
            self.subscribed.discard(NOTIFY_UUID)
            return []
        return super().on_unsubscribe(char_uuid)

    def power_cycle(self) -> None:
        """Switch off and on: unsaved registers revert to the saved ones."""
        self.registers = dict(self.saved_registers)
        self.unlocked = False
        self.subscribed.clear()
        self._apply_registers()

    def _apply_registers(self) -> None:
        rate = RATE_HZ_BY_CODE.get(self.registers.get(REG_RATE, 0x06), self.config.rate_hz)
        options: dict[str, object] = {}
        bw = BANDWIDTH_HZ_BY_CODE.get(self.registers.get(REG_BANDWIDTH, 0x04))
        if bw is not None:
            options["bandwidth_hz"] = bw
        self.config = StreamConfig(rate, ACCEL_FULL_SCALE_G, GYRO_FULL_SCALE_DPS, options)

    def _register_frame(self, start: int) -> bytes:
        values = [self.registers.get(start + i, 0) for i in range(8)]
        signed = [v - 0x10000 if v >= 0x8000 else v for v in (x & 0xFFFF for x in values)]
        return bytes((HEADER, FLAG_REGISTER)) + struct.pack("<H8h", start & 0xFFFF, *signed)

    def on_write(self, char_uuid: str, payload: bytes) -> list[Notification]:
        if not _accepts(_WRITE_UUIDS, char_uuid) or len(payload) == 0 or len(payload) % 5:
            self.ignored_writes += 1
            return []
        replies: list[Notification] = []
        for off in range(0, len(payload), 5):
            cmd = payload[off : off + 5]
            if cmd[0] != 0xFF or cmd[1] != 0xAA:
                self.ignored_writes += 1
                continue
            reg = cmd[2]
            value = cmd[3] | (cmd[4] << 8)
            if reg == REG_KEY:
                self.unlocked = value == UNLOCK_VALUE
            elif reg == REG_READ:
                if NOTIFY_UUID in self.subscribed:
                    replies.append(Notification(NOTIFY_UUID, self._register_frame(value)))
            elif not self.unlocked:
                self.ignored_writes += 1
            elif reg == REG_SAVE:
                if value == 0:
                    self.saved_registers = dict(self.registers)
                elif value == 1:  # restore factory defaults
                    battery = self.registers.get(REG_BATTERY)
                    self.registers = dict(_POWER_ON_REGISTERS)
                    self.registers[REG_BATTERY] = battery or 0
                self.unlocked = False
            else:
                self.registers[reg] = value
        self._apply_registers()
        return replies

    def encode(
        self, accel_mps2: np.ndarray, gyro_rads: np.ndarray | None, sensor_time_s: np.ndarray
    ) -> list[EncodedNotification]:
        if self._encoder is None or self._encoder_config != self.config:
            self._encoder = WitMotionEncoder(self.config)
            self._encoder_config = self.config
        out = self._encoder.encode(accel_mps2, gyro_rads, sensor_time_s)
        last = self._encoder.last_fields
        for i in range(3):
            self.registers[REG_AX + i] = last[i] & 0xFFFF
            self.registers[REG_GX + i] = last[3 + i] & 0xFFFF
            self.registers[REG_ROLL + i] = last[6 + i] & 0xFFFF
        return out


class WitMotion(SensorProtocol):
    """WitMotion WT901BLECL / WT9011DCL over BLE 5.0 (0x55 0x61 frames on FFE4)."""

    name = "witmotion"
    display_name = "WitMotion WT901BLECL / WT9011DCL (BLE 5.0)"
    name_patterns = (r"^B?WT9\d",)
    advertised_service_uuids = (SERVICE_UUID,)
    services = (
        GattService(
            SERVICE_UUID,
            (
                GattCharacteristic(WRITE_UUID, ("write-without-response", "write"), "commands FF AA reg lo hi"),
                GattCharacteristic(NOTIFY_UUID, ("notify",), "0x61 data frames and 0x71 register replies"),
            ),
            "WitMotion data service",
        ),
    )
    notify_uuids = (NOTIFY_UUID,)
    rates_hz = tuple(sorted(RATE_HZ_BY_CODE.values()))
    default_rate_hz = 10.0
    accel_ranges_g = (ACCEL_FULL_SCALE_G,)
    default_accel_range_g = ACCEL_FULL_SCALE_G
    gyro_ranges_dps = (GYRO_FULL_SCALE_DPS,)
    default_gyro_range_dps = GYRO_FULL_SCALE_DPS
    has_sensor_clock = False
    verified_on_hardware = False
    provenance = (
        "WitMotion SDK WitBluetooth_BWT901BLE5_0 (device_model.py, ProtocolResolver.swift, Form1.cs); "
        "WT901BLECL datasheet v20-0707; rate codes cross-checked with PyPI witmotion 0.0.1.dev0"
    )
    setup_notes = (
        "Switch the sensor on and scan within a minute (it advertises slowly after ~1 min without a "
        "connection). vbt sets 200 Hz (saved to flash, as the vendor app does); the real rate runs "
        "~1 % below nominal. Acceleration is always +/-16 g."
    )

    #: How notifications relate to frames: a byte stream that may be re-chunked anywhere.
    stream_framing: ClassVar[str] = "bytes"

    @classmethod
    def resolution(cls, config: StreamConfig) -> Resolution:
        """One LSB of the 0x61 frame in SI units (no sensor clock)."""
        return Resolution(ACCEL_MPS2_PER_LSB, GYRO_RADS_PER_LSB if config.gyro_range_dps else 0.0, 0.0)

    @classmethod
    def limits(cls, config: StreamConfig) -> tuple[float, float]:
        """Largest |accel| (m/s^2) and |gyro| (rad/s) a frame can carry: the i16 full scale."""
        return 32768 * ACCEL_MPS2_PER_LSB, 32768 * GYRO_RADS_PER_LSB

    @classmethod
    def _write_reg(cls, register: int, value: int, what: str) -> list[Write]:
        return [
            Write(WRITE_UUID, UNLOCK, True, SDK_WRITE_DELAY_S, "unlock register writes"),
            Write(WRITE_UUID, command(register, value), True, SDK_WRITE_DELAY_S, what),
            Write(WRITE_UUID, SAVE, True, SDK_WRITE_DELAY_S, "save registers"),
        ]

    @classmethod
    def start_writes(cls, config: StreamConfig) -> list[Write]:
        code = _RATE_CODE_BY_HZ.get(float(config.rate_hz))
        if code is None:
            raise ValueError(f"witmotion: rate {config.rate_hz} Hz not supported; use one of {list(cls.rates_hz)}")
        bw = float(config.options.get("bandwidth_hz", bandwidth_for_rate(config.rate_hz)))  # type: ignore[arg-type]
        bw_code = _BANDWIDTH_CODE_BY_HZ.get(bw)
        if bw_code is None:
            raise ValueError(
                f"witmotion: bandwidth {bw} Hz not supported; use one of {sorted(_BANDWIDTH_CODE_BY_HZ)}"
            )
        return (
            cls._write_reg(REG_RATE, code, f"set output rate {config.rate_hz:g} Hz")
            + cls._write_reg(REG_BANDWIDTH, bw_code, f"set bandwidth {bw:g} Hz")
        )

    @classmethod
    def stop_writes(cls, config: StreamConfig) -> list[Write]:
        # Disabling FFE4 notifications stops the stream; writing RATE=off would persist after the
        # next save and leave the sensor silent for other apps.
        return []

    @classmethod
    def battery_writes(cls) -> list[Write]:
        return [Write(WRITE_UUID, command(REG_READ, REG_BATTERY), True, 0.0, "read battery register 0x64")]

    @classmethod
    def accel_calibration_writes(cls, hold_still_s: float = 3.0) -> list[Write]:
        """Accelerometer zero-offset calibration: the sensor must lie still and level meanwhile.

        Unlock, CALSW = 1 (calibrate), wait ``hold_still_s``, CALSW = 0 (normal), save.
        """
        return [
            Write(WRITE_UUID, UNLOCK, True, SDK_WRITE_DELAY_S, "unlock register writes"),
            Write(WRITE_UUID, command(REG_CALSW, 0x01), True, hold_still_s, "accelerometer calibration (hold still)"),
            Write(WRITE_UUID, command(REG_CALSW, 0x00), True, SDK_WRITE_DELAY_S, "end calibration"),
            Write(WRITE_UUID, SAVE, True, SDK_WRITE_DELAY_S, "save calibration"),
        ]

    @classmethod
    def mag_calibration_writes(cls, start: bool) -> list[Write]:
        """Start (rotate the sensor through all orientations afterwards) or end magnetometer calibration."""
        return [
            Write(WRITE_UUID, UNLOCK, True, SDK_WRITE_DELAY_S, "unlock register writes"),
            Write(WRITE_UUID, command(REG_CALSW, 0x07 if start else 0x00), True, SDK_WRITE_DELAY_S,
                  "start magnetometer calibration" if start else "end magnetometer calibration"),
            *([] if start else [Write(WRITE_UUID, SAVE, True, SDK_WRITE_DELAY_S, "save calibration")]),
        ]

    @classmethod
    def decoder(cls, config: StreamConfig | None = None, *, strict: bool = False) -> WitMotionDecoder:
        return WitMotionDecoder(config or cls.default_config(), strict=strict)

    @classmethod
    def encoder(cls, config: StreamConfig | None = None) -> WitMotionEncoder:
        return WitMotionEncoder(config or cls.default_config())

    @classmethod
    def virtual_device(cls, name: str | None = None) -> WitMotionVirtualDevice:
        return WitMotionVirtualDevice(name or "WT901BLE68")


WitMotionVirtualDevice.protocol = WitMotion

__all__ = [
    "NOTIFY_UUID",
    "SERVICE_UUID",
    "WRITE_UUID",
    "WitMotion",
    "WitMotionDecoder",
    "WitMotionEncoder",
    "WitMotionVirtualDevice",
    "battery_percent",
    "command",
]
