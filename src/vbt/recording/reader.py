"""Reading vbt recordings: `open_recording` validates a whole file and gives items or columns.

A `Recording` offers two views of the same data:

* **items**, in file order, exactly what a live `vbt.sources.Source` yields: `RawPacket` per
  packet line, `LinkEvent` per event line, and for samples bodies `ImuBatch` groups (see
  `samples_to_batches` for the grouping rule). `vbt.sources.replay.ReplaySource` paces these;
* **columns** for offline analysis of long files: `Recording.packet_columns` (per characteristic:
  host times and payloads), `Recording.sample_columns` (times, specific force, angular rate) and
  `Recording.events`.

Validation (docs/recording.md, "Damage"): every line is checked -- JSON shape per body kind, UUID
and hex well-formed, sample values finite, time never running backwards by more than
`TIME_TOLERANCE_S` (data lines among themselves, events among themselves). Any damage raises
`vbt.errors.RecordingFormatError` naming the file and line, *except* a cut-off last line (the
writer flushes every line, so that is what a crash or a full disk leaves): it is dropped and
`Recording.warnings` says so. A gzip stream without its end (killed while writing) is the same
case. Files that are not recordings at all (empty, binary, CSV) raise `vbt.errors.InputFileError`
with a hint; newer format versions raise `vbt.errors.UnsupportedFormatVersionError`.

Speed: packet lines written by `RecordingWriter` (``[t,"uuid","hex"]`` with six decimals) are
validated and parsed with vectorised NumPy on the raw bytes: runs of lines with one layout
(the writer's output between events) as blocks viewed as 2-D byte arrays, one column at a
time, and other canonical lines by their quote positions; sample lines with `numpy.loadtxt`.
Any line that does not have the canonical shape is parsed on its own with `json` and fully
validated, so a hand-edited but valid file still reads and a damaged one never passes
silently; a block with any deviation is handed to the per-line path, which names the line.
A one-hour 200 Hz packet recording reads in about half a second, most of it inflating the
gzip data (``benchmarks/read_speed.py``).
"""

from __future__ import annotations

import io
import json
import math
import re
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from firmware_protocols import ImuBatch, StreamConfig, get_protocol, normalize_uuid
from vbt.errors import InputFileError, RecordingFormatError, UnsupportedFormatVersionError
from vbt.recording.format import (
    BODY_PACKETS,
    BODY_SAMPLES,
    FORMAT_NAME,
    SUPPORTED_FORMAT_VERSIONS,
    RecordingHeader,
)
from vbt.sources._base import LinkEvent, RawPacket

#: Largest backwards step (s) between consecutive data lines (or consecutive events) that is not
#: damage. Host times come from a monotonic clock and the writer refuses larger steps; this only
#: absorbs rounding in files produced by other tools.
TIME_TOLERANCE_S = 1e-3

#: Samples bodies are grouped into `ImuBatch`es covering fixed windows of this much sample time.
SAMPLE_GROUP_S = 0.04

#: A characteristic UUID: 128-bit dashed form, or a 16-bit SIG alias.
UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{4}")

_HEADER_SNIFF_BYTES = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"
#: Fewest consecutive packet lines of one layout read as a block (`_read_block`); shorter runs go
#: line by line, where the per-block set-up would cost more than it saves.
_MIN_BLOCK_LINES = 64
#: Lines per slice of a block (bounds the temporary arrays to a few MB).
_BLOCK_SLICE_LINES = 1 << 16
#: The writer's packet line: ``[D+.DDDDDD,"uuid","hex"]`` (the shape every block must have).
_BLOCK_LINE_RE = re.compile(rb'\[([0-9]{1,9})\.[0-9]{6},"([^"]*)","([^"]*)"\]')
_TRUNCATED = "last line truncated (crash while recording?); {n} complete lines read"

_NOT_A_RECORDING_HINT = "give a vbt recording (.jsonl or .jsonl.gz written by vbt record, simulate or import)"
_CSV_HINT = "analyze it directly (vbt analyze FILE) or convert it with vbt import FILE --out FILE.jsonl.gz"


# --------------------------------------------------------------------------- header


def check_header(d: dict[str, Any]) -> str | None:
    """Problems with a header dictionary's fields, as one line (None when it is valid).

    Format name and version are checked by the caller (they decide which error to raise).
    """
    body = d.get("body")
    if body not in (BODY_PACKETS, BODY_SAMPLES):
        return f"body {body!r} is neither {BODY_PACKETS!r} nor {BODY_SAMPLES!r}"
    sensor = d.get("sensor")
    if not isinstance(sensor, str) or not sensor:
        return f"sensor {sensor!r} must be a non-empty name"
    for key in ("sensor_model", "app_version", "started_at", "notes"):
        if key in d and not isinstance(d[key], str):
            return f"{key} {d[key]!r} must be text"
    for key in ("exercise", "athlete"):
        if d.get(key) is not None and not isinstance(d[key], str):
            return f"{key} {d[key]!r} must be text or null"
    for key in ("decoder", "stream", "extra"):
        if key in d and not isinstance(d[key], dict):
            return f"{key} {d[key]!r} must be an object"
    if any(not isinstance(v, str) for v in d.get("decoder", {}).values()):
        return f"decoder {d['decoder']!r} values must be text"
    rate = d.get("rate_hz")
    if rate is not None and (not _is_number(rate) or not math.isfinite(rate) or rate <= 0):
        return f"rate_hz {rate!r} must be a number above 0 or null"
    load = d.get("load_kg")
    if load is not None and (not _is_number(load) or not math.isfinite(load) or load < 0):
        return f"load_kg {load!r} must be a number of at least 0 or null"
    if "synthetic" in d and not isinstance(d["synthetic"], bool):
        return f"synthetic {d['synthetic']!r} must be true or false"
    return _check_stream(d)


def _check_stream(d: dict[str, Any]) -> str | None:
    """A stream configuration, when there is one, must be complete and suit the sensor.

    Replay and analysis build the sensor's decoder from it: a damaged one (a key mistyped, a
    range the protocol does not have) must be reported as damage in line 1, not found later.
    """
    stream = d.get("stream") or {}
    if not any(k in stream for k in ("rate_hz", "accel_range_g", "gyro_range_dps")):
        return None
    for key, optional in (("rate_hz", False), ("accel_range_g", False), ("gyro_range_dps", True)):
        value = stream.get(key)
        if value is None and optional:
            continue
        if not _is_number(value) or not math.isfinite(value) or value <= 0:
            return f"stream {key} {value!r} must be a number above 0" + (" or null" if optional else "")
    if not isinstance(stream.get("options", {}), dict):
        return f"stream options {stream['options']!r} must be an object"
    if d.get("body") == BODY_PACKETS:
        try:
            protocol = get_protocol(str(d.get("sensor")))
        except KeyError:
            return None  # an unknown sensor is reported where its decoder is needed
        try:
            protocol.decoder(StreamConfig.from_dict(stream))
        except (ValueError, TypeError) as err:
            return f"stream configuration does not suit sensor {d['sensor']!r}: {err}"
    return None


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _parse_header(path: Path, first_line: bytes) -> RecordingHeader:
    """Validate line 1 and build the header; decide 'not a recording' vs 'damaged' vs 'too new'."""
    if b"\x00" in first_line:
        raise InputFileError(path, "is not a vbt recording (it holds binary data)", _NOT_A_RECORDING_HINT)
    try:
        text = first_line.decode("utf-8")
    except UnicodeDecodeError:
        raise InputFileError(path, "is not a vbt recording (it is not UTF-8 text)", _NOT_A_RECORDING_HINT) from None
    stripped = text.strip().lstrip("\ufeff")
    if not stripped.startswith("{"):
        if "," in stripped or ";" in stripped or "\t" in stripped:
            raise InputFileError(path, "is not a vbt recording (it looks like a CSV file)", _CSV_HINT)
        raise InputFileError(path, "is not a vbt recording (line 1 is not a JSON header)", _NOT_A_RECORDING_HINT)
    try:
        data = json.loads(stripped)
    except json.JSONDecodeError as err:
        raise RecordingFormatError(path, 1, f"header is not valid JSON ({err.msg} at column {err.colno})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        found = data.get("format") if isinstance(data, dict) else None
        raise InputFileError(
            path, f"is not a vbt recording (header format is {found!r}, expected {FORMAT_NAME!r})",
            _NOT_A_RECORDING_HINT,
        )
    version = data.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version not in SUPPORTED_FORMAT_VERSIONS:
        raise UnsupportedFormatVersionError(path, version, SUPPORTED_FORMAT_VERSIONS)
    problem = check_header(data)
    if problem:
        raise RecordingFormatError(path, 1, f"header: {problem}")
    return RecordingHeader.from_dict(data)


# --------------------------------------------------------------------------- file access


def _check_file(path: Path) -> None:
    if not path.exists():
        raise InputFileError(path, "does not exist", "check the path")
    if path.is_dir():
        raise InputFileError(path, "is a directory", "give a recording file (.jsonl or .jsonl.gz) inside it")
    if path.stat().st_size == 0:
        raise InputFileError(path, "is empty (not a recording)", _NOT_A_RECORDING_HINT)


def _read_bytes(path: Path, limit: int | None = None) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read() if limit is None else f.read(limit)
    except OSError as err:
        raise InputFileError(path, f"cannot be read ({err.strerror or err})", "check its permissions") from err


class _InflateError(Exception):
    """Damaged gzip data: what could be inflated before the damage, and zlib's reason."""

    def __init__(self, partial: bytes, reason: str) -> None:
        super().__init__(reason)
        self.partial = partial
        self.reason = reason
        self.checksum = "incorrect data check" in reason or "incorrect length check" in reason


def _decompress(path: Path, raw: bytes) -> tuple[bytes, bool, str | None]:
    """Inflate a (possibly multi-member, possibly cut-off) gzip file.

    Returns:
        The data; True when the stream stops before its end (the writer was killed); a warning
        when zero bytes follow the end.

    Raises:
        _InflateError: The compressed data is damaged.
        RecordingFormatError: Unknown bytes follow the end of the stream.
    """
    out: list[bytes] = []
    view = memoryview(raw)
    pos = 0
    while True:
        d = zlib.decompressobj(wbits=31)
        member_start = pos
        n_before = len(out)
        try:
            # the whole member in one call: one output object, no join copy for a one-member file
            chunk = view[pos:]
            out.append(d.decompress(chunk))
            pos += len(chunk) - len(d.unused_data)
            out.append(d.flush())
        except zlib.error as err:
            members_before = b"".join(out[:n_before])
            raise _InflateError(members_before + _inflate_until_error(view[member_start:]), str(err)) from None
        if not d.eof:
            return _join(out), True, None
        rest = raw[pos:]
        if not rest:
            return _join(out), False, None
        if rest[:2] == _GZIP_MAGIC and pos > member_start:
            continue  # concatenated gzip members are one stream (RFC 1952)
        if not rest.strip(b"\x00"):
            return _join(out), False, f"{len(rest)} zero bytes after the end of the data ignored (power loss while recording?)"
        done = b"".join(out)
        raise RecordingFormatError(path, done.count(b"\n") + 1,
                                   f"{len(rest)} bytes of unknown data after the end of the gzip stream")


def _join(pieces: list[bytes]) -> bytes:
    """Concatenate; a single non-empty piece is returned as it is (no copy of a large body)."""
    return b"".join([p for p in pieces if p])


def _inflate_until_error(data: memoryview) -> bytes:
    """Inflate one gzip member as far as it goes before the damage (byte-exact near the damage)."""
    d = zlib.decompressobj(wbits=31)
    out: list[bytes] = []
    pos, step = 0, 1 << 16
    while pos < len(data) and not d.eof:
        saved = d.copy()
        try:
            out.append(d.decompress(data[pos:pos + step]))
            pos += step
        except zlib.error:
            d = saved  # redo this step one byte at a time to get every byte before the damage
            for i in range(pos, min(pos + step, len(data))):
                try:
                    out.append(d.decompress(data[i:i + 1]))
                except zlib.error:
                    break
            break
    return b"".join(out)


def read_header(path: str | Path) -> RecordingHeader:
    """Read and validate only the header of a recording (fast: reads at most about 1 MB).

    Raises:
        InputFileError: Missing, a directory, empty, or not a recording.
        RecordingFormatError: The header line is damaged.
        UnsupportedFormatVersionError: Written by a newer format version.
    """
    path = Path(path)
    _check_file(path)
    raw = _read_bytes(path, _HEADER_SNIFF_BYTES)
    if raw[:2] == _GZIP_MAGIC:
        d = zlib.decompressobj(wbits=31)
        try:
            raw = d.decompress(raw, _HEADER_SNIFF_BYTES)
        except zlib.error:
            raw = _inflate_until_error(memoryview(raw))[:_HEADER_SNIFF_BYTES]
            if b"\n" not in raw:
                raise RecordingFormatError(path, 1, "compressed data is damaged in the header line") from None
    end = raw.find(b"\n")
    if end >= 0:
        return _parse_header(path, raw[:end])
    if len(raw) >= _HEADER_SNIFF_BYTES:
        raise InputFileError(path, "is not a vbt recording (no line break in the first 1 MB)", _NOT_A_RECORDING_HINT)
    try:
        return _parse_header(path, raw)  # a header without its newline is fine if complete
    except UnsupportedFormatVersionError:
        raise
    except RecordingFormatError:
        raise RecordingFormatError(path, 1, "the header line is cut off; nothing usable was recorded") from None


# --------------------------------------------------------------------------- the recording


@dataclass(frozen=True, slots=True)
class _Events:
    """Events and where they sit among the data: event ``i`` comes before data row ``pos[i]``."""

    items: list[LinkEvent]
    pos: np.ndarray


class Recording:
    """A validated recording in memory; build with `open_recording` (or the ``from_*`` helpers).

    Attributes:
        path: Where it came from (``<memory>`` for in-memory recordings).
        header: The header line.
        warnings: Non-fatal findings (a truncated last line, ignored trailing zero bytes).
    """

    def __init__(
        self,
        path: Path,
        header: RecordingHeader,
        *,
        times_s: np.ndarray,
        events: Sequence[LinkEvent] = (),
        event_pos: Sequence[int] | np.ndarray = (),
        uuid_codes: np.ndarray | None = None,
        uuids: Sequence[str] = (),
        payloads: list[bytes] | None = None,
        accel_mps2: np.ndarray | None = None,
        gyro_rads: np.ndarray | None = None,
        warnings: Sequence[str] = (),
    ) -> None:
        self.path = path
        self.header = header
        self.warnings: list[str] = list(warnings)
        self._t = np.asarray(times_s, dtype=np.float64)
        self._events = _Events(list(events), np.asarray(event_pos, dtype=np.int64).reshape(-1))
        self._uuid_codes = uuid_codes
        self._uuids = [normalize_uuid(u) for u in uuids]
        self._payloads = payloads
        self._acc = accel_mps2
        self._gyro = gyro_rads
        self._groups: np.ndarray | None = None
        self._timeline: tuple[np.ndarray, np.ndarray] | None = None

    # ---------------------------------------------------------------- constructors

    @classmethod
    def from_samples(
        cls,
        header: RecordingHeader,
        t_s: np.ndarray,
        accel_mps2: np.ndarray,
        gyro_rads: np.ndarray | None = None,
        events: Sequence[LinkEvent] = (),
        *,
        path: str | Path = "<memory>",
        warnings: Sequence[str] = (),
    ) -> Recording:
        """An in-memory samples recording (CSV replay, tests); events are placed by time."""
        t = np.asarray(t_s, dtype=np.float64)
        acc = np.asarray(accel_mps2, dtype=np.float64).reshape(-1, 3)
        gyro = None if gyro_rads is None else np.asarray(gyro_rads, dtype=np.float64).reshape(-1, 3)
        if len(t) != len(acc) or (gyro is not None and len(gyro) != len(t)):
            raise ValueError(f"t_s, accel_mps2 and gyro_rads lengths differ: {len(t)}, {len(acc)}, "
                             f"{None if gyro is None else len(gyro)}")
        if header.body != BODY_SAMPLES:
            raise ValueError(f"from_samples needs a header with body='samples', got {header.body!r}")
        ev = sorted(events, key=lambda e: e.host_time_s)
        pos = np.searchsorted(t, [e.host_time_s for e in ev], side="left")
        return cls(Path(path), header, times_s=t, events=ev, event_pos=pos, accel_mps2=acc, gyro_rads=gyro,
                   warnings=warnings)

    @classmethod
    def from_packets(
        cls,
        header: RecordingHeader,
        packets: Sequence[tuple[float, str, bytes]],
        events: Sequence[LinkEvent] = (),
        *,
        path: str | Path = "<memory>",
    ) -> Recording:
        """An in-memory packets recording from ``(host_time_s, char_uuid, payload)`` tuples."""
        if header.body != BODY_PACKETS:
            raise ValueError(f"from_packets needs a header with body='packets', got {header.body!r}")
        t = np.array([p[0] for p in packets], dtype=np.float64)
        names = [normalize_uuid(p[1]) for p in packets]
        uuids = sorted(set(names))
        index = {u: i for i, u in enumerate(uuids)}
        codes = np.array([index[u] for u in names], dtype=np.int32)
        ev = sorted(events, key=lambda e: e.host_time_s)
        pos = np.searchsorted(t, [e.host_time_s for e in ev], side="left")
        return cls(Path(path), header, times_s=t, events=ev, event_pos=pos, uuid_codes=codes, uuids=uuids,
                   payloads=[bytes(p[2]) for p in packets])

    # ---------------------------------------------------------------- basic facts

    @property
    def body(self) -> str:
        """``"packets"`` or ``"samples"``."""
        return self.header.body

    def __len__(self) -> int:
        """Number of data lines (packets or samples), events not counted."""
        return int(self._t.shape[0])

    @property
    def has_gyro(self) -> bool | None:
        """For samples bodies: whether samples carry angular rate (None for packets bodies)."""
        return None if self.body == BODY_PACKETS else self._gyro is not None

    @property
    def start_s(self) -> float:
        """Time of the first data line or event (0.0 for an empty recording)."""
        times = self._all_times()
        return float(times.min()) if times.size else 0.0

    @property
    def end_s(self) -> float:
        """Time of the last data line or event (0.0 for an empty recording)."""
        times = self._all_times()
        return float(times.max()) if times.size else 0.0

    @property
    def duration_s(self) -> float:
        """``end_s - start_s``."""
        return self.end_s - self.start_s

    @property
    def char_uuids(self) -> list[str]:
        """Characteristics present in a packets body (lower-case 128-bit UUIDs)."""
        return list(self._uuids)

    def _all_times(self) -> np.ndarray:
        if not self._events.items:
            return self._t
        return np.concatenate([self._t, [e.host_time_s for e in self._events.items]])

    def __repr__(self) -> str:
        return (f"<Recording {self.path} body={self.body} sensor={self.header.sensor} lines={len(self)} "
                f"events={len(self._events.items)} {self.duration_s:.1f} s>")

    # ---------------------------------------------------------------- columns

    def events(self) -> list[LinkEvent]:
        """All event lines, in file order."""
        return list(self._events.items)

    def packet_columns(self) -> dict[str, tuple[np.ndarray, list[bytes]]]:
        """Per characteristic UUID: host receive times (s) and payloads, in file order.

        Raises:
            ValueError: This is a samples recording.
        """
        if self.body != BODY_PACKETS or self._payloads is None or self._uuid_codes is None:
            raise ValueError(f"{self.path} holds decoded samples, not packets; use sample_columns()")
        if len(self._uuids) == 1:
            return {self._uuids[0]: (self._t, self._payloads)}
        out: dict[str, tuple[np.ndarray, list[bytes]]] = {}
        for code, uuid in enumerate(self._uuids):
            idx = np.flatnonzero(self._uuid_codes == code)
            payloads = self._payloads
            out[uuid] = (self._t[idx], [payloads[i] for i in idx.tolist()])
        return out

    def sample_columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Sample times (s), specific force ``(n, 3)`` m/s^2 and angular rate ``(n, 3)`` rad/s or None.

        Raises:
            ValueError: This is a packets recording (decode its packets instead).
        """
        if self.body != BODY_SAMPLES or self._acc is None:
            raise ValueError(f"{self.path} holds raw packets, not samples; use packet_columns() and a decoder")
        return self._t, self._acc, self._gyro

    # ---------------------------------------------------------------- items

    def _group_starts(self) -> np.ndarray:
        """Start row of every item's data: one row per packet, `samples_to_batches` groups for samples."""
        if self._groups is None:
            n = len(self)
            if self.body == BODY_PACKETS:
                self._groups = np.arange(n + 1, dtype=np.int64)
            else:
                self._groups = np.append(sample_group_starts(self._t, self._events.pos), n).astype(np.int64)
        return self._groups

    def _item_timeline(self) -> tuple[np.ndarray, np.ndarray]:
        """(time of every item in file order, -1 for data groups / event index for events)."""
        if self._timeline is None:
            starts = self._group_starts()
            n_groups = len(starts) - 1
            group_t = self._t[starts[1:] - 1] if n_groups else np.empty(0)
            ev = self._events
            # events go before the group that starts at their data row
            where = np.searchsorted(starts[:-1], ev.pos, side="left") if len(ev.items) else np.empty(0, np.int64)
            times = np.insert(group_t, where, [e.host_time_s for e in ev.items])
            kinds = np.insert(np.full(n_groups, -1, dtype=np.int64), where, np.arange(len(ev.items)))
            self._timeline = (times, kinds)
        return self._timeline

    @property
    def n_items(self) -> int:
        """Number of items `iter_items` yields (groups/packets plus events)."""
        return int(self._item_timeline()[0].shape[0])

    def item_times_s(self) -> np.ndarray:
        """The ``host_time_s`` of every item, in file order (what replay paces by)."""
        return self._item_timeline()[0]

    def item_index_at(self, t_s: float) -> int:
        """Index of the first item at or after recording time ``t_s`` (`n_items` if none)."""
        times = self._item_timeline()[0]
        if not times.size:
            return 0
        # running maximum: tolerated small backward steps must not make the search ambiguous
        return int(np.searchsorted(np.maximum.accumulate(times), t_s, side="left"))

    def iter_items(self, start: int = 0) -> Iterator[RawPacket | ImuBatch | LinkEvent]:
        """Yield items in file order from item index ``start``."""
        times, kinds = self._item_timeline()
        starts = self._group_starts()
        events = self._events.items
        # group number of item k = k - (events before k)
        ev_before = np.cumsum(kinds >= 0) - (kinds >= 0)
        packets = self.body == BODY_PACKETS
        rate = self.header.rate_hz
        uuids, codes, payloads = self._uuids, self._uuid_codes, self._payloads
        sensor_timed = self.body == BODY_SAMPLES and sample_times_are_sensor_times(self._t)
        for k in range(start, len(times)):
            kind = int(kinds[k])
            if kind >= 0:
                yield events[kind]
                continue
            g = k - int(ev_before[k])
            if packets:
                assert codes is not None and payloads is not None
                yield RawPacket(float(self._t[g]), uuids[int(codes[g])], payloads[g])
            else:
                a, b = int(starts[g]), int(starts[g + 1])
                yield _make_batch(self._t[a:b], self._acc[a:b], None if self._gyro is None else self._gyro[a:b],
                                  rate, sensor_timed)

    def __iter__(self) -> Iterator[RawPacket | ImuBatch | LinkEvent]:
        return self.iter_items()

    def batches(self) -> list[ImuBatch]:
        """All samples as `ImuBatch`es (samples bodies), exactly the batches iteration yields."""
        t, acc, gyro = self.sample_columns()
        return samples_to_batches(t, acc, gyro, self.header.rate_hz, breaks=self._events.pos)


# --------------------------------------------------------------------------- samples -> batches


def sample_times_are_sensor_times(t_s: np.ndarray) -> bool:
    """True when no two consecutive sample times are equal.

    Repeated times mean the times are host *arrival* times of notifications that carried several
    samples (batched BLE data, many CSV loggers); then the batches get no ``sensor_time_s`` and the
    pipeline reconstructs sample times from arrivals and the rate. Strictly increasing times are
    per-sample times and become ``sensor_time_s``.
    """
    t = np.asarray(t_s)
    return bool(t.size < 2 or np.all(np.diff(t) != 0))


def sample_group_starts(t_s: np.ndarray, breaks: Sequence[int] | np.ndarray = ()) -> np.ndarray:
    """Start indices of the batches `samples_to_batches` makes (see there for the rule)."""
    t = np.asarray(t_s, dtype=np.float64)
    if t.size == 0:
        return np.zeros(0, dtype=np.int64)
    window = np.floor((t - t[0]) / SAMPLE_GROUP_S)
    starts = np.flatnonzero(np.diff(window) != 0) + 1
    brk = np.asarray(breaks, dtype=np.int64).reshape(-1)
    brk = brk[(brk > 0) & (brk < t.size)]
    # never split samples sharing a timestamp (one notification), even at an event
    if brk.size:
        brk = brk[t[brk] != t[brk - 1]]
    return np.unique(np.concatenate([[0], starts, brk])).astype(np.int64)


def samples_to_batches(
    t_s: np.ndarray,
    accel_mps2: np.ndarray,
    gyro_rads: np.ndarray | None = None,
    rate_hz: float | None = None,
    *,
    breaks: Sequence[int] | np.ndarray = (),
) -> list[ImuBatch]:
    """Group decoded samples (a samples body or a CSV) into `ImuBatch`es, the way every reader does.

    Rule: batches cover fixed windows of `SAMPLE_GROUP_S` (40 ms) of sample time counted from the
    first sample, and additionally split at ``breaks`` (data rows where an event line sits),
    except that samples sharing one timestamp always stay together. Each batch's ``host_time_s``
    is its last sample's time and ``arrival_time_s`` holds every sample's time; ``sensor_time_s``
    is set only when times never repeat (`sample_times_are_sensor_times`). The pipeline does not
    depend on the grouping; this fixed rule makes a CSV and its imported recording give the very
    same batches.
    """
    t = np.asarray(t_s, dtype=np.float64)
    acc = np.asarray(accel_mps2, dtype=np.float64)
    gyro = None if gyro_rads is None else np.asarray(gyro_rads, dtype=np.float64)
    starts = np.append(sample_group_starts(t, breaks), t.size)
    sensor_timed = sample_times_are_sensor_times(t)
    return [
        _make_batch(t[a:b], acc[a:b], None if gyro is None else gyro[a:b], rate_hz, sensor_timed)
        for a, b in zip(starts[:-1].tolist(), starts[1:].tolist(), strict=True)
    ]


def _make_batch(t: np.ndarray, acc: np.ndarray, gyro: np.ndarray | None, rate_hz: float | None,
                sensor_timed: bool) -> ImuBatch:
    return ImuBatch(float(t[-1]), acc, gyro, t if sensor_timed else None, rate_hz, t)


# --------------------------------------------------------------------------- parsing


def open_recording(path: str | Path) -> Recording:
    """Read, validate and load a whole recording.

    Args:
        path: A ``.jsonl`` or ``.jsonl.gz`` file (compression is detected from the content).

    Returns:
        The recording; check ``.warnings`` for a cut-off last line.

    Raises:
        InputFileError: Missing, a directory, empty, unreadable, or not a recording (binary, CSV).
        RecordingFormatError: Damage anywhere but a truncated last line (names the line).
        UnsupportedFormatVersionError: Written by a newer version of the format.
    """
    path = Path(path)
    _check_file(path)
    # Look at the header before reading everything, so a large wrong file fails fast.
    read_header(path)
    raw = _read_bytes(path)
    warnings: list[str] = []
    cut = False
    if raw[:2] == _GZIP_MAGIC:
        try:
            data, cut, note = _decompress(path, raw)
        except _InflateError as err:
            _report_inflate_error(path, err)
        if note:
            warnings.append(note)
    else:
        data = raw
    del raw
    end = data.find(b"\n")
    if end < 0:
        header = _parse_header(path, data)  # read_header already said if it is cut off
        data += b"\n"
        end = len(data) - 1
    else:
        header = _parse_header(path, data[:end])
    return _BodyParser(path, header, data, end + 1, warnings, stream_cut=cut).parse()


def _report_inflate_error(path: Path, err: _InflateError) -> NoReturn:
    """Raise the most useful error for damaged gzip data.

    Damage inside compressed data usually garbles some output before zlib notices, so the lines
    inflated so far are parsed first: a bad line among them is named exactly. Otherwise the line
    after the last good one is named (or, for a checksum mismatch, the whole file).
    """
    partial = err.partial
    complete = partial[:partial.rfind(b"\n") + 1]
    if complete:
        end = complete.find(b"\n")
        header = _parse_header(path, complete[:end])
        _BodyParser(path, header, complete, end + 1, []).parse()
    if err.checksum:
        raise RecordingFormatError(path, 0, "gzip checksum does not match: the data is damaged somewhere")
    raise RecordingFormatError(path, complete.count(b"\n") + 1, f"compressed data is damaged ({err.reason})")


class _BodyParser:
    """Parses the lines after the header (first body line is file line 2).

    Works on the whole decompressed file with byte offsets (no copies of a large body); a "row"
    is a body line's index, so file line = row + 2.
    """

    def __init__(
        self, path: Path, header: RecordingHeader, data: bytes, body_start: int, warnings: list[str], *,
        stream_cut: bool = False,
    ) -> None:
        self.stream_cut = stream_cut
        self.path = path
        self.header = header
        self.data = data
        self.body_start = body_start
        self.warnings = warnings
        self.packets = header.body == BODY_PACKETS

    # ------------------------------------------------------------ driver

    def parse(self) -> Recording:
        body, stop = self._cut_tail()
        a = np.frombuffer(body, dtype=np.uint8)
        lo = self.body_start
        ends = _newlines(a, lo, stop)
        starts = np.concatenate(([lo], ends[:-1] + 1)).astype(np.int64) if ends.size else ends.copy()
        first = a[starts] if ends.size else np.zeros(0, np.uint8)
        is_event = first == ord("{")
        is_data = first == ord("[")
        other = ~(is_event | is_data)
        if other.any():
            i = int(np.flatnonzero(other)[0])
            self._fail(i, self._describe_bad_start(body[starts[i]:ends[i]]))
        ev_idx = np.flatnonzero(is_event)
        data_idx = np.flatnonzero(is_data)
        events = [self._parse_event(int(i), body[starts[i]:ends[i]]) for i in ev_idx.tolist()]
        self._check_event_times(ev_idx, events)
        event_pos = np.searchsorted(data_idx, ev_idx)
        if self.packets:
            t, codes, uuids, payloads = self._parse_packets(
                a, body, starts[data_idx], ends[data_idx], data_idx, starts[ev_idx], ends[ev_idx])
            self._check_data_times(t, data_idx)
            return Recording(self.path, self.header, times_s=t, events=events, event_pos=event_pos,
                             uuid_codes=codes, uuids=uuids, payloads=payloads, warnings=self.warnings)
        t, acc, gyro = self._parse_samples(body, starts[data_idx], ends[data_idx], data_idx, ev_idx)
        self._check_data_times(t, data_idx)
        return Recording(self.path, self.header, times_s=t, events=events, event_pos=event_pos,
                         accel_mps2=acc, gyro_rads=gyro, warnings=self.warnings)

    def _cut_tail(self) -> tuple[bytes, int]:
        """The data and the end of its complete body lines (after the last kept newline).

        Drops a cut-off last line (with the warning), trailing zero bytes and blank lines.
        """
        data, lo = self.data, self.body_start
        last_nl = max(data.rfind(b"\n"), lo - 1)
        tail = data[last_nl + 1:]
        truncated = self.stream_cut
        if tail and not tail.strip(b"\x00"):
            self.warnings.append(f"{len(tail)} zero bytes at the end ignored (power loss while recording?)")
            tail = b""
        if tail.strip():
            # a last line without its newline is kept only when it is complete and valid
            try:
                self._validate_single_line(tail)
                data = data[:last_nl + 1] + tail + b"\n"  # rare: only hand-made files end like this
                last_nl = len(data) - 1
            except _LineError:
                truncated = True
        stop = last_nl + 1
        while stop > lo and data[stop - 1] in b" \t\r\n":  # blank lines at the very end (editors)
            stop -= 1
        if stop > lo:
            stop = data.index(b"\n", stop) + 1
        if truncated:
            self.warnings.append(_TRUNCATED.format(n=1 + data.count(b"\n", lo, stop)))
        return data, stop

    def _validate_single_line(self, line: bytes) -> None:
        try:
            text = line.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise _LineError("not UTF-8") from None
        if text.startswith("{"):
            _event_from_json(text)
        else:
            _data_from_json(text, self.packets, None)

    # ------------------------------------------------------------ errors

    def _fail(self, row: int, reason: str) -> None:
        raise RecordingFormatError(self.path, row + 2, reason)

    def _describe_bad_start(self, line: bytes) -> str:
        if not line.strip():
            return "empty line inside the recording"
        if b"\x00" in line:
            return "binary data (zero bytes) inside the recording"
        shown = line[:40].decode("utf-8", "replace")
        return f"not a record (starts with {shown!r}; expected '[' or '{{')"

    # ------------------------------------------------------------ events

    def _parse_event(self, row: int, line: bytes) -> LinkEvent:
        try:
            return _event_from_json(line.decode("utf-8"))
        except UnicodeDecodeError:
            self._fail(row, "event line is not UTF-8 text")
        except _LineError as err:
            self._fail(row, str(err))
        raise AssertionError("unreachable")  # pragma: no cover

    def _check_event_times(self, rows: np.ndarray, events: list[LinkEvent]) -> None:
        if len(events) < 2:
            return
        t = np.array([e.host_time_s for e in events])
        back = np.flatnonzero(np.diff(t) < -TIME_TOLERANCE_S)
        if back.size:
            i = int(back[0]) + 1
            self._fail(int(rows[i]), f"event time {t[i]:.6f} s runs backwards (previous event at {t[i - 1]:.6f} s)")

    def _check_data_times(self, t: np.ndarray, rows: np.ndarray) -> None:
        if t.size < 2:
            return
        back = np.flatnonzero(np.diff(t) < -TIME_TOLERANCE_S)
        if back.size:
            i = int(back[0]) + 1
            self._fail(int(rows[i]), f"time {t[i]:.6f} s runs backwards (previous line at {t[i - 1]:.6f} s)")

    # ------------------------------------------------------------ packets

    def _parse_packets(
        self, a: np.ndarray, body: bytes, s: np.ndarray, e: np.ndarray, rows: np.ndarray,
        ev_s: np.ndarray, ev_e: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, list[str], list[bytes]]:
        """Times, characteristic codes, UUIDs and payloads of the packet lines (validating all).

        Runs of consecutive lines that share one layout (what `RecordingWriter` writes between
        events) are read as blocks (`_read_block`); a block with any deviation, and every other
        line, goes through `_parse_lines`, which reports damage. Characteristic codes follow the
        first appearance of each UUID among the canonical lines, then among the others.
        """
        n = int(s.size)
        t = np.zeros(n, dtype=np.float64)
        codes = np.zeros(n, dtype=np.int32)
        if n == 0:
            return t, codes, [], []
        uuids: list[str] = []
        index: dict[str, int] = {}
        payloads: list[bytes | None] = [None] * n
        done = np.zeros(n, dtype=bool)
        block_s: list[int] = []
        block_e: list[int] = []
        for lo, hi in _layout_runs(s, e, _MIN_BLOCK_LINES):
            start = int(s[lo])
            got = _read_block(a, body, start, hi - lo, int(e[lo]) - start)
            if got is None:
                continue
            tv, uuid_text, block_payloads = got
            uuid = normalize_uuid(uuid_text)
            code = index.setdefault(uuid, len(uuids))
            if code == len(uuids):
                uuids.append(uuid)
            t[lo:hi] = tv
            codes[lo:hi] = code
            if hi - lo == n:
                payloads = block_payloads  # type: ignore[assignment]  # the whole body: no copy
            else:
                payloads[lo:hi] = block_payloads
            done[lo:hi] = True
            block_s.append(start)
            block_e.append(int(e[hi - 1]))
        canon = done.copy()
        rest = np.flatnonzero(~done)
        if rest.size:
            other_s = np.concatenate([ev_s, np.asarray(block_s, dtype=np.int64)])
            other_e = np.concatenate([ev_e, np.asarray(block_e, dtype=np.int64)])
            canon[rest] = self._parse_lines(a, body, s, e, rows, rest, other_s, other_e,
                                            t, codes, payloads, uuids, index)
        if len(uuids) > 1:
            codes, uuids = _first_seen_order(codes, uuids, canon)
        return t, codes, uuids, payloads  # type: ignore[return-value]

    def _parse_lines(
        self, a: np.ndarray, body: bytes, s: np.ndarray, e: np.ndarray, rows: np.ndarray, idx: np.ndarray,
        other_s: np.ndarray, other_e: np.ndarray, t: np.ndarray, codes: np.ndarray,
        payloads: list[bytes | None], uuids: list[str], index: dict[str, int],
    ) -> np.ndarray:
        """Parse the packet lines ``idx`` one by one (vectorised where canonical) into the outputs.

        ``other_s``/``other_e`` are the byte ranges of lines outside ``idx`` (events, blocks).
        Returns which of them were canonical.
        """
        s, e, rows = s[idx], e[idx], rows[idx]
        canon, q1, q2, q3, q4 = _canonical_packet_lines(a, s, e)
        ci = np.flatnonzero(canon)
        if ci.size:
            tv, ok_t = _fixed6_times(a, s[ci], q1[ci])
            canon[ci[~ok_t]] = False  # times in another notation: parsed by json below
            ci, tv = ci[ok_t], tv[ok_t]
            t[idx[ci]] = tv
        if ci.size:
            others = np.flatnonzero(~canon)
            other_s = np.concatenate([s[others], other_s])
            other_e = np.concatenate([e[others], other_e])
            codes[idx[ci]] = self._uuid_codes(body, q1[ci], q2[ci], rows[ci], other_s, other_e, uuids, index)
            fast = self._payloads(body, q3[ci] + 1, q4[ci], rows[ci])
            for j, p in zip(idx[ci].tolist(), fast, strict=True):
                payloads[j] = p
        for j in np.flatnonzero(~canon).tolist():
            line = body[s[j]:e[j]]
            try:
                tj, uuid, payload = _data_from_json(line.decode("utf-8"), True, None)
            except UnicodeDecodeError:
                self._fail(int(rows[j]), "line is not UTF-8 text")
            except _LineError as err:
                self._fail(int(rows[j]), str(err))
            out = int(idx[j])
            t[out] = tj
            code = index.get(uuid)
            if code is None:
                code = index[uuid] = len(uuids)
                uuids.append(uuid)
            codes[out] = code
            payloads[out] = payload
        return canon

    def _uuid_codes(
        self, body: bytes, q1: np.ndarray, q2: np.ndarray, rows: np.ndarray,
        other_s: np.ndarray, other_e: np.ndarray, uuids: list[str], index: dict[str, int],
    ) -> np.ndarray:
        """Characteristic code per canonical line, validating every UUID field."""
        n = int(q1.size)
        first = body[int(q1[0]) + 1:int(q2[0])]
        lengths = q2 - q1 - 1
        if lengths.min() == lengths.max() == len(first):
            # In a canonical line the pattern ,"U"," can only occur at the UUID field (it needs
            # three of the line's four quotes), so the number of occurrences over the canonical
            # lines' span, minus those inside other lines (events, hand-edited lines), is the
            # number of canonical lines whose UUID field is exactly U.
            pattern = b',"' + first + b'","'
            lo, hi = int(q1[0]) - 1, int(q2[-1]) + 3
            count = body.count(pattern, lo, hi)
            inside = (other_s < hi) & (other_e > lo)
            count -= sum(body.count(pattern, i, j)
                         for i, j in zip(other_s[inside].tolist(), other_e[inside].tolist(), strict=True))
            if count == n:
                uuid = self._check_uuid(first.decode("latin-1"), int(rows[0]))
                code = index.setdefault(uuid, len(uuids))
                if code == len(uuids):
                    uuids.append(uuid)
                return np.full(n, code, dtype=np.int32)
        fields = [body[i:j].decode("latin-1") for i, j in zip((q1 + 1).tolist(), q2.tolist(), strict=True)]
        out = np.empty(n, dtype=np.int32)
        seen: dict[str, int] = {}
        for k, f in enumerate(fields):
            code = seen.get(f)
            if code is None:
                uuid = self._check_uuid(f, int(rows[k]))
                code = index.setdefault(uuid, len(uuids))
                if code == len(uuids):
                    uuids.append(uuid)
                seen[f] = code
            out[k] = code
        return out

    def _check_uuid(self, text: str, row: int) -> str:
        if not UUID_RE.fullmatch(text):
            self._fail(row, f"characteristic {text[:60]!r} is not a UUID")
        return normalize_uuid(text)

    def _payloads(self, body: bytes, lo: np.ndarray, hi: np.ndarray, rows: np.ndarray) -> list[bytes]:
        from binascii import Error as HexError
        from binascii import unhexlify

        pairs = zip(lo.tolist(), hi.tolist(), strict=True)
        try:
            return [unhexlify(body[i:j]) for i, j in pairs]
        except HexError:
            for k, (i, j) in enumerate(zip(lo.tolist(), hi.tolist(), strict=True)):
                try:
                    unhexlify(body[i:j])
                except HexError:
                    shown = body[i:j][:40].decode("latin-1")
                    self._fail(int(rows[k]), f"payload {shown!r} is not well-formed hex (pairs of 0-9a-f)")
            raise  # pragma: no cover - the loop finds the line

    # ------------------------------------------------------------ samples

    def _parse_samples(
        self, body: bytes, s: np.ndarray, e: np.ndarray, rows: np.ndarray, ev_rows: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        n = int(s.size)
        if n == 0:
            return np.zeros(0), np.zeros((0, 3)), None
        values = self._samples_fast(body, s, e, ev_rows)
        if values is None:
            values = self._samples_slow(body, s, e, rows)
        finite = np.isfinite(values).all(axis=1)
        if not finite.all():
            k = int(np.flatnonzero(~finite)[0])
            self._fail(int(rows[k]), f"non-finite value in {values[k].tolist()}")
        t = values[:, 0].copy()
        acc = np.ascontiguousarray(values[:, 1:4])
        gyro = np.ascontiguousarray(values[:, 4:7]) if values.shape[1] == 7 else None
        return t, acc, gyro

    def _samples_fast(self, body: bytes, s: np.ndarray, e: np.ndarray, ev_rows: np.ndarray) -> np.ndarray | None:
        """All sample lines at once with numpy.loadtxt, or None when any line is not canonical."""
        a = np.frombuffer(body, dtype=np.uint8)
        if not ((a[s] == ord("[")) & (a[e - 1] == ord("]")) & (e - s >= 2)).all():
            return None
        if ev_rows.size:
            # cut the event lines out: join the runs of consecutive data lines between them
            breaks = np.flatnonzero(s[1:] != e[:-1] + 1) + 1
            run_lo = np.concatenate(([0], breaks)).tolist()
            run_hi = np.concatenate((breaks, [s.size])).tolist()
            data = b"".join(body[int(s[i]):int(e[j - 1]) + 1] for i, j in zip(run_lo, run_hi, strict=True))
        else:
            data = body[int(s[0]):int(e[-1]) + 1]
        n = int(s.size)
        if data.count(b"[") != n or data.count(b"]") != n:
            return None
        if data.translate(None, b"0123456789.-+eE,[]\n"):
            return None  # letters (nan, inf, strings), spaces, braces: let json say what is wrong
        try:
            values = np.loadtxt(io.BytesIO(data.translate(None, b"[]")), delimiter=",", dtype=np.float64,
                                ndmin=2, comments=None, encoding="latin-1")
        except ValueError:
            return None
        if values.shape != (n, 4) and values.shape != (n, 7):
            return None
        return values

    def _samples_slow(self, body: bytes, s: np.ndarray, e: np.ndarray, rows: np.ndarray) -> np.ndarray:
        width: int | None = None
        out: list[list[float]] = []
        for k, (i, j) in enumerate(zip(s.tolist(), e.tolist(), strict=True)):
            try:
                values = _data_from_json(body[i:j].decode("utf-8"), False, width)
            except UnicodeDecodeError:
                self._fail(int(rows[k]), "line is not UTF-8 text")
            except _LineError as err:
                self._fail(int(rows[k]), str(err))
            width = len(values)
            out.append(values)  # type: ignore[arg-type]
        return np.array(out, dtype=np.float64).reshape(len(out), width or 4)


# --------------------------------------------------------------------------- per-line helpers


class _LineError(Exception):
    """One line's problem (turned into RecordingFormatError with the line number)."""


def _nan_constant(name: str) -> float:
    return float("nan")  # NaN/Infinity literals: rejected by the finiteness checks, with the line


def _json(text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_nan_constant)
    except json.JSONDecodeError as err:
        raise _LineError(f"not valid JSON ({err.msg} at column {err.colno})") from None
    except RecursionError:
        raise _LineError("not valid JSON (nested too deeply)") from None


def _event_from_json(text: str) -> LinkEvent:
    obj = _json(text)
    if not isinstance(obj, dict):
        raise _LineError("event line is not a JSON object")
    kind = obj.get("event")
    if not isinstance(kind, str) or not kind:
        raise _LineError(f"event line without an event kind (event={kind!r})")
    t = obj.get("t")
    if not _is_number(t) or not math.isfinite(t):
        raise _LineError(f"event {kind!r} has no finite time t (t={t!r})")
    detail = {k: v for k, v in obj.items() if k not in ("event", "t")}
    return LinkEvent(float(t), kind, detail)


def _data_from_json(text: str, packets: bool, width: int | None) -> Any:
    obj = _json(text)
    if not isinstance(obj, list) or not obj:
        raise _LineError("data line is not a non-empty JSON array")
    t = obj[0]
    if not _is_number(t) or not math.isfinite(t):
        raise _LineError(f"time {t!r} is not a finite number")
    if packets:
        if len(obj) == 3 and isinstance(obj[1], str) and isinstance(obj[2], str):
            uuid, hx = obj[1], obj[2]
            if not UUID_RE.fullmatch(uuid):
                raise _LineError(f"characteristic {uuid[:60]!r} is not a UUID")
            if len(hx) % 2 or not all(c in "0123456789abcdefABCDEF" for c in hx):
                raise _LineError(f"payload {hx[:40]!r} is not well-formed hex (pairs of 0-9a-f)")
            return float(t), normalize_uuid(uuid), bytes.fromhex(hx)
        if len(obj) in (4, 7) and all(_is_number(v) for v in obj):
            raise _LineError("a samples line in a packets recording")
        raise _LineError(f"packet line must be [t, \"uuid\", \"hex\"], got {text[:60]!r}")
    if len(obj) == 3 and isinstance(obj[1], str):
        raise _LineError("a packet line in a samples recording")
    if len(obj) not in (4, 7):
        raise _LineError(f"sample line must have 4 or 7 numbers, got {len(obj)}")
    if not all(_is_number(v) for v in obj):
        bad = next(v for v in obj if not _is_number(v))
        raise _LineError(f"sample value {bad!r} is not a number")
    if width is not None and len(obj) != width:
        raise _LineError(f"sample line has {len(obj)} numbers but earlier lines have {width} "
                         "(gyro columns must not appear or disappear)")
    values = [float(v) for v in obj]
    if not all(math.isfinite(v) for v in values):
        raise _LineError(f"non-finite value in {values}")
    return values


# --------------------------------------------------------------------------- vectorised packets


def _newlines(a: np.ndarray, lo: int, stop: int, step: int = 1 << 20) -> np.ndarray:
    """Positions of the newlines in ``a[lo:stop]`` (int64), scanned in cache-sized slices."""
    found = [np.flatnonzero(a[i:min(i + step, stop)] == 0x0A) + i for i in range(lo, stop, step)]
    return np.concatenate(found).astype(np.int64) if found else np.zeros(0, dtype=np.int64)


def _layout_runs(s: np.ndarray, e: np.ndarray, min_lines: int) -> list[tuple[int, int]]:
    """Runs ``[lo, hi)`` of at least ``min_lines`` adjacent lines (no line between them) of equal length."""
    if s.size < min_lines:
        return []
    length = e - s
    breaks = np.flatnonzero((length[1:] != length[:-1]) | (s[1:] != e[:-1] + 1)) + 1
    lo = np.concatenate(([0], breaks))
    hi = np.concatenate((breaks, [s.size]))
    keep = hi - lo >= min_lines
    return list(zip(lo[keep].tolist(), hi[keep].tolist(), strict=True))


def _read_block(
    a: np.ndarray, body: bytes, start: int, m: int, width: int
) -> tuple[np.ndarray, str, list[bytes]] | None:
    """Read ``m`` adjacent packet lines of ``width`` bytes each at byte ``start`` as one block.

    Returns (times, UUID text, payloads) when every line has exactly the shape of the first --
    ``[D+.DDDDDD,"U","H"]`` with the same ``U``, the same number of integer digits and the same
    payload length -- and holds valid hex; otherwise None, and the lines are parsed one by one
    (which names the damaged line). Every column of the block, viewed as an ``(m, width)``
    array (the lines are ``width + 1`` bytes apart), is checked in a few vectorised passes
    instead of a few operations per line. The values equal the per-line path's bit for bit:
    times are the same exact integer divided by 10^6 (see `_fixed6_times`), payloads the same
    hex decoding.
    """
    first = _BLOCK_LINE_RE.fullmatch(body, start, start + width)
    if first is None:
        return None
    n_int = len(first[1])
    uuid_b, hex_b = first[2], first[3]
    uuid_text = uuid_b.decode("latin-1")
    if len(hex_b) % 2 or not UUID_RE.fullmatch(uuid_text):
        return None
    q1 = n_int + 9  # [ digits . 6 digits , "
    q2 = q1 + len(uuid_b) + 1
    q3 = q2 + 2
    q4 = q3 + len(hex_b) + 1
    punctuation = np.array([0, n_int + 1, n_int + 8, q1, q2, q2 + 1, q3, q4, width - 1])
    expected = np.frombuffer(b'[.,"",""]', dtype=np.uint8)
    uuid_bytes = np.frombuffer(uuid_b, dtype=np.uint8)
    digit_cols = np.r_[1:n_int + 1, n_int + 2:n_int + 8]
    place = np.array([10**p for p in range(n_int + 5, -1, -1)], dtype=np.int64)
    n_bytes = len(hex_b) // 2
    times: list[np.ndarray] = []
    raw: list[bytes] = []
    from binascii import Error as HexError
    from binascii import unhexlify

    for k in range(0, m, _BLOCK_SLICE_LINES):
        rows = min(_BLOCK_SLICE_LINES, m - k)
        lo = start + k * (width + 1)
        block = np.lib.stride_tricks.as_strided(a[lo:lo + rows * (width + 1)], shape=(rows, width),
                                                strides=(width + 1, 1), writeable=False)
        if not ((block[:, punctuation] == expected).all() and (block[:, q1 + 1:q2] == uuid_bytes).all()):
            return None
        digits = block[:, digit_cols] - np.uint8(48)  # anything but 0-9 wraps to above 9
        if digits.max() > 9:
            return None
        # integer digits + 6 decimals < 2^53: exact as int64 and as float64, like _fixed6_times
        times.append((digits.astype(np.int64) @ place).astype(np.float64) / 1e6)
        if n_bytes:
            try:
                raw.append(unhexlify(np.ascontiguousarray(block[:, q3 + 1:q4])))
            except HexError:
                return None
    if not n_bytes:
        return np.concatenate(times), uuid_text, [b""] * m
    # one bytes object per line; void items keep trailing zero bytes (bytes dtypes strip them)
    payloads = np.frombuffer(b"".join(raw), dtype=f"V{n_bytes}").tolist()
    return np.concatenate(times), uuid_text, payloads


def _first_seen_order(codes: np.ndarray, uuids: list[str], canon: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Renumber characteristic codes by first appearance among the canonical lines, then the others."""
    big = 2 * codes.size + 1
    key = np.full(len(uuids), big, dtype=np.int64)
    other_key = np.full(len(uuids), big, dtype=np.int64)
    c, first = np.unique(codes[canon], return_index=True)
    key[c] = first
    c, first = np.unique(codes[~canon], return_index=True)
    other_key[c] = codes.size + first
    key = np.minimum(key, np.where(key == big, other_key, big))
    order = np.argsort(key, kind="stable")
    renumber = np.empty(len(uuids), dtype=np.int32)
    renumber[order] = np.arange(len(uuids), dtype=np.int32)
    return renumber[codes], [uuids[i] for i in order.tolist()]



def _canonical_packet_lines(
    a: np.ndarray, s: np.ndarray, e: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Which lines have exactly the shape ``[T,"U","H"]`` and where their four quotes are."""
    length = e - s
    total = int(length.sum())
    if 4 * total >= a.size:
        q = np.flatnonzero(a == 0x22)
    else:
        # few lines (the rest after blocks): look for quotes in those lines only
        at = np.repeat(s - (np.cumsum(length) - length), length) + np.arange(total)
        q = at[a[at] == 0x22]
    i0 = np.searchsorted(q, s)
    i1 = np.searchsorted(q, e)
    canon = (i1 - i0 == 4) & (e - s >= 9)
    j = np.where(canon, i0, 0)
    if q.size < 4:
        z = np.zeros_like(s)
        return np.zeros_like(canon), z, z, z, z
    j = np.minimum(j, q.size - 4)
    q1, q2, q3, q4 = q[j], q[j + 1], q[j + 2], q[j + 3]
    canon &= (
        (a[s] == ord("["))
        & (a[np.maximum(q1 - 1, 0)] == ord(","))
        & (a[np.minimum(q2 + 1, a.size - 1)] == ord(","))
        & (q3 == q2 + 2)
        & (q4 + 2 == e)
        & (a[e - 1] == ord("]"))
        & (q1 - 1 > s + 1)
    )
    return canon, q1, q2, q3, q4


def _fixed6_times(a: np.ndarray, s: np.ndarray, q1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parse times written as ``-?D+.DDDDDD`` between ``s+1`` and ``q1-1``; flag other shapes.

    The value is computed as (integer * 10^6 + fraction) / 10^6: both operands are exact in
    float64 and IEEE division rounds correctly, so the result equals ``float(text)`` bit for bit.
    """
    end = q1 - 1  # the comma
    neg = a[s + 1] == ord("-")
    int_lo = s + 1 + neg
    dot = end - 7
    n_int = dot - int_lo
    # <= 9 integer digits keeps integer * 10^6 + fraction below 2^53 (exact in float64)
    ok = (n_int >= 1) & (n_int <= 9) & (a[np.maximum(dot, 0)] == ord("."))
    frac = np.zeros(s.size, dtype=np.int64)
    for k in range(6):
        d = a[end - 6 + k].astype(np.int64) - 48
        ok &= (d >= 0) & (d <= 9)
        frac = frac * 10 + d
    whole = np.zeros(s.size, dtype=np.int64)
    max_int = int(n_int[ok].max()) if ok.any() else 0
    for k in range(max_int):
        pos = int_lo + k
        active = k < n_int
        d = a[np.where(active, pos, 0)].astype(np.int64) - 48
        ok &= ~active | ((d >= 0) & (d <= 9))
        whole = np.where(active, whole * 10 + d, whole)
    value = (whole * 1_000_000 + frac).astype(np.float64) / 1e6
    return np.where(neg, -value, value), ok


__all__ = [
    "SAMPLE_GROUP_S",
    "TIME_TOLERANCE_S",
    "UUID_RE",
    "Recording",
    "check_header",
    "open_recording",
    "read_header",
    "sample_group_starts",
    "sample_times_are_sensor_times",
    "samples_to_batches",
]
