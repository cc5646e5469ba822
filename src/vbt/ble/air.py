"""`VirtualAir`: the shared in-process "radio" that virtual sensors and the bumble bleak backends use.

One `VirtualAir` wraps one ``bumble.link.LocalLink`` (sensors.md §11, step 1). Every virtual
sensor and every central the bleak backends create gets its own bumble ``Controller`` attached
to that link, with a distinct random static address, so they talk through bumble's real HCI,
L2CAP, ATT and GATT code -- only the radio is missing.

The LocalLink has no radio timing: a PDU reaches the other controllers on the next loop turn,
and advertising runs on bumble's own real-time timer. The air therefore adds the few pieces
of "radio" behaviour the rest of the system relies on, on the injected clock:

* which sensors are advertising, and a clock-based wait for one to start (a real central
  simply keeps trying until its connect timeout; here the wait is instant under `FakeClock`);
* `kick`: make advertising sensors send an advertising PDU *now* (a real scanner hears a
  sensor at its next advertising event; doing it at once keeps tests deterministic instead of
  waiting for bumble's real-time timer);
* a per-sensor RSSI model (bumble's controller reports a fixed -50 dBm);
* an "adapter" switch: removing the adapter drops every central's links and makes scans and
  connects fail the way bleak reports it (`BleakBluetoothNotAvailableError`).

The bleak backend classes bound to an air are `VirtualAir.scanner_backend` and
`VirtualAir.client_backend`; pass them as ``backend=`` to bleak (or as
``scanner_backend``/``client_backend`` to `vbt.sources.ble`).
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import TYPE_CHECKING, Any

from vbt.clock import Clock, MonotonicClock

if TYPE_CHECKING:  # pragma: no cover - typing only
    from bumble.controller import Controller
    from bumble.device import Device

    from vbt.ble.backend import BumbleClientBackend, BumbleScannerBackend
    from vbt.ble.peripheral import VirtualSensorPeripheral

logger = logging.getLogger(__name__)

#: First octet of generated addresses. Random static addresses need the two top bits set
#: (Core spec Vol 6 Part B 1.3.2.1), so sensors get F0:xx and centrals C0:xx.
_SENSOR_PREFIX = 0xF0
_CENTRAL_PREFIX = 0xC0


def _format_address(prefix: int, n: int) -> str:
    octets = [prefix, 0, (n >> 24) & 0xFF, (n >> 16) & 0xFF, (n >> 8) & 0xFF, n & 0xFF]
    return ":".join(f"{o:02X}" for o in octets)


class VirtualAir:
    """The shared virtual radio: one bumble LocalLink plus the radio behaviour it lacks.

    Args:
        clock: Clock for every wait on the air (sensor pacing, advertising waits). Defaults to
            the real `MonotonicClock`; tests pass a `FakeClock`.
        seed: Seed of the RSSI model's random fluctuation.
    """

    def __init__(self, clock: Clock | None = None, *, seed: int = 0) -> None:
        from bumble.link import LocalLink

        self.clock: Clock = clock if clock is not None else MonotonicClock()
        self.link = LocalLink()
        self._rng = random.Random(seed)
        self._next_sensor = 1
        self._next_central = 1
        self._peripherals: dict[str, VirtualSensorPeripheral] = {}
        self._advertising_events: dict[str, asyncio.Event] = {}
        #: Live bleak client backends (for adapter removal).
        self.clients: set[BumbleClientBackend] = set()
        #: Live bleak scanner backends (they get an immediate advertisement when a sensor
        #: starts advertising).
        self.scanners: set[BumbleScannerBackend] = set()
        self._adapter_available = True
        self._scanner_cls: type[BumbleScannerBackend] | None = None
        self._client_cls: type[BumbleClientBackend] | None = None

    # ------------------------------------------------------------------ bleak backends

    @property
    def scanner_backend(self) -> type[BumbleScannerBackend]:
        """A `BumbleScannerBackend` subclass bound to this air (pass it as bleak's ``backend=``)."""
        if self._scanner_cls is None:
            from vbt.ble.backend import BumbleScannerBackend

            self._scanner_cls = type("BumbleScannerBackend", (BumbleScannerBackend,), {"air": self})
        return self._scanner_cls

    @property
    def client_backend(self) -> type[BumbleClientBackend]:
        """A `BumbleClientBackend` subclass bound to this air (pass it as bleak's ``backend=``)."""
        if self._client_cls is None:
            from vbt.ble.backend import BumbleClientBackend

            self._client_cls = type("BumbleClientBackend", (BumbleClientBackend,), {"air": self})
        return self._client_cls

    # ------------------------------------------------------------------ devices on the link

    def new_address(self, role: str) -> str:
        """A fresh random static address (``role`` is ``"sensor"`` or ``"central"``)."""
        if role == "sensor":
            n, self._next_sensor = self._next_sensor, self._next_sensor + 1
            return _format_address(_SENSOR_PREFIX, n)
        if role == "central":
            n, self._next_central = self._next_central, self._next_central + 1
            return _format_address(_CENTRAL_PREFIX, n)
        raise ValueError(f"role must be 'sensor' or 'central', got {role!r}")

    def create_device(self, name: str, address: str) -> tuple[Controller, Device]:
        """A bumble controller on this link and a bumble device (host) driving it.

        This is the set-up of ``bumble.testing.test_utils.Devices`` (sensors.md §11, steps 2-3).
        """
        from bumble.controller import Controller
        from bumble.device import Device
        from bumble.hci import Address
        from bumble.host import Host
        from bumble.transport.common import AsyncPipeSink

        controller = Controller(name, link=self.link, public_address=address)
        device = Device(name=name, address=Address(address), host=Host(controller, AsyncPipeSink(controller)))
        return controller, device

    def detach(self, controller: Controller) -> None:
        """Take a controller off the link (its device can no longer send or receive)."""
        self.link.controllers.discard(controller)

    # ------------------------------------------------------------------ sensors

    def register(self, peripheral: VirtualSensorPeripheral) -> None:
        """Called by a `VirtualSensorPeripheral` when it starts."""
        self._peripherals[peripheral.address.upper()] = peripheral

    def unregister(self, peripheral: VirtualSensorPeripheral) -> None:
        self._peripherals.pop(peripheral.address.upper(), None)

    def peripheral(self, address: str) -> VirtualSensorPeripheral | None:
        """The virtual sensor with this address, if one exists on the air."""
        return self._peripherals.get(address.upper())

    @property
    def peripherals(self) -> list[VirtualSensorPeripheral]:
        return list(self._peripherals.values())

    def _event(self, address: str) -> asyncio.Event:
        key = address.upper()
        event = self._advertising_events.get(key)
        if event is None:
            event = self._advertising_events[key] = asyncio.Event()
        return event

    def advertising_changed(self, address: str, advertising: bool) -> None:
        """Called by a peripheral when it starts or stops advertising."""
        event = self._event(address)
        if advertising:
            event.set()
        else:
            event.clear()

    def is_advertising(self, address: str) -> bool:
        peripheral = self.peripheral(address)
        return peripheral is not None and peripheral.advertising

    async def wait_advertising(self, address: str, timeout_s: float) -> bool:
        """Wait (on the air's clock) until the sensor at ``address`` advertises.

        Returns:
            True once it advertises, False if ``timeout_s`` passed first.
        """
        if self.is_advertising(address):
            return True
        event = self._event(address)
        waiter = asyncio.ensure_future(event.wait())
        timer = asyncio.ensure_future(self.clock.sleep(timeout_s))
        try:
            await asyncio.wait({waiter, timer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (waiter, timer):
                task.cancel()
            await asyncio.gather(waiter, timer, return_exceptions=True)
        return self.is_advertising(address)

    def kick(self, address: str | None = None) -> int:
        """Make advertising sensors (all, or the one at ``address``) advertise right now.

        Returns:
            How many advertising PDUs were sent.
        """
        sent = 0
        targets = [self.peripheral(address)] if address is not None else self.peripherals
        for peripheral in targets:
            if peripheral is not None and peripheral.advertising and peripheral.controller is not None:
                sent += _send_advertising_pdu_now(peripheral.controller)
        return sent

    def rssi_dbm(self, address: str) -> int:
        """Received signal strength of the sensor at ``address`` as a central would measure it.

        The sensor's configured mean RSSI plus a +/- 3 dB fluctuation (indoor fading at a few
        metres is of that order; a design assumption, not a measured figure).
        """
        peripheral = self.peripheral(address)
        mean = peripheral.rssi_dbm if peripheral is not None else -70.0
        return int(round(mean + self._rng.uniform(-3.0, 3.0)))

    # ------------------------------------------------------------------ the adapter

    @property
    def adapter_available(self) -> bool:
        """False after `remove_adapter`: scans and connects fail like a missing adapter."""
        return self._adapter_available

    async def remove_adapter(self) -> None:
        """Unplug the central's adapter: every central link drops, scans and connects then fail."""
        self._adapter_available = False
        for client in list(self.clients):
            await client.adapter_removed()
        for scanner in list(self.scanners):
            await scanner.stop()

    def restore_adapter(self) -> None:
        """Plug the adapter back in."""
        self._adapter_available = True


def _send_advertising_pdu_now(controller: Any) -> int:
    """Fire an enabled advertiser of a bumble controller immediately (one PDU per advertiser).

    bumble keeps its advertisers in ``le_legacy_advertiser`` and ``advertising_sets`` (bumble
    0.0.236, controller.py). These are internals, so every access is guarded: if they change,
    sensors still advertise on bumble's own timer, just not instantly.
    """
    sent = 0
    legacy = getattr(controller, "le_legacy_advertiser", None)
    if legacy is not None and getattr(legacy, "enabled", False):
        try:
            legacy.send_advertising_data()
            sent += 1
        except Exception:  # noqa: BLE001 - best effort, see docstring
            logger.debug("legacy advertiser kick failed", exc_info=True)
    for adv_set in list(getattr(controller, "advertising_sets", {}).values()):
        if getattr(adv_set, "enabled", False):
            try:
                adv_set.send_extended_advertising_data()
                sent += 1
            except Exception:  # noqa: BLE001 - best effort, see docstring
                logger.debug("extended advertiser kick failed", exc_info=True)
    return sent




def _consume_result(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.debug("shielded bumble operation failed after its caller left", exc_info=task.exception())


async def shielded(awaitable: Any) -> Any:
    """Await a bumble operation so that cancelling the caller does not cancel the operation.

    bumble's host allows one HCI command (and each ATT bearer one request) in flight; if a
    caller is cancelled mid-command, bumble frees the slot at once and the late reply is then
    taken as the answer to the *next* command (``InvalidStateError`` in ``Host.on_packet``).
    Shielding lets the command finish in the background instead.
    """
    task = asyncio.ensure_future(awaitable)
    task.add_done_callback(_consume_result)
    return await asyncio.shield(task)


__all__ = ["VirtualAir", "shielded"]
