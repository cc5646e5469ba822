"""Sources of sensor data (live BLE, replayed recordings, simulated sensors): one contract, `Source`."""

from vbt.sources._base import (
    LINK_CONFIG,
    LINK_CONNECTED,
    LINK_DISCONNECTED,
    LINK_KINDS,
    LINK_LOST,
    LINK_MARKER,
    LINK_RECONNECTED,
    LINK_STATUS,
    LinkEvent,
    RawPacket,
    Source,
    SourceItem,
)

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
