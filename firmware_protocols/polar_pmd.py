"""Polar Measurement Data (PMD): Polar H10 and Polar Verity Sense -- wire specification and codec.

Verified on hardware: **no** -- from the vendor SDK source and third-party code only.

Provenance
----------
* Polar's own SDK, github.com/polarofficial/polar-ble-sdk, Android
  ``sources/Android/.../gatt/client/pmd/`` (``BlePMDClient.kt``, ``PmdControlPointCommand.kt``,
  ``PmdControlPointResponse.kt``, ``PmdSetting.kt``, ``PmdDataFrame.kt``, ``model/AccData.kt``,
  ``model/GyrData.kt``, ``PmdTimeStampUtils.kt``) and ``documentation/`` (time system, SDK mode,
  H10 and Verity Sense product pages) -- summarised in ``shared/reference/sensors.md`` section 3.
* Checked against two independent Python implementations downloaded from PyPI and read:
  ``polar-python`` 1.1.1 (``parsers/compression.py`` = the SDK's ``parseDeltaFramesAll``,
  LSB-first bits, two's complement; ``models/acc_data.py``: raw types 0/1 and compressed
  type 0 (x factor x 1000) / type 1 (x factor), mG; ``models/gyro_data.py``: compressed type 0
  x factor -> deg/s; ``models/pmd_data_frame.py``: 10-byte header, bit 7 of byte 9 =
  compressed; ``device.py``: the FACTOR setting is the f32 bit pattern of a u32 in the START
  response; ``constants``: epoch offset 946684800 s, setting/field sizes, error codes) and
  ``bleakheart`` 0.2.0 (``_core.py``: CP read starts ``0x0F``; responses start ``0xF0``; the
  H10 ACC START ``02 02 00 01 C8 00 01 01 10 00 02 01 08 00``; H10 ACC = raw type 1 i16 mG).
  ``polar-ble-sdk`` 1.0.0 on PyPI (``connector/stream/h10.py``/``verity_sense.py``) gives the
  defaults: H10 ACC 200 Hz / 16 bit / 8 g; Verity ACC 52 Hz / 16 bit / 8 g / 3 channels,
  GYRO 52 Hz / 16 bit / 3 channels.
* [unverified] The Verity Sense FACTOR values: this codec's virtual sensor sends ACC factor
  1.0 (compressed type 1, 1 mG steps) and GYRO factor range/32768 deg/s; the decoder uses
  whatever FACTOR the real sensor reports in its START response (``options["acc_factor"]``/
  ``options["gyro_factor"]`` supply it when decoding captures without the response).

GATT profile
------------

============================================  ===========================  ======================
UUID                                          Role                         Properties
============================================  ===========================  ======================
``fb005c80-02e7-f387-1cad-8acd2d8df0c8``      PMD service                  --
``fb005c81-02e7-f387-1cad-8acd2d8df0c8``      PMD control point (CP)       read, write, indicate
``fb005c82-02e7-f387-1cad-8acd2d8df0c8``      PMD data                     notify
``0000180f-...`` / ``00002a19-...``           battery level (u8 %)         read, notify
============================================  ===========================  ======================

The host enables CP indications **and** data notifications (the SDK refuses CP commands
otherwise), may read the CP for the feature bytes (``0F <b1> <b2>``: b1 bit 2 = ACC, bit 5 =
GYRO; b2 bit 1 = SDK mode), then writes commands. Names: ``Polar H10 <id>``, ``Polar Sense
<id>`` [unverified for Verity]. All multi-byte fields are **little-endian**.

Control point (client -> sensor): ``[opcode, type, settings...]``
------------------------------------------------------------------
Opcodes 0x01 GET_MEASUREMENT_SETTINGS, 0x02 START, 0x03 STOP. Types: ECG 0, PPG 1, **ACC 2**,
PPI 3, **GYRO 5**, MAG 6, **SDK_MODE 9** (``02 09`` on, ``03 09`` off). START settings are TLV
``setting_type u8, count u8 (=1), value``: 0 SAMPLE_RATE u16, 1 RESOLUTION u16, 2 RANGE u16
(g for ACC, deg/s for GYRO), 4 CHANNELS u8. Examples (checked in tests):

* H10 ACC 200 Hz, 16 bit, +/-8 g: ``02 02 00 01 C8 00 01 01 10 00 02 01 08 00``
* Verity ACC 208 Hz, +/-8 g in SDK mode: ``02 09`` then
  ``02 02 00 01 D0 00 01 01 10 00 02 01 08 00 04 01 03``; GYRO 2000 dps:
  ``02 05 00 01 D0 00 01 01 10 00 02 01 D0 07 04 01 03``

Response (indication on CP): ``F0 <opcode> <type> <status> <more> <params...>``; status 0
success, 1 invalid opcode, 2 invalid type, 3 not supported, 4 invalid length, 5 invalid
parameter, 6 already in state, 7 invalid resolution, 8 invalid sample rate, 9 invalid range,
10 invalid MTU, 11 invalid channels, 12 invalid state, 13 in charger, 14 disk full. A START
response's params carry ``05 01 <f32 FACTOR>`` (type 5, one 4-byte value); GET responses list
the supported values per setting. A sensor-initiated ``01 <types...>`` on the CP means "online
measurement stopped".

Data frame (notification on FB005C82)
-------------------------------------

======  =====  ===========================================================================
Offset  Type   Field
======  =====  ===========================================================================
0       u8     measurement type (low 6 bits): 2 ACC, 5 GYRO (others counted as unknown)
1       u64    timestamp, ns since 2000-01-01T00:00 on the device clock, of the **last** sample
9       u8     frame type: bit 7 = compressed (delta), bits 0-6 = type id
10      ...    samples
======  =====  ===========================================================================

=====================  ===========================================  =======================
Frame (byte 9)         Samples                                      Unit
=====================  ===========================================  =======================
ACC raw 0x00/01/02     i8 / i16 / i24 x (x, y, z) per sample        mG (H10: raw 0x01)
ACC compressed 0x80    delta frame, 16-bit reference, 3 channels    value x FACTOR x 1000 mG
ACC compressed 0x81    delta frame, 16-bit reference, 3 channels    value x FACTOR mG (Verity)
GYRO compressed 0x80   delta frame, 16-bit reference, 3 channels    value x FACTOR deg/s
GYRO compressed 0x81   delta frame of f32 bit patterns (32-bit)     float x FACTOR deg/s
=====================  ===========================================  =======================

Delta frame: reference sample (3 x i16), then blocks ``[width u8][count u8][bits]``,
``width``-bit two's-complement deltas packed LSB-first (`_framing.decode_delta_frames`). The
decoder insists that a frame ends exactly at a block boundary (a truncated frame would
misplace the frame timestamp, so it is rejected whole). We report the SI value of
``value x factor`` (the SDK truncates ACC to whole mG; we do not).

Per-sample time (SDK rule, ``PmdTimeStampUtils``): with a previous frame of the same type,
``delta = (ts - prev_ts) / N`` and sample k (1..N) sits at ``prev_ts + k * delta``; for the first
frame, ``delta = 1e9 / rate`` and the last sample is at ``ts``. ``sensor_time_s`` is that time in
seconds on the device clock (add 946684800 s for Unix time). Our additions for air bytes:

* ``ts == prev`` -> duplicate, ``ts < prev`` -> out of order (dropped, counted); emitted sensor
  time never runs backwards, even across a new START (the START response only resets the
  SDK-rule history, not this floor); `reset` (reconnect) clears both.
* ``ts - prev`` under half of N nominal periods is impossible -> bad frame; over 1.5 x N
  periods means frames were lost -> the frame is placed with the first-frame rule (no stretching
  of samples over the gap).
* Forward jumps are checked against the host's arrival times (`feed`'s ``host_time_s``), per
  measurement type. With ``dS`` the timestamp advance and ``dH`` the host-time advance since the
  last accepted frame, a frame is *suspicious* when ``dS > 60 s`` or
  ``dS - dH > max(1 s, 0.02 x dH) + N / rate``: the 1 s absorbs BLE batching and delivery latency
  (a late previous frame shortens ``dH``), the 2 % sensor-vs-host clock error over long gaps, and
  ``N / rate`` (the frame's own duration) a batch of frames arriving together (an H10 frame at
  25 Hz spans 1.44 s). A suspicious frame is counted as a bad frame and held, its samples not
  emitted: one corrupted timestamp (a flipped bit, +5 s) must neither stall the stream nor make
  the following good frames "out of order". If the next frame of that type continues from the
  last accepted frame (not suspicious against it), the held frame was corrupt and is dropped.
  If it continues from the held frame instead (at least half its N periods later, not
  suspicious against it), the jump was real: the held frame is placed with the first-frame rule
  and its samples are emitted along with the confirming frame's (at its arrival time; counted in
  ``frames`` too). Otherwise it becomes the held frame. A genuine gap (the sensor paused, the
  link dropped and came back) is accepted at once because host time advanced with it; a
  corrupted stamp less than ~1 s ahead is not detected (it costs at most that much data). A
  non-finite host time disables the host check for that frame. A START response or `reset`
  forgets the held frame (the next frame starts a new history).
* Values beyond the configured range are impossible -> bad frame. The limits allow the
  chip's binary full scale: ACC +/-range x 1.024 g (e.g. 8.192 g for "8 g" at 4 mG/digit),
  GYRO +/-range x 1.15 deg/s (LSM6DSL 2000 dps = 70 mdps x 32768 = 2294 dps).

ACC + GYRO (Verity Sense): the two measurements arrive as separate frames with their own
timestamps. The decoder emits ACC samples once the GYRO stream covers their time, with the
gyro linearly interpolated onto the ACC sample times (both come from the same LSM6DSL at the
same ODR, so the times coincide to within the timestamp rounding). ACC samples older than the
first gyro sample, or waiting more than 10 s for gyro, are dropped and counted in
``info["unpaired_samples"]``. Decode an ACC-only capture with ``gyro_range_dps=None``.

Rates and ranges: H10 ACC 25/50/100/200 Hz, +/-2/4/8 g, no gyro (HR/ECG are not decoded here).
Verity Sense ACC 52 Hz +/-8 g and GYRO 52 Hz 2000 dps by default; other values need SDK mode
(``02 09``, which switches off on-device HR/PPI): ACC/GYRO 26/52/104/208/416 Hz, ACC +/-2/4/8/16 g,
GYRO 250/500/1000/2000 dps. The H10 keeps streaming until STOP, and drops the link 45 s after
leaving the strap.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ._base import Decoder, Encoder, SensorProtocol, VirtualDevice, normalize_uuid
from ._framing import (
    HOST_JUMP_TOLERANCE_REL,
    HOST_JUMP_TOLERANCE_S,
    Resolution,
    batch_from_notifications,
    decode_delta_frames,
    delta_layouts,
    encode_delta_frame,
    extract_fields,
    host_supports_jump,
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

SERVICE_UUID = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
CP_UUID = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
DATA_UUID = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"
BATTERY_SERVICE_UUID = normalize_uuid("180f")
BATTERY_LEVEL_UUID = normalize_uuid("2a19")

OP_GET_SETTINGS = 0x01
OP_START = 0x02
OP_STOP = 0x03
RESPONSE_CODE = 0xF0
FEATURES_CODE = 0x0F
STOPPED_CODE = 0x01

TYPE_ECG = 0
TYPE_ACC = 2
TYPE_GYRO = 5
TYPE_SDK_MODE = 9
MEASUREMENT_NAMES = {0: "ECG", 1: "PPG", 2: "ACC", 3: "PPI", 5: "GYRO", 6: "MAG", 7: "SKIN_TEMP",
                     9: "SDK_MODE", 10: "LOCATION", 11: "PRESSURE", 12: "TEMPERATURE"}

SETTING_SAMPLE_RATE = 0
SETTING_RESOLUTION = 1
SETTING_RANGE = 2
SETTING_RANGE_MILLIUNIT = 3
SETTING_CHANNELS = 4
SETTING_FACTOR = 5
SETTING_SECURITY = 6
#: Value size in bytes of each setting type (polar-python ``PmdSettingType.field_size``).
SETTING_SIZES = {0: 2, 1: 2, 2: 2, 3: 4, 4: 1, 5: 4, 6: 16}

STATUS_SUCCESS = 0
STATUS_INVALID_OPCODE = 1
STATUS_INVALID_TYPE = 2
STATUS_NOT_SUPPORTED = 3
STATUS_INVALID_LENGTH = 4
STATUS_INVALID_PARAMETER = 5
STATUS_ALREADY_IN_STATE = 6
STATUS_INVALID_RESOLUTION = 7
STATUS_INVALID_SAMPLE_RATE = 8
STATUS_INVALID_RANGE = 9
STATUS_INVALID_STATE = 12
STATUS_NAMES = (
    "success", "invalid op code", "invalid measurement type", "not supported", "invalid length",
    "invalid parameter", "already in state", "invalid resolution", "invalid sample rate",
    "invalid range", "invalid MTU", "invalid number of channels", "invalid state",
    "device in charger", "disk full",
)

HEADER_LEN = 10
#: Polar's epoch (2000-01-01) in Unix seconds: sensor_time_s + this = Unix time.
POLAR_EPOCH_UNIX_S = 946_684_800
MG_TO_MPS2 = STANDARD_GRAVITY_MPS2 / 1000.0
DPS_TO_RADS = math.pi / 180.0
#: Largest plausible reading relative to the nominal range (binary chip full scales).
ACC_LIMIT_FACTOR = 1.024
GYRO_LIMIT_FACTOR = 1.15
#: A timestamp jump larger than this needs a second frame to confirm it.
MAX_TIMESTAMP_JUMP_NS = 60 * 10**9
#: Sensor-time advance allowed beyond the host-time advance: max(this, rel x host advance) + frame duration.
MAX_SAMPLES_PER_FRAME = 1024
#: ACC samples waiting longer than this for gyro coverage are dropped.
MAX_GYRO_WAIT_S = 10.0
#: ATT MTU Polar sensors negotiate; a notification carries at most MTU - 3 bytes.
DEFAULT_MTU = 232
#: CP writes: the SDK waits for the F0 response before the next command (~tens of ms).
CP_WRITE_DELAY_S = 0.1


def _u16(v: int) -> bytes:
    return struct.pack("<H", v)


def start_command(measurement: int, rate_hz: int, range_value: int, *, channels: int | None,
                  resolution: int = 16) -> bytes:
    """CP START: ``02 <type> 00 01 <rate> 01 01 <res> 02 01 <range> [04 01 <channels>]``."""
    out = bytes((OP_START, measurement))
    out += bytes((SETTING_SAMPLE_RATE, 1)) + _u16(rate_hz)
    out += bytes((SETTING_RESOLUTION, 1)) + _u16(resolution)
    out += bytes((SETTING_RANGE, 1)) + _u16(range_value)
    if channels is not None:
        out += bytes((SETTING_CHANNELS, 1, channels))
    return out


def parse_settings(params: bytes) -> dict[int, list[int | float]] | None:
    """TLV settings (GET/START responses and START requests) -> {setting type: values}; None if malformed.

    FACTOR values are returned as floats (their u32 is an IEEE-754 f32 bit pattern).
    """
    out: dict[int, list[int | float]] = {}
    off = 0
    while off < len(params):
        if off + 2 > len(params):
            return None
        kind, count = params[off], params[off + 1]
        size = SETTING_SIZES.get(kind)
        if size is None or off + 2 + size * count > len(params):
            return None
        values: list[int | float] = []
        for i in range(count):
            raw = params[off + 2 + i * size : off + 2 + (i + 1) * size]
            if kind == SETTING_FACTOR:
                values.append(struct.unpack("<f", raw)[0])
            elif kind == SETTING_SECURITY:
                values.append(int.from_bytes(raw, "little"))
            else:
                values.append(int.from_bytes(raw, "little"))
        out[kind] = values
        off += 2 + size * count
    return out


def default_gyro_factor(gyro_range_dps: float | None) -> float:
    """GYRO FACTOR our virtual sensor reports: the full i16 range spans +/-range (deg/s per LSB)."""
    return float(np.float32((gyro_range_dps or 2000.0) / 32768.0))


@dataclass(slots=True)
class _PendingFrame:
    """A frame held as a suspicious forward jump until the next frame says whether it was real."""

    ts_ns: int
    host_s: float
    values: np.ndarray  # mG or deg/s


@dataclass(slots=True)
class _TimeState:
    """Timestamp history of one measurement stream."""

    prev_ns: int | None = None  # last accepted frame timestamp (SDK-rule history)
    floor_ns: int | None = None  # emitted sensor time never goes below this
    host_s: float = math.nan  # host arrival time of the last accepted frame
    pending: _PendingFrame | None = None  # an unconfirmed forward jump


class PolarPmdDecoder(Decoder):
    """Decodes PMD data frames (ACC, GYRO), CP responses (FACTOR, errors) and battery level.

    Options read from ``config.options``: ``acc_factor`` (default 1.0), ``gyro_factor``
    (default range/32768), both overridden by a FACTOR in a START response.
    """

    protocol_name = "polar"
    version = "2"  # 2: forward timestamp jumps checked against host arrival times

    def __init__(self, config: StreamConfig, *, strict: bool = False) -> None:
        super().__init__(config, strict=strict)
        opts = config.options
        self._factor = {
            TYPE_ACC: float(opts.get("acc_factor", 1.0)),  # type: ignore[arg-type]
            TYPE_GYRO: float(opts.get("gyro_factor", default_gyro_factor(config.gyro_range_dps))),  # type: ignore[arg-type]
        }
        self._with_gyro = config.gyro_range_dps is not None
        self._period_ns = 1e9 / float(config.rate_hz)
        self._limit = {
            TYPE_ACC: config.accel_range_g * 1000.0 * ACC_LIMIT_FACTOR,
            TYPE_GYRO: (config.gyro_range_dps or 2000.0) * GYRO_LIMIT_FACTOR,
        }
        self._tol_ns = 0.01 * self._period_ns
        self.info["unpaired_samples"] = 0
        self.reset()

    def reset(self) -> None:
        self._time = {TYPE_ACC: _TimeState(), TYPE_GYRO: _TimeState()}
        # ACC samples waiting for gyro (times in ns, values in m/s^2), oldest first, as parts
        self._acc_tp: list[np.ndarray] = []
        self._acc_vp: list[np.ndarray] = []
        self._acc_newest: float | None = None  # newest ACC sample time ever seen (ns)
        # gyro history kept for interpolation (parts), and the first gyro time since reset
        self._gyro_tp: list[np.ndarray] = []
        self._gyro_vp: list[np.ndarray] = []
        self._g_first: float | None = None

    @staticmethod
    def _joined(tp: list[np.ndarray], vp: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Concatenate stored parts (collapsing them in place)."""
        if not tp:
            return np.zeros(0), np.zeros((0, 3))
        if len(tp) > 1:
            t, v = np.concatenate(tp), np.concatenate(vp)
            tp[:] = [t]
            vp[:] = [v]
        return tp[0], vp[0]

    # ----------------------------------------------------------------------- control point

    def _control(self, payload: bytes) -> None:
        if not payload:
            self._problem("bad_frames", "empty control-point notification")
            return
        code = payload[0]
        if code == RESPONSE_CODE:
            if len(payload) < 5:
                self._problem("bad_frames", "control-point response shorter than 5 bytes", data=payload)
                return
            opcode, mtype, status = payload[1], payload[2], payload[3]
            params = parse_settings(payload[5:]) if status == STATUS_SUCCESS else {}
            if params is None:
                self._problem("bad_frames", "control-point response settings are malformed", data=payload)
                return
            self.stats.other_frames += 1
            name = MEASUREMENT_NAMES.get(mtype, str(mtype))
            if status != STATUS_SUCCESS:
                text = STATUS_NAMES[status] if status < len(STATUS_NAMES) else f"status {status}"
                self.info["last_error"] = f"opcode {opcode} {name}: {text}"
                return
            if opcode == OP_START and mtype in self._time:
                factor = params.get(SETTING_FACTOR)
                if factor and math.isfinite(float(factor[0])) and float(factor[0]) > 0:
                    self._factor[mtype] = float(factor[0])
                    self.info[f"{name.lower()}_factor"] = float(factor[0])
                self._time[mtype].prev_ns = None  # a new stream: SDK first-frame rule again
                self._time[mtype].pending = None
            elif opcode == OP_GET_SETTINGS:
                self.info[f"{name.lower()}_settings"] = {k: list(v) for k, v in params.items()}
            elif opcode == OP_START and mtype == TYPE_SDK_MODE:
                self.info["sdk_mode"] = True
            elif opcode == OP_STOP and mtype == TYPE_SDK_MODE:
                self.info["sdk_mode"] = False
        elif code == FEATURES_CODE and len(payload) >= 2:
            self.stats.other_frames += 1
            self.info["features"] = [n for bit, n in MEASUREMENT_NAMES.items() if bit < 8 and payload[1] >> bit & 1]
        elif code == STOPPED_CODE:
            self.stats.other_frames += 1
            self.info["stopped"] = [MEASUREMENT_NAMES.get(t, str(t)) for t in payload[1:]]
        else:
            self.stats.unknown += 1

    # ----------------------------------------------------------------------- data frames

    def _values(self, mtype: int, ftype: int, content: bytes) -> np.ndarray | None:
        """Samples of one frame in mG (ACC) or deg/s (GYRO); None if malformed/unsupported."""
        compressed = bool(ftype & 0x80)
        kind = ftype & 0x7F
        factor = self._factor[mtype]
        if mtype == TYPE_ACC and not compressed:
            width = {0: 1, 1: 2, 2: 3}.get(kind)
            if width is None:
                return None
            if len(content) % (3 * width) or not content:
                return None
            if width == 3:
                raw = np.frombuffer(content, np.uint8).reshape(-1, 3).astype(np.int64)
                val = raw[:, 0] | raw[:, 1] << 8 | raw[:, 2] << 16
                return np.where(val >= 1 << 23, val - (1 << 24), val).reshape(-1, 3).astype(np.float64)
            dtype = "<i1" if width == 1 else "<i2"
            return np.frombuffer(content, dtype=dtype).reshape(-1, 3).astype(np.float64)
        if kind not in (0, 1) or not compressed:
            return None
        if mtype == TYPE_GYRO and kind == 1:
            ints = decode_delta_frames(content, 3, 32, MAX_SAMPLES_PER_FRAME)
            if ints is None:
                return None
            with np.errstate(invalid="ignore"):  # a corrupted float may be a signalling NaN: rejected later
                floats = (ints & 0xFFFFFFFF).astype(np.uint32).view(np.float32).astype(np.float64)
            return floats * factor
        ints = decode_delta_frames(content, 3, 16, MAX_SAMPLES_PER_FRAME)
        if ints is None:
            return None
        if mtype == TYPE_ACC and kind == 0:
            return ints * (factor * 1000.0)  # compressed type 0 carries G (SDK "Wolfi type")
        return ints * factor

    def _plausible(self, d_ns: float, host_advance_s: float, n: int) -> bool:
        """Is a timestamp advance of ``d_ns`` supported by ``host_advance_s`` of host time (module docstring)?"""
        return host_supports_jump(d_ns / 1e9, host_advance_s, n * self._period_ns / 1e9, MAX_TIMESTAMP_JUMP_NS / 1e9)

    def _time_plan(self, mtype: int, ts: int, values: np.ndarray,
                   host_s: float) -> list[tuple[np.ndarray, float, float, float, float]]:
        """How to place a frame's N samples: ``[]`` if the frame is dropped or held (counted).

        Returns ``(values, base, step, k0, floor)`` per frame to store, oldest first (a held frame
        whose jump this one confirms comes first): sample k sits at ``base + (k + k0) * step`` ns
        and only samples after ``floor`` are kept (``-inf`` = all). Updates the stream's time state.
        """
        st = self._time[mtype]
        n = values.shape[0]
        if st.floor_ns is not None and ts <= st.floor_ns:
            if ts == st.floor_ns:
                self._problem("duplicates", f"timestamp {ts} ns repeats the previous frame")
            else:
                self._problem("out_of_order", f"timestamp {ts} ns is before the previous frame's {st.floor_ns}")
            return []
        period = self._period_ns
        out: list[tuple[np.ndarray, float, float, float, float]] = []
        if st.prev_ns is not None and not self._plausible(ts - st.prev_ns, host_s - st.host_s, n):
            held = st.pending
            if (held is None or ts - held.ts_ns < 0.5 * n * period
                    or not self._plausible(ts - held.ts_ns, host_s - held.host_s, n)):
                d = ts - st.prev_ns
                st.pending = _PendingFrame(ts, host_s, values)
                self._problem("bad_frames", f"timestamp jumps forward by {d / 1e9:.1f} s while the host clock "
                              f"advanced {host_s - st.host_s:.1f} s; held until confirmed")
                return []
            # this frame continues from the held one: the jump was real. The held frame has no
            # predecessor to space its samples by: first-frame rule (last sample at its stamp).
            floor = -math.inf if st.floor_ns is None else float(st.floor_ns)
            out.append((held.values, float(held.ts_ns), period, -(held.values.shape[0] - 1.0), floor))
            st.prev_ns = st.floor_ns = held.ts_ns
        plan: tuple[float, float, float] | None = None
        if st.prev_ns is not None:
            d = ts - st.prev_ns
            if d < 0.5 * n * period:
                self._problem("bad_frames", f"timestamp advances {d} ns for {n} samples at {1e9 / period:g} Hz")
                return []
            if d <= 1.5 * n * period:
                plan = (float(st.prev_ns), d / n, 1.0)  # SDK rule: prev + (k + 1) * (ts - prev) / N
            # else frames were lost: do not stretch these samples over the gap
        if plan is None:
            plan = (float(ts), period, -(n - 1.0))  # last sample at ts, nominal spacing
        floor = -math.inf if st.floor_ns is None else float(st.floor_ns)
        st.prev_ns = ts
        st.host_s = host_s
        st.pending = None
        st.floor_ns = ts
        out.append((values, *plan, floor))
        return out

    def _accept(self, mtype: int, values: np.ndarray, times: np.ndarray, floor: float) -> None:
        """Store a frame's samples (values in mG or deg/s, times in ns) after trimming overlap."""
        if times[0] <= floor:
            keep = times > floor
            self.info["overlapping_samples"] = int(self.info.get("overlapping_samples", 0)) + int((~keep).sum())  # type: ignore[call-overload]
            if not keep.any():
                return
            times = times[keep]
            values = values[values.shape[0] - times.shape[0] :]
        self.stats.frames += 1
        if mtype == TYPE_ACC:
            self._acc_tp.append(times)
            self._acc_vp.append(values * MG_TO_MPS2)
            self._acc_newest = float(times[-1])
        else:
            if self._g_first is None:
                self._g_first = float(times[0])
            self._gyro_tp.append(times)
            self._gyro_vp.append(values * DPS_TO_RADS)

    def _data(self, payload: bytes, host_s: float) -> None:
        if len(payload) < HEADER_LEN:
            self._problem("bad_frames", f"data frame of {len(payload)} bytes is shorter than the 10-byte header",
                          nbytes=len(payload), data=payload)
            return
        mtype = payload[0] & 0x3F
        if mtype not in (TYPE_ACC, TYPE_GYRO):
            self.stats.unknown += 1  # ECG, PPG, ... are valid but not ours
            return
        if mtype == TYPE_GYRO and not self._with_gyro:
            self.stats.other_frames += 1
            return
        values = self._values(mtype, payload[9], payload[HEADER_LEN:])
        if not self._values_ok(mtype, payload, values):
            return
        assert values is not None
        ts = int.from_bytes(payload[1:9], "little")
        for vals, base, step, k0, floor in self._time_plan(mtype, ts, values, host_s):
            times = base + (np.arange(vals.shape[0], dtype=np.float64) + k0) * step
            self._accept(mtype, vals, times, floor)

    def _values_ok(self, mtype: int, payload: bytes, values: np.ndarray | None) -> bool:
        name = MEASUREMENT_NAMES[mtype]
        if values is None or values.shape[0] == 0 or values.shape[0] > MAX_SAMPLES_PER_FRAME:
            self._problem("bad_frames", f"{name} frame type 0x{payload[9]:02x} with {len(payload) - 10} "
                          "payload bytes is malformed or unsupported", nbytes=len(payload), data=payload)
            return False
        if not np.isfinite(values).all() or np.abs(values).max() > self._limit[mtype] + self._factor[mtype]:
            self._problem("bad_frames", f"{name} value beyond full scale or not finite", nbytes=len(payload),
                          data=payload)
            return False
        return True

    def _emit(self) -> tuple[np.ndarray, np.ndarray | None, np.ndarray] | None:
        """Samples ready to leave: all ACC (accelerometer only), or ACC that GYRO covers.

        Pairing rules (the bulk path in `feed_many` reproduces them): an ACC sample is *early*
        (dropped) if it precedes the first gyro sample by more than ``tol``; *ready* once the
        newest gyro sample is no more than ``tol`` before it; *stale* (dropped) if still waiting
        when the newest ACC sample is more than `MAX_GYRO_WAIT_S` later.
        """
        if not self._acc_tp:
            return None
        acc_t, acc_v = self._joined(self._acc_tp, self._acc_vp)
        if not self._with_gyro:
            self._acc_tp, self._acc_vp = [], []
            self.stats.samples += acc_t.shape[0]
            return acc_v, None, acc_t / 1e9
        tol = self._tol_ns
        g_t, g_v = self._joined(self._gyro_tp, self._gyro_vp)
        if self._g_first is None:
            early = np.zeros(acc_t.shape[0], dtype=bool)
            ready = early
        else:
            early = acc_t < self._g_first - tol
            ready = (acc_t <= g_t[-1] + tol) & ~early
        assert self._acc_newest is not None
        stale = ~ready & ~early & (acc_t < self._acc_newest - MAX_GYRO_WAIT_S * 1e9)
        dropped = int(early.sum() + stale.sum())
        if dropped:
            self.info["unpaired_samples"] = int(self.info["unpaired_samples"]) + dropped  # type: ignore[call-overload]
        waiting = ~ready & ~early & ~stale
        self._acc_tp = [acc_t[waiting]] if waiting.any() else []
        self._acc_vp = [acc_v[waiting]] if waiting.any() else []
        if not ready.any():
            return None
        t = acc_t[ready]
        gyro = _pair_gyro(t, g_t, g_v, tol)
        self._prune_gyro(g_t, g_v, float(t[-1]))
        self.stats.samples += t.shape[0]
        return acc_v[ready], gyro, t / 1e9

    def _prune_gyro(self, g_t: np.ndarray, g_v: np.ndarray, last_emitted: float) -> None:
        """Keep the gyro sample at or before the last emitted ACC time, and everything after."""
        keep_from = max(int(np.searchsorted(g_t, last_emitted, side="right")) - 1, 0)
        self._gyro_tp = [g_t[keep_from:]]
        self._gyro_vp = [g_v[keep_from:]]

    def _feed_arrays(self, char_uuid: str, payload: bytes,
                     host_time_s: float) -> tuple[np.ndarray, np.ndarray | None, np.ndarray] | None:
        self.stats.notifications += 1
        self.stats.bytes_in += len(payload)
        uuid = normalize_uuid(char_uuid)
        if uuid == DATA_UUID:
            self._data(bytes(payload), host_time_s)
            return self._emit()
        if uuid == CP_UUID:
            self._control(bytes(payload))
            return None
        if uuid == BATTERY_LEVEL_UUID:
            if len(payload) == 1 and payload[0] <= 100:
                self.battery_pct = float(payload[0])
                self.stats.other_frames += 1
            else:
                self._problem("bad_frames", "battery level must be one byte 0..100", data=bytes(payload))
            return None
        self.stats.unknown += 1
        return None

    def feed(self, char_uuid: str, payload: bytes, host_time_s: float) -> list[ImuBatch]:
        got = self._feed_arrays(char_uuid, payload, host_time_s)
        if got is None:
            return []
        acc, gyro, t = got
        return [ImuBatch(host_time_s, acc, gyro, t, self.config.rate_hz)]

    def _feed_many_sequential(self, char_uuid: str, payloads: Sequence[bytes], times: np.ndarray) -> list[ImuBatch]:
        accs, gyros, sts, arrivals = [], [], [], []
        for payload, host_t in zip(payloads, times.tolist(), strict=True):
            got = self._feed_arrays(char_uuid, payload, host_t)
            if got is not None:
                accs.append(got[0])
                gyros.append(got[1])
                sts.append(got[2])
                arrivals.append(np.full(got[0].shape[0], host_t))
        if not accs:
            return []
        gyro = None if gyros[0] is None else np.concatenate(gyros)  # type: ignore[arg-type]
        return batch_from_notifications(np.concatenate(accs), gyro, np.concatenate(sts),
                                        np.concatenate(arrivals), self.config.rate_hz)

    def feed_many(
        self, char_uuid: str, payloads: Sequence[bytes], host_times_s: Sequence[float] | np.ndarray
    ) -> list[ImuBatch]:
        """Bulk decode with the same samples, times, arrival times and counters as `feed` in order.

        Data frames are vectorised: the headers of all frames are read at once, the block
        structure of all delta frames by one NumPy pass per block position
        (`_framing.delta_layouts`), and every field of every frame in one extraction
        (`_framing.extract_fields`). `_time_plan`'s checks are evaluated for all frames at once
        against the previous frame of the same type; `_time_plan` itself runs only for the frames
        that are not a plain successor of an accepted one (the first frame of each type,
        duplicates, reordering, jumps, and the frame after a rejected one). ACC/GYRO pairing is
        computed as the notification at which each ACC sample becomes ready (or is dropped).
        """
        times = np.asarray(host_times_s, dtype=np.float64)
        if len(payloads) != times.shape[0]:
            raise ValueError(f"{len(payloads)} payloads but {times.shape[0]} host times")
        if normalize_uuid(char_uuid) != DATA_UUID or self.strict or len(payloads) < 8:
            return self._feed_many_sequential(char_uuid, payloads, times)
        acc_newest0, g_first0 = self._acc_newest, self._g_first
        pending0 = sum(t.shape[0] for t in self._acc_tp)
        stored = self._bulk_frames(payloads, times)
        return self._bulk_emit(stored, len(payloads), times, pending0, acc_newest0, g_first0)

    # ----------------------------------------------------------------------- bulk path

    def _bulk_frames(self, payloads: Sequence[bytes],
                     host_times: np.ndarray) -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Decode and time every data frame, storing the accepted samples exactly as `_accept` does.

        Returns, per measurement type, the stored frames' notification index, sample count and
        last sample time (ns), in order.
        """
        n_notes = len(payloads)
        self.stats.notifications += n_notes
        data = b"".join(payloads)
        lens = np.fromiter(map(len, payloads), dtype=np.int64, count=n_notes)
        if int(lens.sum()) != len(data):  # buffers whose len() is not their byte count: their bytes
            lens = np.fromiter((len(bytes(p)) for p in payloads), dtype=np.int64, count=n_notes)
        self.stats.bytes_in += len(data)
        starts = np.cumsum(lens) - lens
        buf = np.frombuffer(data + bytes(16), dtype=np.uint8)
        # header checks of _data (strict mode never gets here, so counting is all _problem would do)
        short = lens < HEADER_LEN
        if short.any():
            self.stats.bad_frames += int(np.count_nonzero(short))
            self.stats.skipped_bytes += int(lens[short].sum())
        note = np.flatnonzero(~short)
        mtype = buf[starts[note]] & 0x3F
        is_acc = mtype == TYPE_ACC
        is_gyro = mtype == TYPE_GYRO
        self.stats.unknown += int(np.count_nonzero(~is_acc & ~is_gyro))  # ECG, PPG, ... are valid but not ours
        if not self._with_gyro:
            self.stats.other_frames += int(np.count_nonzero(is_gyro))
            is_gyro[:] = False
        ours = is_acc | is_gyro
        note, is_acc = note[ours], is_acc[ours]
        start = starts[note]
        size = lens[note] - HEADER_LEN
        ftype = buf[start + 9]
        fast, vals, row0, rows, peak = self._bulk_values(buf, start + HEADER_LEN, size, ftype, is_acc)

        # value checks of _values_ok: the peaks of the vectorised frames, `_values` for the others
        def payload(j: int) -> bytes:
            return data[int(start[j]) : int(start[j]) + HEADER_LEN + int(size[j])]

        fi = np.flatnonzero(fast)
        fast_acc = is_acc[fi]
        limit = np.where(fast_acc, self._limit[TYPE_ACC] + self._factor[TYPE_ACC],
                         self._limit[TYPE_GYRO] + self._factor[TYPE_GYRO])
        with np.errstate(invalid="ignore"):
            good = np.isfinite(peak) & (peak <= limit) & (rows <= MAX_SAMPLES_PER_FRAME)
        off = np.zeros(note.shape[0], dtype=np.int64)  # first row of each frame's values in the store
        count = np.zeros(note.shape[0], dtype=np.int64)
        off[fi], count[fi] = row0, rows
        valid = np.zeros(note.shape[0], dtype=bool)
        valid[fi[good]] = True
        for f in np.flatnonzero(~good).tolist():
            j = int(fi[f])
            self._values_ok(TYPE_ACC if fast_acc[f] else TYPE_GYRO, payload(j), vals[row0[f] : row0[f] + rows[f]])
        n_fast_rows = vals.shape[0]
        extras: list[np.ndarray] = []  # values not in `vals`: other frame formats, held frames
        extra_at: dict[int, np.ndarray] = {}
        n_rows = n_fast_rows

        def add_extra(v: np.ndarray) -> int:
            nonlocal n_rows
            extras.append(v)
            extra_at[n_rows] = v
            n_rows += v.shape[0]
            return n_rows - v.shape[0]

        for j in np.flatnonzero(~fast).tolist():
            p = payload(j)
            m = TYPE_ACC if is_acc[j] else TYPE_GYRO
            v = self._values(m, p[9], p[HEADER_LEN:])
            if self._values_ok(m, p, v):
                assert v is not None
                off[j], count[j] = add_extra(v), v.shape[0]
                valid[j] = True

        def frame_values(o: int, c: int) -> np.ndarray:
            return vals[o : o + c] if o < n_fast_rows else extra_at[o]

        ci = np.flatnonzero(valid)
        stamp = buf[(start[ci] + 1)[:, None] + np.arange(8)].view("<u8").ravel()
        plans = {}
        for m in (TYPE_ACC, TYPE_GYRO):
            sel = is_acc[ci] if m == TYPE_ACC else ~is_acc[ci]
            k = ci[sel]
            if k.size:
                plans[m] = self._bulk_plans(m, note[k], stamp[sel], count[k], host_times[note[k]], off[k],
                                            frame_values, add_extra)
        store = np.concatenate([vals, *extras]) if extras else vals
        return {m: self._bulk_store(m, store, *p) for m, p in plans.items()}

    def _bulk_values(self, buf: np.ndarray, content: np.ndarray, size: np.ndarray, ftype: np.ndarray,
                     is_acc: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Samples of every vectorisable frame (ACC raw16, well-formed ACC/GYRO 16-bit delta) at once.

        Returns ``(fast, values, first_row, rows, peak)``: which frames were decoded here; their
        values (mG or deg/s, as `_values` computes them) stacked in frame order; each one's first
        row and row count; and its peak |value| (not finite if any value is not).
        """
        raw16 = is_acc & (ftype == 0x01) & (size > 0) & (size % 6 == 0)
        delta = ((ftype == 0x80) | (ftype == 0x81)) & (is_acc | (ftype == 0x80))  # not GYRO float frames
        d_idx = np.flatnonzero(delta)
        ok, b_frame, b_width, b_count, b_byte = delta_layouts(buf, content[d_idx], size[d_idx], 3, 16,
                                                              MAX_SAMPLES_PER_FRAME)
        d_ok = d_idx[ok]
        fast = raw16.copy()
        fast[d_ok] = True
        fi = np.flatnonzero(fast)
        if not fi.size:
            empty = np.zeros(0, dtype=np.int64)
            return fast, np.zeros((0, 3)), empty, empty, np.zeros(0)
        pos = np.cumsum(fast) - 1  # index among the fast frames
        r_idx = np.flatnonzero(raw16)
        # runs of fields, frame by frame: a raw frame's samples; a delta frame's reference, then its blocks
        n_abs = r_idx.size + d_ok.size
        run_frame = np.concatenate([pos[r_idx], pos[d_ok], pos[d_idx[b_frame]]])
        order = np.argsort(run_frame, kind="stable")  # the reference before the blocks, blocks in order
        run_frame = run_frame[order]
        run_byte = np.concatenate([content[r_idx], content[d_ok], b_byte])[order]
        run_width = np.concatenate([np.full(n_abs, 16, dtype=np.int64), b_width])[order]
        run_rows = np.concatenate([size[r_idx] // 6, np.ones(d_ok.size, dtype=np.int64), b_count])[order]
        run_abs = (order < n_abs)  # rows holding values rather than deltas
        fields = run_rows * 3
        total = int(fields.sum())
        first = np.cumsum(fields) - fields
        w = np.repeat(run_width, fields)
        bits = np.repeat(run_byte * 8 - first * run_width, fields) + np.arange(total, dtype=np.int64) * w
        ints = extract_fields(buf, bits, w).reshape(-1, 3)
        if b_width.size:  # delta rows: running sums from the last value row (the frame's reference)
            csum = np.cumsum(ints, axis=0)
            seg = np.flatnonzero(np.repeat(run_abs, run_rows))
            before = csum[seg - 1]
            before[0] = 0  # seg[0] == 0: the first fast frame starts with a value row
            ints = csum - np.repeat(before, np.diff(seg, append=ints.shape[0]), axis=0)
        rows = np.bincount(run_frame, weights=run_rows, minlength=fi.size).astype(np.int64)
        first_row = np.cumsum(rows) - rows
        f_acc, f_gyro = self._factor[TYPE_ACC], self._factor[TYPE_GYRO]
        scale = np.where(is_acc[fi], np.where(ftype[fi] == 0x80, f_acc * 1000.0, f_acc), f_gyro)
        scale[raw16[fi]] = 1.0  # raw frames are whole mG (x 1.0 is exact)
        values = ints * np.repeat(scale, rows)[:, None]
        a = np.abs(values)
        peak = np.maximum.reduceat(np.maximum(np.maximum(a[:, 0], a[:, 1]), a[:, 2]), first_row)
        return fast, values, first_row, rows, peak

    def _bulk_plans(self, mtype: int, note: np.ndarray, stamp: np.ndarray, n: np.ndarray, host: np.ndarray,
                    off: np.ndarray, frame_values: Callable[[int, int], np.ndarray],
                    add_extra: Callable[[np.ndarray], int]) -> tuple[np.ndarray, ...]:
        """`_time_plan` for the valid frames of one type, in order; returns the plans as arrays
        ``(note, first row, count, base, step, k0, floor)`` (rows index the caller's value store).

        A frame is a *plain successor* of the frame before it when `_time_plan`, having just
        accepted that frame, would accept this one with no problem: stamps ahead, plausible, at
        least half of N periods. After an accepted frame, the run of plain successors that
        follows is accepted here at once (SDK rule, or the first-frame rule past 1.5 N periods,
        with the same arithmetic); every other frame goes through `_time_plan`.
        """
        m = stamp.shape[0]
        period = self._period_ns
        ts = stamp.astype(np.int64)
        small = stamp < np.uint64(1 << 62)  # exact int64 differences (real stamps are ~2**59)
        d = ts[1:] - ts[:-1]
        nn = n[1:]
        with np.errstate(invalid="ignore"):  # inf - inf host times: NaN, "no usable host time"
            h = host[1:] - host[:-1]
            # _plausible(d, h, n) for d > 0; d <= 60e9 where it matters, so int -> float is exact
            tol = np.maximum(HOST_JUMP_TOLERANCE_S, HOST_JUMP_TOLERANCE_REL * h) + nn * period / 1e9
            plausible = (d <= MAX_TIMESTAMP_JUMP_NS) & (~np.isfinite(h) | (d / 1e9 - h <= tol))
        plain = small[1:] & small[:-1] & (d > 0) & plausible & ~(d < 0.5 * nn * period)
        sdk = d <= 1.5 * nn * period
        prev_f = ts[:-1].astype(np.float64)
        base = np.where(sdk, prev_f, ts[1:].astype(np.float64))
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(sdk, d / nn, period)
        k0 = np.where(sdk, 1.0, -(nn - 1.0))
        breaks = np.flatnonzero(~plain) + 1  # frames that may not follow the one before plainly
        st = self._time[mtype]
        pieces: list[tuple[np.ndarray, ...]] = []
        j = 0
        after_accept = False
        while j < m:
            if after_accept:
                b = int(np.searchsorted(breaks, j))
                stop = int(breaks[b]) if b < breaks.shape[0] else m
                if stop > j:  # frames j .. stop - 1: accepted, each right after the one before
                    r = slice(j - 1, stop - 1)
                    pieces.append((note[j:stop], off[j:stop], n[j:stop], base[r], step[r], k0[r], prev_f[r]))
                    st.prev_ns = st.floor_ns = int(stamp[stop - 1])
                    st.host_s = float(host[stop - 1])
                    st.pending = None
                    j = stop
                    if j == m:
                        break
            values = frame_values(int(off[j]), int(n[j]))
            got = self._time_plan(mtype, int(stamp[j]), values, float(host[j]))
            for vals, pb, ps, pk, pf in got:
                o = int(off[j]) if vals is values else add_extra(vals)
                pieces.append((note[j : j + 1], np.array([o]), np.array([vals.shape[0]]), np.array([pb]),
                               np.array([ps]), np.array([pk]), np.array([pf])))
            after_accept = bool(got)  # accepted: the stream state is this frame's
            j += 1
        if not pieces:
            return tuple(np.zeros(0, dtype=np.int64) for _ in range(3)) + tuple(np.zeros(0) for _ in range(4))
        return tuple(np.concatenate(x) for x in zip(*pieces, strict=True))

    def _bulk_store(self, mtype: int, store: np.ndarray, note: np.ndarray, off: np.ndarray, n: np.ndarray,
                    base: np.ndarray, step: np.ndarray, k0: np.ndarray,
                    floor: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sample times of all plans (``base + (k + k0) * step`` as `_data`), trimmed and stored as
        `_accept` does; returns the stored plans' notification, sample count and last time."""
        if not n.size:
            return note, n, np.zeros(0)
        first = np.cumsum(n) - n
        total = int(n.sum())
        k = np.arange(total, dtype=np.int64) - np.repeat(first, n)
        t = np.repeat(base, n) + (k + np.repeat(k0, n)) * np.repeat(step, n)
        rows = np.repeat(off, n) + k
        keep = t > np.repeat(floor, n)  # times rise within a plan: only a plan's first samples can go
        kept = n
        if not keep.all():
            dropped = total - int(np.count_nonzero(keep))
            self.info["overlapping_samples"] = int(self.info.get("overlapping_samples", 0)) + dropped  # type: ignore[call-overload]
            kept = np.add.reduceat(keep.astype(np.int64), first)
            t, rows = t[keep], rows[keep]
        used = kept > 0
        self.stats.frames += int(np.count_nonzero(used))
        if not t.size:
            return note[used], kept[used], np.zeros(0)
        values = store[rows]
        if mtype == TYPE_ACC:
            self._acc_tp.append(t)
            self._acc_vp.append(values * MG_TO_MPS2)
            self._acc_newest = float(t[-1])
        else:
            if self._g_first is None:
                self._g_first = float(t[0])
            self._gyro_tp.append(t)
            self._gyro_vp.append(values * DPS_TO_RADS)
        return note[used], kept[used], t[np.cumsum(kept[used]) - 1]

    def _bulk_emit(self, stored: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]], n_notes: int,
                   host_times: np.ndarray, pending0: int, acc_newest0: float | None,
                   g_first0: float | None) -> list[ImuBatch]:
        """Emission of the pending samples, notification by notification, exactly as `_emit` does it.

        `_bulk_frames` stored every accepted sample; here each pending ACC sample gets the
        notification at which `_emit` would emit it (newest gyro within ``tol``) or drop it
        (early / stale), from the per-notification newest-gyro and newest-ACC times.
        """
        if not self._acc_tp:
            return []
        none = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0))
        a_note, a_count, a_last = stored.get(TYPE_ACC, none)
        g_note, g_count, g_last = stored.get(TYPE_GYRO, none)
        acc_t, acc_v = self._joined(self._acc_tp, self._acc_vp)
        arrive = np.zeros(acc_t.shape[0], dtype=np.int64)  # samples from earlier calls: notification 0
        arrive[pending0:] = np.repeat(a_note, a_count)
        if not self._with_gyro:
            self._acc_tp, self._acc_vp = [], []
            self.stats.samples += acc_t.shape[0]
            return batch_from_notifications(acc_v, None, acc_t / 1e9, host_times[arrive], self.config.rate_hz)
        tol = self._tol_ns
        g_t, g_v = self._joined(self._gyro_tp, self._gyro_vp)
        new_gyro = int(g_count.sum())
        g_prev_last = g_t[g_t.shape[0] - new_gyro - 1] if g_t.shape[0] > new_gyro else -np.inf

        def last_per_note(notes: np.ndarray, last: np.ndarray) -> np.ndarray:
            out = np.full(n_notes, -np.inf)
            final = np.append(notes[1:] != notes[:-1], True) if notes.size else np.zeros(0, dtype=bool)
            out[notes[final]] = last[final]  # a notification's last stored frame
            return out

        g_last_after = last_per_note(g_note, g_last)
        acc_newest_after = last_per_note(a_note, a_last)
        g_last_after[0] = max(g_last_after[0], g_prev_last)
        acc_newest_after[0] = max(acc_newest_after[0], -np.inf if acc_newest0 is None else acc_newest0)
        g_last_after = np.maximum.accumulate(g_last_after)
        acc_newest_after = np.maximum.accumulate(acc_newest_after)
        never = n_notes
        # the notification from which a first gyro sample exists (0: from an earlier call)
        j_g = 0 if g_first0 is not None else (int(g_note[0]) if g_note.size else never)
        g_first = self._g_first
        early = np.zeros(acc_t.shape[0], dtype=bool) if g_first is None else acc_t < g_first - tol
        j_ready = np.maximum(arrive, np.searchsorted(g_last_after + tol, acc_t, side="left"))
        j_stale = np.maximum(arrive, np.searchsorted(acc_newest_after - MAX_GYRO_WAIT_S * 1e9, acc_t, side="right"))
        # ready wins a tie with stale (`_emit` tests readiness first); early samples never become ready
        emit = ~early & (j_ready < never) & (j_ready <= j_stale)
        dropped_early = early & (np.minimum(np.maximum(arrive, j_g), j_stale) < never)
        dropped_stale = ~early & (j_stale < never) & (j_stale < j_ready)
        drop = dropped_early | dropped_stale
        if drop.any():
            self.info["unpaired_samples"] = int(self.info["unpaired_samples"]) + int(drop.sum())  # type: ignore[call-overload]
        pending = ~emit & ~drop
        self._acc_tp = [acc_t[pending]] if pending.any() else []
        self._acc_vp = [acc_v[pending]] if pending.any() else []
        if not emit.any():
            return []
        t = acc_t[emit]
        gyro = _pair_gyro(t, g_t, g_v, tol)
        self._prune_gyro(g_t, g_v, float(t[-1]))
        self.stats.samples += t.shape[0]
        return batch_from_notifications(acc_v[emit], gyro, t / 1e9, host_times[j_ready[emit]], self.config.rate_hz)


def _pair_gyro(t: np.ndarray, g_t: np.ndarray, g_v: np.ndarray, tol: float) -> np.ndarray:
    """Gyro at ACC times ``t``: the gyro sample itself when within ``tol``, else interpolated."""
    gyro = np.column_stack([np.interp(t, g_t, g_v[:, i]) for i in range(3)])
    last = g_t.shape[0] - 1
    j = np.clip(np.searchsorted(g_t, t), 1, max(last, 1))
    j_hi = np.minimum(j, last)
    j_near = np.where(np.abs(g_t[j - 1] - t) <= np.abs(g_t[j_hi] - t), j - 1, j_hi)
    same = np.abs(g_t[j_near] - t) <= tol
    gyro[same] = g_v[j_near[same]]
    return gyro


class PolarPmdEncoder(Encoder):
    """Samples -> PMD data notifications (ACC, and GYRO when configured), as the sensor packs them.

    Options: ``samples_per_frame`` (default: as many as fit an MTU-232 notification, 36),
    ``acc_frame`` (``"raw16"`` = type 0x01 as the H10 sends, or ``"delta"`` = compressed
    type 0x81 as the Verity Sense sends), ``acc_factor``/``gyro_factor`` (as in the decoder),
    ``mtu``. Each frame's timestamp is its last sample's ``sensor_time_s`` in ns.
    """

    def __init__(self, config: StreamConfig, *, acc_frame: str = "raw16") -> None:
        super().__init__(config)
        opts = config.options
        self.acc_frame = str(opts.get("acc_frame", acc_frame))
        self.mtu = int(opts.get("mtu", DEFAULT_MTU))  # type: ignore[call-overload]
        per_sample = 6
        self.samples_per_frame = int(opts.get("samples_per_frame", (self.mtu - 3 - HEADER_LEN) // per_sample))  # type: ignore[call-overload]
        self.acc_factor = float(opts.get("acc_factor", 1.0))  # type: ignore[arg-type]
        self.gyro_factor = float(opts.get("gyro_factor", default_gyro_factor(config.gyro_range_dps)))  # type: ignore[arg-type]
        self._with_gyro = config.gyro_range_dps is not None
        self._acc: list[np.ndarray] = []  # pending quantised samples (int64 rows)
        self._gyro: list[np.ndarray] = []
        self._t: list[float] = []
        self._base = 0  # index (within the current encode call) of the first pending sample
        self._last_n = 0  # samples in the last encode call

    def _acc_raw(self, accel_mps2: np.ndarray) -> np.ndarray:
        mg = np.clip(accel_mps2 / MG_TO_MPS2, -self.config.accel_range_g * 1000.0, self.config.accel_range_g * 1000.0)
        if self.acc_frame == "raw16":
            return quantize(mg, 1.0)
        return quantize(mg, 1.0 / self.acc_factor)

    def _gyro_raw(self, gyro_rads: np.ndarray) -> np.ndarray:
        rng = float(self.config.gyro_range_dps or 2000.0)
        dps = np.clip(gyro_rads / DPS_TO_RADS, -rng, rng)
        return quantize(dps, 1.0 / self.gyro_factor)

    def _frame(self, mtype: int, rows: np.ndarray, ts_ns: int) -> list[bytes]:
        """One or more frames (split if a delta frame would not fit the MTU)."""
        header_ts = struct.pack("<Q", max(0, ts_ns))
        if mtype == TYPE_ACC and self.acc_frame == "raw16":
            return [bytes((TYPE_ACC,)) + header_ts + b"\x01" + rows.astype("<i2").tobytes()]
        ftype = 0x81 if mtype == TYPE_ACC else 0x80
        body = encode_delta_frame(rows, 16)
        if HEADER_LEN + len(body) <= self.mtu - 3 or rows.shape[0] == 1:
            return [bytes((mtype,)) + header_ts + bytes((ftype,)) + body]
        raise _TooBig

    def _frames_for(self, mtype: int, rows: np.ndarray, times: list[float]) -> list[tuple[bytes, int]]:
        """Frames for ``rows`` (splitting to fit the MTU): (payload, index of its last row)."""
        out: list[tuple[bytes, int]] = []
        start = 0
        while start < rows.shape[0]:
            stop = rows.shape[0]
            while True:
                try:
                    (frame,) = self._frame(mtype, rows[start:stop], round(times[stop - 1] * 1e9))
                    break
                except _TooBig:
                    stop = start + max(1, (stop - start) // 2)
            out.append((frame, stop - 1))
            start = stop
        return out

    def _drain(self, force: bool) -> list[EncodedNotification]:
        out: list[EncodedNotification] = []
        n = self.samples_per_frame
        while self._t and (len(self._t) >= n or force):
            k = min(n, len(self._t))
            acc = np.concatenate(self._acc)[:k] if self._acc else None
            times = self._t[:k]
            notes: list[tuple[int, bytes, int]] = []
            if acc is not None:
                notes += [(i, f, 0) for f, i in self._frames_for(TYPE_ACC, acc, times)]
            if self._with_gyro:
                gyr = np.concatenate(self._gyro)[:k]
                notes += [(i, f, 1) for f, i in self._frames_for(TYPE_GYRO, gyr, times)]
            notes.sort(key=lambda x: (x[0], x[2]))  # send order: completion time, ACC before GYRO
            for idx, frame, _ in notes:
                out.append(EncodedNotification(DATA_UUID, frame, idx + self._base))
            self._base += k
            rest_acc = np.concatenate(self._acc)[k:]
            self._acc = [rest_acc] if rest_acc.shape[0] else []
            if self._with_gyro:
                rest_g = np.concatenate(self._gyro)[k:]
                self._gyro = [rest_g] if rest_g.shape[0] else []
            self._t = self._t[k:]
        return out

    def encode(
        self, accel_mps2: np.ndarray, gyro_rads: np.ndarray | None, sensor_time_s: np.ndarray
    ) -> list[EncodedNotification]:
        acc = np.asarray(accel_mps2, dtype=np.float64).reshape(-1, 3)
        n = acc.shape[0]
        self._base = -len(self._t)  # pending samples belong to earlier calls
        self._acc.append(self._acc_raw(acc))
        if self._with_gyro:
            g = np.zeros((n, 3)) if gyro_rads is None else np.asarray(gyro_rads, dtype=np.float64).reshape(n, 3)
            self._gyro.append(self._gyro_raw(g))
        self._t.extend(np.asarray(sensor_time_s, dtype=np.float64).reshape(n).tolist())
        self._last_n = n
        return self._drain(False)

    def flush(self) -> list[EncodedNotification]:
        # indices count from the first sample of the last encode call, where the pending ones sit last
        self._base = self._last_n - len(self._t)
        return self._drain(True)


class _TooBig(Exception):
    """A delta frame that would not fit one notification."""


# ------------------------------------------------------------------------------- devices


@dataclass(frozen=True)
class _Model:
    """What differs between PMD sensors: supported settings, feature bytes, frame formats."""

    name: str
    features: bytes
    acc_rates: tuple[int, ...]
    acc_ranges: tuple[int, ...]
    gyro_rates: tuple[int, ...]
    gyro_ranges: tuple[int, ...]
    sdk_acc_rates: tuple[int, ...]
    sdk_acc_ranges: tuple[int, ...]
    sdk_gyro_ranges: tuple[int, ...]
    acc_frame: str
    channels: int | None
    reports_factor: bool


H10 = _Model("polar_h10", bytes((FEATURES_CODE, 0x05, 0x00)), (25, 50, 100, 200), (2, 4, 8), (), (),
             (), (), (), "raw16", None, False)
VERITY = _Model("polar_verity_sense", bytes((FEATURES_CODE, 0x6E, 0x02)), (52,), (8,), (52,), (2000,),
                (26, 52, 104, 208, 416), (2, 4, 8, 16), (250, 500, 1000, 2000), "delta", 3, True)


class PolarPmdVirtualDevice(VirtualDevice):
    """A PMD sensor as a state machine: CP features, GET settings, SDK mode, START/STOP, FACTOR.

    Replies go out as CP indications only while the host has them enabled (as on the sensor).
    A disconnect stops every measurement and leaves SDK mode [assumption: not documented].
    """

    protocol: ClassVar[type[SensorProtocol]]
    model: ClassVar[_Model]

    def __init__(self, name: str, *, battery_pct: float = 87.0) -> None:
        super().__init__(name, battery_pct=battery_pct)
        self.sdk_mode = False
        #: Running measurements: type -> (rate, range).
        self.running: dict[int, tuple[int, int]] = {}
        self._encoder: PolarPmdEncoder | None = None
        self._encoder_config: StreamConfig | None = None

    @property
    def streaming(self) -> bool:
        return DATA_UUID in self.subscribed and TYPE_ACC in self.running

    def read(self, char_uuid: str) -> bytes:
        uuid = normalize_uuid(char_uuid)
        if uuid == CP_UUID:
            return self.model.features
        if uuid == BATTERY_LEVEL_UUID:
            return bytes((round(self.battery_pct),))
        return b""

    def on_disconnect(self) -> None:
        super().on_disconnect()
        self.running.clear()
        self.sdk_mode = False
        self._update_config()

    def _supported(self, mtype: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
        m = self.model
        if mtype == TYPE_ACC:
            return (m.sdk_acc_rates, m.sdk_acc_ranges) if self.sdk_mode else (m.acc_rates, m.acc_ranges)
        if mtype == TYPE_GYRO and m.gyro_ranges:
            return (m.sdk_acc_rates, m.sdk_gyro_ranges) if self.sdk_mode else (m.gyro_rates, m.gyro_ranges)
        return (), ()

    def _factor(self, mtype: int, range_value: int) -> float:
        return 1.0 if mtype == TYPE_ACC else default_gyro_factor(range_value)

    def _reply(self, opcode: int, mtype: int, status: int, params: bytes = b"") -> list[Notification]:
        if CP_UUID not in self.subscribed:
            return []
        return [Notification(CP_UUID, bytes((RESPONSE_CODE, opcode, mtype, status, 0)) + params)]

    def on_write(self, char_uuid: str, payload: bytes) -> list[Notification]:
        if normalize_uuid(char_uuid) != CP_UUID:
            return []
        if len(payload) < 2:
            return self._reply(payload[0], 0, STATUS_INVALID_LENGTH) if payload else []
        opcode, mtype = payload[0], payload[1] & 0x7F
        if opcode == OP_GET_SETTINGS:
            rates, ranges = self._supported(mtype)
            if not rates:
                return self._reply(opcode, mtype, STATUS_NOT_SUPPORTED)
            params = bytes((SETTING_SAMPLE_RATE, len(rates))) + b"".join(_u16(r) for r in rates)
            params += bytes((SETTING_RESOLUTION, 1)) + _u16(16)
            params += bytes((SETTING_RANGE, len(ranges))) + b"".join(_u16(r) for r in ranges)
            if self.model.channels:
                params += bytes((SETTING_CHANNELS, 1, self.model.channels))
            return self._reply(opcode, mtype, STATUS_SUCCESS, params)
        if opcode == OP_START:
            return self._start(mtype, payload[2:])
        if opcode == OP_STOP:
            if mtype == TYPE_SDK_MODE and self.model.sdk_acc_rates:
                was = self.sdk_mode
                self.sdk_mode = False
                self.running.clear()
                self._update_config()
                return self._reply(opcode, mtype, STATUS_SUCCESS if was else STATUS_ALREADY_IN_STATE)
            if mtype not in self.running:
                return self._reply(opcode, mtype, STATUS_ALREADY_IN_STATE)
            del self.running[mtype]
            self._update_config()
            return self._reply(opcode, mtype, STATUS_SUCCESS)
        return self._reply(opcode, mtype, STATUS_INVALID_OPCODE)

    def _start(self, mtype: int, settings: bytes) -> list[Notification]:
        if mtype == TYPE_SDK_MODE:
            if not self.model.sdk_acc_rates:
                return self._reply(OP_START, mtype, STATUS_NOT_SUPPORTED)
            if self.sdk_mode:
                return self._reply(OP_START, mtype, STATUS_ALREADY_IN_STATE)
            self.sdk_mode = True
            self.running.clear()  # entering SDK mode restarts the measurement system
            self._update_config()
            return self._reply(OP_START, mtype, STATUS_SUCCESS)
        rates, ranges = self._supported(mtype)
        if not rates:
            return self._reply(OP_START, mtype, STATUS_NOT_SUPPORTED if mtype < 15 else STATUS_INVALID_TYPE)
        if mtype in self.running:
            return self._reply(OP_START, mtype, STATUS_ALREADY_IN_STATE)
        parsed = parse_settings(settings)
        if parsed is None:
            return self._reply(OP_START, mtype, STATUS_INVALID_LENGTH)
        rate = int(parsed.get(SETTING_SAMPLE_RATE, [0])[0])
        rng = int(parsed.get(SETTING_RANGE, [0])[0])
        if rate not in rates:
            return self._reply(OP_START, mtype, STATUS_INVALID_SAMPLE_RATE)
        if rng not in ranges:
            return self._reply(OP_START, mtype, STATUS_INVALID_RANGE)
        if int(parsed.get(SETTING_RESOLUTION, [16])[0]) != 16:
            return self._reply(OP_START, mtype, STATUS_INVALID_RESOLUTION)
        other = self.running.get(TYPE_GYRO if mtype == TYPE_ACC else TYPE_ACC)
        if other is not None and other[0] != rate:
            # one ImuBatch pairs ACC and GYRO sample for sample: refuse what we cannot emulate
            return self._reply(OP_START, mtype, STATUS_INVALID_SAMPLE_RATE)
        self.running[mtype] = (rate, rng)
        self._update_config()
        params = b""
        if self.model.reports_factor:
            params = bytes((SETTING_FACTOR, 1)) + struct.pack("<f", self._factor(mtype, rng))
        return self._reply(OP_START, mtype, STATUS_SUCCESS, params)

    def _update_config(self) -> None:
        acc = self.running.get(TYPE_ACC)
        gyro = self.running.get(TYPE_GYRO)
        if acc is None:
            self.config = self.protocol.default_config()
            return
        options: dict[str, object] = {"acc_frame": self.model.acc_frame}
        if self.model.reports_factor:
            options["acc_factor"] = 1.0
            if gyro is not None:
                options["gyro_factor"] = default_gyro_factor(gyro[1])
        self.config = StreamConfig(float(acc[0]), float(acc[1]), None if gyro is None else float(gyro[1]), options)

    def encode(
        self, accel_mps2: np.ndarray, gyro_rads: np.ndarray | None, sensor_time_s: np.ndarray
    ) -> list[EncodedNotification]:
        if self._encoder is None or self._encoder_config != self.config:
            self._encoder = PolarPmdEncoder(self.config, acc_frame=self.model.acc_frame)
            self._encoder_config = self.config
        return self._encoder.encode(accel_mps2, gyro_rads, sensor_time_s)


class _PolarPmd(SensorProtocol):
    """Shared PMD protocol logic; `PolarH10` and `PolarVeritySense` fill in the model."""

    model: ClassVar[_Model]
    advertised_service_uuids = ()
    services = (
        GattService(
            SERVICE_UUID,
            (
                GattCharacteristic(CP_UUID, ("read", "write", "indicate"), "PMD control point"),
                GattCharacteristic(DATA_UUID, ("notify",), "PMD data"),
            ),
            "Polar Measurement Data",
        ),
        GattService(BATTERY_SERVICE_UUID, (GattCharacteristic(BATTERY_LEVEL_UUID, ("read", "notify"), "battery %"),),
                    "Battery"),
    )
    notify_uuids = (CP_UUID, DATA_UUID)
    has_sensor_clock = True
    verified_on_hardware = False
    battery_read_uuid = BATTERY_LEVEL_UUID
    stream_framing: ClassVar[str] = "packets"
    provenance = (
        "polar-ble-sdk (Android pmd/ sources, documentation/); cross-checked with PyPI polar-python 1.1.1, "
        "bleakheart 0.2.0 and polar-ble-sdk 1.0.0"
    )

    @classmethod
    def resolution(cls, config: StreamConfig) -> Resolution:
        """ACC: 1 mG raw or FACTOR mG compressed; GYRO: FACTOR deg/s; time: ns rounding."""
        acc_lsb = 1.0 if cls.model.acc_frame == "raw16" else float(config.options.get("acc_factor", 1.0))  # type: ignore[arg-type]
        gyro = config.gyro_range_dps
        gyro_lsb = float(config.options.get("gyro_factor", default_gyro_factor(gyro))) * DPS_TO_RADS if gyro else 0.0  # type: ignore[arg-type]
        return Resolution(acc_lsb * MG_TO_MPS2, gyro_lsb, 2e-9)

    @classmethod
    def limits(cls, config: StreamConfig) -> tuple[float, float]:
        """Largest |accel| (m/s^2) and |gyro| (rad/s) the decoder accepts (chip binary full scale)."""
        res = cls.resolution(config)
        acc = config.accel_range_g * 1000.0 * ACC_LIMIT_FACTOR * MG_TO_MPS2 + res.accel_mps2
        gyro = (config.gyro_range_dps or 0.0) * GYRO_LIMIT_FACTOR * DPS_TO_RADS + res.gyro_rads
        return acc, gyro

    @classmethod
    def _needs_sdk_mode(cls, config: StreamConfig) -> bool:
        m = cls.model
        if not m.sdk_acc_rates:
            return False
        rate = int(config.rate_hz)
        gyro_ok = config.gyro_range_dps is None or (int(config.gyro_range_dps) in m.gyro_ranges and rate in m.gyro_rates)
        return not (rate in m.acc_rates and int(config.accel_range_g) in m.acc_ranges and gyro_ok)

    @classmethod
    def start_writes(cls, config: StreamConfig) -> list[Write]:
        writes: list[Write] = []
        rate = int(config.rate_hz)
        if cls._needs_sdk_mode(config):
            writes.append(Write(CP_UUID, bytes((OP_START, TYPE_SDK_MODE)), True, CP_WRITE_DELAY_S, "enter SDK mode"))
        writes.append(Write(CP_UUID, start_command(TYPE_ACC, rate, int(config.accel_range_g), channels=cls.model.channels),
                            True, CP_WRITE_DELAY_S, f"start ACC {rate} Hz +/-{config.accel_range_g:g} g"))
        if config.gyro_range_dps is not None:
            writes.append(Write(CP_UUID, start_command(TYPE_GYRO, rate, int(config.gyro_range_dps),
                                                       channels=cls.model.channels),
                                True, CP_WRITE_DELAY_S, f"start GYRO {rate} Hz {config.gyro_range_dps:g} dps"))
        return writes

    @classmethod
    def stop_writes(cls, config: StreamConfig) -> list[Write]:
        writes = [Write(CP_UUID, bytes((OP_STOP, TYPE_ACC)), True, CP_WRITE_DELAY_S, "stop ACC")]
        if config.gyro_range_dps is not None:
            writes.append(Write(CP_UUID, bytes((OP_STOP, TYPE_GYRO)), True, CP_WRITE_DELAY_S, "stop GYRO"))
        if cls._needs_sdk_mode(config):
            writes.append(Write(CP_UUID, bytes((OP_STOP, TYPE_SDK_MODE)), True, CP_WRITE_DELAY_S, "leave SDK mode"))
        return writes

    @classmethod
    def preamble_notifications(cls, config: StreamConfig) -> list[Notification]:
        """The CP responses a host receives for `start_writes` (carrying FACTOR), for tests/tools."""
        vd = cls.virtual_device()
        for uuid in cls.notify_uuids:
            vd.on_subscribe(uuid)
        out: list[Notification] = []
        for w in cls.start_writes(config):
            out += vd.on_write(w.char_uuid, w.payload)
        return out

    @classmethod
    def encoder(cls, config: StreamConfig | None = None) -> PolarPmdEncoder:
        return PolarPmdEncoder(config or cls.default_config(), acc_frame=cls.model.acc_frame)


class PolarH10Decoder(PolarPmdDecoder):
    """PMD decoder labelled for the H10 (errors name ``polar_h10``)."""

    protocol_name = "polar_h10"


class PolarVeritySenseDecoder(PolarPmdDecoder):
    """PMD decoder labelled for the Verity Sense (errors name ``polar_verity_sense``)."""

    protocol_name = "polar_verity_sense"


class PolarH10VirtualDevice(PolarPmdVirtualDevice):
    """A Polar H10 strap: ACC only, raw 16-bit frames, no FACTOR in START responses."""

    model = H10

    def __init__(self, name: str = "Polar H10 A1B2C3D4", *, battery_pct: float = 87.0) -> None:
        super().__init__(name, battery_pct=battery_pct)


class PolarVeritySenseVirtualDevice(PolarPmdVirtualDevice):
    """A Polar Verity Sense: ACC + GYRO, delta frames, FACTOR in START responses, SDK mode."""

    model = VERITY

    def __init__(self, name: str = "Polar Sense B5C6D7E8", *, battery_pct: float = 87.0) -> None:
        super().__init__(name, battery_pct=battery_pct)


class PolarH10(_PolarPmd):
    """Polar H10 chest strap: PMD accelerometer (no gyro), raw i16 mG frames, ns timestamps."""

    model = H10
    name = "polar_h10"
    display_name = "Polar H10 (PMD accelerometer)"
    name_patterns = (r"^Polar H10\b",)
    rates_hz = (25.0, 50.0, 100.0, 200.0)
    default_rate_hz = 200.0
    accel_ranges_g = (2.0, 4.0, 8.0)
    default_accel_range_g = 8.0
    gyro_ranges_dps = ()
    default_gyro_range_dps = None
    setup_notes = (
        "Moisten the strap electrodes or the H10 stays asleep; clip the pod (on its strap or a holder) "
        "to the bar. ACC only (no gyro): 200 Hz, +/-8 g recommended. It streams until stopped."
    )

    @classmethod
    def decoder(cls, config: StreamConfig | None = None, *, strict: bool = False) -> PolarPmdDecoder:
        return PolarH10Decoder(config or cls.default_config(), strict=strict)

    @classmethod
    def virtual_device(cls, name: str | None = None) -> PolarH10VirtualDevice:
        return PolarH10VirtualDevice(name or "Polar H10 A1B2C3D4")


class PolarVeritySense(_PolarPmd):
    """Polar Verity Sense: PMD ACC + GYRO (delta frames with FACTOR), ns timestamps, SDK mode."""

    model = VERITY
    name = "polar_verity_sense"
    display_name = "Polar Verity Sense (PMD ACC + GYRO)"
    name_patterns = (r"^Polar (Sense|Verity)\b",)
    rates_hz = (26.0, 52.0, 104.0, 208.0, 416.0)
    default_rate_hz = 52.0
    accel_ranges_g = (2.0, 4.0, 8.0, 16.0)
    default_accel_range_g = 8.0
    gyro_ranges_dps = (250.0, 500.0, 1000.0, 2000.0)
    default_gyro_range_dps = 2000.0
    setup_notes = (
        "Press the button to wake it. vbt switches it to SDK mode for rates other than 52 Hz "
        "(the LED blinks red-green-blue; on-device HR is off meanwhile). 208 Hz recommended."
    )

    @classmethod
    def decoder(cls, config: StreamConfig | None = None, *, strict: bool = False) -> PolarPmdDecoder:
        return PolarVeritySenseDecoder(config or cls.default_config(), strict=strict)

    @classmethod
    def virtual_device(cls, name: str | None = None) -> PolarVeritySenseVirtualDevice:
        return PolarVeritySenseVirtualDevice(name or "Polar Sense B5C6D7E8")


PolarH10VirtualDevice.protocol = PolarH10
PolarVeritySenseVirtualDevice.protocol = PolarVeritySense

__all__ = [
    "CP_UUID",
    "DATA_UUID",
    "SERVICE_UUID",
    "PolarH10",
    "PolarPmdDecoder",
    "PolarPmdEncoder",
    "PolarPmdVirtualDevice",
    "PolarVeritySense",
    "parse_settings",
    "start_command",
]
