"""`RecordingWriter`: stores a session as a vbt recording, one flushed JSON line at a time.

The format is specified in `vbt.recording.format` and docs/recording.md. What this module adds:

* **Crash safety.** The header line is written and flushed when the writer is created, and every
  later ``write_*`` call hands its line(s) to the operating system before returning. A process
  killed at any moment therefore leaves a file that `vbt.recording.reader.open_recording` reads up
  to the last complete line (it warns about the cut). For ``.jsonl.gz`` each call ends with a
  zlib *sync flush*, so the compressed prefix is decodable too (no gzip trailer is needed to read
  it). Offline generators that do not need this can pass ``line_flush=False``.
* **Storage failures.** Any `OSError` (disk full, read-only file system, permission, removed
  medium) becomes `vbt.errors.RecordingWriteError` naming the file and the reason. The writer then
  closes itself, keeps what was written readable, and raises the same error on every later write,
  so a live view can keep running while the recording has stopped.
* **Time origin.** Times in the file are seconds relative to an origin: by default the time of
  the first item written (the first packet, the first sample of the first batch, or the first
  event), so a recording starts at t = 0; pass ``origin_s`` to use another (e.g. the moment
  streaming was requested). Packet and event times are written with microsecond resolution.
* **Samples bodies.** `write_samples` writes one line per sample: the batch's sensor time when it
  has one (rebased onto the recording's time axis; re-anchored to host time if the sensor clock
  jumps, e.g. after the sensor restarts), else the samples' host arrival times, with specific
  force in m/s^2 and angular rate in rad/s, all written exactly (shortest round-trip repr).
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import zlib
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

import numpy as np

from firmware_protocols import ImuBatch, normalize_uuid
from vbt.errors import RecordingWriteError
from vbt.recording.format import BODY_PACKETS, BODY_SAMPLES, FORMAT_NAME, FORMAT_VERSION, RecordingHeader
from vbt.recording.reader import TIME_TOLERANCE_S, UUID_RE, check_header
from vbt.sources._base import LINK_KINDS, LinkEvent, RawPacket

#: A jump between consecutive batches' sensor clocks that differs from the host clock's step by more
#: than this is a discontinuity (sensor restarted or its counter reset), not drift: crystal drift is
#: ~1e-4 s/s, far below it.
SENSOR_CLOCK_JUMP_S = 1.0

_ERRNO_REASONS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOENT: "the folder does not exist",
    errno.ENOTDIR: "a part of the path is not a folder",
    errno.EISDIR: "the path is a folder",
    errno.EIO: "input/output error (was the medium removed?)",
    errno.EFBIG: "the file is too large for this file system",
}


def describe_os_error(err: OSError) -> str:
    """One human line for an `OSError`: the plain-words reason plus its errno name."""
    code = err.errno
    name = errno.errorcode.get(code, "") if code is not None else ""
    plain = _ERRNO_REASONS.get(code) if code is not None else None
    if plain is None:
        plain = err.strerror or str(err) or type(err).__name__
    return f"{plain} ({name})" if name else plain


def _json_default(value: object) -> object:
    """Make NumPy scalars/arrays and other simple objects JSON-serialisable."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"value {value!r} of type {type(value).__name__} cannot be stored in a recording")


def _finite_or_none(value: Any) -> Any:
    """Replace non-finite floats with None anywhere in a JSON-like structure (JSON has no NaN)."""
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite_or_none(v) for v in value]
    if isinstance(value, np.ndarray):
        return _finite_or_none(value.tolist())
    return value


def _dumps(obj: object) -> str:
    # ASCII only (non-ASCII is \u-escaped) keeps every byte offset equal to a character offset,
    # which the reader's vectorised fast path relies on.
    return json.dumps(_finite_or_none(obj), ensure_ascii=True, allow_nan=False, separators=(",", ":"),
                      default=_json_default)


def _utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class RecordingWriter:
    """Writes a vbt recording (``.jsonl``, or gzip-compressed ``.jsonl.gz``) line by line.

    Use as a context manager, or call `close` yourself::

        with RecordingWriter("set1.jsonl.gz", source.header) as rec:
            async for item in source:
                rec.write_item(item)

    Args:
        path: Output file. A name ending in ``.gz`` is gzip-compressed. An existing file is
            replaced (commands check for that before creating a writer).
        header: What the recording holds. The writer stores a copy with ``app_version`` set to
            this vbt's version and ``started_at`` set to the current UTC time if it is empty
            (the wall-clock time at which the writer was created).
        origin_s: Time (on the caller's clock) that becomes t = 0 in the file; ``None`` (the
            default) uses the time of the first item written.
        line_flush: Flush after every write call (the crash-safety guarantee). ``False`` is for
            offline generators writing many lines at once; the file is then complete only after
            `close`.
        fileobj: Write to this binary file object instead of opening ``path`` (``path`` is
            still used for the compression choice and in messages). Tests use it to inject
            failing storage. The writer closes it.

    Raises:
        RecordingWriteError: The file cannot be created or the header cannot be written.
        ValueError: The header is not valid (unknown body kind, bad numbers).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        header: RecordingHeader,
        *,
        origin_s: float | None = None,
        line_flush: bool = True,
        fileobj: IO[bytes] | None = None,
    ) -> None:
        from vbt import __version__

        self.path = Path(path)
        self.compressed = self.path.name.lower().endswith(".gz")
        self.line_flush = line_flush
        self.header = replace(
            header,
            format=FORMAT_NAME,
            format_version=FORMAT_VERSION,
            app_version=__version__,
            started_at=header.started_at or _utc_now_iso(),
            decoder=dict(header.decoder),
            stream=dict(header.stream),
            extra=dict(header.extra),
        )
        problem = check_header(self.header.to_dict())
        if problem:
            raise ValueError(f"cannot write a recording with this header: {problem}")
        if origin_s is not None and not math.isfinite(origin_s):
            raise ValueError(f"origin_s must be a finite time, got {origin_s!r}")
        self._origin_s = origin_s
        self._body = self.header.body
        self._error: RecordingWriteError | None = None
        self._closed = False
        self._file: IO[bytes] | None = None
        self._zip = zlib.compressobj(6, zlib.DEFLATED, 31) if self.compressed else None
        self._last_data_t: float | None = None
        self._last_event_t: float | None = None
        self._gyro_columns: bool | None = None
        # sensor time -> file time for samples bodies (t_file = sensor_time_s + offset)
        self._sensor_offset_s: float | None = None
        self._last_batch_sensor_s: float | None = None
        self._last_batch_host_s: float | None = None
        self.lines_written = 0
        self.bytes_written = 0
        try:
            self._file = fileobj if fileobj is not None else open(self.path, "wb", buffering=0)  # noqa: SIM115
        except OSError as err:
            self._closed = True
            self._error = RecordingWriteError(self.path, describe_os_error(err))
            raise self._error from err
        self._emit(_dumps(self.header.to_dict()) + "\n", lines=1)

    # ------------------------------------------------------------------ state

    @property
    def closed(self) -> bool:
        """True after `close` or after a storage failure."""
        return self._closed

    @property
    def error(self) -> RecordingWriteError | None:
        """The storage failure that stopped this recording, if any."""
        return self._error

    @property
    def origin_s(self) -> float | None:
        """The caller's time that is t = 0 in the file (None until the first item if not given)."""
        return self._origin_s

    @property
    def duration_s(self) -> float:
        """File time of the last data line written (0 before any)."""
        return self._last_data_t if self._last_data_t is not None else 0.0

    # ------------------------------------------------------------------ writing

    def write_packet(self, host_time_s: float, char_uuid: str, payload: bytes) -> None:
        """Write one raw notification as received (packets bodies only).

        Args:
            host_time_s: Host receive time on the caller's clock (seconds).
            char_uuid: Characteristic UUID (16-bit forms are expanded, stored lower-case).
            payload: The notification value bytes.

        Raises:
            RecordingWriteError: Storage failed now or earlier.
            ValueError: Wrong body kind, a malformed UUID, or time running backwards.
        """
        self._check_writable()
        if self._body != BODY_PACKETS:
            raise ValueError(f"write_packet on a {self._body!r} recording; packets need a header with body='packets'")
        uuid = normalize_uuid(char_uuid)
        if not UUID_RE.fullmatch(uuid):
            raise ValueError(f"char_uuid {char_uuid!r} is not a UUID")
        t = self._relative(host_time_s, first=host_time_s)
        self._check_data_time(t)
        self._emit(f'[{t:.6f},"{uuid}","{bytes(payload).hex()}"]\n', lines=1)
        # the file holds microseconds; compare later times with what a reader will see
        self._last_data_t = round(t, 6)

    def write_samples(self, batch: ImuBatch) -> None:
        """Write a batch of decoded samples, one line per sample (samples bodies only).

        The time of each line is the batch's sensor time when it has one (rebased so that the
        first sample written sits at its host arrival time; re-anchored to host time when the
        sensor clock jumps), else each sample's host arrival time. Values are exact.

        Raises:
            RecordingWriteError: Storage failed now or earlier.
            ValueError: Wrong body kind, non-finite values, gyro appearing or disappearing
                mid-recording, or time running backwards.
        """
        self._check_writable()
        if self._body != BODY_SAMPLES:
            raise ValueError(f"write_samples on a {self._body!r} recording; samples need a header with body='samples'")
        n = len(batch)
        if n == 0:
            return
        has_gyro = batch.gyro_rads is not None
        if self._gyro_columns is None:
            self._gyro_columns = has_gyro
        elif has_gyro != self._gyro_columns:
            state = "has" if has_gyro else "lacks"
            raise ValueError(f"this batch {state} gyro data but the recording's earlier samples do not match")
        acc = np.asarray(batch.accel_mps2, dtype=np.float64)
        cols = [acc] if not has_gyro else [acc, np.asarray(batch.gyro_rads, dtype=np.float64)]
        values = np.hstack(cols)
        if not np.isfinite(values).all():
            bad = int(np.flatnonzero(~np.isfinite(values).all(axis=1))[0])
            raise ValueError(f"sample {bad} of the batch has a non-finite value {values[bad].tolist()}")
        t = self._sample_times(batch)
        if not np.isfinite(t).all():
            raise ValueError("the batch has non-finite sample times")
        self._check_data_time(float(t[0]))
        if n > 1 and float(np.min(np.diff(t))) < -TIME_TOLERANCE_S:
            raise ValueError("the batch's sample times run backwards")
        if self._last_data_t is not None:
            # steps back within the tolerance: keep the file's times monotonic
            t = np.maximum.accumulate(np.maximum(t, self._last_data_t))
        if self._origin_s != 0.0 or (self._sensor_offset_s or 0.0) != 0.0:
            # rebasing leaves float dust (5.01 - 5.0 = 0.009999999999999787); nanoseconds are plenty
            t = np.round(t, 9)
        rows = np.column_stack([t, values]).tolist()
        fmt = "[" + ",".join(["%r"] * (7 if has_gyro else 4)) + "]\n"
        self._emit("".join(fmt % tuple(r) for r in rows), lines=n)
        self._last_data_t = float(t[-1])

    def write_event(self, host_time_s: float, kind: str, **detail: object) -> None:
        """Write a link or session event (any body kind).

        Args:
            host_time_s: When it happened, on the caller's clock.
            kind: One of `vbt.sources.LINK_KINDS`.
            **detail: JSON-compatible details (NumPy values are converted; NaN becomes null).
                The keys ``event`` and ``t`` are reserved.

        Raises:
            RecordingWriteError: Storage failed now or earlier.
            ValueError: Unknown kind, a reserved key, or time running backwards.
        """
        self._check_writable()
        if kind not in LINK_KINDS:
            raise ValueError(f"event kind {kind!r} is not one of {', '.join(LINK_KINDS)}")
        reserved = {"event", "t"} & set(detail)
        if reserved:
            raise ValueError(f"event detail keys {sorted(reserved)} are reserved")
        t = self._relative(host_time_s, first=host_time_s)
        if self._last_event_t is not None and t < self._last_event_t - TIME_TOLERANCE_S:
            raise ValueError(f"event time {t:.6f} s is earlier than the previous event's {self._last_event_t:.6f} s")
        line = _dumps({"event": kind, "t": round(t, 6), **detail})
        self._emit(line + "\n", lines=1)
        self._last_event_t = round(t, 6)

    def write_item(self, item: RawPacket | ImuBatch | LinkEvent) -> None:
        """Write whatever a `vbt.sources.Source` yields (so the writer can be a session sink)."""
        if isinstance(item, RawPacket):
            self.write_packet(item.host_time_s, item.char_uuid, item.payload)
        elif isinstance(item, ImuBatch):
            self.write_samples(item)
        elif isinstance(item, LinkEvent):
            self.write_event(item.host_time_s, item.kind, **dict(item.detail))
        else:
            raise TypeError(f"cannot record an item of type {type(item).__name__}")

    def close(self) -> None:
        """Finish the file (gzip trailer), sync it to disk and close it; safe to call twice.

        Raises:
            RecordingWriteError: Finishing the file failed (what was written stays readable).
        """
        if self._closed:
            return
        self._closed = True
        file = self._file
        self._file = None
        try:
            if file is None:
                return
            if self._zip is not None:
                _write_all(file, self._zip.flush(zlib.Z_FINISH))
            _flush(file)
            _fsync(file)
            file.close()
        except OSError as err:
            self._error = RecordingWriteError(self.path, describe_os_error(err))
            _close_quietly(file)
            raise self._error from err

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
            return
        with contextlib.suppress(RecordingWriteError):
            self.close()  # the exception already on its way out matters more

    def __repr__(self) -> str:
        state = "failed" if self._error else "closed" if self._closed else "open"
        return f"<RecordingWriter {self.path} body={self._body} lines={self.lines_written} {state}>"

    # ------------------------------------------------------------------ internals

    def _check_writable(self) -> None:
        if self._error is not None:
            raise RecordingWriteError(self._error.path, self._error.reason)
        if self._closed:
            raise ValueError(f"recording {self.path} is already closed")

    def _relative(self, time_s: float, *, first: float) -> float:
        time_s = float(time_s)
        if not math.isfinite(time_s):
            raise ValueError(f"time {time_s!r} is not finite")
        if self._origin_s is None:
            self._origin_s = float(first)
        return time_s - self._origin_s

    def _check_data_time(self, t: float) -> None:
        if self._last_data_t is not None and t < self._last_data_t - TIME_TOLERANCE_S:
            raise ValueError(f"time {t:.6f} s is earlier than the previous line's {self._last_data_t:.6f} s")

    def _sample_times(self, batch: ImuBatch) -> np.ndarray:
        """File times of a batch's samples (see the class docstring)."""
        arrival = np.asarray(batch.arrival_times(), dtype=np.float64)
        if batch.sensor_time_s is None:
            return arrival - self._origin_or(float(arrival[0]))
        st = np.asarray(batch.sensor_time_s, dtype=np.float64)
        # The last sample completed the notification, so it pairs with the batch's host time.
        host_rel = float(batch.host_time_s) - self._origin_or(float(batch.host_time_s) - float(st[-1] - st[0]))
        jumped = False
        if self._sensor_offset_s is not None and self._last_batch_sensor_s is not None:
            d_sensor = float(st[-1]) - self._last_batch_sensor_s
            d_host = host_rel - (self._last_batch_host_s or 0.0)
            jumped = d_sensor < 0 or abs(d_sensor - d_host) > SENSOR_CLOCK_JUMP_S
        if self._sensor_offset_s is None or jumped:
            offset = host_rel - float(st[-1])
            if self._last_data_t is not None:
                offset = max(offset, self._last_data_t - float(st[0]))
            self._sensor_offset_s = offset
        self._last_batch_sensor_s = float(st[-1])
        self._last_batch_host_s = host_rel
        return st + self._sensor_offset_s

    def _origin_or(self, first: float) -> float:
        if self._origin_s is None:
            self._origin_s = first
        return self._origin_s

    def _emit(self, text: str, *, lines: int) -> None:
        data = text.encode("ascii")
        file = self._file
        if file is None:  # pragma: no cover - guarded by _check_writable
            raise ValueError(f"recording {self.path} is closed")
        try:
            if self._zip is not None:
                data = self._zip.compress(data)
                if self.line_flush:
                    data += self._zip.flush(zlib.Z_SYNC_FLUSH)
            _write_all(file, data)
            if self.line_flush:
                _flush(file)
        except OSError as err:
            self._fail(err)
        self.lines_written += lines
        self.bytes_written += len(data)

    def _fail(self, err: OSError) -> None:
        self._error = RecordingWriteError(self.path, describe_os_error(err))
        self._closed = True
        file, self._file = self._file, None
        if file is not None:
            _close_quietly(file)
        raise self._error from err


def _write_all(file: IO[bytes], data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = file.write(view)
        if n is None:  # a buffered object that took everything
            return
        if n <= 0:
            raise OSError(errno.EIO, "write returned 0 bytes")
        view = view[n:]


def _flush(file: IO[bytes]) -> None:
    flush = getattr(file, "flush", None)
    if flush is not None:
        flush()


def _close_quietly(file: IO[bytes]) -> None:
    with contextlib.suppress(OSError, ValueError):
        file.close()  # already failing: keep the first, clearer error


def _fsync(file: IO[bytes]) -> None:
    """Push the file to the disk once at the end (a recording is worth one fsync)."""
    try:
        fd = file.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not backed by a file descriptor (tests, in-memory objects)
    try:
        os.fsync(fd)
    except OSError as err:
        if err.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise  # EIO and friends mean the data did not reach the disk


__all__ = ["SENSOR_CLOCK_JUMP_S", "RecordingWriter", "describe_os_error"]
