"""`VirtualSensorPeripheral`: a supported sensor emulated on a bumble device.

A virtual sensor is the protocol's pure `VirtualDevice` state machine (firmware_protocols)
wired to a real bumble GATT server on a `VirtualAir`:

* it advertises the sensor's name and (what fits of) its service UUIDs, like the real one;
* it serves the protocol's GATT profile; host subscriptions, writes and reads go to
  ``VirtualDevice.on_subscribe`` / ``on_write`` / ``read``, and whatever those return is sent
  back as notifications (or indications, if that is what the host enabled);
* while ``VirtualDevice.streaming`` is true it samples its `SampleFeed` on its own sample
  clock at the configured rate, encodes with ``VirtualDevice.encode`` and notifies the result,
  paced by a deadline scheduler on the injected clock (``sleep_until`` of absolute deadlines,
  so pacing never accumulates lag -- sensors.md §11 measured ~91/s from a naive 100 Hz
  ``sleep`` loop);
* a `RadioModel` adds connection-interval batching and jitter and a `FaultPlan` adds link
  drops, power cycles, rate changes, loss, duplication, reordering, truncation, corruption and
  garbage, because the LocalLink itself is perfect and instant.

Everything the sensor does is logged for tests: configuration writes (`writes`), every
notification it emitted (`sent`), and every sample it produced with whether the notification
carrying it reached the host intact (`samples`). A test can therefore compare what the host
decoded with exactly what the sensor sent.

Timing model: feed time starts when the sensor first streams; sample ``k`` after a (re)start
is taken at feed time ``t0 + k / (rate * (1 + clock_error))`` and stamped on the device clock
as ``boot_s + feed_time * (1 + clock_error)``, so a sensor with ``clock_error = -0.01`` runs
1 % slow like the WitMotion field reports (sensors.md §2). Feed time keeps running while the
link is down: the sensor keeps its sample grid, but samples of the gap are never sent (the
lifter does not wait for Bluetooth).
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from firmware_protocols import SensorProtocol, VirtualDevice, get_protocol, normalize_uuid
from vbt.ble.air import shielded
from vbt.ble.faults import FaultPlan, FaultState, RadioModel

if TYPE_CHECKING:  # pragma: no cover - typing only
    from bumble.controller import Controller
    from bumble.device import Connection, Device

    from vbt.ble.air import VirtualAir
    from vbt.ble.feeds import SampleFeed

logger = logging.getLogger(__name__)

#: HCI reason a peripheral reports when it drops a link by itself (supervision timeout,
#: Core spec Vol 1 Part F 2.8); hosts see the same code when a sensor goes out of range.
HCI_CONNECTION_TIMEOUT = 0x08
#: Legacy advertising payload limit (Core spec Vol 6 Part B 2.3.1).
_MAX_ADV_BYTES = 31

_PROPERTY_BITS = {
    "broadcast": 0x01,
    "read": 0x02,
    "write-without-response": 0x04,
    "write": 0x08,
    "notify": 0x10,
    "indicate": 0x20,
}


@dataclass
class SentNotification:
    """One notification the sensor emitted (or lost on the way).

    Attributes:
        time_s: Clock time it left (or would have left) the sensor.
        char_uuid: Characteristic.
        payload: Bytes sent (after any corruption/truncation).
        kind: ``data`` (stream), ``reply`` (answer to a host action), ``garbage``,
            ``duplicate``, ``truncated`` or ``corrupted``.
        delivered: False if the plan dropped it or the link was gone.
    """

    time_s: float
    char_uuid: str
    payload: bytes
    kind: str
    delivered: bool = True


@dataclass
class SampleLog:
    """Every sample the sensor produced, in order.

    ``delivered[i]`` is True when the notification(s) that carried sample ``i`` reached the host
    unmodified (a sample in a dropped, truncated or corrupted notification is not delivered;
    a sample still buffered by the encoder when the link dropped is not delivered either).

    Which notifications carry a sample is inferred from the encoders' ``last_sample_index``:
    consecutive notifications with the same last index are parts of the same samples (MetaWear
    acc + gyro). Streams packed differently from each other (Polar ACC and GYRO frames) cannot
    be paired this way: a sample then counts as delivered with the notification that first
    completed it, so a partner frame lost in transit is not reflected here.
    """

    feed_time_s: list[np.ndarray] = field(default_factory=list)
    sensor_time_s: list[np.ndarray] = field(default_factory=list)
    accel_mps2: list[np.ndarray] = field(default_factory=list)
    gyro_rads: list[np.ndarray | None] = field(default_factory=list)
    rate_hz: list[np.ndarray] = field(default_factory=list)
    config_index: list[np.ndarray] = field(default_factory=list)
    _delivered: list[np.ndarray] = field(default_factory=list)

    def append(self, feed_t: np.ndarray, sensor_t: np.ndarray, acc: np.ndarray, gyro: np.ndarray | None,
               rate_hz: float, config_index: int = 0) -> np.ndarray:
        self.feed_time_s.append(feed_t)
        self.sensor_time_s.append(sensor_t)
        self.accel_mps2.append(acc)
        self.gyro_rads.append(gyro)
        self.rate_hz.append(np.full(feed_t.size, rate_hz))
        self.config_index.append(np.full(feed_t.size, config_index))
        # clock time the sample reached the host (NaN: not delivered); filled by the sender
        arrived = np.full(feed_t.size, np.nan)
        self._delivered.append(arrived)
        return arrived

    def __len__(self) -> int:
        return int(sum(a.size for a in self.feed_time_s))

    def arrays(self) -> dict[str, np.ndarray | None]:
        """All samples as arrays: feed_time_s, sensor_time_s, accel_mps2, gyro_rads, rate_hz,
        config_index (into the peripheral's ``config_log``), delivered and delivered_at_s (clock
        time the last notification carrying the sample was sent; NaN if it never was)."""
        if not self.feed_time_s:
            empty = np.zeros(0)
            return {"feed_time_s": empty, "sensor_time_s": empty, "accel_mps2": np.zeros((0, 3)),
                    "gyro_rads": None, "rate_hz": empty, "config_index": np.zeros(0, dtype=int),
                    "delivered": np.zeros(0, dtype=bool), "delivered_at_s": empty}
        gyro = None
        if any(g is not None for g in self.gyro_rads):  # NaN rows where that chunk had no gyro
            gyro = np.concatenate([g if g is not None else np.full((a.shape[0], 3), np.nan)
                                   for g, a in zip(self.gyro_rads, self.accel_mps2, strict=True)])
        return {
            "feed_time_s": np.concatenate(self.feed_time_s),
            "sensor_time_s": np.concatenate(self.sensor_time_s),
            "accel_mps2": np.concatenate(self.accel_mps2),
            "gyro_rads": gyro,
            "rate_hz": np.concatenate(self.rate_hz),
            "config_index": np.concatenate(self.config_index),
            "delivered": ~np.isnan(np.concatenate(self._delivered)),
            "delivered_at_s": np.concatenate(self._delivered),
        }


def advertising_payload(name: str, service_uuids: tuple[str, ...]) -> bytes:
    """Legacy advertising data: flags, the complete local name, then service UUIDs that fit.

    Real sensors with 128-bit service UUIDs rarely fit name + UUID into 31 bytes; the name
    comes first because every supported family is recognised by name (sensors.md §1), and
    bumble's LocalLink carries no separate scan response.
    """
    from bumble.core import UUID, AdvertisingData

    flags = (AdvertisingData.FLAGS, bytes([0x06]))  # LE General Discoverable, BR/EDR not supported
    name_bytes = name.encode("utf-8")
    if len(name_bytes) > _MAX_ADV_BYTES - 3 - 2:
        entries = [flags, (AdvertisingData.SHORTENED_LOCAL_NAME, name_bytes[: _MAX_ADV_BYTES - 5])]
    else:
        entries = [flags, (AdvertisingData.COMPLETE_LOCAL_NAME, name_bytes)]
    used = sum(2 + len(v) for _, v in entries)
    by_size: dict[int, list[bytes]] = {2: [], 16: []}
    for u in service_uuids:
        full = normalize_uuid(u)
        if full.endswith("-0000-1000-8000-00805f9b34fb") and full.startswith("0000"):
            by_size[2].append(UUID.from_16_bits(int(full[4:8], 16)).to_bytes())
        else:
            by_size[16].append(UUID(full).to_bytes(force_128=True))
    for size, kind in ((2, AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS),
                       (16, AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS)):
        chosen = b""
        for raw in by_size[size]:
            if used + 2 + len(chosen) + len(raw) <= _MAX_ADV_BYTES:
                chosen += raw
        if chosen:
            entries.append((kind, chosen))
            used += 2 + len(chosen)
    return bytes(AdvertisingData(entries))


@dataclass
class _SampleGroup:
    """Samples carried by one or more notifications; delivered only if all of them arrive."""

    parts: list[tuple[np.ndarray, int, int]]
    pending: int = 0
    ok: bool = True

    def settle(self, delivered: bool, time_s: float = math.nan) -> None:
        self.pending -= 1
        self.ok = self.ok and delivered
        if self.pending == 0 and self.ok:
            for arrived, lo, hi in self.parts:
                arrived[lo:hi] = time_s


def _refuse(error_code: int) -> Any:
    """Answer an ATT request the characteristic's properties do not allow (Vol 3 Part F 3.4.1.1).

    bumble's server does not check properties itself; a real one does.
    """
    from bumble.att import ATT_Error

    raise ATT_Error(error_code)


class VirtualSensorPeripheral:
    """A supported sensor emulated on a bumble device attached to a `VirtualAir`.

    Args:
        air: The shared virtual radio.
        protocol: Protocol class or registry name (``"witmotion"``).
        feed: What the sensor measures.
        name: Advertised name (default: the protocol's `VirtualDevice` default).
        address: Bluetooth address (default: a fresh one from the air).
        radio: Connection-interval batching and jitter.
        faults: What goes wrong on the link.
        rssi_dbm: Mean RSSI a central measures.
        clock_error: Fractional error of the sensor's sample clock (-0.01 = 1 % slow).
        boot_s: Device clock reading when feed time is 0 (sensor uptime).
        battery_pct: Battery level the device reports (default: the VirtualDevice's).
        advertising_interval_ms: bumble's own advertising period (real time; the air also
            advertises on demand, see `VirtualAir.kick`).
    """

    def __init__(
        self,
        air: VirtualAir,
        protocol: type[SensorProtocol] | str,
        feed: SampleFeed,
        *,
        name: str | None = None,
        address: str | None = None,
        radio: RadioModel | None = None,
        faults: FaultPlan | None = None,
        rssi_dbm: float = -58.0,
        clock_error: float = 0.0,
        boot_s: float = 1000.0,
        battery_pct: float | None = None,
        advertising_interval_ms: float = 100.0,
    ) -> None:
        self.air = air
        self.clock = air.clock
        self.protocol: type[SensorProtocol] = get_protocol(protocol) if isinstance(protocol, str) else protocol
        self.feed = feed
        self._requested_name = name
        self._battery_pct = battery_pct
        self.device: VirtualDevice = self._new_virtual_device()
        self.name: str = self.device.name
        self.address = (address or air.new_address("sensor")).upper()
        self.radio = radio or RadioModel()
        self.faults = faults or FaultPlan()
        self._fault_state = FaultState(self.faults)
        self.rssi_dbm = rssi_dbm
        if not -0.1 < clock_error < 0.1:
            raise ValueError(f"clock_error {clock_error} is not a plausible oscillator error; use |error| < 0.1")
        self.clock_error = clock_error
        self.boot_s = boot_s
        self.advertising_interval_ms = advertising_interval_ms

        #: (clock time, characteristic, bytes) of every host write.
        self.writes: list[tuple[float, str, bytes]] = []
        #: (clock time, characteristic, enabled) of every subscription change.
        self.subscriptions: list[tuple[float, str, bool]] = []
        self.sent: list[SentNotification] = []
        self.samples = SampleLog()
        #: (feed time, configuration) each time the sensor streamed with a new configuration.
        self.config_log: list[tuple[float, Any]] = []
        #: (clock time, kind, detail) of everything notable: connect, disconnect, drop, rate change.
        self.events: list[tuple[float, str, dict[str, Any]]] = []
        self.connections = 0

        self.controller: Controller | None = None
        self._bumble: Device | None = None
        self._chars: dict[str, Any] = {}
        self._cccd: dict[str, tuple[bool, bool]] = {}
        self._connection: Connection | None = None
        self._advertising = False
        self._down = False  # a fault holds the sensor off the air
        self._stalled: str | None = None  # a Stall in force: its cure
        self._stopped = False
        self._origin_s: float | None = None  # clock time of feed time 0
        self._last_sample_feed_s: float | None = None  # feed time of the latest sample taken
        self._stream_rate_hz: float | None = None  # rate the running stream task samples at
        self._outbox: asyncio.Queue[Any] | None = None
        self._carry: list[tuple[np.ndarray, int, int]] = []
        # Tasks that only wait on the clock or queues (cancelled on stop) and tasks that send
        # HCI commands (awaited on stop, never cancelled: see vbt.ble.air.shielded).
        self._tasks: set[asyncio.Task[Any]] = set()
        self._hci_tasks: set[asyncio.Task[Any]] = set()
        self._stream_task: asyncio.Task[None] | None = None
        self._sender_task: asyncio.Task[None] | None = None
        self._fault_task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ state

    def _new_virtual_device(self) -> VirtualDevice:
        device = self.protocol.virtual_device(self._requested_name)
        battery = self._battery_pct
        if battery is not None:
            # The contract's constructor takes battery_pct; protocols derive register values
            # from it at construction, so build the device again rather than patch the field.
            try:
                device = type(device)(device.name, battery_pct=battery)
            except TypeError:
                device.battery_pct = battery
        return device

    @property
    def advertising(self) -> bool:
        return self._advertising

    @property
    def connected(self) -> bool:
        return self._connection is not None

    @property
    def streaming(self) -> bool:
        return self._stream_task is not None and not self._stream_task.done()

    def feed_time_s(self) -> float | None:
        """Current feed time, or None before the sensor first streamed."""
        if self._origin_s is None:
            return None
        return self.clock.monotonic() - self._origin_s

    def _log(self, kind: str, **detail: Any) -> None:
        self.events.append((self.clock.monotonic(), kind, detail))

    # ------------------------------------------------------------------ life cycle

    async def start(self) -> None:
        """Create the bumble device, serve the GATT profile and start advertising."""
        from bumble import gatt

        self.controller, self._bumble = self.air.create_device(self.name, self.address)
        bumble = self._bumble
        services = []
        for service in self.protocol.services:
            chars = []
            for spec in service.characteristics:
                chars.append(self._make_characteristic(gatt, spec.uuid, spec.properties))
            services.append(gatt.Service(normalize_uuid(service.uuid), chars))
        for service in services:
            bumble.add_service(service)
        bumble.on("connection", self._on_connection)
        await bumble.power_on()
        self.air.register(self)
        await self._start_advertising()

    def _make_characteristic(self, gatt: Any, uuid: str, properties: tuple[str, ...]) -> Any:
        key = normalize_uuid(uuid)
        bits = 0
        for prop in properties:
            if prop not in _PROPERTY_BITS:
                raise ValueError(f"{self.protocol.name}: unknown characteristic property {prop!r} on {uuid}")
            bits |= _PROPERTY_BITS[prop]
        permissions = 0
        if "read" in properties or "notify" in properties or "indicate" in properties:
            permissions |= gatt.Characteristic.READABLE
        if "write" in properties or "write-without-response" in properties:
            permissions |= gatt.Characteristic.WRITEABLE
        readable = "read" in properties
        writable = "write" in properties or "write-without-response" in properties
        value = gatt.CharacteristicValue(
            read=lambda connection, k=key: self._on_read(k) if readable else _refuse(0x02),
            write=lambda connection, data, k=key: self._on_write(k, bytes(data)) if writable else _refuse(0x03),
        )
        characteristic = gatt.Characteristic(key, gatt.Characteristic.Properties(bits), permissions, value)
        characteristic.on("subscription", lambda connection, notify, indicate, k=key:
                          self._on_subscription(k, bool(notify), bool(indicate)))
        self._chars[key] = characteristic
        return characteristic

    async def stop(self) -> None:
        """Disconnect, stop advertising and leave the air (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        self._down = True
        cancellable = [t for t in (*self._tasks, self._fault_task) if t is not None]
        for task in cancellable:
            task.cancel()
        await asyncio.gather(*cancellable, return_exceptions=True)
        await self._stop_streaming()
        while self._hci_tasks:
            await asyncio.gather(*list(self._hci_tasks), return_exceptions=True)
        connection = self._connection
        if connection is not None:
            try:
                await asyncio.wait_for(shielded(connection.disconnect()), 5.0)
            except Exception:  # noqa: BLE001 - already gone
                logger.debug("virtual sensor disconnect on stop failed", exc_info=True)
        while self._hci_tasks:  # the disconnection handler's follow-up
            await asyncio.gather(*list(self._hci_tasks), return_exceptions=True)
        await self._stop_advertising()
        self.air.unregister(self)
        if self.controller is not None:
            self.air.detach(self.controller)

    async def _start_advertising(self) -> None:
        if self._bumble is None or self._advertising or self._down or self._stopped:
            return
        data = advertising_payload(self.name, tuple(self.protocol.advertised_service_uuids))
        await shielded(self._bumble.start_advertising(
            advertising_data=data,
            advertising_interval_min=self.advertising_interval_ms,
            advertising_interval_max=self.advertising_interval_ms,
        ))
        self._advertising = True
        self.air.advertising_changed(self.address, True)
        # Scanners already running hear a sensor that starts advertising at its first event.
        self.air.kick(self.address)

    async def _stop_advertising(self) -> None:
        if self._bumble is None or not self._advertising:
            return
        self._advertising = False
        self.air.advertising_changed(self.address, False)
        try:
            await shielded(self._bumble.stop_advertising())
        except Exception:  # noqa: BLE001 - advertising already stopped by a connection
            logger.debug("stop_advertising failed", exc_info=True)

    def _spawn(self, coro: Any, *, hci: bool = False) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        (self._hci_tasks if hci else self._tasks).add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        self._hci_tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("virtual sensor %s task failed", self.name, exc_info=task.exception())

    # ------------------------------------------------------------------ connection events

    def _on_connection(self, connection: Connection) -> None:
        from bumble.hci import Role

        if connection.role != Role.PERIPHERAL:
            return
        self._connection = connection
        self.connections += 1
        # The controller stops advertising when a central connects (like a real sensor).
        self._advertising = False
        self.air.advertising_changed(self.address, False)
        self._cccd = {}
        self._outbox = asyncio.Queue()
        self._sender_task = self._spawn(self._sender(connection, self._outbox))
        connection.on("disconnection", lambda reason, c=connection: self._on_disconnection(c, reason))
        self._log("connected", peer=connection.peer_address.to_string(False))

    def _on_disconnection(self, connection: Connection, reason: int) -> None:
        if connection is not self._connection:
            return
        self._connection = None
        self._log("disconnected", reason=int(reason))
        if self._stalled is not None:  # a new connection cures any stall
            self._stalled = None
            self._log("stall_cured", by="reconnect")
        self.device.on_disconnect()
        self._cccd = {}
        self._spawn(self._after_disconnection(), hci=True)

    async def _after_disconnection(self) -> None:
        await self._stop_streaming()
        if self._outbox is not None:
            self._outbox.put_nowait(None)
        if not self._down and not self._stopped:
            await self._start_advertising()

    # ------------------------------------------------------------------ host actions

    def _on_read(self, char_uuid: str) -> bytes:
        return bytes(self.device.read(char_uuid))

    def _on_write(self, char_uuid: str, payload: bytes) -> None:
        self.writes.append((self.clock.monotonic(), char_uuid, payload))
        if self._stalled == "write":
            self._stalled = None
            self._log("stall_cured", by="write")
        replies = self.device.on_write(char_uuid, payload)
        self._queue_replies(replies)
        self._sync_streaming()

    def _on_subscription(self, char_uuid: str, notify: bool, indicate: bool) -> None:
        before = self._cccd.get(char_uuid, (False, False))
        self._cccd[char_uuid] = (notify, indicate)
        enabled = notify or indicate
        if enabled == any(before):
            return
        self.subscriptions.append((self.clock.monotonic(), char_uuid, enabled))
        replies = self.device.on_subscribe(char_uuid) if enabled else self.device.on_unsubscribe(char_uuid)
        self._queue_replies(replies)
        self._sync_streaming()

    def _queue_replies(self, replies: list[Any]) -> None:
        if self._outbox is None:
            return
        for note in replies:
            self._outbox.put_nowait((normalize_uuid(note.char_uuid), bytes(note.payload), "reply", None))

    def _sync_streaming(self) -> None:
        """Start or stop the stream task to follow ``VirtualDevice.streaming``."""
        if self._connection is None:
            return
        if self.streaming and self.device.streaming and self.device.config.rate_hz != self._stream_rate_hz:
            # A new rate applies from the next sample on: restart the (sleeping) stream task so
            # it does not wait out a period of the old rate.
            assert self._stream_task is not None
            self._stream_task.cancel()
            self._stream_task = None
        if self.device.streaming and not self.streaming:
            if self._origin_s is None:
                self._origin_s = self.clock.monotonic()
                self._log("stream_origin")
                if self.faults.link_drops or self.faults.rate_changes or self.faults.stalls or self.faults.garbage_at_s:
                    self._fault_task = asyncio.ensure_future(self._run_fault_schedule())
            self._stream_task = self._spawn(self._stream(self._connection))

    # ------------------------------------------------------------------ streaming

    def _sample_period_s(self) -> float:
        return 1.0 / (self.device.config.rate_hz * (1.0 + self.clock_error))

    async def _stream(self, connection: Connection) -> None:
        """Sample, encode and queue notifications while the device streams on this link."""
        assert self._origin_s is not None
        origin = self._origin_s
        now_feed = self.clock.monotonic() - origin
        period = self._sample_period_s()
        if self._last_sample_feed_s is None:
            next_s = now_feed
        else:
            next_s = self._last_sample_feed_s + period
            if next_s < now_feed:
                # The sensor kept sampling on its own grid while nobody listened (or switched
                # rate between two samples): go on from the next grid point; samples of a gap
                # are never sent.
                next_s += math.ceil((now_feed - next_s) / period - 1e-9) * period
        ci = self.radio.connection_interval_s
        rng = self._fault_state.rng
        rate = self.device.config.rate_hz
        self._stream_rate_hz = rate
        self._log("stream_start", rate_hz=rate)
        while connection is self._connection and self.device.streaming:
            due = next_s
            wake = due
            if ci is not None:  # next connection event at or after the sample exists
                wake = math.ceil(due / ci - 1e-9) * ci
            if self.radio.jitter_s > 0:
                wake += rng.uniform(0.0, self.radio.jitter_s)
            await self.clock.sleep_until(origin + wake)
            if connection is not self._connection or not self.device.streaming:
                break
            now_feed = self.clock.monotonic() - origin
            n = max(1, int(math.floor((now_feed - next_s) / period + 1e-9)) + 1)
            feed_t = next_s + period * np.arange(n)
            self._last_sample_feed_s = float(feed_t[-1])
            next_s = self._last_sample_feed_s + period
            self._emit_samples(feed_t)

    def _emit_samples(self, feed_t: np.ndarray) -> None:
        config = self.device.config
        acc, gyro = self.feed.render(feed_t, config.rate_hz)
        if config.gyro_range_dps is None:
            gyro = None
        elif gyro is None:
            gyro = np.zeros_like(acc)  # a gyro sensor on a feed without rotation reads zero
        sensor_t = self.boot_s + feed_t * (1.0 + self.clock_error)
        if not self.config_log or self.config_log[-1][1] != config:
            self.config_log.append((float(feed_t[0]), config))
            # Protocols rebuild their encoder for a new configuration: samples buffered in a
            # partly filled packet under the old one are never sent.
            self._carry = []
        notes = self.device.encode(acc, gyro, sensor_t)
        flags = self.samples.append(feed_t, sensor_t, acc, gyro, config.rate_hz, len(self.config_log) - 1)
        # Map notifications to the samples they complete: encoders report the index of the last
        # sample each notification carries, counted from this call's first sample. Consecutive
        # notifications with the same last index carry parts of the same samples (MetaWear sends
        # acc and gyro apart), so a sample counts as delivered only when all of them arrive.
        # Samples of a partly filled packet wait in the encoder (and in ``_carry`` here).
        if self._outbox is None:
            return
        if self._stalled is not None:  # sampling goes on, nothing is notified
            self._carry = []
            return
        first = 0
        group: _SampleGroup | None = None
        group_last: int | None = None
        for note in notes:
            last = int(note.last_sample_index)
            if group is None or last != group_last:
                group = _SampleGroup([*self._carry, (flags, first, last + 1)])
                group_last = last
                self._carry = []
                first = max(first, last + 1)
            group.pending += 1
            self._outbox.put_nowait((normalize_uuid(note.char_uuid), bytes(note.payload), "data", group))
        if first < feed_t.size:
            self._carry.append((flags, first, feed_t.size))

    async def _stop_streaming(self) -> None:
        task, self._stream_task = self._stream_task, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._carry = []

    # ------------------------------------------------------------------ sending

    async def _sender(self, connection: Connection, outbox: asyncio.Queue[Any]) -> None:
        """Send queued notifications in order, applying the fault plan to stream data."""
        state = self._fault_state
        plan = self.faults
        pending_swap: tuple[str, bytes, str, Any] | None = None
        while True:
            item = await outbox.get()
            if item is None:
                break
            char_uuid, payload, kind, spans = item
            if kind != "data" or not plan.mangles:
                await self._send(connection, char_uuid, payload, kind, spans)
                continue
            if state.chance(plan.garbage_prob):
                state.counts["garbage"] += 1
                await self._send(connection, char_uuid, state.garbage(len(payload)), "garbage", None)
            if state.lose():
                state.counts["dropped"] += 1
                self._record(char_uuid, payload, "data", delivered=False)
                spans.settle(False)
                continue
            if state.chance(plan.truncate_prob):
                state.counts["truncated"] += 1
                await self._send(connection, char_uuid, state.truncate(payload), "truncated", None)
                spans.settle(False)
                continue
            if state.chance(plan.corrupt_prob):
                state.counts["corrupted"] += 1
                await self._send(connection, char_uuid, state.corrupt(payload), "corrupted", None)
                spans.settle(False)
                continue
            if pending_swap is None and state.chance(plan.reorder_prob):
                state.counts["reordered"] += 1
                pending_swap = item
                continue
            await self._send(connection, char_uuid, payload, kind, spans)
            if pending_swap is not None:
                await self._send(connection, *pending_swap)
                pending_swap = None
            if state.chance(plan.duplicate_prob):
                state.counts["duplicated"] += 1
                await self._send(connection, char_uuid, payload, "duplicate", None)
        if pending_swap is not None:
            self._record(pending_swap[0], pending_swap[1], "data", delivered=False)
            pending_swap[3].settle(False)

    def _record(self, char_uuid: str, payload: bytes, kind: str, *, delivered: bool) -> None:
        self.sent.append(SentNotification(self.clock.monotonic(), char_uuid, payload, kind, delivered))

    async def _send(self, connection: Connection, char_uuid: str, payload: bytes, kind: str,
                    spans: _SampleGroup | None) -> None:
        characteristic = self._chars.get(char_uuid)
        notify, indicate = self._cccd.get(char_uuid, (False, False))
        alive = connection is self._connection and self._bumble is not None
        delivered = alive and characteristic is not None and (notify or indicate)
        if delivered:
            try:
                if notify:
                    await self._bumble.notify_subscriber(connection, characteristic, payload)
                else:
                    await self._bumble.indicate_subscriber(connection, characteristic, payload)
            except Exception:  # noqa: BLE001 - the link went down under us
                logger.debug("virtual sensor send failed", exc_info=True)
                delivered = False
        self._record(char_uuid, payload, kind, delivered=delivered)
        if spans is not None:
            spans.settle(delivered, self.clock.monotonic())

    # ------------------------------------------------------------------ faults

    async def _run_fault_schedule(self) -> None:
        assert self._origin_s is not None
        plan = self.faults
        schedule: list[tuple[float, str, Any]] = []
        schedule += [(d.at_s, "drop", d) for d in plan.link_drops]
        schedule += [(r.at_s, "rate", r) for r in plan.rate_changes]
        schedule += [(x.at_s, "stall", x) for x in plan.stalls]
        schedule += [(t, "garbage", None) for t in plan.garbage_at_s]
        for at_s, kind, item in sorted(schedule, key=lambda e: e[0]):
            await self.clock.sleep_until(self._origin_s + at_s)
            if self._stopped:
                return
            if kind == "drop":
                await asyncio.shield(self._spawn(self.drop_link(item.back_after_s, reset=item.reset), hci=True))
            elif kind == "rate":
                self.change_rate(item.rate_hz)
            elif kind == "stall":
                self._stalled = item.cure
                self._log("stall", cure=item.cure)
            elif kind == "garbage":
                self.send_garbage()

    def change_rate(self, rate_hz: float) -> None:
        """Switch the output rate by the sensor's own decision (the host did not ask)."""
        if rate_hz <= 0:
            raise ValueError(f"rate_hz {rate_hz} must be positive")
        self.device.config = replace(self.device.config, rate_hz=float(rate_hz))
        self._log("rate_change", rate_hz=float(rate_hz))
        self._sync_streaming()

    def send_garbage(self, length: int = 20) -> None:
        """Queue one notification of random bytes on the first notify characteristic."""
        if self._outbox is None or not self.protocol.notify_uuids:
            return
        char_uuid = normalize_uuid(self.protocol.notify_uuids[0])
        self._fault_state.counts["garbage"] += 1
        self._outbox.put_nowait((char_uuid, self._fault_state.garbage(length), "garbage", None))

    async def drop_link(self, back_after_s: float | None = 2.0, *, reset: bool = False) -> None:
        """Drop the link now (supervision timeout); advertise again after ``back_after_s``.

        Args:
            back_after_s: Seconds off the air; None = never comes back (powered off).
            reset: Come back from a power cycle (power-on defaults).
        """
        self._down = True
        self._log("link_drop", back_after_s=back_after_s, reset=reset)
        await self._stop_streaming()
        if self._outbox is not None:
            # Let what already left the sensor arrive: a clean cut makes the test accounting
            # exact ("nothing lost beyond the gap"); a real link loses a few more in flight.
            for _ in range(50):
                if self._outbox.empty():
                    break
                await asyncio.sleep(0)
            for _ in range(10):
                await asyncio.sleep(0)
        connection = self._connection
        if connection is not None:
            try:
                await asyncio.wait_for(shielded(connection.disconnect(HCI_CONNECTION_TIMEOUT)), 5.0)
            except Exception:  # noqa: BLE001 - already gone
                logger.debug("drop_link disconnect failed", exc_info=True)
        await self._stop_advertising()
        if back_after_s is not None:
            self._spawn(self._come_back(back_after_s, reset))

    async def _come_back(self, after_s: float, reset: bool) -> None:
        await self.clock.sleep(after_s)
        if self._stopped:
            return
        self._spawn(self._return_to_air(reset), hci=True)

    async def _return_to_air(self, reset: bool) -> None:
        if self._stopped:
            return
        if reset:
            power_cycle = getattr(self.device, "power_cycle", None)
            if callable(power_cycle):  # the protocol models what survives a power cycle
                power_cycle()
            else:
                self.device = self._new_virtual_device()
        self._down = False
        self._log("back", reset=reset)
        await self._start_advertising()

    async def power_off(self) -> None:
        """The battery dies: the link drops and the sensor never advertises again."""
        await self.drop_link(None)

    @property
    def fault_counts(self) -> dict[str, int]:
        """How many notifications each fault affected so far."""
        return dict(self._fault_state.counts)


__all__ = ["HCI_CONNECTION_TIMEOUT", "SampleLog", "SentNotification", "VirtualSensorPeripheral", "advertising_payload"]
