"""Generic CSV import: IMU samples from any logger, for `vbt analyze FILE.csv` and `vbt import`.

The format (docs/recording.md, "CSV import"):

* a header row naming the columns; names are matched case-insensitively, surrounding spaces and
  quotes and a trailing unit annotation are ignored (``T``, ``" ax "``, ``ax (g)``, ``gx[dps]``);
* ``t``: time in seconds on any origin. Irregular spacing, gaps and *repeated* timestamps (the
  samples of one BLE notification stamped with its arrival time) are all normal;
* ``ax, ay, az``: specific force in g (``--acc-unit g``, the default) or m/s^2 (``mps2``); at
  rest the vector points up with magnitude 1 g, which is what every accelerometer reports;
* ``gx, gy, gz`` (optional, all three or none): angular rate in deg/s (``--gyro-unit dps``, the
  default) or rad/s (``rads``);
* other columns are ignored (listed in the warnings). Delimiter ``,``, ``;`` or tab (detected
  from the header row; whitespace-separated columns work too), optional UTF-8 BOM, ``#`` comment
  lines before the header, ``.csv.gz`` files, and decimal commas in ``;``/tab files.

Anything that cannot be imported raises `vbt.errors.CsvImportError` naming the line, the column
and the cell: missing columns, partial gyro columns, empty, non-numeric, NaN or infinite cells,
rows with too few or too many cells, time running backwards, a file that is not text, and
units that cannot be right: a median |a| of ~9.8 read as g, ~1 read as m/s^2, or angular rates
beyond any gyro's full scale read as rad/s (no barbell does that; the analysis would be
nonsense), each naming the option to pass. Units that only *look* doubtful (rates that may be
rad/s read as deg/s, too few samples to be sure), a very low sample rate (``t`` in
milliseconds?) and accelerations without gravity are warned about.

Times are kept on the file's own axis (the pipeline reports rep times on it), and samples are
grouped into `ImuBatch`es by `vbt.recording.reader.samples_to_batches`, the same rule the
recording reader uses, so a CSV and the recording `vbt import` makes from it analyse identically.
"""

from __future__ import annotations

import csv
import gzip
import math
import re
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from firmware_protocols import STANDARD_GRAVITY_MPS2, ImuBatch
from vbt.errors import CsvImportError, InputFileError
from vbt.recording.format import BODY_SAMPLES, RecordingHeader
from vbt.recording.reader import Recording, samples_to_batches

ACC_UNITS = {"g": STANDARD_GRAVITY_MPS2, "mps2": 1.0}
GYRO_UNITS = {"dps": math.pi / 180.0, "rads": 1.0}
REQUIRED = ("t", "ax", "ay", "az")
GYRO = ("gx", "gy", "gz")

_DELIMITERS = (",", ";", "\t")
_NAME_RE = re.compile(r"^\s*[\"']?\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:[\(\[][^\)\]]*[\)\]])?\s*[\"']?\s*$")
#: A gap in t longer than this many typical steps is not counted when estimating the rate.
_GAP_STEPS = 10.0
#: Wrong units are an error only with at least this many samples (1 s at 100 Hz): fewer could
#: all fall in a moment of hard acceleration, so they only warn.
_UNIT_EVIDENCE_SAMPLES = 100
#: What to do about one bad row (the analysis cannot guess a sample).
_ROW_HINT = "fix or delete that row"
#: Share of non-text bytes (control or invalid UTF-8) above which a file is binary, not a CSV.
_BINARY_SHARE = 0.3


@dataclass(frozen=True)
class ImportedSamples:
    """IMU samples read from a CSV file, in SI units.

    Attributes:
        path: The CSV file.
        t_s: ``(n,)`` sample times in seconds, on the file's own time axis (non-decreasing).
        accel_mps2: ``(n, 3)`` specific force, m/s^2.
        gyro_rads: ``(n, 3)`` angular rate, rad/s, or None without gyro columns.
        warnings: Things worth telling the user (ignored columns, suspicious units...).
        rate_hz: Sample rate estimated from ``t`` (gaps excluded), or None if it cannot be.
        acc_unit, gyro_unit: The units the file was read with.
        ignored_columns: Header names that were not used.
    """

    path: Path
    t_s: np.ndarray
    accel_mps2: np.ndarray
    gyro_rads: np.ndarray | None
    warnings: list[str] = field(default_factory=list)
    rate_hz: float | None = None
    acc_unit: str = "g"
    gyro_unit: str = "dps"
    ignored_columns: tuple[str, ...] = ()

    def __len__(self) -> int:
        return int(self.t_s.shape[0])

    @property
    def has_gyro(self) -> bool:
        return self.gyro_rads is not None

    @property
    def duration_s(self) -> float:
        """Time from the first to the last sample."""
        return float(self.t_s[-1] - self.t_s[0]) if len(self) else 0.0

    @property
    def batched_timestamps(self) -> bool:
        """True when some samples share a timestamp (per-notification arrival times)."""
        return bool(len(self) > 1 and np.any(np.diff(self.t_s) == 0))

    def batches(self) -> list[ImuBatch]:
        """The samples as `ImuBatch`es, grouped exactly as a samples recording is read."""
        return samples_to_batches(self.t_s, self.accel_mps2, self.gyro_rads, self.rate_hz)

    def recording_header(
        self,
        *,
        exercise: str | None = None,
        load_kg: float | None = None,
        athlete: str | None = None,
        notes: str = "",
    ) -> RecordingHeader:
        """A samples-body header describing this import (sensor ``"imported"``).

        ``started_at`` (wall time of t = 0) is estimated as the file's modification time minus
        its last ``t``, assuming the logger wrote the last sample last; ``extra`` says so.
        """
        try:
            mtime = self.path.stat().st_mtime
            started = datetime.fromtimestamp(mtime - float(self.t_s[-1]), UTC)
            started_at = started.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        except (OSError, OverflowError, ValueError, IndexError):
            started_at = ""
        return RecordingHeader(
            body=BODY_SAMPLES,
            sensor="imported",
            sensor_model="",
            rate_hz=self.rate_hz,
            exercise=exercise,
            load_kg=load_kg,
            athlete=athlete,
            started_at=started_at,
            notes=notes,
            extra={
                "source_file": self.path.name,
                "acc_unit": self.acc_unit,
                "gyro_unit": self.gyro_unit if self.has_gyro else None,
                "rate_estimated": True,
                "started_at_estimated_from": "csv file modification time minus its last t",
            },
        )

    def to_recording(self, **meta: object) -> Recording:
        """An in-memory recording of these samples (for replay); ``meta`` as in `recording_header`."""
        return Recording.from_samples(self.recording_header(**meta), self.t_s, self.accel_mps2,  # type: ignore[arg-type]
                                      self.gyro_rads, path=self.path, warnings=self.warnings)


def read_csv_samples(path: str | Path, acc_unit: str = "g", gyro_unit: str = "dps") -> ImportedSamples:
    """Read a generic IMU CSV file (see the module docstring for the format).

    Args:
        path: The CSV file (``.csv`` or ``.csv.gz``).
        acc_unit: ``"g"`` or ``"mps2"``: unit of ``ax, ay, az``.
        gyro_unit: ``"dps"`` or ``"rads"``: unit of ``gx, gy, gz``.

    Returns:
        The samples in SI units, with warnings.

    Raises:
        InputFileError: Missing, a directory, empty or unreadable.
        CsvImportError: Anything wrong with the content (names the line and cell).
        ValueError: An unknown unit name (a programming error: the CLI restricts the choices).
    """
    if acc_unit not in ACC_UNITS:
        raise ValueError(f"acc_unit {acc_unit!r} is not one of {sorted(ACC_UNITS)}")
    if gyro_unit not in GYRO_UNITS:
        raise ValueError(f"gyro_unit {gyro_unit!r} is not one of {sorted(GYRO_UNITS)}")
    path = Path(path)
    text = _read_text(path)
    return _Parser(path, text, acc_unit, gyro_unit).parse()


def csv_to_batches(
    source: str | Path | ImportedSamples, acc_unit: str = "g", gyro_unit: str = "dps"
) -> list[ImuBatch]:
    """`ImuBatch`es from a CSV file (or from already imported samples), ready for the pipeline."""
    samples = source if isinstance(source, ImportedSamples) else read_csv_samples(source, acc_unit, gyro_unit)
    return samples.batches()


def estimate_rate_hz(t_s: np.ndarray) -> float | None:
    """Sample rate from sample times, robust to gaps and to batched (repeated) timestamps.

    Within each gap-free stretch, rate = (samples - samples sharing the stretch's first
    timestamp) / (last time - first time): exact for regular data and for notifications of k
    samples stamped on arrival. Steps longer than 10 typical steps are gaps.
    """
    t = np.asarray(t_s, dtype=np.float64)
    if t.size < 2:
        return None
    dt = np.diff(t)
    positive = dt[dt > 0]
    if positive.size == 0:
        return None
    gap = dt > _GAP_STEPS * float(np.median(positive))
    seg_starts = np.concatenate(([0], np.flatnonzero(gap) + 1))
    seg_ends = np.concatenate((np.flatnonzero(gap) + 1, [t.size]))
    samples = 0
    duration = 0.0
    for a, b in zip(seg_starts.tolist(), seg_ends.tolist(), strict=True):
        span = float(t[b - 1] - t[a])
        if span <= 0:
            continue
        first_run = int(np.searchsorted(t[a:b], t[a], side="right"))
        samples += (b - a) - first_run
        duration += span
    if duration <= 0 or samples <= 0:
        return None
    return round(samples / duration, 2)


# --------------------------------------------------------------------------- file access


def _read_text(path: Path) -> str:
    if not path.exists():
        raise InputFileError(path, "does not exist", "check the CSV path")
    if path.is_dir():
        raise InputFileError(path, "is a directory", "give a CSV file inside it")
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise InputFileError(path, f"cannot be read ({err.strerror or err})", "check its permissions") from err
    if not raw:
        raise InputFileError(path, "is empty", "give a CSV file with a header row and samples")
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as err:
            raise CsvImportError(path, 0, f"is gzip-compressed but damaged ({err})") from None
    head = raw[:4096]
    if b"\x00" in head or _control_share(head) > 0.1:
        where = head.find(b"\x00")
        detail = f" (zero byte at offset {where})" if where >= 0 else ""
        raise CsvImportError(path, 0, f"is not a text file{detail}", "give a CSV text file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        # A binary file without zero bytes early on: mostly bytes no text encoding produces.
        if _control_share(head) + _invalid_utf8_share(head) > _BINARY_SHARE:
            raise CsvImportError(path, 0, "is not a text file (mostly non-text bytes)", "give a CSV text file") from None
        # Excel on Windows writes cp1252; the numbers and column names are ASCII either way
        text = raw.decode("cp1252", errors="replace")
    text = text.lstrip("\ufeff")
    if text.lstrip().startswith("{") and '"vbt-recording"' in text[:2000]:
        raise CsvImportError(path, 1, "is a vbt recording, not a CSV file",
                             "give it to vbt analyze or vbt replay directly")
    return text


def _control_share(data: bytes) -> float:
    if not data:
        return 0.0
    control = sum(1 for b in data if b < 32 and b not in (9, 10, 13))
    return control / len(data)


def _invalid_utf8_share(data: bytes) -> float:
    """Share of ``data`` that is not valid UTF-8 (cp1252 text has a few such bytes, binary many)."""
    if not data:
        return 0.0
    decoded = data.decode("utf-8", errors="replace")
    return decoded.count("\ufffd") / len(data)


def _normalise(name: str) -> str:
    m = _NAME_RE.match(name)
    return m.group(1).lower() if m else name.strip().strip("\"'").strip().lower()


# --------------------------------------------------------------------------- parsing


class _Parser:
    def __init__(self, path: Path, text: str, acc_unit: str, gyro_unit: str) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.acc_unit = acc_unit
        self.gyro_unit = gyro_unit
        self.warnings: list[str] = []

    def fail(self, line: int, reason: str, hint: str | None = None) -> None:
        raise CsvImportError(self.path, line, reason, hint)

    def parse(self) -> ImportedSamples:
        header_idx = self._find_header()
        names, delimiter = self._columns(header_idx)
        cols = {n: i for i, n in enumerate(names) if n}
        has_gyro = self._gyro_present(cols, header_idx)
        wanted = list(REQUIRED) + (list(GYRO) if has_gyro else [])
        ignored = tuple(raw for raw, n in zip(self._raw_names, names, strict=True) if n not in wanted and raw.strip())
        if ignored:
            self.warnings.append(f"ignored columns: {', '.join(ignored)}")
        rows, line_numbers = self._rows(header_idx, delimiter, len(names), max(cols[n] for n in wanted))
        if not rows:
            self.fail(header_idx + 1, "no data rows after the header")
        values = {name: self._column(name, cols[name], rows, line_numbers, delimiter) for name in wanted}
        t = values["t"]
        back = np.flatnonzero(np.diff(t) < 0)
        if back.size:
            k = int(back[0]) + 1
            self.fail(int(line_numbers[k]), f"time runs backwards: t = {float(t[k])!r} after {float(t[k - 1])!r}",
                      "rows must be in time order")
        acc_raw = np.column_stack([values["ax"], values["ay"], values["az"]])
        gyro_raw = np.column_stack([values["gx"], values["gy"], values["gz"]]) if has_gyro else None
        self._check_units(acc_raw, gyro_raw)
        rate = estimate_rate_hz(t)
        if rate is not None and rate < 5.0:
            self.warnings.append(f"sample rate looks like {rate:g} Hz: is t in milliseconds? t must be in seconds")
        if len(t) == 1:
            self.warnings.append("only one sample")
        return ImportedSamples(
            path=self.path,
            t_s=t,
            accel_mps2=acc_raw * ACC_UNITS[self.acc_unit],
            gyro_rads=None if gyro_raw is None else gyro_raw * GYRO_UNITS[self.gyro_unit],
            warnings=self.warnings,
            rate_hz=rate,
            acc_unit=self.acc_unit,
            gyro_unit=self.gyro_unit,
            ignored_columns=ignored,
        )

    # ------------------------------------------------------------ header

    def _find_header(self) -> int:
        for i, line in enumerate(self.lines):
            stripped = line.strip()
            if stripped and not stripped.startswith("#"):
                return i
        self.fail(0, "has no header row (only blank or # comment lines)")
        raise AssertionError("unreachable")  # pragma: no cover

    def _split(self, line: str, delimiter: str) -> list[str]:
        if delimiter == " ":
            return line.split()
        return next(csv.reader([line], delimiter=delimiter), [])

    def _columns(self, header_idx: int) -> tuple[list[str], str]:
        line = self.lines[header_idx]
        best: tuple[int, list[str], list[str], str] | None = None
        for delimiter in (*_DELIMITERS, " "):
            raw = self._split(line, delimiter)
            names = [_normalise(c) for c in raw]
            if all(r in names for r in REQUIRED):
                dupes = sorted({n for n in names if n and names.count(n) > 1})
                if dupes:
                    self.fail(header_idx + 1, f"column {dupes[0]!r} appears more than once in the header")
                self._raw_names = [c.strip() for c in raw]
                return names, delimiter
            found = sum(r in names for r in REQUIRED)
            if best is None or (found, len(names)) > (best[0], len(best[1])):
                best = (found, names, raw, delimiter)
        assert best is not None
        _, names, raw, _ = best
        missing = [r for r in REQUIRED if r not in names]
        shown = ", ".join(c.strip() for c in raw[:12]) + (", ..." if len(raw) > 12 else "")
        if all(_is_number(c) for c in raw if c.strip()):
            self.fail(header_idx + 1, f"the first row ({shown}) holds numbers, not column names; "
                      "add a header row naming t, ax, ay, az")
        self.fail(header_idx + 1, f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                  f"(header has: {shown})")
        raise AssertionError("unreachable")  # pragma: no cover

    def _gyro_present(self, cols: dict[str, int], header_idx: int) -> bool:
        present = [g for g in GYRO if g in cols]
        if present and len(present) < 3:
            missing = [g for g in GYRO if g not in cols]
            self.fail(header_idx + 1, f"has gyro column{'s' if len(present) > 1 else ''} {', '.join(present)} "
                      f"but not {', '.join(missing)}; give all of gx, gy, gz or none")
        return len(present) == 3

    # ------------------------------------------------------------ rows

    def _rows(self, header_idx: int, delimiter: str, width: int, needed: int) -> tuple[list[list[str]], np.ndarray]:
        body = self.lines[header_idx + 1:]
        if delimiter == " ":
            rows = [line.split() for line in body]
        else:
            rows = list(csv.reader(body, delimiter=delimiter))
        # blank lines and rows of empty cells (",,,," from spreadsheets) are skipped
        keep = [i for i, r in enumerate(rows) if any(c.strip() for c in r)]
        if len(keep) != len(rows):
            rows = [rows[i] for i in keep]
        line_numbers = np.asarray(keep, dtype=np.int64) + header_idx + 2
        lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
        bad = np.flatnonzero(lengths != width)
        for k in bad.tolist():
            row = rows[k]
            if len(row) > width:
                if any(c.strip() for c in row[width:]):
                    self.fail(int(line_numbers[k]), f"{len(row)} cells but the header has {width} columns", _ROW_HINT)
                rows[k] = row[:width]  # a trailing delimiter
            elif len(row) <= needed:
                self.fail(int(line_numbers[k]), f"only {len(row)} cells but the header has {width} columns", _ROW_HINT)
            else:
                rows[k] = row + [""] * (width - len(row))  # only unused trailing columns are missing
        return rows, line_numbers

    def _column(self, name: str, index: int, rows: list[list[str]], line_numbers: np.ndarray,
                delimiter: str) -> np.ndarray:
        cells = [r[index] for r in rows]
        try:
            values = np.array(cells, dtype=np.float64)
        except ValueError:
            values = self._column_slow(name, cells, line_numbers, delimiter)
        finite = np.isfinite(values)
        if not finite.all():
            k = int(np.flatnonzero(~finite)[0])
            self.fail(int(line_numbers[k]), f"column {name}: {cells[k].strip()!r} is not a finite number", _ROW_HINT)
        return values

    def _column_slow(self, name: str, cells: list[str], line_numbers: np.ndarray, delimiter: str) -> np.ndarray:
        out = np.empty(len(cells), dtype=np.float64)
        comma_note = False
        for k, cell in enumerate(cells):
            try:
                out[k] = float(cell)
                continue
            except ValueError:
                pass
            text = cell.strip()
            if delimiter != "," and text.count(",") == 1 and "." not in text:
                try:
                    out[k] = float(text.replace(",", "."))
                    comma_note = True
                    continue
                except ValueError:
                    pass
            line = int(line_numbers[k])
            if not text:
                self.fail(line, f"column {name} is empty", _ROW_HINT)
            if name == "t":
                self.fail(line, f"column t: {text[:40]!r} is not a number (t must be seconds)", _ROW_HINT)
            self.fail(line, f"column {name}: {text[:40]!r} is not a number", _ROW_HINT)
        if comma_note:
            note = "decimal commas read as decimal points"
            if note not in self.warnings:
                self.warnings.append(note)
        return out

    # ------------------------------------------------------------ units

    def _wrong_unit(self, reason: str, hint: str, enough: bool) -> None:
        """An impossible unit: an error with enough samples to be sure, else a warning."""
        if enough:
            raise CsvImportError(self.path, 0, reason, hint)
        self.warnings.append(f"{reason}; {hint}")

    def _check_units(self, acc: np.ndarray, gyro: np.ndarray | None) -> None:
        magnitude = np.linalg.norm(acc, axis=1)
        median = float(np.median(magnitude))
        enough = len(acc) >= _UNIT_EVIDENCE_SAMPLES
        if self.acc_unit == "g":
            if 6.0 <= median <= 14.0:
                # specific force averages 1 g: a median near 9.8 "g" is m/s^2 read as g
                self._wrong_unit(f"ax, ay, az look like m/s^2, not g (median |a| = {median:.2f})",
                                 "pass --acc-unit mps2", enough)
            elif median < 0.3:
                self.warnings.append(f"median |a| is {median:.3f} g: the file may hold linear acceleration without "
                                     "gravity, but vbt needs specific force (at rest |a| = 1 g)")
        else:
            if 0.6 <= median <= 1.4:
                self._wrong_unit(f"ax, ay, az look like g, not m/s^2 (median |a| = {median:.2f})",
                                 "pass --acc-unit g", enough)
            elif median < 3.0:
                self.warnings.append(f"median |a| is {median:.2f} m/s^2: the file may hold linear acceleration "
                                     "without gravity, but vbt needs specific force (at rest |a| = 9.81 m/s^2)")
        if gyro is None:
            return
        peak = float(np.percentile(np.linalg.norm(gyro, axis=1), 99))
        one_g = ACC_UNITS["g"] / ACC_UNITS[self.acc_unit]
        moving = float(np.percentile(np.abs(magnitude - one_g), 99)) > 0.1 * one_g
        if self.gyro_unit == "rads" and peak > 35.0:  # beyond any IMU's +/-2000 deg/s full scale
            self._wrong_unit(f"gx, gy, gz look like deg/s, not rad/s (|w| reaches {peak:.0f})",
                             "pass --gyro-unit dps", enough)
        elif self.gyro_unit == "dps" and moving and peak < 0.5:
            self.warnings.append(f"gx, gy, gz look like rad/s (|w| stays below {peak:.2f} while the bar moves); "
                                 "pass --gyro-unit rads")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


__all__ = [
    "ACC_UNITS",
    "GYRO",
    "GYRO_UNITS",
    "REQUIRED",
    "ImportedSamples",
    "csv_to_batches",
    "estimate_rate_hz",
    "read_csv_samples",
]
