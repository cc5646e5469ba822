"""Live Bluetooth LE sensors through bleak: `scan`, `find_sensor` and `BleSource`.

This is the only module of the app path that imports bleak. It uses bleak as its docs intend
(sensors.md §8; bleak's ``async_callback_with_queue`` example): the notification callback only
does ``queue.put_nowait((clock time, uuid, bytes))`` and the consumer -- the source's async
iterator -- turns those into `RawPacket`s; decoding happens downstream in the Session.

Backends are injected, never monkey-patched: ``scanner_backend`` / ``client_backend`` are
bleak backend *classes* (None = bleak's OS default). ``--virtual`` and the tests pass the
in-process bumble backends from `vbt.ble`, so exactly this code drives virtual sensors too.

What `BleSource` does:

* resolve the sensor (a `BLEDevice`, a `FoundSensor`, or a name/address to scan for), pick its
  protocol from the advertisement when not given;
* connect, subscribe ``protocol.notify_uuids``, send ``protocol.start_writes(config)`` with the
  SDK delays, poll battery (``battery_read_uuid`` or ``battery_writes``) and link RSSI (when the
  backend offers ``get_rssi``);
* yield `RawPacket`s and `LinkEvent`s: ``connected``, ``config``, periodic ``status`` (measured
  rate, samples, estimated drops, bad frames, RSSI, battery), ``disconnected``,
  ``reconnected`` (with the gap) and ``lost``;
* on an unexpected disconnect, reconnect with exponential backoff on the injected clock,
  re-apply the configuration and continue the same stream; after ``ReconnectPolicy.budget_s``
  without a link, emit ``lost``, end the stream and keep a `SensorLostError` in
  `BleSource.lost` for the caller.

Why not bleak-retry-connector's ``establish_connection``: it waits with ``asyncio.sleep`` (real
time, so reconnect tests could not run on a `FakeClock`), brings dbus-fast and
bluetooth-adapters into every install for BlueZ-specific cache workarounds, and its retry
budget (a few attempts in seconds) is for a Home Assistant poll, not for a sensor that may be
gone for tens of seconds mid-set. Its backoff shape (short first retry, growing waits) is kept.

Loops: `BleSource` makes no assumption about which asyncio loop runs it (plain asyncio in the
CLI, qasync or a worker thread under Qt, sensors.md §9); `stop` may be called from any thread.
"""

from __future__ import annotations

import asyncio
import logging
import math
import sys
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakDBusError,
    BleakError,
)

from firmware_protocols import PROTOCOLS, Decoder, SensorProtocol, StreamConfig, get_protocol, normalize_uuid
from vbt.clock import Clock, MonotonicClock
from vbt.errors import (
    BluetoothUnavailableError,
    SensorConnectionError,
    SensorLostError,
    SensorNotFoundError,
    UnsupportedSensorError,
)
from vbt.recording.format import BODY_PACKETS, RecordingHeader
from vbt.sources._base import (
    LINK_CONFIG,
    LINK_CONNECTED,
    LINK_DISCONNECTED,
    LINK_LOST,
    LINK_RECONNECTED,
    LINK_STATUS,
    LinkEvent,
    RawPacket,
    Source,
    SourceItem,
)

logger = logging.getLogger(__name__)

#: Exceptions a connect/configure attempt may end with that are worth retrying.
RETRYABLE_ERRORS: tuple[type[BaseException], ...] = (BleakError, TimeoutError, asyncio.TimeoutError, OSError, EOFError)

#: One-line advice appended to "sensor not found" (sensors.md §2-§6 wake-up behaviour).
NOT_FOUND_HINT = (
    "Wake it (switch on, move or tap it; WitMotion sensors advertise slowly after ~1 min "
    "unconnected, a Polar H10 only on a moist strap), keep it within a few metres, close any "
    "phone app connected to it, and run `vbt scan` to see what is in range."
)

#: bleak backend classes used when a caller passes None (None here = bleak's OS default).
#: A seam for embedding applications and tests; `vbt` itself passes backends explicitly.
DEFAULT_SCANNER_BACKEND: type | None = None
DEFAULT_CLIENT_BACKEND: type | None = None

_END = object()
_TICK = object()
#: A sensor streaming this far (fraction) from its configured rate has changed its rate by
#: itself (firmware reset, another app): it gets its configuration again.
#: Lost notifications lower a clockless sensor's measured rate by their share, at most ~10 %.
RATE_TOLERANCE = 0.3
#: Seconds between two such re-configurations of a sensor that keeps its own rate.
RATE_KICK_INTERVAL_S = 30.0
#: Seconds the measured rate (a 5 s average) must stay off before the sensor is re-configured.
RATE_CONFIRM_S = 2.0


# --------------------------------------------------------------------------- errors


def bluetooth_unavailable(err: BaseException) -> BluetoothUnavailableError | None:
    """The `BluetoothUnavailableError` an OS-level bleak failure means, or None if it is not one.

    Covers bleak's `BleakBluetoothNotAvailableError` (no adapter, powered off, permission), and
    BlueZ/D-Bus failures that bleak passes through: no system D-Bus socket (containers, CI),
    bluetoothd not running, adapter missing or not ready.
    """
    if isinstance(err, BluetoothUnavailableError):
        return err
    if isinstance(err, BleakBluetoothNotAvailableError):
        reason = err.reason
        text = {
            BleakBluetoothNotAvailableReason.NO_BLUETOOTH: "no Bluetooth adapter found",
            BleakBluetoothNotAvailableReason.NO_BLE_CENTRAL_ROLE: "the Bluetooth adapter cannot act as a BLE central",
            BleakBluetoothNotAvailableReason.POWERED_OFF: "Bluetooth is switched off",
            BleakBluetoothNotAvailableReason.DENIED_BY_USER: "permission to use Bluetooth was denied "
            "(allow this terminal/app in the system's Bluetooth privacy settings)",
            BleakBluetoothNotAvailableReason.DENIED_BY_SYSTEM: "the system denied access to Bluetooth "
            "(on Linux, add your user to the 'bluetooth' group or check D-Bus policy)",
            BleakBluetoothNotAvailableReason.DENIED_BY_UNKNOWN: "access to Bluetooth was denied",
        }.get(reason, f"{err}")
        return BluetoothUnavailableError(text)
    if isinstance(err, BleakDBusError):
        name = err.dbus_error or ""
        if name in ("org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner"):
            return BluetoothUnavailableError(
                "the BlueZ service (bluetoothd) is not running; start it with `sudo systemctl start bluetooth`"
            )
        if name == "org.bluez.Error.NotReady":
            return BluetoothUnavailableError("the Bluetooth adapter is not ready (powered off?)")
        if name in ("org.freedesktop.DBus.Error.AccessDenied", "org.bluez.Error.NotPermitted"):
            return BluetoothUnavailableError(f"access to BlueZ was denied ({name})")
        return None
    if isinstance(err, (FileNotFoundError, ConnectionRefusedError)) and sys.platform.startswith("linux"):
        # dbus-fast cannot open /run/dbus/system_bus_socket: no system bus, hence no BlueZ.
        return BluetoothUnavailableError(
            "cannot reach BlueZ over the system D-Bus (no Bluetooth stack running here; "
            "in a container, share /run/dbus and the host's adapter)"
        )
    if isinstance(err, BleakError):
        text = str(err).lower()
        if "adapter" in text and ("not found" in text or "no bluetooth" in text):
            return BluetoothUnavailableError(str(err))
    return None


def _raise_unavailable_or(err: BaseException) -> None:
    mapped = bluetooth_unavailable(err)
    if mapped is not None and mapped is not err:
        raise mapped from err


# --------------------------------------------------------------------------- configuration


def recommended_config(
    protocol: type[SensorProtocol],
    *,
    rate_hz: float | None = None,
    accel_range_g: float | None = None,
    gyro_range_dps: float | bool | None = True,
) -> StreamConfig:
    """The configuration `vbt` asks a sensor for, with the barbell defaults for what is unset.

    * rate: the protocol's ``recommended_rate_hz`` if it declares one, else its fastest rate up
      to ~200 Hz (science.md §1.3: at least 100 Hz, little to gain above 200 Hz; 208 Hz counts,
      being the "200 Hz" step of the ST/Bosch 13 * 2^k rate grids);
    * accelerometer range: the largest up to 8 g, never below the sensor's own default (reps
      stay within a few g; 8 g leaves room for re-rack impacts at 16-bit resolution; some
      sensors, e.g. Movesense over GSP, cannot change range, so their default is the truth);
    * gyro: ``True`` = on at the sensor's default range, a number = that range, False/None = off
      (always off for sensors without one).

    Raises:
        ValueError: a value the sensor does not support, naming it and the supported ones.
    """
    rate = rate_hz
    if rate is None:
        rate = getattr(protocol, "recommended_rate_hz", None)
        if rate is None:
            usable = [r for r in protocol.rates_hz if r <= 210.0] or list(protocol.rates_hz)
            rate = max(usable) if usable else protocol.default_rate_hz
    accel = accel_range_g
    if accel is None and protocol.accel_ranges_g:
        upto_8 = [g for g in protocol.accel_ranges_g if g <= 8.0]
        accel = max([protocol.default_accel_range_g, *upto_8])
    gyro = gyro_range_dps if protocol.gyro_ranges_dps else False
    return protocol.make_config(rate_hz=rate, accel_range_g=accel, gyro_range_dps=gyro)


# --------------------------------------------------------------------------- scanning


@dataclass(frozen=True)
class FoundSensor:
    """A supported sensor heard during a scan.

    Attributes:
        name: Advertised local name.
        address: Bluetooth address (a UUID on macOS).
        protocol: Its protocol family, or None for an unsupported device (``scan(all=True)``).
        rssi_dbm: Strongest RSSI heard, if any.
        battery_pct: Battery level if it was readable (advertised, or read with ``battery=True``).
        device: The bleak device, for connecting without another scan.
    """

    name: str
    address: str
    protocol: type[SensorProtocol] | None
    rssi_dbm: int | None
    battery_pct: float | None
    device: BLEDevice = field(repr=False, compare=False)

    @property
    def model(self) -> str:
        """Human model name of the family, or "unsupported"."""
        return self.protocol.display_name if self.protocol is not None else "unsupported"


def _match(name: str | None, uuids: Iterable[str], protocols: Iterable[type[SensorProtocol]] | None):
    candidates = list(PROTOCOLS.values()) if protocols is None else list(protocols)
    for protocol in candidates:
        if protocol.matches(name, list(uuids)):
            return protocol
    return None


#: Standard Battery Service data in advertisements (0x180F + one u8 percent), which some
#: sensors broadcast; read without connecting.
_BATTERY_SERVICE = normalize_uuid("180f")


def _advertised_battery(adv: AdvertisementData) -> float | None:
    payload = adv.service_data.get(_BATTERY_SERVICE)
    if payload and 0 <= payload[0] <= 100:
        return float(payload[0])
    return None


async def scan(
    timeout_s: float = 5.0,
    *,
    backend: type | None = None,
    clock: Clock | None = None,
    protocols: Iterable[type[SensorProtocol]] | None = None,
    include_unsupported: bool = False,
    battery: bool = False,
    client_backend: type | None = None,
    battery_timeout_s: float = 5.0,
) -> list[FoundSensor]:
    """Scan for ``timeout_s`` and list the supported sensors heard, strongest signal first.

    Args:
        timeout_s: Scan duration (s, on ``clock``).
        backend: bleak scanner backend class (None: the OS default).
        clock: Clock to wait on (`MonotonicClock` if None).
        protocols: Families to recognise (default: every registered protocol).
        include_unsupported: Also list devices no protocol matches (``protocol=None``).
        battery: Connect briefly to each sensor whose battery was not advertised to read it.
        client_backend: bleak client backend class for ``battery`` reads.
        battery_timeout_s: Bound on each battery read.

    Raises:
        BluetoothUnavailableError: no adapter, Bluetooth off, no permission, no BlueZ.
    """
    clock = clock or MonotonicClock()
    heard: dict[str, tuple[BLEDevice, AdvertisementData]] = {}
    best_rssi: dict[str, int] = {}
    names: dict[str, str] = {}

    def on_advertisement(device: BLEDevice, adv: AdvertisementData) -> None:
        heard[device.address] = (device, adv)
        if adv.local_name:
            names[device.address] = adv.local_name  # the first advertisement may lack the name
        if adv.rssi is not None:
            best_rssi[device.address] = max(best_rssi.get(device.address, -999), int(adv.rssi))

    try:
        async with BleakScanner(on_advertisement, backend=backend or DEFAULT_SCANNER_BACKEND):
            await clock.sleep(timeout_s)
    except RETRYABLE_ERRORS as err:
        _raise_unavailable_or(err)
        raise SensorConnectionError("scan", f"scanning failed: {err}", "run again with --debug for details") from err

    found: list[FoundSensor] = []
    for address, (device, adv) in heard.items():
        name = names.get(address) or device.name or ""
        protocol = _match(name, adv.service_uuids, protocols)
        if protocol is None and not include_unsupported:
            continue
        found.append(FoundSensor(name, address, protocol, best_rssi.get(address), _advertised_battery(adv), device))
    if battery:
        updated = []
        for sensor in found:
            if sensor.battery_pct is None and sensor.protocol is not None:
                pct = await read_battery(sensor, client_backend=client_backend, clock=clock, timeout_s=battery_timeout_s)
                sensor = FoundSensor(sensor.name, sensor.address, sensor.protocol, sensor.rssi_dbm, pct, sensor.device)
            updated.append(sensor)
        found = updated
    found.sort(key=lambda s: (s.protocol is None, -(s.rssi_dbm if s.rssi_dbm is not None else -999), s.name))
    return found


async def find_sensor(
    identifier: str,
    timeout_s: float = 10.0,
    *,
    backend: type | None = None,
    clock: Clock | None = None,
    protocols: Iterable[type[SensorProtocol]] | None = None,
) -> FoundSensor:
    """Scan until a sensor whose address or advertised name is ``identifier`` is heard.

    The address compares case-insensitively; the name exactly first, then case-insensitively.

    Raises:
        SensorNotFoundError: nothing matched within ``timeout_s``.
        UnsupportedSensorError: a device matched but no protocol supports it.
        BluetoothUnavailableError: no usable adapter.
    """
    clock = clock or MonotonicClock()
    wanted = identifier.strip()
    hit: asyncio.Future[tuple[BLEDevice, AdvertisementData]] = asyncio.get_running_loop().create_future()

    def on_advertisement(device: BLEDevice, adv: AdvertisementData) -> None:
        name = adv.local_name or device.name or ""
        if hit.done():
            return
        if device.address.lower() == wanted.lower() or name == wanted or (name and name.lower() == wanted.lower()):
            hit.set_result((device, adv))

    try:
        async with BleakScanner(on_advertisement, backend=backend or DEFAULT_SCANNER_BACKEND):
            timer = asyncio.ensure_future(clock.sleep(timeout_s))
            try:
                await asyncio.wait({hit, timer}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                timer.cancel()
                await asyncio.gather(timer, return_exceptions=True)
    except RETRYABLE_ERRORS as err:
        _raise_unavailable_or(err)
        raise SensorConnectionError(wanted, f"scanning failed: {err}", "run again with --debug for details") from err
    if not hit.done():
        raise SensorNotFoundError(wanted, timeout_s, NOT_FOUND_HINT)
    device, adv = hit.result()
    name = adv.local_name or device.name or ""
    protocol = _match(name, adv.service_uuids, protocols)
    if protocol is None:
        raise UnsupportedSensorError(name or device.address, PROTOCOLS)
    rssi = int(adv.rssi) if adv.rssi is not None else None
    return FoundSensor(name, device.address, protocol, rssi, _advertised_battery(adv), device)


async def read_battery(
    sensor: FoundSensor,
    *,
    client_backend: type | None = None,
    clock: Clock | None = None,
    timeout_s: float = 5.0,
) -> float | None:
    """Connect briefly and read the battery level (percent), or None if it cannot be read.

    Uses the protocol's ``battery_read_uuid`` (a u8 percent) or, failing that, its
    ``battery_writes`` and the decoder's ``battery_pct`` from the reply. Never raises for a
    sensor that does not answer; Bluetooth being unavailable still raises.
    """
    protocol = sensor.protocol
    if protocol is None:
        return None
    clock = clock or MonotonicClock()
    try:
        async with BleakClient(sensor.device, backend=client_backend or DEFAULT_CLIENT_BACKEND,
                               timeout=timeout_s) as client:
            if protocol.battery_read_uuid:
                value = await client.read_gatt_char(protocol.battery_read_uuid)
                return float(value[0]) if value else None
            writes = protocol.battery_writes()
            if not writes:
                return None
            decoder = protocol.decoder()
            for uuid in protocol.notify_uuids:
                await client.start_notify(uuid, lambda _c, data, u=uuid: decoder.feed(u, bytes(data), clock.monotonic()))
            for write in writes:
                await client.write_gatt_char(write.char_uuid, write.payload, response=write.response)
            deadline = clock.monotonic() + timeout_s
            while decoder.battery_pct is None and clock.monotonic() < deadline:
                await clock.sleep(0.05)
            return decoder.battery_pct
    except RETRYABLE_ERRORS as err:
        _raise_unavailable_or(err)
        logger.info("battery of %s not readable: %s", sensor.name, err)
        return None


# --------------------------------------------------------------------------- link statistics


@dataclass(frozen=True)
class ReconnectPolicy:
    """How hard to try to get a dropped sensor back.

    Attributes:
        budget_s: Give up after this long without a link (s). A set lasts under a minute and a
            Polar H10 itself drops the link 45 s after leaving the strap (sensors.md §3).
        first_delay_s: Wait before the second attempt (the first is immediate); bleak-retry-
            connector's transient-error backoff is 0.25 s (sensors.md §10).
        factor: Growth of the wait after each failed attempt.
        max_delay_s: Longest wait between attempts.
        initial_attempts: Attempts for the first connection before `open` gives up.
    """

    budget_s: float = 60.0
    first_delay_s: float = 0.25
    factor: float = 2.0
    max_delay_s: float = 4.0
    initial_attempts: int = 3

    def delays(self) -> Iterable[float]:
        """Waits between attempts: first_delay_s, then growing by ``factor`` up to ``max_delay_s``."""
        delay = self.first_delay_s
        while True:
            yield delay
            delay = min(delay * self.factor, self.max_delay_s)


@dataclass(frozen=True)
class LinkStatus:
    """A snapshot of link health (also the ``detail`` of ``status`` link events).

    Attributes:
        connected: Link up right now.
        samples: Samples decoded so far.
        notifications: Notifications received.
        rate_hz: Sample rate measured over the last few seconds (None until measurable).
        dropped: Estimated samples lost while connected: from sensor-time gaps when the
            sensor has a clock, else from arrival gaps (a silent sensor cannot report single
            lost notifications; compare ``rate_hz`` with the nominal rate).
        bad_frames: Frames the decoder rejected; ``skipped_bytes`` bytes it skipped.
        rssi_dbm: Last RSSI (link RSSI when the backend offers it, else from the scan).
        battery_pct: Last battery level read.
        reconnects: Successful reconnections; ``gap_s`` total time without a link.
    """

    connected: bool
    samples: int
    notifications: int
    rate_hz: float | None
    dropped: int
    bad_frames: int
    skipped_bytes: int
    rssi_dbm: int | None
    battery_pct: float | None
    reconnects: int
    gap_s: float

    def as_detail(self) -> dict[str, object]:
        return {
            "connected": self.connected, "samples": self.samples, "notifications": self.notifications,
            "rate_hz": None if self.rate_hz is None else round(self.rate_hz, 2), "dropped": self.dropped,
            "bad_frames": self.bad_frames, "skipped_bytes": self.skipped_bytes, "rssi_dbm": self.rssi_dbm,
            "battery_pct": self.battery_pct, "reconnects": self.reconnects, "gap_s": round(self.gap_s, 3),
        }


class _LinkMonitor:
    """Decodes the packet stream on the side to measure rate, drops and battery for status."""

    def __init__(self, protocol: type[SensorProtocol], config: StreamConfig, window_s: float = 5.0) -> None:
        self.decoder: Decoder = protocol.decoder(config)
        self.has_clock = bool(protocol.has_sensor_clock)
        self.nominal_hz = float(config.rate_hz)
        self.window_s = window_s
        self.samples = 0
        self.notifications = 0
        self.dropped = 0
        self._window: deque[tuple[float, int]] = deque()
        self._window_samples = 0  # samples in the window after its first entry
        self._last_sensor_t: float | None = None
        self._last_arrival: float | None = None

    def reset(self) -> None:
        """After a reconnect: partial frames and continuity are gone (the gap is reported apart)."""
        self.decoder.reset()
        self._last_sensor_t = None
        self._last_arrival = None

    def restart_rate(self) -> None:
        """Forget the rate window (a new configuration applies from now)."""
        self._window.clear()
        self._window_samples = 0

    def feed(self, packet: RawPacket) -> None:
        self.notifications += 1
        batches = self.decoder.feed(packet.char_uuid, packet.payload, packet.host_time_s)
        for batch in batches:
            n = len(batch)
            if n == 0:
                continue
            if self.has_clock and batch.sensor_time_s is not None:
                self._sensor_gaps(batch.sensor_time_s)
            else:
                self._arrival_gap(batch.host_time_s, n)
            self.samples += n
            if self._window:
                self._window_samples += n
            self._window.append((batch.host_time_s, n))
        if self._window:
            horizon = self._window[-1][0] - self.window_s
            while len(self._window) > 2 and self._window[0][0] < horizon:
                self._window.popleft()
                self._window_samples -= self._window[0][1]

    def _sensor_gaps(self, sensor_t: Any) -> None:
        period = 1.0 / self.nominal_hz
        times = [float(t) for t in sensor_t]
        if self._last_sensor_t is not None:
            times.insert(0, self._last_sensor_t)
        for a, b in zip(times, times[1:], strict=False):
            if b - a > 1.5 * period:
                self.dropped += max(0, int(round((b - a) / period)) - 1)
        self._last_sensor_t = times[-1]

    def _arrival_gap(self, host_t: float, n: int) -> None:
        rate = self.rate_hz or self.nominal_hz
        last = self._last_arrival
        self._last_arrival = host_t
        if last is None:
            return
        gap = host_t - last
        # Connection-interval batching makes gaps of tens of ms normal; only a silence much
        # longer than that is evidence of lost notifications (design threshold).
        if gap > max(0.25, 10.0 / rate):
            self.dropped += max(0, int(round(gap * rate)) - n)

    @property
    def rate_hz(self) -> float | None:
        if len(self._window) < 2:
            return None
        span = self._window[-1][0] - self._window[0][0]
        if span < 0.5:
            return None
        return self._window_samples / span


# --------------------------------------------------------------------------- the source


class BleSource(Source):
    """A live sensor over bleak, as a `Source` of `RawPacket`s and `LinkEvent`s.

    Args:
        target: A `FoundSensor`, a bleak `BLEDevice`, or an advertised name / address to scan for.
        protocol: Protocol class or name; None = recognise it from the advertisement.
        config: What to stream (rate, ranges); None = `recommended_config` for the protocol
            (about 200 Hz, up to 8 g, gyro on -- not the sensor's power-on default, which may be
            10 Hz); or a callable ``protocol -> StreamConfig`` used once the protocol is known
            (e.g. from command-line options, when the protocol comes from the advertisement).
        clock: Clock for host timestamps, backoff and polling (`MonotonicClock` if None).
        scanner_backend, client_backend: bleak backend classes (None: the OS defaults).
        scan_timeout_s: How long to look for ``target`` given as a name or address.
        connect_timeout_s: Timeout of each connect attempt (bleak's ``timeout``).
        reconnect: Reconnection policy.
        status_interval_s: Period of ``status`` link events (and of the stall check).
        stall_timeout_s: A connected sensor silent for this long (at least 20 sample periods)
            gets its configuration written again; still silent after as long again, the link
            is dropped and re-established. None disables the watchdog.
        rssi_interval_s, battery_interval_s: Polling periods.
        exercise, load_kg, athlete, notes: Lift metadata for the header.
        synthetic: Mark the header as simulated (virtual sensors).
        extra: Extra header fields.

    Usage::

        async with BleSource("WT901BLE68", config=WitMotion.make_config(rate_hz=200)) as source:
            async for item in source:
                ...
        if source.lost:  # the sensor never came back
            print(source.lost)
    """

    def __init__(
        self,
        target: FoundSensor | BLEDevice | str,
        protocol: type[SensorProtocol] | str | None = None,
        config: StreamConfig | Callable[[type[SensorProtocol]], StreamConfig] | None = None,
        *,
        clock: Clock | None = None,
        scanner_backend: type | None = None,
        client_backend: type | None = None,
        scan_timeout_s: float = 10.0,
        connect_timeout_s: float = 20.0,
        reconnect: ReconnectPolicy | None = None,
        status_interval_s: float = 1.0,
        stall_timeout_s: float | None = 5.0,
        rssi_interval_s: float = 2.0,
        battery_interval_s: float = 60.0,
        exercise: str | None = None,
        load_kg: float | None = None,
        athlete: str | None = None,
        notes: str = "",
        synthetic: bool = False,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self._target = target
        self.protocol: type[SensorProtocol] | None = get_protocol(protocol) if isinstance(protocol, str) else protocol
        self._config: StreamConfig | None = config if isinstance(config, StreamConfig) else None
        self._config_for = config if callable(config) and not isinstance(config, StreamConfig) else None
        self.clock: Clock = clock or MonotonicClock()
        self.scanner_backend = scanner_backend
        self.client_backend = client_backend
        self.scan_timeout_s = scan_timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.policy = reconnect or ReconnectPolicy()
        self.status_interval_s = status_interval_s
        self.stall_timeout_s = stall_timeout_s
        self.rssi_interval_s = rssi_interval_s
        self.battery_interval_s = battery_interval_s
        self._meta = {"exercise": exercise, "load_kg": load_kg, "athlete": athlete, "notes": notes}
        self._synthetic = synthetic
        self._extra = dict(extra or {})

        #: Set when the link was lost for good (the stream then ends).
        self.lost: SensorLostError | None = None
        self.name: str = ""
        self.address: str = ""
        self._device: BLEDevice | None = None
        self._client: BleakClient | None = None
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._monitor: _LinkMonitor | None = None
        self._state = "new"  # new, connecting, up, down, closed
        self._link_down = asyncio.Event()
        self._down_since: float | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._stopping = False
        self._ended = False
        self._rssi: int | None = None
        self._battery: float | None = None
        self._reconnects = 0
        self._gap_s = 0.0
        self._last_rx_s = -math.inf  # clock time of the latest notification
        self._up_since_s = 0.0
        self._stall_kick_s: float | None = None
        self._rate_off_since_s: float | None = None
        self._rate_kick_s = -math.inf
        self._next_battery_s: float | None = None
        self._opened = False

    # ------------------------------------------------------------------ public state

    @property
    def config(self) -> StreamConfig:
        """The stream configuration applied on every (re)connection."""
        assert self._config is not None, "open() first"
        return self._config

    @property
    def connected(self) -> bool:
        return self._state == "up"

    def status(self) -> LinkStatus:
        """Current link health."""
        monitor = self._monitor
        battery = self._battery
        if monitor is not None and monitor.decoder.battery_pct is not None:
            battery = monitor.decoder.battery_pct
        stats = monitor.decoder.stats if monitor is not None else None
        gap = self._gap_s
        if self._down_since is not None:
            gap += self.clock.monotonic() - self._down_since
        return LinkStatus(
            connected=self.connected,
            samples=monitor.samples if monitor else 0,
            notifications=monitor.notifications if monitor else 0,
            rate_hz=monitor.rate_hz if monitor else None,
            dropped=monitor.dropped if monitor else 0,
            bad_frames=stats.bad_frames if stats else 0,
            skipped_bytes=stats.skipped_bytes if stats else 0,
            rssi_dbm=self._rssi,
            battery_pct=battery,
            reconnects=self._reconnects,
            gap_s=gap,
        )

    # ------------------------------------------------------------------ open / close

    async def open(self) -> None:
        """Find the sensor, connect, subscribe and configure it.

        Raises:
            SensorNotFoundError, UnsupportedSensorError: the target is not there / not supported.
            SensorConnectionError: connecting or configuring failed on every attempt.
            BluetoothUnavailableError: no usable adapter.
            ValueError: the configuration is not valid for the protocol.
        """
        if self._opened:
            return
        self._opened = True
        self._loop = asyncio.get_running_loop()
        await self._resolve()
        assert self.protocol is not None
        if self._config is None:
            self._config = self._config_for(self.protocol) if self._config_for else recommended_config(self.protocol)
        self.protocol.start_writes(self._config)  # validates the configuration before connecting
        self._monitor = _LinkMonitor(self.protocol, self._config)
        decoder_version = type(self._monitor.decoder).version
        self.header = RecordingHeader(
            body=BODY_PACKETS,
            sensor=self.protocol.name,
            sensor_model=self.name,
            decoder={"name": self.protocol.name, "version": str(decoder_version)},
            stream=self._config.to_dict(),
            rate_hz=float(self._config.rate_hz),
            exercise=self._meta["exercise"],  # type: ignore[arg-type]
            load_kg=self._meta["load_kg"],  # type: ignore[arg-type]
            athlete=self._meta["athlete"],  # type: ignore[arg-type]
            notes=str(self._meta["notes"] or ""),
            synthetic=self._synthetic,
            extra={"address": self.address, "sensor_display_name": self.protocol.display_name,
                   "verified_on_hardware": bool(self.protocol.verified_on_hardware), **self._extra},
        )
        await self._connect_first()
        self._tasks.append(asyncio.ensure_future(self._supervise()))
        self._tasks.append(asyncio.ensure_future(self._tick()))

    async def _resolve(self) -> None:
        target = self._target
        if isinstance(target, FoundSensor):
            self._device, self.name, self.address = target.device, target.name, target.address
            self._rssi = target.rssi_dbm
            self._battery = target.battery_pct
            if self.protocol is None:
                self.protocol = target.protocol
        elif isinstance(target, BLEDevice):
            self._device, self.name, self.address = target, target.name or "", target.address
        else:
            found = await find_sensor(target, self.scan_timeout_s, backend=self.scanner_backend, clock=self.clock)
            self._device, self.name, self.address = found.device, found.name, found.address
            self._rssi, self._battery = found.rssi_dbm, found.battery_pct
            if self.protocol is None:
                self.protocol = found.protocol
        if self.protocol is None:
            self.protocol = _match(self.name, (), None)
        if self.protocol is None:
            raise UnsupportedSensorError(self.name or self.address, PROTOCOLS)

    async def _connect_first(self) -> None:
        delays = iter(self.policy.delays())
        last: BaseException | None = None
        for attempt in range(1, self.policy.initial_attempts + 1):
            try:
                await self._establish(self._announce_connected)
                break
            except RETRYABLE_ERRORS as err:
                _raise_unavailable_or(err)
                last = err
                logger.info("connect attempt %d to %s failed: %s", attempt, self.address, err)
                if attempt < self.policy.initial_attempts:
                    await self.clock.sleep(next(delays))
        else:
            reason = f"could not connect after {self.policy.initial_attempts} attempts ({type(last).__name__}: {last})"
            raise SensorConnectionError(
                f"{self.name} ({self.address})" if self.name else self.address,
                reason,
                "make sure no other app (phone, vendor app) is connected to it, move closer, "
                "and switch it off and on",
            ) from last

    def _announce_connected(self) -> None:
        self._put(LinkEvent(self.clock.monotonic(), LINK_CONNECTED, {
            "name": self.name, "address": self.address,
            "protocol": self.protocol.name if self.protocol else "", "mtu": self._mtu(),
        }))

    def _mtu(self) -> int | None:
        try:
            return int(self._client.mtu_size) if self._client is not None else None
        except Exception:  # noqa: BLE001 - some backends cannot tell
            return None

    async def _establish(self, announce: Any, timeout_s: float | None = None) -> None:
        """One attempt: connect, subscribe, configure. Raises on any failure (link left closed).

        ``announce()`` runs the moment the link is up, before notifications can flow, so the
        connected/reconnected event precedes the first packet of the new link in the stream.
        """
        assert self._device is not None and self.protocol is not None
        self._state = "connecting"
        client = BleakClient(
            self._device,
            disconnected_callback=self._on_disconnected,
            timeout=self.connect_timeout_s if timeout_s is None else max(0.1, min(timeout_s, self.connect_timeout_s)),
            backend=self.client_backend or DEFAULT_CLIENT_BACKEND,
        )
        self._client = client
        announced = False
        try:
            await client.connect()
            announce()
            announced = True
            self._state = "configuring"
            for uuid in self.protocol.notify_uuids:
                await client.start_notify(uuid, self._notification_callback(normalize_uuid(uuid)))
            for write in self.protocol.start_writes(self.config):
                await client.write_gatt_char(write.char_uuid, write.payload, response=write.response)
                if write.delay_after_s > 0:
                    await self.clock.sleep(write.delay_after_s)
            if not client.is_connected:
                raise BleakError("link dropped while configuring")
        except BaseException:
            self._state = "down"
            if announced:  # the link came up and went again: say so, the gap goes on
                self._put(LinkEvent(self.clock.monotonic(), LINK_DISCONNECTED,
                                    {"address": self.address, "while": "configuring"}))
            await self._quiet_disconnect(client)
            raise
        self._state = "up"
        self._down_since = None
        self._up_since_s = self.clock.monotonic()
        self._stall_kick_s = None
        self._put(LinkEvent(self.clock.monotonic(), LINK_CONFIG, self.config.to_dict()))
        await self._poll_battery(force=True)

    def _notification_callback(self, uuid: str) -> Any:
        queue = self._queue
        clock = self.clock

        def on_notification(_characteristic: Any, data: bytearray) -> None:
            # bleak's intended pattern: enqueue and return; the consumer decodes. (The time is
            # also kept for the stall watchdog.)
            t = clock.monotonic()
            self._last_rx_s = t
            queue.put_nowait((t, uuid, bytes(data)))

        return on_notification

    def _on_disconnected(self, client: BleakClient) -> None:
        if client is not self._client or self._state != "up" or self._stopping:
            return
        now = self.clock.monotonic()
        self._state = "down"
        self._down_since = now
        self._put(LinkEvent(now, LINK_DISCONNECTED, {"address": self.address}))
        self._link_down.set()

    async def _quiet_disconnect(self, client: BleakClient) -> None:
        try:
            # macOS can hang forever disconnecting a peripheral that already dropped
            # (sensors.md §2, field reports): bound it in real time.
            await asyncio.wait_for(client.disconnect(), 5.0)
        except Exception:  # noqa: BLE001 - nothing more to do with a dead link
            logger.debug("disconnect of %s failed", self.address, exc_info=True)

    async def _supervise(self) -> None:
        while True:
            await self._link_down.wait()
            self._link_down.clear()
            if self._stopping:
                return
            t_down = self._down_since if self._down_since is not None else self.clock.monotonic()
            if not await self._reconnect(t_down):
                now = self.clock.monotonic()
                self._gap_s += now - t_down
                self._down_since = None
                self.lost = SensorLostError(f"{self.name} ({self.address})", now - t_down)
                self._put(LinkEvent(now, LINK_LOST, {"address": self.address, "gap_s": now - t_down,
                                                     "reason": str(self.lost)}))
                self._end()
                return

    async def _reconnect(self, t_down: float) -> bool:
        delays = iter(self.policy.delays())
        attempts = 0
        last: BaseException | None = None
        while not self._stopping:
            if self.clock.monotonic() - t_down >= self.policy.budget_s:
                break
            attempts += 1

            def announce(attempt: int = attempts) -> None:
                now = self.clock.monotonic()
                self._put(LinkEvent(now, LINK_RECONNECTED, {"address": self.address, "gap_s": now - t_down,
                                                            "attempts": attempt}))

            try:
                # No attempt may outlast the budget (a sensor that is gone times out every one).
                await self._establish(announce, self.policy.budget_s - (self.clock.monotonic() - t_down))
            except RETRYABLE_ERRORS as err:
                last = err
                logger.info("reconnect attempt %d to %s failed: %s", attempts, self.address, err)
                remaining = self.policy.budget_s - (self.clock.monotonic() - t_down)
                if remaining <= 0:
                    break
                await self.clock.sleep(min(next(delays), remaining))
                continue
            self._gap_s += self.clock.monotonic() - t_down
            self._reconnects += 1
            return True
        if last is not None:
            logger.info("giving up on %s: %s", self.address, last)
        return False

    async def _tick(self) -> None:
        next_t = self.clock.monotonic() + self.status_interval_s
        next_rssi = self.clock.monotonic()
        while not self._stopping:
            await self.clock.sleep_until(next_t)
            next_t += self.status_interval_s
            if self._stopping:
                return
            now = self.clock.monotonic()
            if self.connected and now >= next_rssi:
                next_rssi = now + self.rssi_interval_s
                await self._poll_rssi()
            if self.connected:
                await self._poll_battery()
            if self.connected and self.stall_timeout_s is not None:
                await self._check_stall()
            if self.connected:
                await self._check_rate()
            self._put(_TICK)

    async def _check_rate(self) -> None:
        """Watchdog: a sensor streaming far from the configured rate gets its configuration again.

        Without it the pipeline would keep timing the samples at the configured rate (a sensor
        without a clock) or see half the samples "missing" until the next reconnection.
        """
        monitor, client, protocol = self._monitor, self._client, self.protocol
        measured = monitor.rate_hz if monitor is not None else None
        nominal = float(self.config.rate_hz)
        now = self.clock.monotonic()
        if measured is None or abs(measured - nominal) <= RATE_TOLERANCE * nominal:
            self._rate_off_since_s = None
            return
        if self._rate_off_since_s is None:
            self._rate_off_since_s = now
        if (now - self._rate_off_since_s < RATE_CONFIRM_S or now - self._rate_kick_s < RATE_KICK_INTERVAL_S
                or client is None or protocol is None):
            return
        self._rate_kick_s = now
        self._rate_off_since_s = None
        logger.info("%s streams at %.1f Hz instead of %g Hz: configuring it again", self.address, measured, nominal)
        try:
            # stop first: a running measurement refuses a second start (Movesense 409, Polar "already in state")
            for write in [*protocol.stop_writes(self.config), *protocol.start_writes(self.config)]:
                await client.write_gatt_char(write.char_uuid, write.payload, response=write.response)
                if write.delay_after_s > 0:
                    await self.clock.sleep(write.delay_after_s)
        except RETRYABLE_ERRORS:
            logger.debug("re-configuring a sensor at the wrong rate failed", exc_info=True)
            return
        self._put(LinkEvent(self.clock.monotonic(), LINK_CONFIG,
                            {**self.config.to_dict(), "reason": f"streaming at {measured:.1f} Hz instead of {nominal:g} Hz"}))

    async def _check_stall(self) -> None:
        """Watchdog: a link that is up but silent gets its configuration again, then a new link."""
        assert self.stall_timeout_s is not None
        now = self.clock.monotonic()
        limit = max(self.stall_timeout_s, 20.0 / self.config.rate_hz)
        silent_s = now - max(self._last_rx_s, self._up_since_s)
        if silent_s < limit:
            self._stall_kick_s = None
            return
        client, protocol = self._client, self.protocol
        if client is None or protocol is None:
            return
        if self._stall_kick_s is None:
            self._stall_kick_s = now
            logger.info("%s silent for %.1f s with the link up: configuring it again", self.address, silent_s)
            try:
                for write in protocol.start_writes(self.config):
                    await client.write_gatt_char(write.char_uuid, write.payload, response=write.response)
                    if write.delay_after_s > 0:
                        await self.clock.sleep(write.delay_after_s)
            except RETRYABLE_ERRORS:
                logger.debug("re-configuring a silent sensor failed", exc_info=True)
            else:
                self._put(LinkEvent(self.clock.monotonic(), LINK_CONFIG,
                                    {**self.config.to_dict(), "reason": f"no data for {silent_s:.1f} s"}))
            return
        if now - self._stall_kick_s < limit or self._state != "up":
            return
        logger.info("%s still silent after re-configuring: reconnecting", self.address)
        self._state = "down"
        self._down_since = now
        self._put(LinkEvent(now, LINK_DISCONNECTED, {"address": self.address,
                                                     "reason": f"no data for {silent_s:.1f} s"}))
        await self._quiet_disconnect(client)
        self._link_down.set()

    async def _poll_rssi(self) -> None:
        backend = getattr(self._client, "_backend", None)
        get_rssi = getattr(backend, "get_rssi", None)
        if get_rssi is None:
            return  # keep the scan's RSSI; bleak has no connected-RSSI call
        try:
            self._rssi = int(await get_rssi())
        except Exception:  # noqa: BLE001 - RSSI is a nicety
            logger.debug("RSSI read failed", exc_info=True)

    async def _poll_battery(self, *, force: bool = False) -> None:
        now = self.clock.monotonic()
        if not force and self._next_battery_s is not None and now < self._next_battery_s:
            return
        self._next_battery_s = now + self.battery_interval_s
        client, protocol = self._client, self.protocol
        if client is None or protocol is None or not client.is_connected:
            return
        try:
            if protocol.battery_read_uuid:
                value = await client.read_gatt_char(protocol.battery_read_uuid)
                if value:
                    self._battery = float(value[0])
            else:
                # The reply arrives as a notification; the link monitor's decoder reads it.
                for write in protocol.battery_writes():
                    await client.write_gatt_char(write.char_uuid, write.payload, response=write.response)
        except Exception:  # noqa: BLE001 - battery is a nicety; the link supervisor handles drops
            logger.debug("battery poll failed", exc_info=True)

    def _put(self, item: Any) -> None:
        if not self._ended:
            self._queue.put_nowait(item)

    def _end(self) -> None:
        if not self._ended:
            self._queue.put_nowait(_END)
            self._ended = True

    def stop(self) -> None:
        """End the stream soon; safe from any thread. ``close`` (or leaving ``async with``) disconnects."""
        loop = self._loop
        if loop is None or loop.is_closed():
            self._stopping = True
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._request_stop()
        else:
            loop.call_soon_threadsafe(self._request_stop)

    def _request_stop(self) -> None:
        self._stopping = True
        self._link_down.set()
        self._end()

    async def close(self) -> None:
        """Stop streaming cleanly, disconnect, end the iterator. Safe to call twice."""
        if self._state == "closed":
            return
        self._stopping = True
        self._link_down.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        client = self._client
        if client is not None and client.is_connected and self.protocol is not None and self._config is not None:
            try:
                for write in self.protocol.stop_writes(self._config):
                    await asyncio.wait_for(
                        client.write_gatt_char(write.char_uuid, write.payload, response=write.response), 5.0
                    )
                for uuid in self.protocol.notify_uuids:
                    await asyncio.wait_for(client.stop_notify(uuid), 5.0)
            except Exception:  # noqa: BLE001 - stopping is best effort; disconnecting stops it too
                logger.debug("stop writes to %s failed", self.address, exc_info=True)
        self._state = "closed"
        if client is not None:
            await self._quiet_disconnect(client)
        self._end()

    # ------------------------------------------------------------------ iteration

    def __aiter__(self) -> AsyncIterator[SourceItem]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[SourceItem]:
        queue = self._queue
        while True:
            item = await queue.get()
            if item is _END:
                return
            if item is _TICK:
                yield LinkEvent(self.clock.monotonic(), LINK_STATUS, self.status().as_detail())
                continue
            if isinstance(item, tuple):
                packet = RawPacket(*item)
                if self._monitor is not None:
                    self._monitor.feed(packet)
                yield packet
                continue
            if isinstance(item, LinkEvent) and self._monitor is not None:
                if item.kind == LINK_RECONNECTED:
                    self._monitor.reset()
                elif item.kind == LINK_CONFIG:
                    self._monitor.restart_rate()  # measure the configured rate, not the start-up one
            yield item


def describe_status(status: LinkStatus, nominal_hz: float | None = None) -> str:
    """One compact human line for a status display, e.g. ``99.8 Hz  1234 samples  0 dropped``."""
    parts = []
    if status.rate_hz is not None:
        rate = f"{status.rate_hz:5.1f} Hz"
        if nominal_hz:
            rate += f"/{nominal_hz:g}"
        parts.append(rate)
    else:
        parts.append("  --- Hz")
    parts.append(f"{status.samples} samples")
    parts.append(f"{status.dropped} dropped")
    if status.bad_frames:
        parts.append(f"{status.bad_frames} bad")
    parts.append(f"RSSI {status.rssi_dbm} dBm" if status.rssi_dbm is not None else "RSSI --")
    parts.append(f"battery {status.battery_pct:.0f} %" if status.battery_pct is not None else "battery --")
    if not status.connected:
        parts.append("RECONNECTING")
    elif status.reconnects:
        parts.append(f"{status.reconnects} reconnect{'s' if status.reconnects > 1 else ''}")
    return "  ".join(parts)


__all__ = [
    "NOT_FOUND_HINT",
    "BleSource",
    "FoundSensor",
    "LinkStatus",
    "ReconnectPolicy",
    "bluetooth_unavailable",
    "describe_status",
    "recommended_config",
    "find_sensor",
    "read_battery",
    "scan",
]
