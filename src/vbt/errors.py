"""The `VbtError` tree: every failure a user can meet, with the offending value and what to do.

Rules (see ../shared/reference/style.md, "Errors"):

* Every subclass carries the offending values as attributes, so callers and tests can act on
  them without parsing text.
* ``str(err)`` is one line a lifter or coach can act on: what is wrong, with the value, and what
  to do. The CLI prints exactly that line (a traceback only with ``--debug``).
* Chain with ``raise ... from err`` when wrapping a lower-level exception.
* Bytes from the air never raise: decoders count problems instead (``firmware_protocols``
  has its own ``ProtocolError`` for strict mode, since it imports nothing of ours).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


class VbtError(Exception):
    """Base of every error `vbt` raises on purpose.

    Args:
        message: One line: what is wrong (naming the value) and what to do about it.
    """

    #: Process exit status the CLI uses for this kind of error.
    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


# --------------------------------------------------------------------------- usage and input


class UsageError(VbtError):
    """A command-line option or argument has a value we cannot use.

    Args:
        option: The option or argument, e.g. ``"--rate"``.
        value: What the user gave.
        hint: What to give instead.
    """

    exit_code = 2

    def __init__(self, option: str, value: object, hint: str) -> None:
        super().__init__(f"{option} {value!r} is not usable: {hint}")
        self.option = option
        self.value = value
        self.hint = hint


class UnknownExerciseError(UsageError):
    """An exercise name that is not in the catalogue."""

    def __init__(self, name: str, known: Iterable[str]) -> None:
        self.known = tuple(sorted(known))
        super().__init__("--exercise", name, "use one of: " + ", ".join(self.known))
        self.name = name


class InputFileError(VbtError):
    """A file given to a command cannot be used (missing, a directory, empty, unreadable).

    Args:
        path: The file.
        problem: What is wrong with it, e.g. ``"does not exist"``.
        hint: What to do.
    """

    def __init__(self, path: str | Path, problem: str, hint: str = "") -> None:
        text = f"{path}: {problem}"
        if hint:
            text += f"; {hint}"
        super().__init__(text)
        self.path = Path(path)
        self.problem = problem
        self.hint = hint


class RecordingFormatError(InputFileError):
    """A recording file is damaged or not a recording (anything but a truncated last line).

    Args:
        path: The recording.
        line: 1-based line number of the damage (0 when the whole file is at fault).
        reason: What is wrong on that line.
        hint: What to do (default `DAMAGED_HINT`).
    """

    #: What to do about damage (subclasses for undamaged files say something else).
    DAMAGED_HINT = "the recording is damaged; re-record or repair that line"

    def __init__(self, path: str | Path, line: int, reason: str, hint: str | None = None) -> None:
        where = f"line {line}: " if line else ""
        super().__init__(path, f"{where}{reason}", self.DAMAGED_HINT if hint is None else hint)
        self.line = line
        self.reason = reason


class UnsupportedFormatVersionError(RecordingFormatError):
    """A recording written by a newer (or unknown) version of the format (not damaged)."""

    def __init__(self, path: str | Path, version: object, supported: Iterable[int]) -> None:
        self.version = version
        self.supported = tuple(supported)
        super().__init__(
            path,
            1,
            f"format version {version!r} is not supported (this vbt reads {list(self.supported)})",
            hint="upgrade vbt-monitor",
        )


class CsvImportError(InputFileError):
    """A CSV file that cannot be imported as IMU samples.

    Args:
        path: The CSV file.
        line: 1-based line number (1 is the header row; 0 when not about one line).
        reason: What is wrong, naming the column or cell.
        hint: What to do (default `FORMAT_HINT`, the expected layout).
    """

    #: The default hint: what a CSV must look like.
    FORMAT_HINT = "expected a header row with t (s), ax, ay, az (g) and optional gx, gy, gz (deg/s)"

    def __init__(self, path: str | Path, line: int, reason: str, hint: str | None = None) -> None:
        where = f"line {line}: " if line else ""
        super().__init__(path, f"{where}{reason}", self.FORMAT_HINT if hint is None else hint)
        self.line = line
        self.reason = reason


# --------------------------------------------------------------------------- storage


class RecordingWriteError(VbtError):
    """Writing a recording failed (disk full, read-only, removed); what was written stays readable."""

    def __init__(self, path: str | Path, reason: str) -> None:
        super().__init__(
            f"recording to {path} stopped: {reason}; everything written so far is kept and readable"
        )
        self.path = Path(path)
        self.reason = reason


class OutputFileError(VbtError):
    """An output file (not a live recording) could not be written; nothing usable was left behind.

    Args:
        path: The file.
        reason: Why, e.g. ``"the disk is full (ENOSPC)"``.
        hint: What to do.
    """

    def __init__(self, path: str | Path, reason: str, hint: str = "") -> None:
        text = f"cannot write {path}: {reason}"
        if hint:
            text += f"; {hint}"
        super().__init__(text)
        self.path = Path(path)
        self.reason = reason
        self.hint = hint


class HistoryDbError(VbtError):
    """The athlete-history database cannot be used."""

    def __init__(self, path: str | Path, reason: str, hint: str = "") -> None:
        text = f"history database {path}: {reason}"
        if hint:
            text += f"; {hint}"
        super().__init__(text)
        self.path = Path(path)
        self.reason = reason


class SchemaTooNewError(HistoryDbError):
    """The database was written by a newer vbt (its schema version is above ours)."""

    def __init__(self, path: str | Path, found: int, supported: int) -> None:
        super().__init__(
            path,
            f"schema version {found} is newer than this vbt supports ({supported})",
            "upgrade vbt-monitor, or pass --db to use another database",
        )
        self.found = found
        self.supported = supported


class DatabaseLockedError(HistoryDbError):
    """Another process holds the database lock for longer than we wait."""

    def __init__(self, path: str | Path, waited_s: float) -> None:
        super().__init__(
            path,
            f"locked by another process (waited {waited_s:.1f} s)",
            "close the other vbt window or pass --db to use another database",
        )
        self.waited_s = waited_s


# --------------------------------------------------------------------------- sensors and Bluetooth


class SensorError(VbtError):
    """Base for problems talking to a sensor."""


class BluetoothUnavailableError(SensorError):
    """No adapter, Bluetooth switched off, or no permission to use it."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"Bluetooth is not available: {reason}; switch Bluetooth on or plug in an adapter "
            "(or try `--virtual witmotion` to use a simulated sensor)"
        )
        self.reason = reason


class SensorNotFoundError(SensorError):
    """No advertising sensor matched what the user asked for."""

    def __init__(self, identifier: str, timeout_s: float, hint: str = "") -> None:
        text = f"sensor {identifier!r} not found within {timeout_s:.0f} s: is it awake and in range?"
        if hint:
            text += f" {hint}"
        super().__init__(text)
        self.identifier = identifier
        self.timeout_s = timeout_s


class UnsupportedSensorError(SensorError):
    """A device or sensor name that no protocol in `firmware_protocols` handles."""

    def __init__(self, name: str, known: Iterable[str]) -> None:
        self.known = tuple(sorted(known))
        super().__init__(f"sensor {name!r} is not supported; supported: {', '.join(self.known)}")
        self.name = name


class SensorConnectionError(SensorError):
    """Connecting, configuring or streaming failed, and retrying did not help."""

    def __init__(self, identifier: str, reason: str, hint: str = "") -> None:
        text = f"sensor {identifier}: {reason}"
        if hint:
            text += f"; {hint}"
        super().__init__(text)
        self.identifier = identifier
        self.reason = reason


class SensorLostError(SensorConnectionError):
    """The link dropped and the sensor did not come back within the reconnect budget."""

    def __init__(self, identifier: str, gave_up_after_s: float) -> None:
        super().__init__(
            identifier,
            f"link lost and not back after {gave_up_after_s:.0f} s of retries",
            "check the sensor's battery and distance; the recording so far is complete",
        )
        self.gave_up_after_s = gave_up_after_s


__all__ = [
    "BluetoothUnavailableError",
    "CsvImportError",
    "DatabaseLockedError",
    "HistoryDbError",
    "InputFileError",
    "OutputFileError",
    "RecordingFormatError",
    "RecordingWriteError",
    "SchemaTooNewError",
    "SensorConnectionError",
    "SensorError",
    "SensorLostError",
    "SensorNotFoundError",
    "UnknownExerciseError",
    "UnsupportedFormatVersionError",
    "UnsupportedSensorError",
    "UsageError",
    "VbtError",
]
