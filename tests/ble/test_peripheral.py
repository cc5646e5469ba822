"""The virtual sensor's radio behaviour and faults: advertising, batching, jitter, clock error,
loss statistics, duplication and reordering."""

from __future__ import annotations

import numpy as np
import pytest
from ble_helpers import run
from ble_toy_protocol import DATA, ToyProtocol
from bumble.core import AdvertisingData

from firmware_protocols import get_protocol
from vbt.ble import FaultPlan, RadioModel, VirtualSensorSpec, virtual_environment
from vbt.ble.faults import FaultState
from vbt.ble.peripheral import advertising_payload
from vbt.sources import LinkEvent, RawPacket
from vbt.sources.ble import BleSource, scan

WIT = get_protocol("witmotion")


def test_advertising_payload_fits_legacy_advertising_and_keeps_the_name_first():
    wit = advertising_payload("WT901BLE68", WIT.advertised_service_uuids)
    assert len(wit) <= 31
    parsed = AdvertisingData.from_bytes(wit)
    assert parsed.get(AdvertisingData.COMPLETE_LOCAL_NAME) == "WT901BLE68"
    # 10-byte name + flags leave no room for a 128-bit UUID (18 bytes with its header).
    assert parsed.get(AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS) is None
    toy = AdvertisingData.from_bytes(advertising_payload("TOY-0001", ("fff0", "180f")))
    assert [u.to_hex_str() for u in toy.get(AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS)] == [
        "FFF0", "180F"]
    long_name = advertising_payload("Movesense 123456789012345678901234", ())
    assert len(long_name) <= 31
    assert AdvertisingData.from_bytes(long_name).get(AdvertisingData.SHORTENED_LOCAL_NAME).startswith("Movesense 12")


def _stream(clock, spec: VirtualSensorSpec, config, until_s: float, protocols=None):
    async def main():
        async with virtual_environment(spec, clock=clock) as env:
            found = await scan(0.5, backend=env.scanner_backend, clock=clock, protocols=protocols)
            source = BleSource(found[0], config=config, clock=clock, client_backend=env.client_backend)
            items = []
            async with source:
                async for item in source:
                    items.append(item)
                    if clock.monotonic() >= until_s:
                        break
            return env.peripherals[0], source, items

    return run(main())


def test_connection_interval_batches_notifications_on_connection_events(clock):
    radio = RadioModel(connection_interval_s=0.03)
    peripheral, _, items = _stream(clock, VirtualSensorSpec("witmotion", radio=radio),
                                   WIT.make_config(rate_hz=200), 6.0)
    origin = next(t for t, kind, _ in peripheral.events if kind == "stream_origin")
    times = np.array([i.host_time_s for i in items if isinstance(i, RawPacket)
                      and i.payload[1] == 0x61 and i.host_time_s > origin + 1.0])
    phase = (times - origin) / 0.03
    np.testing.assert_allclose(phase, np.round(phase), atol=1e-6)  # only at connection events
    per_event = np.unique(np.round(phase), return_counts=True)[1]
    assert per_event.mean() == pytest.approx(6.0, abs=0.2)  # 200 Hz x 30 ms
    status = [i.detail for i in items if isinstance(i, LinkEvent) and i.kind == "status"][-1]
    assert status["rate_hz"] == pytest.approx(200.0, rel=0.03)


def test_jitter_delays_deliveries_within_bounds_and_keeps_order(clock):
    radio = RadioModel(jitter_s=0.004)
    peripheral, _, items = _stream(clock, VirtualSensorSpec("witmotion", radio=radio),
                                   WIT.make_config(rate_hz=100), 6.0)
    packets = [i for i in items if isinstance(i, RawPacket) and i.payload[1] == 0x61]
    sent = peripheral.samples.arrays()
    origin = next(t for t, kind, _ in peripheral.events if kind == "stream_origin")
    # Each sample leaves when it exists plus 0..4 ms: compare arrival with the sample's time.
    n = len(packets)
    delay = np.array([p.host_time_s for p in packets]) - (origin + sent["feed_time_s"][:n])
    assert delay.min() >= -1e-9 and delay.max() <= 0.004 + 1e-9
    assert delay.std() > 0.0005  # really jittered
    assert np.all(np.diff([p.host_time_s for p in packets]) >= 0)


def test_a_slow_sensor_clock_shows_as_a_lower_measured_rate(clock):
    _, source, _ = _stream(clock, VirtualSensorSpec("witmotion", clock_error=-0.01),
                           WIT.make_config(rate_hz=200), 12.0)
    # WitMotion field reports: ~197.8 Hz at a nominal 200 Hz (sensors.md §2).
    assert source.status().rate_hz == pytest.approx(198.0, abs=0.3)


def test_bursty_loss_hits_the_target_rate_and_burst_length():
    state = FaultState(FaultPlan(drop_prob=0.05, drop_burst=3.0, seed=11))
    lost = np.array([state.lose() for _ in range(200_000)])
    assert lost.mean() == pytest.approx(0.05, rel=0.1)
    starts = np.flatnonzero(np.diff(np.concatenate([[0], lost.astype(int)])) == 1)
    assert lost.sum() / len(starts) == pytest.approx(3.0, rel=0.1)


def test_duplicated_and_reordered_notifications_are_caught_by_a_sensor_clock(clock):
    faults = FaultPlan(duplicate_prob=0.03, reorder_prob=0.03, seed=5)
    peripheral, source, items = _stream(clock, VirtualSensorSpec(ToyProtocol, faults=faults),
                                        ToyProtocol.make_config(rate_hz=100), 10.0, protocols=[ToyProtocol])
    counts = peripheral.fault_counts
    assert counts["duplicated"] > 5 and counts["reordered"] > 5
    decoder = ToyProtocol.decoder(ToyProtocol.make_config(rate_hz=100))
    batches = [b for i in items if isinstance(i, RawPacket) for b in decoder.feed(i.char_uuid, i.payload, i.host_time_s)]
    t = np.concatenate([b.sensor_time_s for b in batches])
    assert np.all(np.diff(t) > 0)  # nothing repeated or out of order reaches the pipeline
    # every duplicate and every late (reordered) notification was rejected, nothing else
    assert decoder.stats.duplicates == counts["duplicated"] + counts["reordered"]
    data_sent = sum(1 for s in peripheral.sent if s.char_uuid == DATA and s.kind == "data" and s.delivered)
    assert decoder.stats.frames == data_sent - counts["reordered"]
