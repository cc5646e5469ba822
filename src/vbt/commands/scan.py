"""``vbt scan``: list nearby supported sensors (name, address, model, RSSI, battery).

    vbt scan                          # 5 s scan with the computer's Bluetooth adapter
    vbt scan --timeout 10 --battery   # longer, and connect briefly to read each battery
    vbt scan --all                    # also list devices no supported protocol matches
    vbt scan --virtual witmotion,polar  # virtual sensors, no hardware needed

No adapter, Bluetooth switched off or no Bluetooth stack: one clear line and exit status 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from vbt.commands._common import positive_float

#: Default scan time with a real adapter (s): WitMotion sensors advertise slowly after about a
#: minute unconnected (sensors.md §2), so a few seconds are needed to catch them.
DEFAULT_TIMEOUT_S = 5.0
#: Scan window for virtual sensors (simulated time: it costs no waiting).
VIRTUAL_TIMEOUT_S = 0.5


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``vbt scan`` to the CLI's subparsers and return its parser."""
    parser = subparsers.add_parser(
        "scan",
        help="list nearby supported Bluetooth sensors",
        description="Scan for Bluetooth LE sensors and list the supported ones with their signal "
        "strength (and battery with --battery). Use --virtual to try it with simulated sensors.",
    )
    parser.add_argument("--timeout", type=positive_float, default=None, metavar="S",
                        help=f"scan time in seconds (default {DEFAULT_TIMEOUT_S:g}; "
                             f"{VIRTUAL_TIMEOUT_S:g} with --virtual)")
    parser.add_argument("--battery", action="store_true",
                        help="connect briefly to each sensor to read its battery level")
    parser.add_argument("--all", action="store_true", dest="include_unsupported",
                        help="also list advertising devices that no supported protocol matches")
    parser.add_argument("--format", choices=("table", "json"), default="table",
                        help="output format (default table)")
    parser.add_argument("--virtual", action="append", metavar="SENSOR",
                        help="scan virtual sensors instead of the air (repeatable or comma-separated: "
                             "witmotion, polar, metawear, movesense, thingy52)")
    return parser


def run(args: argparse.Namespace) -> int:
    """Scan and print the sensors found.

    Returns:
        0 when the scan ran (even if nothing was found).

    Raises:
        BluetoothUnavailableError: no adapter, Bluetooth off, no permission, no BlueZ.
        UnsupportedSensorError: an unknown ``--virtual`` name.
    """
    import asyncio

    found = asyncio.run(_scan(args))
    _print(found, args.format, args.include_unsupported)
    return 0


async def _scan(args: argparse.Namespace) -> list[Any]:
    from vbt.sources.ble import scan

    if args.virtual:
        from vbt.ble.environment import parse_virtual_names, virtual_environment, virtual_specs
        from vbt.clock import FakeClock

        names = parse_virtual_names(args.virtual)
        timeout = args.timeout if args.timeout is not None else VIRTUAL_TIMEOUT_S
        # Virtual sensors live on simulated time: the scan window passes without waiting.
        clock = FakeClock(until_idle=True)
        async with virtual_environment(*virtual_specs(names), clock=clock) as env:
            return await scan(timeout, backend=env.scanner_backend, clock=clock,
                              include_unsupported=args.include_unsupported, battery=args.battery,
                              client_backend=env.client_backend)
    timeout = args.timeout if args.timeout is not None else DEFAULT_TIMEOUT_S
    return await scan(timeout, include_unsupported=args.include_unsupported, battery=args.battery)


def _row(sensor: Any) -> dict[str, Any]:
    return {
        "name": sensor.name,
        "address": sensor.address,
        "sensor": sensor.protocol.name if sensor.protocol is not None else None,
        "model": sensor.model,
        "rssi_dbm": sensor.rssi_dbm,
        "battery_pct": sensor.battery_pct,
    }


def _print(found: list[Any], fmt: str, include_unsupported: bool) -> None:
    rows = [_row(s) for s in found]
    if fmt == "json":
        print(json.dumps(rows, indent=2))
        return
    if not rows:
        what = "Bluetooth LE devices" if include_unsupported else "supported sensors"
        print(f"no {what} found. Wake the sensor (switch it on, move or tap it), keep it close, "
              "close other apps connected to it, and scan again (or try --timeout 15).", file=sys.stderr)
        return
    table = [("NAME", "ADDRESS", "SENSOR", "MODEL", "RSSI", "BATTERY")]
    for r in rows:
        table.append((
            r["name"] or "?",
            r["address"],
            r["sensor"] or "-",
            r["model"],
            f"{r['rssi_dbm']} dBm" if r["rssi_dbm"] is not None else "-",
            f"{r['battery_pct']:.0f} %" if r["battery_pct"] is not None else "-",
        ))
    widths = [max(len(str(row[i])) for row in table) for i in range(len(table[0]))]
    for row in table:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
