"""firmware_protocols: bytes from commodity BLE IMUs in, timestamped SI-unit samples out (and back).

A pure package: standard library and NumPy only. It never imports ``vbt``, bleak, asyncio or
Qt, so it can be reused by any Python BLE stack. One module per sensor family; each module's
docstring is that sensor's wire specification with provenance.

Registry:
    ``PROTOCOLS`` maps a protocol name to its `SensorProtocol` class; `get_protocol` looks one
    up by name, `match_advertisement` finds the family of an advertising device.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._base import Decoder, Encoder, ProtocolError, SensorProtocol, VirtualDevice, normalize_uuid
from ._types import (
    STANDARD_GRAVITY_MPS2,
    DecoderStats,
    EncodedNotification,
    GattCharacteristic,
    GattService,
    ImuBatch,
    Notification,
    StreamConfig,
    Write,
    merge_batches,
)

#: Registry of supported sensor families: name -> protocol class. Filled below.
PROTOCOLS: dict[str, type[SensorProtocol]] = {}


def register(protocol: type[SensorProtocol]) -> type[SensorProtocol]:
    """Add a protocol class to `PROTOCOLS` (usable as a class decorator)."""
    PROTOCOLS[protocol.name] = protocol
    return protocol


def get_protocol(name: str) -> type[SensorProtocol]:
    """Look up a protocol by registry name (case-insensitive).

    Raises:
        KeyError: naming the unknown protocol and listing the known ones.
    """
    key = name.strip().lower()
    try:
        return PROTOCOLS[key]
    except KeyError:
        raise KeyError(f"unknown sensor protocol {name!r}; known: {', '.join(sorted(PROTOCOLS))}") from None


def match_advertisement(local_name: str | None, service_uuids: Sequence[str] = ()) -> type[SensorProtocol] | None:
    """The protocol whose advertisement rules match, or None if no supported sensor matches."""
    for protocol in PROTOCOLS.values():
        if protocol.matches(local_name, service_uuids):
            return protocol
    return None


__all__ = [
    "PROTOCOLS",
    "STANDARD_GRAVITY_MPS2",
    "Decoder",
    "DecoderStats",
    "EncodedNotification",
    "Encoder",
    "GattCharacteristic",
    "GattService",
    "ImuBatch",
    "Notification",
    "ProtocolError",
    "SensorProtocol",
    "StreamConfig",
    "VirtualDevice",
    "Write",
    "get_protocol",
    "match_advertisement",
    "merge_batches",
    "normalize_uuid",
    "register",
]


# Protocol modules register themselves here (imported last: they import the names above).
from . import metawear as _metawear  # noqa: E402
from . import movesense as _movesense  # noqa: E402
from . import polar_pmd as _polar_pmd  # noqa: E402
from . import thingy52 as _thingy52  # noqa: E402
from . import witmotion as _witmotion  # noqa: E402

register(_witmotion.WitMotion)
register(_polar_pmd.PolarH10)
register(_polar_pmd.PolarVeritySense)
register(_metawear.MetaWear)
register(_metawear.MetaWearFusion)
register(_movesense.Movesense)
register(_thingy52.Thingy52)
