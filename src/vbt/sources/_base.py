"""The one contract every source of sensor data implements: live BLE, replay and simulation.

A `Source` is an async context manager and an async iterator of `SourceItem`:

* `RawPacket` -- one BLE notification exactly as received (host time, characteristic, bytes);
  the `vbt.session.Session` runs it through the sensor's decoder;
* `ImuBatch` -- already-decoded samples, for recordings imported from elsewhere (CSV);
* `LinkEvent` -- what happened to the link (disconnected, reconnected, configuration, markers),
  so recordings and the pipeline can treat gaps honestly.

``source.header`` describes the stream (sensor, decoder, configuration, lift metadata) and is
what a recording made from this source starts with.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

from firmware_protocols import ImuBatch
from vbt.recording.format import RecordingHeader


@dataclass(frozen=True, slots=True)
class RawPacket:
    """One notification as received: host time (s), characteristic UUID, value bytes."""

    host_time_s: float
    char_uuid: str
    payload: bytes


#: `LinkEvent.kind` values.
LINK_CONNECTED = "connected"
LINK_DISCONNECTED = "disconnected"
LINK_RECONNECTED = "reconnected"
LINK_LOST = "lost"  # gave up reconnecting; the stream ends
LINK_CONFIG = "config"  # stream configuration (re)applied; detail holds StreamConfig.to_dict()
LINK_STATUS = "status"  # periodic link health: rssi_dbm, battery_pct, measured rate...
LINK_MARKER = "marker"  # user marker: set start/end override, note
LINK_KINDS = (LINK_CONNECTED, LINK_DISCONNECTED, LINK_RECONNECTED, LINK_LOST, LINK_CONFIG, LINK_STATUS, LINK_MARKER)


@dataclass(frozen=True, slots=True)
class LinkEvent:
    """Something that happened to the link or the session at ``host_time_s``."""

    host_time_s: float
    kind: str
    detail: Mapping[str, object] = field(default_factory=dict)


SourceItem = RawPacket | ImuBatch | LinkEvent


class Source(ABC):
    """Async source of `SourceItem`; use ``async with source: async for item in source: ...``."""

    #: Describes the stream; sources fill it in `open` at the latest.
    header: RecordingHeader

    async def open(self) -> None:  # noqa: B027 - optional hook
        """Connect / open files. Called by ``__aenter__``."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release everything; safe to call twice. Called by ``__aexit__``."""

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @abstractmethod
    def __aiter__(self) -> AsyncIterator[SourceItem]:
        """Yield items in arrival order until the stream ends."""


__all__ = [
    "LINK_CONFIG",
    "LINK_CONNECTED",
    "LINK_DISCONNECTED",
    "LINK_KINDS",
    "LINK_LOST",
    "LINK_MARKER",
    "LINK_RECONNECTED",
    "LINK_STATUS",
    "LinkEvent",
    "RawPacket",
    "Source",
    "SourceItem",
]
