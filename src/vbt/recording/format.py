"""The vbt recording format, version 1: JSON Lines (optionally gzip), self-describing.

Line 1 is the header object (`RecordingHeader`). Every following line is one body record:

* ``[t, "uuid", "hex"]`` -- a raw BLE notification (``body: "packets"``): host receive time in
  seconds since ``started_at``, the characteristic UUID, the value bytes as lower-case hex;
* ``[t, ax, ay, az]`` or ``[t, ax, ay, az, gx, gy, gz]`` -- one decoded sample
  (``body: "samples"``): sensor time in seconds since the start, specific force in m/s^2,
  angular rate in rad/s;
* ``{"event": kind, "t": t, ...}`` -- a link or session event (disconnect, reconnect,
  configuration, status, user marker), allowed in either body kind.

The full specification, with examples, is in README.md ("Recording format"); the reader and
writer live in `vbt.recording.reader` / `vbt.recording.writer`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

FORMAT_NAME = "vbt-recording"
FORMAT_VERSION = 1
SUPPORTED_FORMAT_VERSIONS = (1,)
BODY_PACKETS = "packets"
BODY_SAMPLES = "samples"


@dataclass(slots=True)
class RecordingHeader:
    """First line of every recording; makes the file self-describing.

    Attributes:
        body: ``"packets"`` (raw notifications; replay runs the decoder) or ``"samples"``.
        sensor: Protocol registry name (``"witmotion"``), or ``"imported"`` for CSV imports.
        sensor_model: Human model name / advertised name (``"WT901BLE68"``).
        decoder: ``{"name": ..., "version": ...}`` of the decoder that reads the body.
        stream: ``StreamConfig.to_dict()``: nominal rate, ranges, protocol options.
        rate_hz: Nominal sample rate (Hz).
        app_version: vbt-monitor version that wrote the file.
        exercise, load_kg, athlete, notes: What was lifted, by whom (may be empty).
        started_at: ISO-8601 UTC wall time of t = 0.
        synthetic: True for simulator output (the bundled demos are all synthetic).
        extra: Anything else worth keeping (simulator seed and command, sensor address...).
    """

    body: str
    sensor: str
    sensor_model: str = ""
    decoder: dict[str, str] = field(default_factory=dict)
    stream: dict[str, Any] = field(default_factory=dict)
    rate_hz: float | None = None
    app_version: str = ""
    exercise: str | None = None
    load_kg: float | None = None
    athlete: str | None = None
    started_at: str = ""
    notes: str = ""
    synthetic: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    format: str = FORMAT_NAME
    format_version: int = FORMAT_VERSION

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        # format identification first, for people reading the file with `head`
        return {"format": d.pop("format"), "format_version": d.pop("format_version"), **d}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RecordingHeader:
        """Build from a parsed header line; unknown keys go to ``extra`` (forward compatible)."""
        known = {f for f in cls.__dataclass_fields__}
        kwargs = {k: v for k, v in data.items() if k in known}
        unknown = {k: v for k, v in data.items() if k not in known}
        header = cls(**kwargs)
        if unknown:
            header.extra = {**header.extra, **unknown}
        return header


__all__ = [
    "BODY_PACKETS",
    "BODY_SAMPLES",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "SUPPORTED_FORMAT_VERSIONS",
    "RecordingHeader",
]
