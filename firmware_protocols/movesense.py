"""Movesense (GATT SensorData Protocol, GSP): wire specification and codec.

Verified on hardware: **no** -- from the vendor documentation and sample code only.

Provenance
----------
* movesense.com/docs/esw/gatt_sensordata_protocol (document GD-77) and the
  movesense-device-lib sample ``GATTSensorDataClient.cpp`` [src], as summarised in
  ``shared/reference/sensors.md`` section 5; the third-party sensein/movesense-py
  ``protocol.py`` [3p] for the command numbers and the DATA_PART2 continuation.
* No Movesense package exists on PyPI to cross-check against (searched the package index
  lists; none found), so the following stay **[unverified]**: the HELLO reply
  ``01 <ref> "Hello"``; the u16 status in command results (200/201 success, 404, 507 no free
  subscription slot); "timestamp = first sample" for Acc/IMU6 packets; the sensor's default
  ranges (+/-8 g, 2000 dps) -- GSP has no command to change them (``/Meas/Acc/Config`` needs the
  newer GET/PUT commands), so vbt assumes the defaults unless told otherwise; and whether "13 Hz"
  is the LSM6DSL's 12.5 Hz ODR (we space samples at the nominal rate).

GATT profile
------------

============================================  =====================  ==========================
UUID                                          Role                   Properties
============================================  =====================  ==========================
``34802252-7185-4d5d-b431-630e7050e8f0``      GSP service            --
``34800001-7185-4d5d-b431-630e7050e8f0``      commands               write, write w/o response
``34800002-7185-4d5d-b431-630e7050e8f0``      responses and data     notify
============================================  =====================  ==========================

Advertised name ``Movesense <serial>``; 16-bit service 0xFDF3 (older firmware 0xFE06) [3p].
Needs firmware that includes the GattSensorData app. All fields are **little-endian**.

Commands (host -> 34800001): ``[command u8, reference u8 (non-zero), data...]``
------------------------------------------------------------------------------

=======  ===========  ==============================================================
Command  Name         Data
=======  ===========  ==============================================================
0        HELLO        none; reply ``01 <ref> "Hello"``
1        SUBSCRIBE    ASCII resource path, no terminator: ``/Meas/Acc/<rate>``,
                      ``/Meas/IMU6/<rate>`` (e.g. ``01 63 2F 4D 65 61 73 2F 49 4D 55 36 2F 31 30 34``)
2        UNSUBSCRIBE  none (the reference must be the subscription's)
=======  ===========  ==============================================================

Notifications (34800002): ``[response u8, reference u8, ...]``
--------------------------------------------------------------

========  ==========  ======================================================================
Response  Name        Body
========  ==========  ======================================================================
1         RESULT      u16 HTTP-style status (200/201 OK, 404 not found, 507 no free slot)
2         DATA        u32 timestamp (ms since sensor start, of the **first** sample), then
                      N x (f32 x, y, z) acc in m/s^2 (``/Meas/Acc``), or N acc vectors then N
                      gyro vectors in deg/s (``/Meas/IMU6``: arrays not interleaved)
3         DATA_PART2  the rest of a DATA body that did not fit one notification
========  ==========  ======================================================================

N = (body bytes - 4) / (12 x arrays). Rates 13, 26, 52, 104, 208, 416, 833, 1666 Hz; the
sensor sends about 13 packets per second (N = rate / 13), fewer samples when a packet would
not fit DATA + DATA_PART2 at the negotiated MTU (the encoder's ``mtu`` option, default 247).

Decoding rules
--------------
* A DATA body that is not a whole number of samples is held for its DATA_PART2 (same
  reference); a PART2 with nothing held, or a held part followed by anything else, is a bad
  frame. (At every common MTU -- 23, 158, 185, 247 -- a split part is never a whole number of
  samples; at an MTU of 9 + 12k bytes it would be taken as complete: documented limitation.)
* Sensor time: the u32 ms counter is unwrapped (it wraps after 49.7 days); sample k sits at
  ``ts + k / rate``. A packet whose timestamp repeats the previous one is a duplicate; one
  whose first sample is not after the last emitted sample is out of order (both dropped, so
  sensor time never runs backwards).
* Forward jumps are checked against the host's arrival times (`feed`'s ``host_time_s``). With
  ``dS`` the timestamp advance and ``dH`` the host-time advance since the last accepted packet,
  a packet is *suspicious* when ``dS > 60 s`` or ``dS - dH > max(1 s, 0.02 x dH) + N / rate``.
  The 1 s absorbs BLE batching and delivery latency (a late previous packet shortens ``dH``),
  the 2 % sensor-vs-host clock error over long gaps, and ``N / rate`` (the packet's own
  duration) a batch of packets arriving together. A suspicious packet is counted as a bad frame
  and held, its samples not emitted. If the next packet continues from the last accepted one
  (not suspicious against it), the held packet was corrupt and is dropped: one corrupted stamp
  costs that packet only. If instead it continues from the held packet (later than the held
  packet's last sample, not suspicious against it), the jump was real: the held packet's
  samples are emitted (with the confirming packet, at its arrival time; counted in ``frames``
  too) and the stream goes on from there. Otherwise it becomes the held packet. A genuine gap
  (the sensor paused, the link dropped and came back) is accepted at once because host time
  advanced with it; a corrupted stamp less than ~1 s ahead is not detected (it costs at most
  that much data). A non-finite host time disables the host check for that packet; `reset`
  (after a reconnect) forgets the last packet and any held one, so the next packet is accepted.
* Values that are NaN/inf, or beyond 1.05 x the accelerometer range / 1.15 x the gyro range
  (LSM6DSL binary full scales), make the packet bad.
* The sensor drops every subscription when the link drops [src]; the host must SUBSCRIBE
  again after reconnecting (`Movesense.start_writes` is safe to replay).
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Sequence
from typing import ClassVar, NamedTuple

import numpy as np

from ._base import Decoder, Encoder, SensorProtocol, VirtualDevice, normalize_uuid
from ._framing import (
    Resolution,
    batch_from_notifications,
    host_supports_jump,
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

SERVICE_UUID = "34802252-7185-4d5d-b431-630e7050e8f0"
WRITE_UUID = "34800001-7185-4d5d-b431-630e7050e8f0"
NOTIFY_UUID = "34800002-7185-4d5d-b431-630e7050e8f0"
ADVERTISED_UUIDS = (normalize_uuid("fdf3"), normalize_uuid("fe06"))

CMD_HELLO = 0
CMD_SUBSCRIBE = 1
CMD_UNSUBSCRIBE = 2
RESP_RESULT = 1
RESP_DATA = 2
RESP_DATA_PART2 = 3

STATUS_OK = 200
STATUS_CREATED = 201
STATUS_NOT_FOUND = 404
STATUS_CONFLICT = 409
STATUS_NO_SLOT = 507

DEFAULT_REF = 0x63  # the GSP documentation's example reference ('c')
DEFAULT_MTU = 247
PACKETS_PER_S = 13.0
MAX_SUBSCRIPTIONS = 2  # [assumption] small; the firmware limit is not documented
ACC_LIMIT_FACTOR = 1.05
GYRO_LIMIT_FACTOR = 1.15
#: A forward timestamp jump larger than this is held until a second packet confirms it.
MAX_TIMESTAMP_JUMP_MS = 60_000
#: Sensor-time advance allowed beyond the host-time advance: max(this, rel x host advance) + packet duration.
DPS_TO_RADS = math.pi / 180.0
_PATH_RE = re.compile(r"^/Meas/(Acc|IMU6)/(\d+)$")


def resource_path(config: StreamConfig) -> str:
    """``/Meas/IMU6/<rate>`` with gyro, ``/Meas/Acc/<rate>`` without."""
    kind = "Acc" if config.gyro_range_dps is None else "IMU6"
    return f"/Meas/{kind}/{int(config.rate_hz)}"


def subscribe_command(path: str, ref: int = DEFAULT_REF) -> bytes:
    """``01 <ref> <ASCII path>``."""
    return bytes((CMD_SUBSCRIBE, ref)) + path.encode("ascii")


def samples_per_packet(rate_hz: float, arrays: int, mtu: int = DEFAULT_MTU) -> int:
    """About 13 packets/s, capped so a packet fits DATA + DATA_PART2 at ``mtu``."""
    max_body = 2 * (mtu - 3 - 2)  # two notifications, each with a 2-byte header
    cap = max(1, (max_body - 4) // (12 * arrays))
    return max(1, min(round(rate_hz / PACKETS_PER_S), cap))


def _ref(config: StreamConfig) -> int:
    ref = int(config.options.get("ref", DEFAULT_REF))  # type: ignore[call-overload]
    if not 1 <= ref <= 255:
        raise ValueError(f"movesense: reference {ref} must be 1..255 (0 is reserved)")
    return ref


class _PendingJump(NamedTuple):
    """A packet held as a suspicious forward jump until the next packet says whether it was real."""

    ts_ms: int  # unwrapped timestamp
    host_s: float
    times_ms: np.ndarray
    acc: np.ndarray
    gyro: np.ndarray | None  # deg/s


class MovesenseDecoder(Decoder):
    """Decodes GSP notifications: command results, DATA (+ DATA_PART2) for /Meas/Acc and /Meas/IMU6."""

    protocol_name = "movesense"
    version = "2"  # 2: forward timestamp jumps checked against host arrival times

    def __init__(self, config: StreamConfig, *, strict: bool = False) -> None:
        super().__init__(config, strict=strict)
        self._with_gyro = config.gyro_range_dps is not None
        self._arrays = 2 if self._with_gyro else 1
        self._period_ms = 1000.0 / float(config.rate_hz)
        self._acc_limit = config.accel_range_g * STANDARD_GRAVITY_MPS2 * ACC_LIMIT_FACTOR
        self._gyro_limit = (config.gyro_range_dps or 2000.0) * GYRO_LIMIT_FACTOR
        self._held: tuple[int, bytes] | None = None  # (ref, DATA body waiting for PART2)
        self._last_raw: int | None = None
        self._last_ms: int | None = None  # unwrapped timestamp of the last accepted packet
        self._floor_ms: float | None = None  # time of the last emitted sample (ms)
        self._last_host_s = math.nan  # host arrival time of the last accepted packet
        self._jump: _PendingJump | None = None  # a suspicious forward jump waiting for the next packet

    def reset(self) -> None:
        self._held = None
        self._last_raw = self._last_ms = None
        self._floor_ms = None
        self._last_host_s = math.nan
        self._jump = None

    def _result(self, payload: bytes) -> None:
        ref = payload[1]
        body = payload[2:]
        self.stats.other_frames += 1
        if body == b"Hello":
            self.info["hello"] = True
            return
        if len(body) < 2:
            self.info["last_status"] = None
            return
        status = struct.unpack_from("<H", body)[0]
        self.info["last_status"] = status
        if status not in (STATUS_OK, STATUS_CREATED):
            self.info["last_error"] = f"reference {ref}: status {status}"

    def _unwrap(self, raw: int) -> int:
        if self._last_raw is None or self._last_ms is None:
            return raw
        step = (raw - self._last_raw) % (1 << 32)
        if step >= 1 << 31:
            step -= 1 << 32
        return self._last_ms + step

    def _plausible(self, d_ms: float, host_advance_s: float, n: int) -> bool:
        """Is a timestamp advance of ``d_ms`` supported by ``host_advance_s`` of host time (module docstring)?"""
        return host_supports_jump(d_ms / 1000.0, host_advance_s, n * self._period_ms / 1000.0, MAX_TIMESTAMP_JUMP_MS / 1000.0)

    def _data(self, body: bytes, nbytes: int,
              host_time_s: float) -> tuple[np.ndarray, np.ndarray | None, np.ndarray] | None:
        per_sample = 12 * self._arrays
        n = (len(body) - 4) // per_sample
        if n <= 0 or (len(body) - 4) % per_sample:
            self._problem("bad_frames", f"DATA body of {len(body)} bytes is not a u32 + whole samples of "
                          f"{per_sample} bytes", nbytes=nbytes, data=body)
            return None
        raw_ts = struct.unpack_from("<I", body)[0]
        with np.errstate(invalid="ignore"):  # a corrupted float may be a signalling NaN: rejected below
            vals = np.frombuffer(body, dtype="<f4", offset=4).astype(np.float64).reshape(self._arrays, n, 3)
        acc = vals[0]
        gyro = vals[1] if self._with_gyro else None
        if not np.isfinite(vals).all() or np.abs(acc).max() > self._acc_limit or (
            gyro is not None and np.abs(gyro).max() > self._gyro_limit
        ):
            self._problem("bad_frames", "sample value is not finite or beyond full scale", nbytes=nbytes, data=body)
            return None
        ts = self._unwrap(raw_ts)
        times_ms = ts + np.arange(n) * self._period_ms
        released: _PendingJump | None = None
        if self._last_ms is not None:
            d = ts - self._last_ms
            if d == 0:
                self._problem("duplicates", f"timestamp {raw_ts} ms repeats the previous packet")
                return None
            if not self._plausible(d, host_time_s - self._last_host_s, n):
                jump = self._jump
                if (jump is not None and times_ms[0] > jump.times_ms[-1]
                        and self._plausible(ts - jump.ts_ms, host_time_s - jump.host_s, n)):
                    released = jump  # continues from the held packet: the jump was real
                else:
                    self._jump = _PendingJump(ts, host_time_s, times_ms, acc, gyro)
                    self._problem("bad_frames", f"timestamp jumps forward by {d / 1000:.1f} s while the host clock "
                                  f"advanced {host_time_s - self._last_host_s:.1f} s; held until confirmed")
                    return None
            # else: it continues from the last accepted packet (a held one, if any, was corrupt)
        floor = self._floor_ms
        if released is not None and floor is not None and released.times_ms[0] <= floor:
            released = None  # it overlaps samples already emitted: dropped (counted when held)
        elif released is not None:
            floor = float(released.times_ms[-1])  # this packet starts after it (checked above)
        if floor is not None and times_ms[0] <= floor:
            self._problem("out_of_order", f"timestamp {raw_ts} ms is not after the last sample")
            return None
        if released is not None:  # the held packet was real: its samples go out ahead of this packet's
            self.stats.frames += 1
            self.stats.samples += released.times_ms.shape[0]
            times_ms = np.concatenate([released.times_ms, times_ms])
            acc = np.concatenate([released.acc, acc])
            if gyro is not None and released.gyro is not None:
                gyro = np.concatenate([released.gyro, gyro])
        self._jump = None
        self._last_raw = raw_ts
        self._last_ms = ts
        self._last_host_s = host_time_s
        self._floor_ms = float(times_ms[-1])
        self.stats.frames += 1
        self.stats.samples += n
        return acc, (gyro * DPS_TO_RADS if gyro is not None else None), times_ms / 1000.0

    def _packet(self, payload: bytes, host_time_s: float) -> tuple[np.ndarray, np.ndarray | None, np.ndarray] | None:
        if len(payload) < 2:
            self._problem("bad_frames", f"notification of {len(payload)} bytes has no response/reference header",
                          nbytes=len(payload), data=payload)
            return None
        kind, ref = payload[0], payload[1]
        out = None
        held = self._held
        if held is not None and kind != RESP_DATA_PART2:
            self._held = None
            self._problem("bad_frames", "DATA part not followed by its DATA_PART2", nbytes=len(held[1]) + 2,
                          data=held[1])
        if kind == RESP_RESULT:
            self._result(payload)
        elif kind == RESP_DATA:
            body = payload[2:]
            if (len(body) - 4) % (12 * self._arrays) and len(body) > 4:
                self._held = (ref, body)  # split: wait for DATA_PART2
            else:
                out = self._data(body, len(payload), host_time_s)
        elif kind == RESP_DATA_PART2:
            if held is None or held[0] != ref:
                self._held = None
                self._problem("bad_frames", "DATA_PART2 without a matching first part", nbytes=len(payload),
                              data=payload)
            else:
                self._held = None
                out = self._data(held[1] + payload[2:], len(held[1]) + len(payload) + 2, host_time_s)
        else:
            self.stats.unknown += 1
        return out

    def _feed_arrays(self, char_uuid: str, payload: bytes,
                     host_time_s: float) -> tuple[np.ndarray, np.ndarray | None, np.ndarray] | None:
        self.stats.notifications += 1
        self.stats.bytes_in += len(payload)
        if normalize_uuid(char_uuid) != NOTIFY_UUID:
            self.stats.unknown += 1
            return None
        return self._packet(bytes(payload), host_time_s)

    def feed(self, char_uuid: str, payload: bytes, host_time_s: float) -> list[ImuBatch]:
        got = self._feed_arrays(char_uuid, payload, host_time_s)
        if got is None:
            return []
        return [ImuBatch(host_time_s, got[0], got[1], got[2], self.config.rate_hz)]

    def feed_many(
        self, char_uuid: str, payloads: Sequence[bytes], host_times_s: Sequence[float] | np.ndarray
    ) -> list[ImuBatch]:
        """The same per-packet path as `feed`, merged into one batch with per-sample arrival times."""
        times = np.asarray(host_times_s, dtype=np.float64)
        if len(payloads) != times.shape[0]:
            raise ValueError(f"{len(payloads)} payloads but {times.shape[0]} host times")
        parts: list[tuple[np.ndarray, np.ndarray | None, np.ndarray, float]] = []
        for payload, host_t in zip(payloads, times.tolist(), strict=True):
            got = self._feed_arrays(char_uuid, payload, host_t)
            if got is not None:
                parts.append((*got, host_t))
        if not parts:
            return []
        acc = np.concatenate([p[0] for p in parts])
        gyro = None if parts[0][1] is None else np.concatenate([p[1] for p in parts])  # type: ignore[misc]
        st = np.concatenate([p[2] for p in parts])
        arrival = np.concatenate([np.full(p[0].shape[0], p[3]) for p in parts])
        return batch_from_notifications(acc, gyro, st, arrival, self.config.rate_hz)


def split_message(body: bytes, ref: int, mtu: int) -> list[bytes]:
    """A DATA body as the sensor sends it: one DATA, or DATA + DATA_PART2 when over the MTU."""
    room = mtu - 3 - 2
    if len(body) <= room:
        return [bytes((RESP_DATA, ref)) + body]
    if len(body) > 2 * room:
        raise ValueError(f"movesense: {len(body)}-byte packet does not fit DATA + DATA_PART2 at MTU {mtu}")
    return [bytes((RESP_DATA, ref)) + body[:room], bytes((RESP_DATA_PART2, ref)) + body[room:]]


class MovesenseEncoder(Encoder):
    """Samples -> GSP DATA (+ DATA_PART2) notifications for /Meas/Acc or /Meas/IMU6.

    Options: ``mtu`` (default 247), ``ref`` (the subscription reference, default 0x63),
    ``samples_per_packet`` (default `samples_per_packet`). A partly filled packet is sent by
    `flush` (the sensor sends what it has when unsubscribed [assumption]).
    """

    def __init__(self, config: StreamConfig) -> None:
        super().__init__(config)
        self.with_gyro = config.gyro_range_dps is not None
        self.mtu = int(config.options.get("mtu", DEFAULT_MTU))  # type: ignore[call-overload]
        self.ref = _ref(config)
        arrays = 2 if self.with_gyro else 1
        self.n = int(config.options.get("samples_per_packet", samples_per_packet(config.rate_hz, arrays, self.mtu)))  # type: ignore[call-overload]
        self._acc = np.zeros((0, 3))
        self._gyro = np.zeros((0, 3))
        self._t = np.zeros(0)
        self._last_n = 0

    def _packets(self, force: bool) -> list[tuple[list[bytes], int]]:
        out = []
        fs_acc = self.config.accel_range_g * STANDARD_GRAVITY_MPS2
        fs_gyro = float(self.config.gyro_range_dps or 2000.0)
        while self._t.shape[0] >= self.n or (force and self._t.shape[0]):
            k = min(self.n, self._t.shape[0])
            ts = round(float(self._t[0]) * 1000.0) % (1 << 32)
            body = struct.pack("<I", ts) + np.clip(self._acc[:k], -fs_acc, fs_acc).astype("<f4").tobytes()
            if self.with_gyro:
                body += np.clip(self._gyro[:k] / DPS_TO_RADS, -fs_gyro, fs_gyro).astype("<f4").tobytes()
            out.append((split_message(body, self.ref, self.mtu), k))
            self._acc, self._gyro, self._t = self._acc[k:], self._gyro[k:], self._t[k:]
        return out

    def _emit(self, force: bool) -> list[EncodedNotification]:
        pending_before = self._t.shape[0]
        base = self._last_n - pending_before  # index in the last call of the first pending sample
        out: list[EncodedNotification] = []
        used = 0
        for parts, k in self._packets(force):
            used += k
            for p in parts:
                out.append(EncodedNotification(NOTIFY_UUID, p, base + used - 1))
        return out

    def encode(
        self, accel_mps2: np.ndarray, gyro_rads: np.ndarray | None, sensor_time_s: np.ndarray
    ) -> list[EncodedNotification]:
        acc = np.asarray(accel_mps2, dtype=np.float64).reshape(-1, 3)
        n = acc.shape[0]
        self._acc = np.concatenate([self._acc, acc])
        if self.with_gyro:
            g = np.zeros((n, 3)) if gyro_rads is None else np.asarray(gyro_rads, dtype=np.float64).reshape(n, 3)
            self._gyro = np.concatenate([self._gyro, g])
        self._t = np.concatenate([self._t, np.asarray(sensor_time_s, dtype=np.float64).reshape(n)])
        self._last_n = n
        return self._emit(False)

    def flush(self) -> list[EncodedNotification]:
        return self._emit(True)


class MovesenseVirtualDevice(VirtualDevice):
    """A Movesense sensor running the GSP app: HELLO, SUBSCRIBE/UNSUBSCRIBE with status replies.

    Serves ``/Meas/Acc/<rate>`` and ``/Meas/IMU6/<rate>``; other paths answer 404 (not emulated).
    Subscriptions vanish on disconnect, as on the real sensor.
    """

    protocol: ClassVar[type[SensorProtocol]]

    def __init__(self, name: str = "Movesense 223430000123", *, battery_pct: float = 87.0) -> None:
        super().__init__(name, battery_pct=battery_pct)
        #: reference -> (resource kind, rate)
        self.subscriptions: dict[int, tuple[str, int]] = {}
        self.ignored_writes = 0
        self._encoder: MovesenseEncoder | None = None
        self._encoder_config: StreamConfig | None = None

    @property
    def streaming(self) -> bool:
        return NOTIFY_UUID in self.subscribed and bool(self.subscriptions)

    def on_disconnect(self) -> None:
        super().on_disconnect()
        self.subscriptions.clear()  # the sensor drops all subscriptions with the link
        self._update()

    def _update(self) -> None:
        if not self.subscriptions:
            self.config = self.protocol.default_config()
            return
        ref, (kind, rate) = next(iter(self.subscriptions.items()))
        base = self.protocol.default_config()
        gyro = base.gyro_range_dps if kind == "IMU6" else None
        self.config = StreamConfig(float(rate), base.accel_range_g, gyro, {"ref": ref})

    def _result(self, ref: int, status: int) -> list[Notification]:
        if NOTIFY_UUID not in self.subscribed:
            return []
        return [Notification(NOTIFY_UUID, bytes((RESP_RESULT, ref)) + struct.pack("<H", status))]

    def on_write(self, char_uuid: str, payload: bytes) -> list[Notification]:
        if normalize_uuid(char_uuid) != WRITE_UUID or len(payload) < 2 or payload[1] == 0:
            self.ignored_writes += 1
            return []
        cmd, ref, data = payload[0], payload[1], payload[2:]
        if cmd == CMD_HELLO:
            return [Notification(NOTIFY_UUID, bytes((RESP_RESULT, ref)) + b"Hello")] if NOTIFY_UUID in self.subscribed else []
        if cmd == CMD_SUBSCRIBE:
            try:
                path = data.decode("ascii")
            except UnicodeDecodeError:
                return self._result(ref, STATUS_NOT_FOUND)
            m = _PATH_RE.match(path)
            if m is None or float(m.group(2)) not in self.protocol.rates_hz:
                return self._result(ref, STATUS_NOT_FOUND)
            if ref in self.subscriptions:
                return self._result(ref, STATUS_CONFLICT)
            if len(self.subscriptions) >= MAX_SUBSCRIPTIONS:
                return self._result(ref, STATUS_NO_SLOT)
            self.subscriptions[ref] = (m.group(1), int(m.group(2)))
            self._update()
            return self._result(ref, STATUS_OK)
        if cmd == CMD_UNSUBSCRIBE:
            if self.subscriptions.pop(ref, None) is None:
                return self._result(ref, STATUS_NOT_FOUND)
            self._update()
            return self._result(ref, STATUS_OK)
        self.ignored_writes += 1
        return []

    def encode(
        self, accel_mps2: np.ndarray, gyro_rads: np.ndarray | None, sensor_time_s: np.ndarray
    ) -> list[EncodedNotification]:
        if self._encoder is None or self._encoder_config != self.config:
            self._encoder = MovesenseEncoder(self.config)
            self._encoder_config = self.config
        return self._encoder.encode(accel_mps2, gyro_rads, sensor_time_s)


class Movesense(SensorProtocol):
    """Movesense sensors with the GATT SensorData app: /Meas/Acc or /Meas/IMU6, u32 ms timestamps."""

    name = "movesense"
    display_name = "Movesense (GATT SensorData Protocol)"
    name_patterns = (r"^Movesense\b",)
    advertised_service_uuids = ADVERTISED_UUIDS
    services = (
        GattService(
            SERVICE_UUID,
            (
                GattCharacteristic(WRITE_UUID, ("write", "write-without-response"), "GSP commands"),
                GattCharacteristic(NOTIFY_UUID, ("notify",), "GSP responses and data"),
            ),
            "GATT SensorData",
        ),
    )
    notify_uuids = (NOTIFY_UUID,)
    rates_hz = (13.0, 26.0, 52.0, 104.0, 208.0, 416.0, 833.0, 1666.0)
    default_rate_hz = 104.0
    accel_ranges_g = (2.0, 4.0, 8.0, 16.0)
    default_accel_range_g = 8.0
    gyro_ranges_dps = (245.0, 500.0, 1000.0, 2000.0)
    default_gyro_range_dps = 2000.0
    has_sensor_clock = True
    verified_on_hardware = False
    stream_framing: ClassVar[str] = "packets"
    provenance = "Movesense GSP documentation (GD-77), movesense-device-lib GATTSensorDataClient.cpp; sensein/movesense-py"
    setup_notes = (
        "Needs firmware with the GattSensorData app. vbt subscribes /Meas/IMU6/208 (or /Meas/Acc/<rate> "
        "without gyro); ranges stay at the sensor's defaults (+/-8 g, 2000 dps) -- pass --range-g if "
        "you changed them with another app. Subscriptions end when the link drops; vbt re-subscribes."
    )

    @classmethod
    def resolution(cls, config: StreamConfig) -> Resolution:
        """f32 rounding of SI values; the first-sample timestamp is whole milliseconds."""
        acc = config.accel_range_g * STANDARD_GRAVITY_MPS2 * 2.0**-23
        gyro = (config.gyro_range_dps or 0.0) * DPS_TO_RADS * 2.0**-23
        return Resolution(acc, gyro, 0.5e-3 + 1e-9)

    @classmethod
    def limits(cls, config: StreamConfig) -> tuple[float, float]:
        """LSM6DSL binary full scales relative to the nominal range."""
        return (config.accel_range_g * STANDARD_GRAVITY_MPS2 * ACC_LIMIT_FACTOR,
                (config.gyro_range_dps or 0.0) * DPS_TO_RADS * GYRO_LIMIT_FACTOR)

    @classmethod
    def start_writes(cls, config: StreamConfig) -> list[Write]:
        path = resource_path(config)
        return [Write(WRITE_UUID, subscribe_command(path, _ref(config)), True, 0.0, f"subscribe {path}")]

    @classmethod
    def stop_writes(cls, config: StreamConfig) -> list[Write]:
        return [Write(WRITE_UUID, bytes((CMD_UNSUBSCRIBE, _ref(config))), True, 0.0, "unsubscribe")]

    @classmethod
    def hello_writes(cls) -> list[Write]:
        """HELLO: a cheap check that the GSP app is present (reply ``01 <ref> Hello``)."""
        return [Write(WRITE_UUID, bytes((CMD_HELLO, 1)), True, 0.0, "hello")]

    @classmethod
    def regroup_notifications(cls, notes: list[EncodedNotification], rng: np.random.Generator) -> list[EncodedNotification]:
        """The same packets re-split for another MTU (a larger one, or 185 where two parts fit)."""
        out: list[EncodedNotification] = []
        i = 0
        while i < len(notes):
            note = notes[i]
            body = note.payload[2:]
            last = note.last_sample_index
            if note.payload[0] == RESP_DATA and i + 1 < len(notes) and notes[i + 1].payload[0] == RESP_DATA_PART2:
                body += notes[i + 1].payload[2:]
                last = notes[i + 1].last_sample_index
                i += 1
            i += 1
            if note.payload[0] != RESP_DATA:
                out.append(note)
                continue
            mtu = int(rng.choice([185, 247, 512]))
            try:
                parts = split_message(body, note.payload[1], mtu)
            except ValueError:
                parts = split_message(body, note.payload[1], 512)
            out += [EncodedNotification(NOTIFY_UUID, p, last) for p in parts]
        return out

    @classmethod
    def decoder(cls, config: StreamConfig | None = None, *, strict: bool = False) -> MovesenseDecoder:
        return MovesenseDecoder(config or cls.default_config(), strict=strict)

    @classmethod
    def encoder(cls, config: StreamConfig | None = None) -> MovesenseEncoder:
        return MovesenseEncoder(config or cls.default_config())

    @classmethod
    def virtual_device(cls, name: str | None = None) -> MovesenseVirtualDevice:
        return MovesenseVirtualDevice(name or "Movesense 223430000123")


MovesenseVirtualDevice.protocol = Movesense

__all__ = [
    "NOTIFY_UUID",
    "SERVICE_UUID",
    "WRITE_UUID",
    "Movesense",
    "MovesenseDecoder",
    "MovesenseEncoder",
    "MovesenseVirtualDevice",
    "resource_path",
    "subscribe_command",
]
