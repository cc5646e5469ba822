"""The bumble bleak backends, exercised only through bleak's public BleakScanner / BleakClient."""

from __future__ import annotations

import asyncio

import pytest
from ble_helpers import run
from ble_toy_protocol import BATTERY_LEVEL, CONTROL, DATA, SERVICE, ToyProtocol
from bleak import BleakClient, BleakScanner
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakDeviceNotFoundError,
    BleakError,
    BleakGATTProtocolError,
)

from firmware_protocols import get_protocol
from vbt.ble import AnalyticRepsFeed, VirtualSensorSpec, virtual_environment
from vbt.ble.backend import BumbleClientBackend, BumbleScannerBackend

WIT = get_protocol("witmotion")
WIT_SERVICE = "0000ffe5-0000-1000-8000-00805f9a34fb"
WIT_NOTIFY = "0000ffe4-0000-1000-8000-00805f9a34fb"
WIT_WRITE = "0000ffe9-0000-1000-8000-00805f9a34fb"


def test_scan_reports_name_services_and_rssi_of_every_advertising_sensor(clock):
    async def main():
        async with virtual_environment(
            VirtualSensorSpec("witmotion", rssi_dbm=-50.0), VirtualSensorSpec(ToyProtocol, rssi_dbm=-80.0),
            clock=clock,
        ) as env:
            found = await BleakScanner.discover(0, return_adv=True, backend=env.scanner_backend)
            return env, found

    env, found = run(main())
    by_name = {adv.local_name: (device, adv) for device, adv in found.values()}
    assert set(by_name) == {"WT901BLE68", "TOY-0001"}
    wit_device, wit_adv = by_name["WT901BLE68"]
    assert wit_device.address == env.peripherals[0].address
    # A 128-bit service UUID does not fit next to the name in 31 bytes; the 16-bit one does.
    assert wit_adv.service_uuids == []
    assert by_name["TOY-0001"][1].service_uuids == [SERVICE]
    # RSSI follows each sensor's configured mean within the model's +/- 3 dB.
    assert -53 <= wit_adv.rssi <= -47
    assert -83 <= by_name["TOY-0001"][1].rssi <= -77


def test_scanner_service_filter_keeps_only_matching_sensors(clock):
    async def main():
        async with virtual_environment("witmotion", VirtualSensorSpec(ToyProtocol), clock=clock) as env:
            return await BleakScanner.discover(0, return_adv=True, service_uuids=[SERVICE],
                                               backend=env.scanner_backend)

    found = run(main())
    assert [adv.local_name for _, adv in found.values()] == ["TOY-0001"]


def test_connect_discovers_the_protocol_gatt_profile_with_bleak_property_names(clock):
    async def main():
        async with virtual_environment("witmotion", clock=clock) as env:
            device = await BleakScanner.find_device_by_name("WT901BLE68", backend=env.scanner_backend)
            async with BleakClient(device, backend=env.client_backend) as client:
                services = {s.uuid: {c.uuid: (c.properties, [d.uuid for d in c.descriptors])
                                     for c in s.characteristics} for s in client.services}
                return services, client.mtu_size, client.backend_id, client.name

    services, mtu, backend_id, name = run(main())
    assert services[WIT_SERVICE] == {
        WIT_WRITE: (["write-without-response", "write"], []),
        WIT_NOTIFY: (["notify"], ["00002902-0000-1000-8000-00805f9b34fb"]),
    }
    assert "00001800-0000-1000-8000-00805f9b34fb" in services  # GAP, as a real stack shows it
    assert mtu == 247
    assert backend_id == "BumbleClientBackend"
    assert name == "WT901BLE68"


def test_writes_reach_the_virtual_device_byte_exact_and_notifications_come_back(clock):
    config = WIT.make_config(rate_hz=50)

    async def main():
        async with virtual_environment(VirtualSensorSpec("witmotion", feed=AnalyticRepsFeed()), clock=clock) as env:
            device = await BleakScanner.find_device_by_address(env.peripherals[0].address,
                                                               backend=env.scanner_backend)
            received: list[tuple[str, bytes]] = []
            async with BleakClient(device, backend=env.client_backend) as client:
                await client.start_notify(WIT_NOTIFY, lambda char, data: received.append((char.uuid, bytes(data))))
                for write in WIT.start_writes(config):
                    await client.write_gatt_char(write.char_uuid, write.payload, response=write.response)
                await clock.sleep(1.0)
            return env.peripherals[0], received

    peripheral, received = run(main())
    assert [payload for _, _, payload in peripheral.writes] == [w.payload for w in WIT.start_writes(config)]
    assert peripheral.device.config.rate_hz == 50.0
    assert received and all(uuid == WIT_NOTIFY for uuid, _ in received)
    assert all(len(payload) == 20 and payload[:2] == b"\x55\x61" for _, payload in received)
    # What arrived is exactly what the sensor sent, in order.
    assert [p for _, p in received] == [s.payload for s in peripheral.sent if s.delivered]


def test_read_indicate_and_att_errors(clock):
    async def main():
        async with virtual_environment(VirtualSensorSpec(ToyProtocol, battery_pct=42.0), clock=clock) as env:
            device = await BleakScanner.find_device_by_name("TOY-0001", backend=env.scanner_backend)
            replies: list[bytes] = []
            data: list[bytes] = []
            async with BleakClient(device, backend=env.client_backend) as client:
                battery = await client.read_gatt_char(BATTERY_LEVEL)
                await client.start_notify(CONTROL, lambda _c, d: replies.append(bytes(d)))
                await client.start_notify(DATA, lambda _c, d: data.append(bytes(d)))
                await client.write_gatt_char(CONTROL, bytes([0x01, 100, 0]), response=True)
                await clock.sleep(0.2)
                with pytest.raises(BleakGATTProtocolError) as err:
                    await client.write_gatt_char(BATTERY_LEVEL, b"\x01", response=True)
                await client.stop_notify(DATA)
                count = len(data)
                await clock.sleep(0.2)
                after_stop = len(data)
            return env.peripherals[0], battery, replies, count, after_stop, err.value

    peripheral, battery, replies, count, after_stop, err = run(main())
    assert battery == bytearray([42])
    assert replies == [bytes([0xF0, 0x01, 0x00])]  # the control point answers by indication
    assert [kind for _, kind, _ in peripheral.events if kind.startswith("stream")] == ["stream_origin", "stream_start"]
    assert count == pytest.approx(10, abs=1)  # 100 Hz, 2 samples per notification, 0.2 s
    assert after_stop == count
    assert "0x03" in str(err) or "Write Not Permitted" in str(err)


def test_disconnect_fires_callback_and_sensor_advertises_again(clock):
    async def main():
        async with virtual_environment("witmotion", clock=clock) as env:
            device = await BleakScanner.find_device_by_name("WT901BLE68", backend=env.scanner_backend)
            calls: list[BleakClient] = []
            client = BleakClient(device, disconnected_callback=calls.append, backend=env.client_backend)
            await client.connect()
            assert client.is_connected and not env.peripherals[0].advertising
            await client.disconnect()
            await asyncio.sleep(0.01)
            return client, calls, env.peripherals[0].advertising, env.peripherals[0].connected

    client, calls, advertising, connected = run(main())
    assert calls == [client]
    assert not client.is_connected
    assert advertising and not connected


def test_sensor_side_link_drop_reaches_bleak_as_a_disconnect(clock):
    async def main():
        async with virtual_environment("witmotion", clock=clock) as env:
            device = await BleakScanner.find_device_by_name("WT901BLE68", backend=env.scanner_backend)
            calls: list[float] = []
            client = BleakClient(device, disconnected_callback=lambda c: calls.append(clock.monotonic()),
                                 backend=env.client_backend)
            await client.connect()
            await clock.sleep(1.0)
            await env.peripherals[0].drop_link(back_after_s=None)
            with pytest.raises(BleakError):
                await client.write_gatt_char(WIT_WRITE, b"\xff\xaa\x27\x64\x00", response=True)
            return client, calls

    client, calls = run(main())
    assert calls == [1.0]
    assert not client.is_connected


def test_connect_errors_match_bleak(clock):
    async def main():
        async with virtual_environment("witmotion", clock=clock) as env:
            with pytest.raises(BleakDeviceNotFoundError):
                await BleakClient("F0:00:00:00:99:99", backend=env.client_backend, timeout=5).connect()
            await env.peripherals[0].power_off()
            t0 = clock.monotonic()
            with pytest.raises(TimeoutError):
                await BleakClient(env.peripherals[0].address, backend=env.client_backend, timeout=7).connect()
            return clock.monotonic() - t0

    waited = run(main())
    assert waited == pytest.approx(7.0)  # waited the bleak timeout on the (fake) clock


def test_removed_adapter_drops_links_and_fails_like_bleak(clock):
    async def main():
        async with virtual_environment("witmotion", clock=clock) as env:
            device = await BleakScanner.find_device_by_name("WT901BLE68", backend=env.scanner_backend)
            calls: list[BleakClient] = []
            client = BleakClient(device, disconnected_callback=calls.append, backend=env.client_backend)
            await client.connect()
            await env.air.remove_adapter()
            with pytest.raises(BleakBluetoothNotAvailableError) as scan_err:
                await BleakScanner.discover(0, backend=env.scanner_backend)
            with pytest.raises(BleakBluetoothNotAvailableError):
                await client.connect()
            env.air.restore_adapter()
            found = await BleakScanner.discover(0, backend=env.scanner_backend)
            return calls, client, scan_err.value, found

    calls, client, scan_err, found = run(main())
    assert calls == [client]
    assert scan_err.reason is BleakBluetoothNotAvailableReason.NO_BLUETOOTH
    assert [d.name for d in found] == ["WT901BLE68"]


def test_unbound_backends_refuse_with_a_clear_message():
    with pytest.raises(BleakError, match="not bound to a VirtualAir"):
        BleakScanner(backend=BumbleScannerBackend)
    with pytest.raises(BleakError, match="not bound to a VirtualAir"):
        BleakClient("F0:00:00:00:00:01", backend=BumbleClientBackend)
