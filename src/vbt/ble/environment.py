"""`virtual_environment`: start N virtual sensors on one virtual air; what ``--virtual`` and tests use.

    async with virtual_environment("witmotion", clock=clock) as env:
        found = await scan(2.0, backend=env.scanner_backend, clock=clock)
        source = BleSource(found[0], client_backend=env.client_backend, clock=clock, ...)

Each sensor is a `VirtualSensorSpec` (or just a protocol name, which gets the default feed).
The environment yields the bleak backend classes bound to its air, the peripherals (to inject
faults or inspect what they sent) and the air itself (e.g. ``env.air.remove_adapter()``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from firmware_protocols import SensorProtocol, get_protocol
from vbt.ble.air import VirtualAir
from vbt.ble.faults import FaultPlan, RadioModel
from vbt.ble.feeds import AnalyticRepsFeed, SampleFeed
from vbt.ble.peripheral import VirtualSensorPeripheral
from vbt.clock import Clock, MonotonicClock


@dataclass
class VirtualSensorSpec:
    """One virtual sensor to start.

    Attributes:
        protocol: Protocol class or registry name.
        feed: What it measures; None uses ``default_feed`` of `virtual_environment`.
        name: Advertised name (None: the protocol's default, made unique per environment).
        radio, faults: Link timing and faults (see `vbt.ble.faults`).
        rssi_dbm: Mean RSSI.
        clock_error: Sample-clock error (-0.01 = 1 % slow).
        battery_pct: Battery level it reports (None: the protocol's virtual default).
    """

    protocol: str | type[SensorProtocol]
    feed: SampleFeed | None = None
    name: str | None = None
    radio: RadioModel = field(default_factory=RadioModel)
    faults: FaultPlan = field(default_factory=FaultPlan)
    rssi_dbm: float = -58.0
    clock_error: float = 0.0
    battery_pct: float | None = None


@dataclass
class VirtualEnvironment:
    """What `virtual_environment` yields.

    Attributes:
        air: The virtual radio.
        peripherals: The running virtual sensors, in the order given.
    """

    air: VirtualAir
    peripherals: list[VirtualSensorPeripheral]

    @property
    def clock(self) -> Clock:
        return self.air.clock

    @property
    def scanner_backend(self) -> type:
        """bleak scanner backend class bound to this air."""
        return self.air.scanner_backend

    @property
    def client_backend(self) -> type:
        """bleak client backend class bound to this air."""
        return self.air.client_backend

    def peripheral(self, key: int | str) -> VirtualSensorPeripheral:
        """A sensor by position, name or address."""
        if isinstance(key, int):
            return self.peripherals[key]
        for p in self.peripherals:
            if key in (p.name, p.address) or key.upper() == p.address:
                return p
        raise KeyError(f"no virtual sensor {key!r}; have {[p.name for p in self.peripherals]}")


def _unique_name(protocol: type[SensorProtocol], wanted: str | None, taken: set[str]) -> str | None:
    """The protocol's default name, suffixed with a number if another sensor already has it."""
    if wanted is not None:
        return wanted
    base = protocol.virtual_device(None).name
    if base not in taken:
        return None
    for i in range(2, 100):
        candidate = f"{base}{i}"
        if candidate not in taken and protocol.matches(candidate):
            return candidate
    return None  # duplicate names are legal; addresses still differ


@asynccontextmanager
async def virtual_environment(
    *sensors: VirtualSensorSpec | str,
    clock: Clock | None = None,
    default_feed: Callable[[type[SensorProtocol]], SampleFeed] | None = None,
    seed: int = 0,
    quiet: bool = True,
) -> AsyncIterator[VirtualEnvironment]:
    """Start virtual sensors on a fresh `VirtualAir`; stop them all on exit.

    Args:
        *sensors: Specs, or protocol names for sensors with the default feed.
        clock: Clock pacing the sensors (`MonotonicClock` if None).
        default_feed: Makes the feed for specs without one (default: `AnalyticRepsFeed`).
        seed: Seed of the air's RSSI model.
        quiet: Silence bumble's own warnings (its controller logs every unsupported HCI
            command) unless debug logging is on.

    Yields:
        The `VirtualEnvironment`.
    """
    bumble_logger = logging.getLogger("bumble")
    old_level = bumble_logger.level
    if quiet and not logging.getLogger().isEnabledFor(logging.DEBUG):
        bumble_logger.setLevel(logging.ERROR)
    air = VirtualAir(clock if clock is not None else MonotonicClock(), seed=seed)
    peripherals: list[VirtualSensorPeripheral] = []
    taken: set[str] = set()
    make_feed = default_feed or (lambda protocol: AnalyticRepsFeed())
    try:
        for item in sensors:
            spec = VirtualSensorSpec(item) if isinstance(item, str) else item
            protocol = get_protocol(spec.protocol) if isinstance(spec.protocol, str) else spec.protocol
            peripheral = VirtualSensorPeripheral(
                air,
                protocol,
                spec.feed if spec.feed is not None else make_feed(protocol),
                name=_unique_name(protocol, spec.name, taken),
                radio=spec.radio,
                faults=spec.faults,
                rssi_dbm=spec.rssi_dbm,
                clock_error=spec.clock_error,
                battery_pct=spec.battery_pct,
            )
            taken.add(peripheral.name)
            await peripheral.start()
            peripherals.append(peripheral)
        yield VirtualEnvironment(air, peripherals)
    finally:
        errors: list[BaseException] = []
        for peripheral in peripherals:
            try:
                await peripheral.stop()
            except Exception as err:  # noqa: BLE001 - stop the others, then report
                errors.append(err)
        bumble_logger.setLevel(old_level)
        if errors:
            raise errors[0]


def describe(env: VirtualEnvironment) -> list[dict[str, Any]]:
    """One dict per sensor (name, address, protocol) for logs and ``vbt scan --virtual`` output."""
    return [{"name": p.name, "address": p.address, "protocol": p.protocol.name} for p in env.peripherals]




def parse_virtual_names(values: list[str] | None) -> list[str]:
    """``--virtual`` values (repeatable, comma-separated) -> protocol registry names.

    A name may be a registry name (``polar_verity_sense``) or the start of one; a family prefix
    shared by several protocols picks the first registered (``polar`` -> ``polar_h10``).

    Raises:
        UnsupportedSensorError: a name no protocol has (lists the known ones).
    """
    from firmware_protocols import PROTOCOLS
    from vbt.errors import UnsupportedSensorError

    names: list[str] = []
    for value in values or []:
        for part in value.split(","):
            name = part.strip().lower().replace("-", "_")
            if not name:
                continue
            if name in PROTOCOLS:
                names.append(name)
                continue
            matches = [key for key in PROTOCOLS if key.startswith(name)]
            if not matches:
                raise UnsupportedSensorError(part.strip(), PROTOCOLS)
            names.append(matches[0])
    return names


def virtual_specs(
    names: list[str],
    *,
    seed: int = 0,
    faults: str = "none",
    feed_factory: Callable[[type[SensorProtocol], int], SampleFeed] | None = None,
) -> list[VirtualSensorSpec]:
    """Specs for ``--virtual`` sensors: one per name, each with its own seeded feed and faults.

    Args:
        names: Protocol names (see `parse_virtual_names`).
        seed: Base seed; sensor ``i`` uses ``seed + i`` for its feed and faults.
        faults: A `FaultPlan.preset` name (``none``, ``typical``, ``harsh``).
        feed_factory: ``(protocol, seed) -> SampleFeed``; default `default_virtual_feed`. A
            feed with a ``clock_drift`` attribute (`SimulatedFeed`) sets the sensor's clock error.
    """
    make = feed_factory or default_virtual_feed
    specs = []
    for i, name in enumerate(names):
        protocol = get_protocol(name)
        feed = make(protocol, seed + i)
        specs.append(VirtualSensorSpec(
            protocol,
            feed=feed,
            radio=FaultPlan.radio_preset(faults),
            faults=FaultPlan.preset(faults, seed=seed + i, duration_s=feed.duration_s),
            # sensors further from the adapter: a few dB apart, like a rack row
            rssi_dbm=-55.0 - 6.0 * i,
            # sample on the simulated sensor's own (drifting) clock grid
            clock_error=-float(getattr(feed, "clock_drift", 0.0)),
        ))
    return specs


def default_virtual_feed(protocol: type[SensorProtocol], seed: int) -> SampleFeed:
    """A cheap feed for virtual sensors whose readings nobody analyses (``vbt scan --virtual``).

    Recording and the dashboard use `SimulatedFeed` instead (a realistic simulated set).
    """
    return AnalyticRepsFeed(reps=5 + seed % 3)


__all__ = [
    "VirtualEnvironment",
    "VirtualSensorSpec",
    "default_virtual_feed",
    "describe",
    "parse_virtual_names",
    "virtual_environment",
    "virtual_specs",
]
