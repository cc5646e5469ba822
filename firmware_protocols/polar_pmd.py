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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ._base import Decoder, Encoder, SensorProtocol, VirtualDevice, normalize_uuid
from ._framing import (
    Resolution,
    batch_from_notifications,
    decode_delta_frames,
    delta_layout,
    encode_delta_frame,
    extract_fields,
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
HOST_JUMP_TOLERANCE_S = 1.0
HOST_JUMP_TOLERANCE_REL = 0.02
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
        if d_ns > MAX_TIMESTAMP_JUMP_NS:
            return False
        if d_ns <= 0 or not math.isfinite(host_advance_s):
            return True  # not a forward jump (the floor check decides), or no usable host time
        tol_s = max(HOST_JUMP_TOLERANCE_S, HOST_JUMP_TOLERANCE_REL * host_advance_s) + n * self._period_ns / 1e9
        return d_ns / 1e9 - host_advance_s <= tol_s

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

        Data frames are vectorised: header and block structure are read per frame, every delta
        field of every frame is extracted in one NumPy pass (`_framing.extract_fields`), sample
        times are placed by the same per-frame plans as `feed`, and ACC/GYRO pairing is computed
        as the notification at which each ACC sample becomes ready (or is dropped).
        """
        times = np.asarray(host_times_s, dtype=np.float64)
        if len(payloads) != times.shape[0]:
            raise ValueError(f"{len(payloads)} payloads but {times.shape[0]} host times")
        if normalize_uuid(char_uuid) != DATA_UUID or self.strict or len(payloads) < 8:
            return self._feed_many_sequential(char_uuid, payloads, times)
        acc_newest0, g_first0 = self._acc_newest, self._g_first
        pending0 = sum(t.shape[0] for t in self._acc_tp)
        frames = self._bulk_frames(payloads, times)
        return self._bulk_emit(frames, len(payloads), times, pending0, acc_newest0, g_first0)

    # ----------------------------------------------------------------------- bulk path

    def _bulk_frames(self, payloads: Sequence[bytes], host_times: np.ndarray) -> list[tuple[int, int, np.ndarray]]:
        """Decode and time every data frame; returns accepted (notification, type, times ns) in order.

        Accepted samples are stored by `_accept`, exactly as `feed` stores them.
        """
        n_notes = len(payloads)
        self.stats.notifications += n_notes
        # header pass: which frames can be vectorised (ACC raw16, ACC/GYRO delta16)
        fast: list[tuple[int, int, int, bytes, object]] = []  # (note, mtype, ftype, payload, layout)
        order: list[tuple[int, int, int, bytes, object]] = []
        bufs: list[bytes] = []
        pos = 0
        for i, p in enumerate(payloads):
            p = bytes(p)
            self.stats.bytes_in += len(p)
            if len(p) < HEADER_LEN:
                self._problem("bad_frames", f"data frame of {len(p)} bytes is shorter than the 10-byte header",
                              nbytes=len(p), data=p)
                continue
            mtype = p[0] & 0x3F
            if mtype not in (TYPE_ACC, TYPE_GYRO):
                self.stats.unknown += 1
                continue
            if mtype == TYPE_GYRO and not self._with_gyro:
                self.stats.other_frames += 1
                continue
            ftype = p[9]
            layout: object = None
            if mtype == TYPE_ACC and ftype == 0x01 and len(p) > HEADER_LEN and (len(p) - HEADER_LEN) % 6 == 0:
                layout = ("raw16", pos + HEADER_LEN, (len(p) - HEADER_LEN) // 6)
            elif ftype in (0x80, 0x81) and not (mtype == TYPE_GYRO and ftype == 0x81):
                lay = delta_layout(p[HEADER_LEN:], 3, 16, MAX_SAMPLES_PER_FRAME)
                if lay is not None:
                    layout = ("delta16", pos + HEADER_LEN, lay)
            entry = (i, mtype, ftype, p, layout)
            order.append(entry)
            if layout is not None:
                fast.append(entry)
            bufs.append(p)
            pos += len(p)
        values = self._bulk_values(fast, b"".join(bufs))
        plans: list[tuple[int, int, np.ndarray, float, float, float, float]] = []
        for entry in order:
            i, mtype, ftype, p, layout = entry
            if layout is None:
                vals = self._values(mtype, ftype, p[HEADER_LEN:])
                if not self._values_ok(mtype, p, vals):
                    continue
            else:
                vals, peak = values[id(entry)]
                # same verdict as _values_ok, from the peak computed for all frames at once
                if not (peak <= self._limit[mtype] + self._factor[mtype]) or vals.shape[0] > MAX_SAMPLES_PER_FRAME:
                    self._values_ok(mtype, p, vals)  # counts (or raises) with the same message
                    continue
            assert vals is not None
            for plan in self._time_plan(mtype, int.from_bytes(p[1:9], "little"), vals, float(host_times[i])):
                plans.append((i, mtype, *plan))
        if not plans:
            return []
        # sample times of all frames at once: the same base + (k + k0) * step as _data
        counts = np.fromiter((pl[2].shape[0] for pl in plans), dtype=np.int64, count=len(plans))
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        k = (np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(starts, counts)).astype(np.float64)
        base, step, k0, floor = (np.array([pl[j] for pl in plans], dtype=np.float64) for j in (3, 4, 5, 6))
        t_all = np.repeat(base, counts) + (k + np.repeat(k0, counts)) * np.repeat(step, counts)
        overlap = (t_all[starts] <= floor).tolist()
        out: list[tuple[int, int, np.ndarray]] = []
        acc_t, acc_v, gyro_t, gyro_v = [], [], [], []
        for (i, mtype, vals, *_rest), s0, c, ov, fl in zip(plans, starts.tolist(), counts.tolist(), overlap,
                                                            floor.tolist(), strict=True):
            t = t_all[s0 : s0 + c]
            if ov:  # as _accept: drop samples at or before the previous frame's stamp
                keep = t > fl
                self.info["overlapping_samples"] = int(self.info.get("overlapping_samples", 0)) + int((~keep).sum())  # type: ignore[call-overload]
                if not keep.any():
                    continue
                t = t[keep]
                vals = vals[vals.shape[0] - t.shape[0] :]
            self.stats.frames += 1
            out.append((i, mtype, t))
            if mtype == TYPE_ACC:
                acc_t.append(t)
                acc_v.append(vals)
            else:
                gyro_t.append(t)
                gyro_v.append(vals)
        if acc_t:
            self._acc_tp.append(np.concatenate(acc_t))
            self._acc_vp.append(np.concatenate(acc_v) * MG_TO_MPS2)
            self._acc_newest = float(acc_t[-1][-1])
        if gyro_t:
            if self._g_first is None:
                self._g_first = float(gyro_t[0][0])
            self._gyro_tp.append(np.concatenate(gyro_t))
            self._gyro_vp.append(np.concatenate(gyro_v) * DPS_TO_RADS)
        return out

    def _bulk_values(self, fast: list[tuple[int, int, int, bytes, object]],
                     data: bytes) -> dict[int, tuple[np.ndarray, float]]:
        """Values (mG or deg/s) and peak |value| (NaN if any is not finite) of all vectorisable
        frames, keyed by ``id(entry)``."""
        if not fast:
            return {}
        buf = np.frombuffer(data + bytes(16), dtype=np.uint8)
        out: dict[int, tuple[np.ndarray, float]] = {}
        # delta frames: every field of every block in one extraction, then per-frame cumsum
        refs: list[list[int]] = []
        rows_per_frame: list[int] = []
        bit_starts: list[int] = []
        field_counts: list[int] = []
        widths: list[int] = []
        scales: list[float] = []
        delta_entries = []
        for entry in fast:
            _, mtype, ftype, _, layout = entry
            kind, start, detail = layout  # type: ignore[misc]
            if kind == "raw16":
                n = detail
                vals = buf[start : start + 6 * n].view("<i2").reshape(n, 3).astype(np.float64)
                out[id(entry)] = (vals, float(np.abs(vals).max()))
                continue
            ref, blocks = detail
            delta_entries.append(entry)
            refs.append(ref)
            rows = 1
            for width, count, off in blocks:
                bit_starts.append((start + off) * 8)
                field_counts.append(count * 3)
                widths.append(width)
                rows += count
            rows_per_frame.append(rows)
            factor = self._factor[mtype]
            scales.append(factor * 1000.0 if (mtype == TYPE_ACC and ftype == 0x80) else factor)
        if not delta_entries:
            return out
        counts = np.asarray(field_counts, dtype=np.int64)
        total = int(counts.sum())
        rows_arr = np.asarray(rows_per_frame, dtype=np.int64)
        n_rows = int(rows_arr.sum())
        ints = np.empty((n_rows, 3), dtype=np.int64)
        frame_start = np.concatenate([[0], np.cumsum(rows_arr)[:-1]])
        is_ref = np.zeros(n_rows, dtype=bool)
        is_ref[frame_start] = True
        ints[is_ref] = np.asarray(refs, dtype=np.int64)
        if total:
            first_field = np.concatenate([[0], np.cumsum(counts)[:-1]])
            w = np.repeat(np.asarray(widths, dtype=np.int64), counts)
            j = np.arange(total, dtype=np.int64) - np.repeat(first_field, counts)
            bits = np.repeat(np.asarray(bit_starts, dtype=np.int64), counts) + j * w
            ints[~is_ref] = extract_fields(buf, bits, w).reshape(-1, 3)
        csum = np.cumsum(ints, axis=0)
        before = np.concatenate([np.zeros((1, 3), dtype=np.int64), csum[frame_start[1:] - 1]])
        samples = csum - np.repeat(before, rows_arr, axis=0)
        scaled = samples * np.repeat(np.asarray(scales), rows_arr)[:, None]
        peaks = np.maximum.reduceat(np.abs(scaled).max(axis=1), frame_start)
        finite = np.logical_and.reduceat(np.isfinite(scaled).all(axis=1), frame_start)
        peaks = np.where(finite, peaks, np.nan).tolist()
        for entry, s0, r, peak in zip(delta_entries, frame_start.tolist(), rows_per_frame, peaks, strict=True):
            out[id(entry)] = (scaled[s0 : s0 + r], peak)
        return out

    def _bulk_emit(self, frames: list[tuple[int, int, np.ndarray]], n_notes: int, host_times: np.ndarray,
                   pending0: int, acc_newest0: float | None, g_first0: float | None) -> list[ImuBatch]:
        """Emission of the pending samples, notification by notification, exactly as `_emit` does it.

        `_bulk_frames` stored every accepted sample; here each pending ACC sample gets the
        notification at which `_emit` would emit it (newest gyro within ``tol``) or drop it
        (early / stale), from the per-notification newest-gyro and newest-ACC times.
        """
        if not self._acc_tp:
            return []
        acc_t, acc_v = self._joined(self._acc_tp, self._acc_vp)
        arrive = np.zeros(acc_t.shape[0], dtype=np.int64)  # samples from earlier calls: notification 0
        acc_frames = [(i, t.shape[0]) for i, m, t in frames if m == TYPE_ACC]
        if acc_frames:
            arrive[pending0:] = np.repeat([i for i, _ in acc_frames], [k for _, k in acc_frames])
        if not self._with_gyro:
            self._acc_tp, self._acc_vp = [], []
            self.stats.samples += acc_t.shape[0]
            return batch_from_notifications(acc_v, None, acc_t / 1e9, host_times[arrive], self.config.rate_hz)
        tol = self._tol_ns
        g_t, g_v = self._joined(self._gyro_tp, self._gyro_vp)
        new_gyro = sum(t.shape[0] for _, m, t in frames if m == TYPE_GYRO)
        g_prev_last = g_t[g_t.shape[0] - new_gyro - 1] if g_t.shape[0] > new_gyro else -np.inf
        g_last_after = np.full(n_notes, -np.inf)
        acc_newest_after = np.full(n_notes, -np.inf)
        for i, m, t in frames:
            if m == TYPE_GYRO:
                g_last_after[i] = t[-1]
            else:
                acc_newest_after[i] = t[-1]
        g_last_after[0] = max(g_last_after[0], g_prev_last)
        acc_newest_after[0] = max(acc_newest_after[0], -np.inf if acc_newest0 is None else acc_newest0)
        g_last_after = np.maximum.accumulate(g_last_after)
        acc_newest_after = np.maximum.accumulate(acc_newest_after)
        never = n_notes
        # the notification from which a first gyro sample exists (0: from an earlier call)
        j_g = 0 if g_first0 is not None else next((i for i, m, _ in frames if m == TYPE_GYRO), never)
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
