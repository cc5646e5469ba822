"""BleSource and scan() against virtual sensors: connect, configure, stream, reconnect, faults.

Truth comes from the virtual sensor's own log: every sample it produced and whether the
notification carrying it reached the host intact. The host side decodes what `BleSource`
yielded with the protocol's decoder and must get exactly those samples back.
"""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest
from ble_helpers import run
from ble_toy_protocol import ToyProtocol
from bleak.exc import BleakBluetoothNotAvailableError, BleakBluetoothNotAvailableReason, BleakDBusError

from firmware_protocols import ImuBatch, get_protocol
from vbt.ble import (
    AnalyticRepsFeed,
    FaultPlan,
    LinkDrop,
    RateChange,
    Stall,
    VirtualSensorSpec,
    virtual_environment,
)
from vbt.errors import BluetoothUnavailableError, SensorLostError, SensorNotFoundError, UnsupportedSensorError
from vbt.sources import (
    LINK_CONFIG,
    LINK_CONNECTED,
    LINK_DISCONNECTED,
    LINK_LOST,
    LINK_RECONNECTED,
    LINK_STATUS,
    LinkEvent,
    RawPacket,
)
from vbt.sources.ble import BleSource, ReconnectPolicy, bluetooth_unavailable, find_sensor, scan

WIT = get_protocol("witmotion")
WIT_ACC_LSB = 16 * 9.80665 / 32768
WIT_GYRO_LSB = 2000 * np.pi / 180 / 32768


async def _collect(source: BleSource, until_s: float | None = None) -> list:
    items = []
    async with source:
        async for item in source:
            items.append(item)
            if until_s is not None and source.clock.monotonic() >= until_s:
                break
    return items


def _decode(items: list, protocol, config) -> ImuBatch | None:
    """Host side: decode the yielded packets as the Session will (decoder reset on reconnect)."""
    decoder = protocol.decoder(config)
    batches = []
    for item in items:
        if isinstance(item, LinkEvent) and item.kind == LINK_RECONNECTED:
            decoder.reset()
        elif isinstance(item, RawPacket):
            batches.extend(decoder.feed(item.char_uuid, item.payload, item.host_time_s))
    if not batches:
        return None
    acc = np.concatenate([b.accel_mps2 for b in batches])
    gyro = np.concatenate([b.gyro_rads for b in batches]) if all(b.gyro_rads is not None for b in batches) else None
    return ImuBatch(batches[-1].host_time_s, acc, gyro)


def _events(items: list) -> list[LinkEvent]:
    return [i for i in items if isinstance(i, LinkEvent) and i.kind != LINK_STATUS]


def test_stream_configures_the_sensor_and_delivers_exactly_its_samples(clock):
    config = WIT.make_config(rate_hz=100)

    async def main():
        async with virtual_environment(VirtualSensorSpec("witmotion", feed=AnalyticRepsFeed()), clock=clock) as env:
            found = await scan(1.0, backend=env.scanner_backend, clock=clock)
            source = BleSource(found[0], config=config, clock=clock, client_backend=env.client_backend,
                               exercise="squat", load_kg=100.0)
            items = await _collect(source, until_s=8.0)
            return env.peripherals[0], found, source, items

    peripheral, found, source, items = run(main())
    assert [f.name for f in found] == ["WT901BLE68"] and found[0].protocol is WIT
    # The sensor received exactly the configuration bytes and switched rate.
    assert [p for _, _, p in peripheral.writes if p[2] != 0x27] == [w.payload for w in WIT.start_writes(config)]
    assert peripheral.device.config.rate_hz == 100.0
    events = _events(items)
    assert [e.kind for e in events] == [LINK_CONNECTED, LINK_CONFIG]
    assert events[0].detail["address"] == peripheral.address
    # Host == sensor, sample for sample, within one LSB of quantisation.
    sent = peripheral.samples.arrays()
    assert sent["delivered"].all()
    decoded = _decode(items, WIT, config)
    assert len(decoded) == len(sent["feed_time_s"]) > 500
    np.testing.assert_allclose(decoded.accel_mps2, sent["accel_mps2"], atol=WIT_ACC_LSB)
    np.testing.assert_allclose(decoded.gyro_rads, sent["gyro_rads"], atol=WIT_GYRO_LSB)
    # Header and status say what happened.
    assert source.header.sensor == "witmotion" and source.header.rate_hz == 100.0
    assert source.header.exercise == "squat" and source.header.load_kg == 100.0
    assert source.header.extra["address"] == peripheral.address
    status = [i for i in items if isinstance(i, LinkEvent) and i.kind == LINK_STATUS]
    assert len(status) >= 6
    last = status[-1].detail
    assert last["connected"] and last["dropped"] == 0 and last["bad_frames"] == 0
    assert last["rate_hz"] == pytest.approx(100.0, rel=0.03)
    assert -61 <= last["rssi_dbm"] <= -55
    assert last["battery_pct"] is not None  # read from the 0x71 battery register reply


def test_host_timestamps_follow_the_sensor_clock_when_nothing_batches(clock):
    async def main():
        async with virtual_environment(VirtualSensorSpec(ToyProtocol), clock=clock) as env:
            found = await scan(0.5, backend=env.scanner_backend, clock=clock, protocols=[ToyProtocol])
            source = BleSource(found[0], config=ToyProtocol.make_config(rate_hz=50), clock=clock,
                               client_backend=env.client_backend)
            return env.peripherals[0], await _collect(source, until_s=5.0)

    peripheral, items = run(main())
    packets = [i for i in items if isinstance(i, RawPacket) and i.char_uuid.startswith("0000fff1")]
    sent = [s for s in peripheral.sent if s.kind == "data"]
    assert [p.payload for p in packets] == [s.payload for s in sent]
    # With no connection interval or jitter configured, arrival time == send time.
    assert [p.host_time_s for p in packets] == pytest.approx([s.time_s for s in sent], abs=1e-9)


def test_find_by_name_or_address_and_the_not_found_errors(clock):
    async def main():
        async with virtual_environment("witmotion", VirtualSensorSpec(ToyProtocol), clock=clock) as env:
            by_name = await find_sensor("wt901ble68", 2.0, backend=env.scanner_backend, clock=clock)
            by_address = await find_sensor(env.peripherals[0].address.lower(), 2.0, backend=env.scanner_backend,
                                           clock=clock)
            t0 = clock.monotonic()
            with pytest.raises(SensorNotFoundError) as missing:
                await find_sensor("WT901BLE99", 3.0, backend=env.scanner_backend, clock=clock)
            waited = clock.monotonic() - t0
            with pytest.raises(UnsupportedSensorError) as unsupported:
                await find_sensor("TOY-0001", 2.0, backend=env.scanner_backend, clock=clock)
            return env, by_name, by_address, missing.value, waited, unsupported.value

    env, by_name, by_address, missing, waited, unsupported = run(main())
    assert by_name.address == by_address.address == env.peripherals[0].address
    assert by_name.protocol is WIT
    assert waited == pytest.approx(3.0)
    assert missing.identifier == "WT901BLE99" and "is it awake" in str(missing) and "vbt scan" in str(missing)
    assert unsupported.name == "TOY-0001" and "witmotion" in str(unsupported)


def test_link_drop_mid_set_reconnects_reapplies_config_and_loses_nothing_beyond_the_gap(clock):
    config = WIT.make_config(rate_hz=100)
    faults = FaultPlan(link_drops=(LinkDrop(at_s=3.0, back_after_s=2.0),))

    async def main():
        async with virtual_environment(VirtualSensorSpec("witmotion", faults=faults), clock=clock) as env:
            found = await scan(0.5, backend=env.scanner_backend, clock=clock)
            source = BleSource(found[0], config=config, clock=clock, client_backend=env.client_backend)
            items = await _collect(source, until_s=10.0)
            return env.peripherals[0], source, items

    peripheral, source, items = run(main())
    kinds = [e.kind for e in _events(items)]
    assert kinds == [LINK_CONNECTED, LINK_CONFIG, LINK_DISCONNECTED, LINK_RECONNECTED, LINK_CONFIG]
    events = _events(items)
    down, up = events[2], events[3]
    assert up.host_time_s - down.host_time_s == pytest.approx(2.0, abs=0.3)
    assert up.detail["gap_s"] == pytest.approx(up.host_time_s - down.host_time_s)
    # Configuration re-applied on the new link: the full start sequence was written twice.
    config_writes = [p for _, _, p in peripheral.writes if p[2] != 0x27]
    assert config_writes == 2 * [w.payload for w in WIT.start_writes(config)]
    # No sample the sensor sent is missing and none is invented; samples resume after the gap.
    sent = peripheral.samples.arrays()
    assert sent["delivered"].all()
    decoded = _decode(items, WIT, config)
    assert len(decoded) == len(sent["feed_time_s"])
    np.testing.assert_allclose(decoded.accel_mps2, sent["accel_mps2"], atol=WIT_ACC_LSB)
    gap = np.diff(sent["feed_time_s"])
    assert gap.max() == pytest.approx(2.0, abs=0.05)  # the only hole is the link gap
    assert sent["feed_time_s"][-1] > 9.0
    assert source.lost is None
    packets_after = [i for i in items if isinstance(i, RawPacket) and i.host_time_s > up.host_time_s]
    assert len(packets_after) > 300


def test_power_cycled_sensor_comes_back_with_defaults_and_is_configured_again(clock):
    config = ToyProtocol.make_config(rate_hz=100)
    faults = FaultPlan(link_drops=(LinkDrop(at_s=2.0, back_after_s=1.0, reset=True),))

    async def main():
        async with virtual_environment(VirtualSensorSpec(ToyProtocol, faults=faults), clock=clock) as env:
            found = await scan(0.5, backend=env.scanner_backend, clock=clock, protocols=[ToyProtocol])
            source = BleSource(found[0], config=config, clock=clock, client_backend=env.client_backend)
            items = await _collect(source, until_s=6.0)
            return env.peripherals[0], items

    peripheral, items = run(main())
    starts = [p for _, _, p in peripheral.writes if p[0] == 0x01]
    assert starts == [b"\x01\x64\x00", b"\x01\x64\x00"]
    assert ("back", {"reset": True}) in [(kind, detail) for _, kind, detail in peripheral.events]
    sent = peripheral.samples.arrays()
    # The fresh device streams at its power-on 50 Hz only if nobody configures it; every
    # sample before and after the power cycle came at the configured 100 Hz.
    assert set(sent["rate_hz"].tolist()) == {100.0}
    assert (sent["feed_time_s"] > 3.5).sum() > 150


def test_sensor_that_never_comes_back_ends_the_stream_cleanly_with_sensor_lost(clock):
    faults = FaultPlan(link_drops=(LinkDrop(at_s=2.0, back_after_s=None),))
    policy = ReconnectPolicy(budget_s=20.0)

    async def main():
        async with virtual_environment(VirtualSensorSpec("witmotion", faults=faults), clock=clock) as env:
            found = await scan(0.5, backend=env.scanner_backend, clock=clock)
            source = BleSource(found[0], config=WIT.make_config(rate_hz=50), clock=clock,
                               client_backend=env.client_backend, reconnect=policy, connect_timeout_s=5.0)
            items = await _collect(source)  # ends by itself
            return env.peripherals[0], source, items

    peripheral, source, items = run(main())
    events = _events(items)
    assert [e.kind for e in events] == [LINK_CONNECTED, LINK_CONFIG, LINK_DISCONNECTED, LINK_LOST]
    assert events[-1].host_time_s - events[-2].host_time_s == pytest.approx(20.0, abs=0.5)
    assert isinstance(source.lost, SensorLostError)
    assert source.lost.gave_up_after_s == pytest.approx(20.0, abs=0.5)
    assert "recording so far is complete" in str(source.lost)
    decoded = _decode(items, WIT, WIT.make_config(rate_hz=50))
    assert len(decoded) == peripheral.samples.arrays()["delivered"].sum() > 50


def test_garbage_truncation_and_corruption_are_counted_and_the_stream_continues(clock):
    faults = FaultPlan(garbage_prob=0.03, truncate_prob=0.02, corrupt_prob=0.02, seed=7)
    config = ToyProtocol.make_config(rate_hz=100)

    async def main():
        async with virtual_environment(VirtualSensorSpec(ToyProtocol, faults=faults), clock=clock) as env:
            found = await scan(0.5, backend=env.scanner_backend, clock=clock, protocols=[ToyProtocol])
            source = BleSource(found[0], config=config, clock=clock, client_backend=env.client_backend)
            items = await _collect(source, until_s=10.0)
            return env.peripherals[0], source, items

    peripheral, source, items = run(main())
    counts = peripheral.fault_counts
    assert counts["garbage"] > 5 and counts["truncated"] > 3 and counts["corrupted"] > 3
    decoder = ToyProtocol.decoder(config)
    decoded = [b for i in items if isinstance(i, RawPacket) for b in decoder.feed(i.char_uuid, i.payload, i.host_time_s)]
    # Every intact notification decodes; the sample clock shows nothing was skipped but the bad ones.
    sent = peripheral.samples.arrays()
    got = np.concatenate([b.accel_mps2 for b in decoded])
    assert decoder.stats.bad_frames > counts["truncated"] + counts["corrupted"]  # + the garbage
    assert len(got) == sent["delivered"].sum()
    np.testing.assert_allclose(got, sent["accel_mps2"][sent["delivered"]], atol=0.01)
    status = [i for i in items if isinstance(i, LinkEvent) and i.kind == LINK_STATUS][-1].detail
    assert status["bad_frames"] > 0 and status["connected"]
    assert source.status().samples == decoder.stats.samples


def test_dropped_notifications_are_estimated_from_the_sensor_clock(clock):
    faults = FaultPlan(drop_prob=0.05, drop_burst=2.0, seed=3)
    config = ToyProtocol.make_config(rate_hz=100)

    async def main():
        async with virtual_environment(VirtualSensorSpec(ToyProtocol, faults=faults), clock=clock) as env:
            found = await scan(0.5, backend=env.scanner_backend, clock=clock, protocols=[ToyProtocol])
            source = BleSource(found[0], config=config, clock=clock, client_backend=env.client_backend)
            await _collect(source, until_s=12.0)
            return env.peripherals[0], source

    peripheral, source = run(main())
    lost_notifications = peripheral.fault_counts["dropped"]
    assert 20 < lost_notifications < 80  # ~5 % of ~600
    sent = peripheral.samples.arrays()
    # Losses in the middle of the stream are all seen (2 samples per notification).
    assert source.status().dropped == pytest.approx((~sent["delivered"]).sum(), abs=4)


def test_rate_change_mid_stream_shows_in_measured_rate(clock):
    faults = FaultPlan(rate_changes=(RateChange(at_s=4.0, rate_hz=25.0),))

    async def main():
        async with virtual_environment(VirtualSensorSpec("witmotion", faults=faults), clock=clock) as env:
            found = await scan(0.5, backend=env.scanner_backend, clock=clock)
            source = BleSource(found[0], config=WIT.make_config(rate_hz=100), clock=clock,
                               client_backend=env.client_backend)
            return env.peripherals[0], await _collect(source, until_s=20.0)

    peripheral, items = run(main())
    status = {round(i.host_time_s): i.detail for i in items if isinstance(i, LinkEvent) and i.kind == LINK_STATUS}
    early = [d["rate_hz"] for t, d in status.items() if 3 <= t <= 5]
    assert early and max(early) == pytest.approx(100.0, rel=0.05)
    assert min(d["rate_hz"] or 100.0 for d in status.values()) < 70.0  # the change shows in link health
    # ... and the sensor is configured again (the watchdog), so it streams at the requested rate
    kicks = [e for e in _events(items) if e.kind == LINK_CONFIG and "reason" in e.detail]
    assert len(kicks) == 1 and "instead of 100 Hz" in kicks[0].detail["reason"]
    assert 2.0 <= kicks[0].host_time_s - 4.0 <= 10.0
    assert [p for _, _, p in peripheral.writes if p[2] != 0x27][-len(WIT.start_writes(WIT.make_config(rate_hz=100))):] \
        == [w.payload for w in WIT.start_writes(WIT.make_config(rate_hz=100))]
    late = [d["rate_hz"] for t, d in status.items() if t >= 18]
    assert late and late[-1] == pytest.approx(100.0, rel=0.05)
    assert sum(isinstance(i, RawPacket) for i in items[-50:]) > 20  # still streaming


def test_two_sensors_stream_at_once_each_into_its_own_source(clock):
    config = WIT.make_config(rate_hz=50)

    async def main():
        async with virtual_environment(
            VirtualSensorSpec("witmotion", feed=AnalyticRepsFeed(reps=3)),
            VirtualSensorSpec("witmotion", feed=AnalyticRepsFeed(reps=6, rom_m=0.3)),
            clock=clock,
        ) as env:
            found = await scan(0.5, backend=env.scanner_backend, clock=clock)
            sources = [BleSource(f, config=config, clock=clock, client_backend=env.client_backend) for f in found]
            results = await asyncio.gather(*(_collect(s, until_s=8.0) for s in sources))
            return env, found, results

    env, found, results = run(main())
    assert sorted(f.name for f in found) == ["WT901BLE68", "WT901BLE682"]
    for sensor, items in zip(found, results, strict=True):
        peripheral = env.peripheral(sensor.address)
        sent = peripheral.samples.arrays()
        decoded = _decode(items, WIT, config)
        assert len(decoded) == len(sent["feed_time_s"]) > 200
        np.testing.assert_allclose(decoded.accel_mps2, sent["accel_mps2"], atol=WIT_ACC_LSB)
    # Different motions really went to different sources.
    assert not np.allclose(_decode(results[0], WIT, config).accel_mps2[:200],
                           _decode(results[1], WIT, config).accel_mps2[:200])


def test_adapter_unplugged_and_back_reconnects(clock):
    async def main():
        async with virtual_environment("witmotion", clock=clock) as env:
            found = await scan(0.5, backend=env.scanner_backend, clock=clock)
            source = BleSource(found[0], config=WIT.make_config(rate_hz=50), clock=clock,
                               client_backend=env.client_backend)

            async def unplug_and_replug():
                await clock.sleep(3.0)
                await env.air.remove_adapter()
                await clock.sleep(4.0)
                env.air.restore_adapter()

            task = asyncio.ensure_future(unplug_and_replug())
            items = await _collect(source, until_s=14.0)
            await task
            return items

    events = _events(run(main()))
    kinds = [e.kind for e in events]
    assert kinds == [LINK_CONNECTED, LINK_CONFIG, LINK_DISCONNECTED, LINK_RECONNECTED, LINK_CONFIG]
    assert events[3].host_time_s - events[2].host_time_s >= 4.0


def test_stop_from_another_thread_ends_iteration_and_closes(clock):
    async def main():
        async with virtual_environment("witmotion", clock=clock) as env:
            found = await scan(0.5, backend=env.scanner_backend, clock=clock)
            source = BleSource(found[0], config=WIT.make_config(rate_hz=50), clock=clock,
                               client_backend=env.client_backend)
            items = []
            async with source:
                async for item in source:
                    items.append(item)
                    if len(items) == 100:
                        thread = threading.Thread(target=source.stop)
                        thread.start()
                        thread.join()
            return env.peripherals[0], source, items

    peripheral, source, items = run(main())
    assert 100 <= len(items) < 120  # the stop takes effect at once
    assert not source.connected and not peripheral.connected


def test_bluetooth_unavailable_maps_os_errors_to_one_clear_message():
    off = bluetooth_unavailable(BleakBluetoothNotAvailableError("x", BleakBluetoothNotAvailableReason.POWERED_OFF))
    assert isinstance(off, BluetoothUnavailableError) and "switched off" in str(off)
    none = bluetooth_unavailable(BleakBluetoothNotAvailableError("x", BleakBluetoothNotAvailableReason.NO_BLUETOOTH))
    assert "no Bluetooth adapter" in str(none) and "--virtual" in str(none)
    bluez = bluetooth_unavailable(BleakDBusError("org.freedesktop.DBus.Error.ServiceUnknown", []))
    assert "bluetoothd" in str(bluez)
    if __import__("sys").platform.startswith("linux"):
        assert "D-Bus" in str(bluetooth_unavailable(FileNotFoundError(2, "No such file or directory")))
    assert bluetooth_unavailable(ValueError("unrelated")) is None


@pytest.mark.parametrize("cure", ["write", "reconnect"])
def test_a_silent_sensor_is_configured_again_then_reconnected(clock, cure):
    faults = FaultPlan(stalls=(Stall(at_s=3.0, cure=cure),))
    config = WIT.make_config(rate_hz=50)

    async def main():
        async with virtual_environment(VirtualSensorSpec("witmotion", faults=faults), clock=clock) as env:
            found = await scan(0.5, backend=env.scanner_backend, clock=clock)
            source = BleSource(found[0], config=config, clock=clock, client_backend=env.client_backend,
                               stall_timeout_s=4.0)
            items = await _collect(source, until_s=20.0)
            return env.peripherals[0], items

    peripheral, items = run(main())
    events = _events(items)
    kinds = [e.kind for e in events]
    if cure == "write":
        assert kinds == [LINK_CONNECTED, LINK_CONFIG, LINK_CONFIG]
    else:
        assert kinds == [LINK_CONNECTED, LINK_CONFIG, LINK_CONFIG, LINK_DISCONNECTED, LINK_RECONNECTED, LINK_CONFIG]
        assert "no data" in events[3].detail["reason"]
    stall_t = next(t for t, kind, _ in peripheral.events if kind == "stall")
    assert "no data" in events[2].detail["reason"]
    # re-configured after 4-5 s of silence (the check runs once a second)
    assert 4.0 <= events[2].host_time_s - stall_t <= 5.5
    cured = [(t, d["by"]) for t, kind, d in peripheral.events if kind == "stall_cured"]
    assert len(cured) == 1 and cured[0][1] == cure
    # data flows again afterwards
    assert sum(1 for i in items if isinstance(i, RawPacket) and i.host_time_s > cured[0][0] + 1.0) > 100


def test_scan_all_lists_unsupported_devices_and_reads_battery_where_it_can(clock):
    async def main():
        async with virtual_environment(VirtualSensorSpec("witmotion", rssi_dbm=-50.0),
                                       VirtualSensorSpec(ToyProtocol, rssi_dbm=-75.0), clock=clock) as env:
            default = await scan(0.5, backend=env.scanner_backend, clock=clock)
            everything = await scan(0.5, backend=env.scanner_backend, clock=clock, include_unsupported=True,
                                    battery=True, client_backend=env.client_backend)
            toy = await scan(0.5, backend=env.scanner_backend, clock=clock, protocols=[ToyProtocol],
                             battery=True, client_backend=env.client_backend)
            return default, everything, toy

    default, everything, toy = run(main())
    assert [s.name for s in default] == ["WT901BLE68"]
    # supported first, then the rest; battery read over GATT (WitMotion: register reply)
    assert [(s.name, s.protocol.name if s.protocol else None) for s in everything] == [
        ("WT901BLE68", "witmotion"), ("TOY-0001", None)]
    assert everything[0].battery_pct == 75.0 and everything[1].battery_pct is None
    assert everything[1].model == "unsupported"
    assert toy[0].battery_pct == 64.0  # the standard 0x2A19 characteristic
