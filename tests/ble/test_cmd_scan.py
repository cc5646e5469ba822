"""``vbt scan``: virtual sensors, and the clear one-line message when Bluetooth is unavailable."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from bleak.backends.scanner import BaseBleakScanner
from bleak.exc import BleakBluetoothNotAvailableError, BleakBluetoothNotAvailableReason

import vbt.sources.ble as ble_source
from vbt.cli import main


def test_scan_virtual_lists_each_sensor_with_model_rssi_and_battery(capsys):
    assert main(["scan", "--virtual", "witmotion", "--virtual", "witmotion", "--battery"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["NAME", "ADDRESS", "SENSOR", "MODEL", "RSSI", "BATTERY"]
    assert [line.split()[0] for line in out[1:]] == ["WT901BLE68", "WT901BLE682"]
    assert all("witmotion" in line and "dBm" in line and line.rstrip().endswith("%") for line in out[1:])


def test_scan_virtual_json(capsys):
    assert main(["scan", "--virtual", "witmotion", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 1
    assert rows[0]["sensor"] == "witmotion" and rows[0]["name"] == "WT901BLE68"
    assert rows[0]["address"] == "F0:00:00:00:00:01" and isinstance(rows[0]["rssi_dbm"], int)
    assert rows[0]["battery_pct"] is None  # not advertised, and --battery not given


def test_scan_virtual_unknown_sensor_is_one_clear_line(capsys):
    assert main(["scan", "--virtual", "fitbit"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'fitbit' is not supported" in err[0] and "witmotion" in err[0]


def _has_adapter() -> bool:
    root = Path("/sys/class/bluetooth")
    return root.exists() and any(root.iterdir())


@pytest.mark.skipif(not sys.platform.startswith("linux") or _has_adapter(),
                    reason="checks the no-adapter path of a Linux machine without Bluetooth (CI)")
def test_scan_without_adapter_prints_the_clear_message_and_fails(capsys):
    # The real OS backend, as a user without Bluetooth would run it.
    assert main(["scan", "--timeout", "0.1"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("vbt: error: Bluetooth is not available:")
    assert "--virtual witmotion" in err[0]


class _PoweredOffScanner(BaseBleakScanner):
    """What bleak's backends raise when the adapter is switched off."""

    def __init__(self, detection_callback, service_uuids, scanning_mode="active", **kwargs):
        super().__init__(detection_callback, service_uuids)

    async def start(self) -> None:
        raise BleakBluetoothNotAvailableError(
            "No powered Bluetooth adapters found.", BleakBluetoothNotAvailableReason.POWERED_OFF
        )

    async def stop(self) -> None:
        pass


def test_scan_with_bluetooth_switched_off_says_so(capsys, monkeypatch):
    monkeypatch.setattr(ble_source, "DEFAULT_SCANNER_BACKEND", _PoweredOffScanner)
    assert main(["scan"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["vbt: error: Bluetooth is not available: Bluetooth is switched off; switch Bluetooth on "
                   "or plug in an adapter (or try `--virtual witmotion` to use a simulated sensor)"]
