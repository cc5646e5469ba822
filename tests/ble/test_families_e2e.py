"""End to end for every registered sensor family, through the emulated Bluetooth link.

Per family: scan finds the virtual sensor; BleSource connects and configures it (the virtual
device must receive exactly ``start_writes`` and switch to the requested rate/range); a set
streams into a recording; replaying that recording through the family's decoder gives back
exactly the samples the simulator rendered for the virtual sensor (within one quantisation
step), with sensor timestamps where the family has them.
"""

from __future__ import annotations

import numpy as np
import pytest
from ble_helpers import run

from firmware_protocols import PROTOCOLS, StreamConfig, get_protocol
from vbt.ble import VirtualSensorSpec, virtual_environment
from vbt.ble.feeds import SimulatedFeed
from vbt.recording.reader import open_recording
from vbt.recording.writer import RecordingWriter
from vbt.sources import RawPacket
from vbt.sources.ble import BleSource, recommended_config, scan

FAMILIES = sorted(PROTOCOLS)


@pytest.mark.parametrize("name", FAMILIES)
def test_family_scan_configure_stream_record_replay(name, clock, tmp_path):
    protocol = get_protocol(name)
    config = recommended_config(protocol)
    feed = SimulatedFeed.for_stream(config, exercise="bench", seed=5, reps=2, lead_in_s=1.0, tail_s=1.0)
    path = tmp_path / f"{name}.jsonl.gz"

    async def main():
        spec = VirtualSensorSpec(protocol, feed=feed, clock_error=-feed.clock_drift)
        async with virtual_environment(spec, clock=clock) as env:
            peripheral = env.peripherals[0]
            found = await scan(1.0, backend=env.scanner_backend, clock=clock)
            ours = [f for f in found if f.address == peripheral.address]
            source = BleSource(ours[0], protocol=protocol, config=config, clock=clock,
                               client_backend=env.client_backend, exercise="squat")
            async with source:
                with RecordingWriter(path, source.header) as writer:
                    async for item in source:
                        writer.write_item(item)
                        if clock.monotonic() > feed.duration_s + 2.0:
                            break
            return peripheral, found

    peripheral, found = run(main())

    # Scan: the sensor is found and recognised as this family (or its sibling on the same
    # device, e.g. metawear for metawear_fusion: the protocol is then chosen explicitly).
    (hit,) = [f for f in found if f.address == peripheral.address]
    assert hit.name == peripheral.name and hit.protocol is not None and hit.protocol.matches(hit.name)

    # Configure: exact bytes, and the device switched to what was asked.
    start = [w.payload for w in protocol.start_writes(config)]
    assert [payload for _, _, payload in peripheral.writes[: len(start)]] == start
    # (the device itself may be back at its defaults: closing the source sent stop_writes)
    wanted = (config.rate_hz, config.accel_range_g, config.gyro_range_dps)
    configured = [i for i, (_, c) in enumerate(peripheral.config_log)
                  if (c.rate_hz, c.accel_range_g, c.gyro_range_dps) == wanted]
    assert configured, f"the sensor never streamed with {wanted}: {peripheral.config_log}"

    # Replay: the recording decodes to a stream that holds, contiguously and in order, every
    # sample the sensor rendered under the requested configuration (within one LSB). Samples
    # from before the configuration took effect may precede them (WitMotion's 10 Hz power-on
    # stream) and the very end may be cut mid-packet where the reader stopped (the last
    # notifications of that instant, or a Polar ACC frame whose GYRO half had not come yet).
    rec = open_recording(path)
    assert rec.header.sensor == name and rec.warnings == []
    decoder = protocol.decoder(StreamConfig.from_dict(rec.header.stream))
    batches = [b for item in rec if isinstance(item, RawPacket)
               for b in decoder.feed(item.char_uuid, item.payload, item.host_time_s)]
    assert decoder.stats.bad_frames == 0 and decoder.stats.skipped_bytes == 0
    sent = peripheral.samples.arrays()
    block = sent["delivered"] & np.isin(sent["config_index"], configured)
    n = int(block.sum())
    assert n > 5.0 * config.rate_hz  # the whole set, not a handful of packets
    rendered_acc = sent["accel_mps2"][block]
    acc = np.concatenate([b.accel_mps2 for b in batches])
    res = protocol.resolution(config)
    tol = res.accel_mps2 * 1.01

    def matches_from(k: int) -> bool:
        m = min(n, len(acc) - k)
        return m > 0 and np.allclose(acc[k:k + m], rendered_acc[:m], rtol=0, atol=tol)

    offsets = [k for k in range(min(len(acc), int(config.rate_hz) + 20)) if matches_from(k)]
    assert offsets, f"the {n} rendered samples are not in the {len(acc)} decoded ones"
    k = offsets[0]
    m = min(n, len(acc) - k)
    assert n - m <= 0.25 * config.rate_hz + 8, f"{n - m} rendered samples missing at the end"
    if config.gyro_range_dps is not None:
        gyro = np.concatenate([b.gyro_rads for b in batches])
        np.testing.assert_allclose(gyro[k:k + m], sent["gyro_rads"][block][:m], rtol=0, atol=res.gyro_rads * 1.01)
    if protocol.has_sensor_clock:
        t = np.concatenate([b.sensor_time_s for b in batches])[k:k + m]
        truth = sent["sensor_time_s"][block][:m]
        np.testing.assert_allclose(np.diff(t), np.diff(truth), rtol=0, atol=max(res.time_s, 1e-6) * 2)
