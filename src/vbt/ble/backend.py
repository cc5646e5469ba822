"""In-process bleak backends over Google bumble: `BumbleScannerBackend` and `BumbleClientBackend`.

bleak lets a caller replace its OS backend with any `BaseBleakScanner` / `BaseBleakClient`
subclass through ``backend=`` (sensors.md §8). These two drive a bumble central on a
`VirtualAir`, so the *unchanged* bleak facade (and everything of ours built on it) scans,
connects, discovers, subscribes, reads and writes to virtual sensors through bumble's real
HCI/L2CAP/ATT/GATT code -- no adapter, no BlueZ, no sockets (sensors.md §11).

Use the subclasses bound to an air (``air.scanner_backend``, ``air.client_backend``); the bare
classes here have no air and refuse to start.

Behaviour matches bleak's BlueZ backend where it matters to callers:

* ``disconnected_callback`` fires on *every* disconnection, requested or not (bleak's BlueZ
  client does the same), after the link is torn down;
* a connect to a sensor that is not advertising waits for it, on the air's clock, up to the
  ``timeout`` given to `BleakClient`, then raises `TimeoutError`; an address no virtual sensor
  has raises `BleakDeviceNotFoundError`;
* with the virtual adapter removed, scans and connects raise `BleakBluetoothNotAvailableError`;
* ATT error responses become `BleakGATTProtocolError` with the ATT error code.

Extension beyond bleak's API: `BumbleClientBackend.get_rssi()` returns the link RSSI from the
air's model (bleak has no connected-RSSI call; `vbt.sources.ble` uses it when present).
"""

from __future__ import annotations

import asyncio
import logging
import uuid as _uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakDeviceNotFoundError,
    BleakError,
    BleakGATTProtocolError,
)

from vbt.ble.air import shielded

if TYPE_CHECKING:  # pragma: no cover - typing only
    from bumble.controller import Controller
    from bumble.device import Connection, Device, Peer

    from vbt.ble.air import VirtualAir

logger = logging.getLogger(__name__)

#: ATT MTU the central asks for (what BlueZ, CoreBluetooth and WinRT negotiate with BLE 4.2+
#: peripherals; sensors.md §11 measured 247 on the LocalLink).
REQUESTED_MTU = 247
#: Real-time bound on in-process exchanges that complete within a few loop turns unless
#: something is badly wrong (e.g. bumble internals changed). Never reached in normal use.
_INTERNAL_TIMEOUT_S = 10.0

# bumble characteristic property bits (Core spec Vol 3 Part G 3.3.1.1) -> bleak property names.
_PROPERTY_NAMES = (
    (0x01, "broadcast"),
    (0x02, "read"),
    (0x04, "write-without-response"),
    (0x08, "write"),
    (0x10, "notify"),
    (0x20, "indicate"),
    (0x40, "authenticated-signed-writes"),
    (0x80, "extended-properties"),
)


def uuid_str(bumble_uuid: Any) -> str:
    """A bumble ``UUID`` as bleak writes UUIDs: 128-bit, lower case, dashed."""
    little_endian = bumble_uuid.to_bytes(force_128=True)
    return str(_uuid.UUID(bytes=bytes(reversed(little_endian))))


def _air_of(cls: type) -> VirtualAir:
    air = getattr(cls, "air", None)
    if air is None:
        raise BleakError(
            f"{cls.__name__} is not bound to a VirtualAir; use air.scanner_backend / air.client_backend "
            "(or vbt.ble.virtual_environment)"
        )
    return air


def advertisement_from_bumble(advertisement: Any, rssi_dbm: int) -> AdvertisementData:
    """Translate a bumble ``Advertisement`` into bleak's `AdvertisementData`."""
    from bumble.core import AdvertisingData

    data = advertisement.data
    name = data.get(AdvertisingData.COMPLETE_LOCAL_NAME) or data.get(AdvertisingData.SHORTENED_LOCAL_NAME)
    if isinstance(name, bytes):
        name = name.decode("utf-8", errors="replace")
    service_uuids: list[str] = []
    for kind in (
        AdvertisingData.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
        AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
        AdvertisingData.INCOMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS,
        AdvertisingData.COMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS,
        AdvertisingData.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
        AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
    ):
        for uuids in data.get_all(kind):
            # bumble merges the scan response into the advertisement; on the LocalLink both
            # carry the same bytes, so entries repeat.
            service_uuids.extend(u for u in map(uuid_str, uuids) if u not in service_uuids)
    manufacturer_data = {int(company): bytes(payload) for company, payload in
                         data.get_all(AdvertisingData.MANUFACTURER_SPECIFIC_DATA)}
    service_data: dict[str, bytes] = {}
    for kind in (
        AdvertisingData.SERVICE_DATA_16_BIT_UUID,
        AdvertisingData.SERVICE_DATA_32_BIT_UUID,
        AdvertisingData.SERVICE_DATA_128_BIT_UUID,
    ):
        for service_uuid, payload in data.get_all(kind):
            service_data[uuid_str(service_uuid)] = bytes(payload)
    tx_power = data.get(AdvertisingData.TX_POWER_LEVEL)
    return AdvertisementData(
        local_name=name,
        manufacturer_data=manufacturer_data,
        service_data=service_data,
        service_uuids=service_uuids,
        tx_power=tx_power,
        rssi=rssi_dbm,
        platform_data=(advertisement,),
    )


class BumbleScannerBackend(BaseBleakScanner):
    """bleak scanner backend: a bumble central scanning the `VirtualAir`.

    Args:
        detection_callback: As for `bleak.BleakScanner`.
        service_uuids: Only report advertisements listing one of these services.
        scanning_mode: Accepted for compatibility; the virtual air always answers actively.
        bluez, cb: Accepted and ignored (OS-specific options of bleak).
    """

    #: The air this class scans; set on the subclasses `VirtualAir.scanner_backend` makes.
    air: ClassVar[VirtualAir | None] = None

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: str = "active",
        *,
        bluez: Any = None,
        cb: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._air = _air_of(type(self))
        self._controller: Controller | None = None
        self._device: Device | None = None
        self._pending: set[str] = set()
        self._all_heard: asyncio.Event | None = None

    async def start(self) -> None:
        """Start scanning; returns once every sensor advertising right now has been heard."""
        air = self._air
        if not air.adapter_available:
            raise BleakBluetoothNotAvailableError(
                "No Bluetooth adapters found.", BleakBluetoothNotAvailableReason.NO_BLUETOOTH
            )
        if self._device is not None:
            return
        self.seen_devices = {}
        self._controller, self._device = air.create_device("vbt-scanner", air.new_address("central"))
        self._device.on("advertisement", self._on_advertisement)
        await shielded(self._device.power_on())
        await shielded(self._device.start_scanning(filter_duplicates=False))
        air.scanners.add(self)
        # A real scanner hears each sensor at its next advertising event; make that "now" so a
        # scan under an autojumping FakeClock cannot end before the reports arrive.
        self._pending = {p.address.upper() for p in air.peripherals if p.advertising}
        self._all_heard = asyncio.Event()
        if not self._pending:
            return
        air.kick()
        try:
            await asyncio.wait_for(self._all_heard.wait(), _INTERNAL_TIMEOUT_S)
        except TimeoutError:  # pragma: no cover - bumble internals changed; bumble's timer still works
            logger.warning("virtual scan: advertisements not heard at once from %s", sorted(self._pending))

    async def stop(self) -> None:
        """Stop scanning and take the scanner's controller off the air (idempotent)."""
        device, controller = self._device, self._controller
        self._device = self._controller = None
        self._air.scanners.discard(self)
        if device is None or controller is None:
            return
        try:
            await shielded(device.stop_scanning())
        except Exception:  # noqa: BLE001 - the controller may already be gone (adapter removed)
            logger.debug("virtual scanner stop failed", exc_info=True)
        self._air.detach(controller)

    def _on_advertisement(self, advertisement: Any) -> None:
        address = advertisement.address.to_string(False)
        adv = advertisement_from_bumble(advertisement, self._air.rssi_dbm(address))
        self._pending.discard(address.upper())
        if self._all_heard is not None and not self._pending:
            self._all_heard.set()
        if not self.is_allowed_uuid(adv.service_uuids):
            return
        device = self.create_or_update_device(address, address, adv.local_name, advertisement, adv)
        self.call_detection_callbacks(device, adv)


class BumbleClientBackend(BaseBleakClient):
    """bleak client backend: a bumble central that connects to a virtual sensor on the air.

    Args:
        address_or_ble_device: A `BLEDevice` from a scan (preferred) or an address string.
        disconnected_callback: Zero-argument callable bleak passes in.
        services: Service UUIDs to restrict discovery to (None: all).
        timeout: Seconds (air clock) to wait for the sensor to advertise when connecting.
    """

    #: The air this class connects over; set on the subclasses `VirtualAir.client_backend` makes.
    air: ClassVar[VirtualAir | None] = None

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        disconnected_callback: Callable[[], None] | None = None,
        services: set[str] | None = None,
        timeout: float = 10.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout)
        self._air = _air_of(type(self))
        self._device_name = address_or_ble_device.name if isinstance(address_or_ble_device, BLEDevice) else None
        self._service_filter = {s.lower() for s in services} if services else None
        self._controller: Controller | None = None
        self._central: Device | None = None
        self._connection: Connection | None = None
        self._peer: Peer | None = None
        self._notify_callbacks: dict[int, Callable[[bytes], None]] = {}

    # ------------------------------------------------------------------ properties

    @property
    def name(self) -> str:
        peripheral = self._air.peripheral(self.address)
        if peripheral is not None:
            return peripheral.name
        return self._device_name or self.address.replace(":", "-")

    @property
    def mtu_size(self) -> int:
        connection = self._connection
        return int(connection.att_mtu) if connection is not None else 23

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    # ------------------------------------------------------------------ connection

    async def connect(self, pair: bool = False, **kwargs: Any) -> None:
        """Connect, negotiate the MTU and discover the whole GATT database.

        Raises:
            BleakBluetoothNotAvailableError: the virtual adapter was removed.
            BleakDeviceNotFoundError: no virtual sensor has this address.
            TimeoutError: the sensor did not advertise within the timeout.
            BleakError: the client is already connected.
        """
        from bumble.device import Peer
        from bumble.hci import Address

        air = self._air
        if self._connection is not None:
            raise BleakError("Client is already connected")
        if not air.adapter_available:
            raise BleakBluetoothNotAvailableError(
                "No Bluetooth adapters found.", BleakBluetoothNotAvailableReason.NO_BLUETOOTH
            )
        if air.peripheral(self.address) is None:
            raise BleakDeviceNotFoundError(self.address, f"Device with address {self.address} was not found.")
        timeout_s = float(kwargs.get("timeout", self._timeout))
        if not await air.wait_advertising(self.address, timeout_s):
            raise TimeoutError(f"{self.address} did not advertise within {timeout_s:g} s")
        if not air.adapter_available:  # removed while we waited
            raise BleakBluetoothNotAvailableError(
                "No Bluetooth adapters found.", BleakBluetoothNotAvailableReason.NO_BLUETOOTH
            )

        self._controller, self._central = air.create_device("vbt-central", air.new_address("central"))
        air.clients.add(self)
        # One shielded task for the whole bumble conversation: a caller cancelled half-way
        # must not cut an HCI command or ATT request short (see vbt.ble.air.shielded); if the
        # caller has gone when it finishes, the link is closed again.
        work = asyncio.ensure_future(self._open_link(Peer, Address))
        try:
            await asyncio.shield(work)
        except asyncio.CancelledError:
            work.add_done_callback(lambda _t: asyncio.ensure_future(self._teardown(disconnect=True)))
            raise
        except BaseException:
            await self._teardown(disconnect=True)
            raise
        logger.debug("virtual link up: %s (MTU %d)", self.address, self.mtu_size)

    async def _open_link(self, peer_cls: Any, address_cls: Any) -> None:
        assert self._central is not None
        air = self._air
        await self._central.power_on()
        connecting = asyncio.ensure_future(
            self._central.connect(address_cls(self.address), timeout=_INTERNAL_TIMEOUT_S)
        )
        # The LocalLink connects at the sensor's next advertising PDU; send it now rather
        # than waiting for bumble's real-time advertising timer (see VirtualAir.kick).
        for _ in range(200):
            if connecting.done():
                break
            air.kick(self.address)
            await asyncio.sleep(0)
        connection = await connecting
        self._connection = connection
        connection.on("disconnection", self._on_disconnection)
        peer = peer_cls(connection)
        self._peer = peer
        await peer.request_mtu(REQUESTED_MTU)
        self.services = await self._discover(peer)

    async def _discover(self, peer: Peer) -> BleakGATTServiceCollection:
        await peer.discover_services()
        await peer.discover_characteristics()
        collection = BleakGATTServiceCollection()
        for service in peer.services:
            service_uuid = uuid_str(service.uuid)
            if self._service_filter is not None and service_uuid not in self._service_filter:
                continue
            bleak_service = BleakGATTService(service, service.handle, service_uuid)
            collection.add_service(bleak_service)
            for characteristic in service.characteristics:
                properties = [name for bit, name in _PROPERTY_NAMES if int(characteristic.properties) & bit]
                bleak_char = BleakGATTCharacteristic(
                    characteristic,
                    characteristic.handle,
                    uuid_str(characteristic.uuid),
                    properties,  # type: ignore[arg-type]
                    lambda: self.mtu_size - 3,
                    bleak_service,
                )
                collection.add_characteristic(bleak_char)
                for descriptor in await peer.discover_descriptors(characteristic):
                    collection.add_descriptor(
                        BleakGATTDescriptor(descriptor, descriptor.handle, uuid_str(descriptor.type), bleak_char)
                    )
        return collection

    async def disconnect(self) -> None:
        """Disconnect (no-op when not connected); the disconnected callback fires."""
        await self._teardown(disconnect=True)

    async def adapter_removed(self) -> None:
        """The virtual adapter vanished: the link is gone from this side."""
        await self._teardown(disconnect=True)

    async def _teardown(self, *, disconnect: bool) -> None:
        connection = self._connection
        if connection is not None and disconnect:
            try:
                await asyncio.wait_for(shielded(connection.disconnect()), _INTERNAL_TIMEOUT_S)
            except Exception:  # noqa: BLE001 - the link may already be down
                logger.debug("virtual disconnect failed", exc_info=True)
        self._cleanup()

    def _cleanup(self) -> bool:
        """Forget the link and free the central; True if there was a link to forget."""
        had_link = self._connection is not None
        if self._connection is not None:
            self._connection.remove_listener("disconnection", self._on_disconnection)
        self._connection = None
        self._peer = None
        self._notify_callbacks.clear()
        if self._controller is not None:
            self._air.detach(self._controller)
        self._controller = None
        self._central = None
        self._air.clients.discard(self)
        if had_link and self._disconnected_callback is not None:
            self._disconnected_callback()
        return had_link

    def _on_disconnection(self, reason: int) -> None:
        logger.debug("virtual link down: %s (HCI reason 0x%02X)", self.address, reason)
        self._cleanup()

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        """Virtual sensors need no pairing (like the real ones `vbt` supports); does nothing."""
        logger.debug("pair() ignored: virtual sensors do not use pairing")

    async def unpair(self) -> None:
        """Nothing to forget for a virtual sensor."""

    # ------------------------------------------------------------------ GATT I/O

    def _require_link(self) -> None:
        if self._connection is None:
            raise BleakError("Not connected")

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        self._require_link()
        return bytearray(await _att(characteristic.obj.read_value()))

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        self._require_link()
        return bytearray(await _att(descriptor.obj.read_value()))

    async def write_gatt_char(self, characteristic: BleakGATTCharacteristic, data: Any, response: bool) -> None:
        self._require_link()
        await _att(characteristic.obj.write_value(bytes(data), with_response=response))

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: Any) -> None:
        self._require_link()
        await _att(descriptor.obj.write_value(bytes(data), with_response=True))

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        """Enable notifications (indications if the characteristic only indicates)."""
        self._require_link()

        def deliver(value: bytes) -> None:
            callback(bytearray(value))

        self._notify_callbacks[characteristic.handle] = deliver
        await _att(characteristic.obj.subscribe(deliver, prefer_notify=True))

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        self._require_link()
        deliver = self._notify_callbacks.pop(characteristic.handle, None)
        await _att(characteristic.obj.unsubscribe(deliver, force=True))

    async def get_rssi(self) -> int:
        """Link RSSI (dBm) from the air's model (vbt extension; bleak has no such call)."""
        self._require_link()
        return self._air.rssi_dbm(self.address)


async def _att(awaitable: Any) -> Any:
    """Await a bumble GATT call, turning ATT error responses into bleak's exception."""
    from bumble.att import ATT_Error

    try:
        return await shielded(awaitable)
    except ATT_Error as err:
        raise BleakGATTProtocolError(err.error_code) from err


__all__ = ["BumbleClientBackend", "BumbleScannerBackend", "advertisement_from_bumble", "uuid_str"]
