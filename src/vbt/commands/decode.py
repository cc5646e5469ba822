"""``vbt decode``: decode sensor notifications pasted as hex -- the tool for bringing up a sensor.

Each HEX argument is one notification as a BLE explorer app (nRF Connect, LightBlue) shows it:
``55 61 00 08 ...`` (quoted), ``55:61:00:08``, ``55-61-00-08``, ``0x5561...`` or ``5561...``.
Prefix an argument with ``UUID@`` to say which characteristic it came from (default: the
sensor's data characteristic), e.g. a Polar start response ``fb005c81@F0 02 02 00 00 05 01 ...``.

Output: one JSON object per decoded sample on stdout,
``{"sensor_time_s": 0.005 or null, "accel_mps2": [x, y, z], "gyro_rads": [x, y, z] or null}``,
then one line with the decoder's counters (``skipped_bytes``, ``bad_frames``, ...) plus
``battery_pct`` and ``info`` when the notifications carried them.

Examples::

    vbt decode --sensor witmotion "55 61 00 08 00 00 00 F8 00 01 00 FF 40 00 00 20 00 00 00 C0"
    vbt decode --sensor polar_h10 --rate 200 --range-g 8 0200ca9a3b0000000001e803000018fc0000d0070000
    vbt decode --sensor metawear --option chip=bmi270 "03 05 00 20 00 00 ..."
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

from vbt.commands._common import positive_float
from vbt.errors import UnsupportedSensorError, UsageError

#: Seconds between the notifications as fed to the decoder (host time only orders them).
_HOST_STEP_S = 0.01


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``decode`` subcommand and its options to ``subparsers``."""
    p = subparsers.add_parser(
        "decode",
        help="decode sensor notifications given as hex (bring-up tool)",
        description="Decode BLE notifications pasted as hex (e.g. from nRF Connect) with a sensor's decoder "
        "and print one JSON object per sample, then the decoder's counters.",
        epilog="Example: vbt decode --sensor witmotion \"55 61 00 08 00 00 00 F8 00 01 00 FF 40 00 00 20 00 00 00 C0\"",
    )
    p.add_argument("--sensor", required=True, metavar="NAME",
                   help="protocol name: witmotion, polar_h10, polar_verity_sense, metawear, metawear_fusion, "
                   "movesense, thingy52")
    p.add_argument("--rate", type=positive_float, default=None, metavar="HZ",
                   help="configured sample rate (default: the sensor's power-on default)")
    p.add_argument("--range-g", type=positive_float, default=None, metavar="G",
                   help="accelerometer range in g (default: the sensor's default)")
    p.add_argument("--gyro-range", type=float, default=None, metavar="DPS",
                   help="gyro range in deg/s; 0 decodes accelerometer only (default: the sensor's default)")
    p.add_argument("--factor", type=positive_float, default=None, metavar="F",
                   help="Polar ACC compression FACTOR, as in the START response (default 1.0)")
    p.add_argument("--gyro-factor", type=positive_float, default=None, metavar="F",
                   help="Polar GYRO compression FACTOR (default: range/32768 deg/s)")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="protocol option, e.g. chip=bmi270 (MetaWear), accel_limit_g=8 (Thingy:52); repeatable")
    p.add_argument("--char", default=None, metavar="UUID",
                   help="characteristic the notifications came from (default: the sensor's data characteristic)")
    p.add_argument("--strict", action="store_true", help="stop at the first malformed byte with an error")
    p.add_argument("hex", nargs="+", metavar="HEX", help="one notification per argument (quote hex with spaces)")
    return p


def _option_value(text: str) -> Any:
    """``--option`` values: booleans, integers and floats as such, anything else as text."""
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _options(args: argparse.Namespace) -> dict[str, Any]:
    """Protocol options from ``--option KEY=VALUE`` and the Polar ``--factor`` flags."""
    options: dict[str, Any] = {}
    for item in args.option:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError("--option", item, "give KEY=VALUE, e.g. --option chip=bmi270")
        options[key.strip()] = _option_value(value.strip())
    if args.factor is not None:
        options["acc_factor"] = args.factor
    if args.gyro_factor is not None:
        options["gyro_factor"] = args.gyro_factor
    return options


def _notifications(protocol: Any, args: argparse.Namespace) -> list[tuple[str, bytes]]:
    """``(characteristic, payload)`` per HEX argument.

    Raises:
        UsageError: naming the argument that is not hex.
    """
    from firmware_protocols import normalize_uuid
    from firmware_protocols._framing import parse_hex

    default_char = args.char or protocol.notify_uuids[-1]
    parsed: list[tuple[str, bytes]] = []
    for index, item in enumerate(args.hex, start=1):
        char, sep, text = item.rpartition("@")
        if not sep:
            char, text = default_char, item
        try:
            payload = parse_hex(text)
        except ValueError as err:
            raise UsageError(f"HEX argument {index}", item,
                             f"{err}; give bytes as hex, e.g. '55 61 00 08' or 55:61:00:08") from None
        parsed.append((normalize_uuid(char.strip()), payload))
    # An unquoted "55 61 00 ..." arrives as many one-byte arguments: one notification, not many.
    if len(parsed) > 1 and all(len(p) == 1 for _, p in parsed) and all("@" not in a for a in args.hex):
        print(f"vbt decode: treating {len(parsed)} one-byte arguments as one notification "
              "(quote each notification to give several)", file=sys.stderr)
        parsed = [(parsed[0][0], b"".join(p for _, p in parsed))]
    return parsed


def _num(value: float) -> float | None:
    """JSON has no NaN/inf: print null instead (decoders never emit them, but be safe)."""
    return value if math.isfinite(value) else None


def run(args: argparse.Namespace) -> int:
    """Decode the HEX arguments and print samples and counters as JSON lines.

    Raises:
        UnsupportedSensorError: ``--sensor`` names no registered protocol (lists the known ones).
        UsageError: an option value the sensor does not support, or an argument that is not hex.
        firmware_protocols.ProtocolError: with ``--strict``, at the first malformed byte.
    """
    import firmware_protocols as fp

    try:
        protocol = fp.get_protocol(args.sensor)
    except KeyError:
        raise UnsupportedSensorError(args.sensor, fp.PROTOCOLS) from None
    gyro: float | bool
    if args.gyro_range is None:
        gyro = True
    elif args.gyro_range == 0:
        gyro = False
    else:
        gyro = args.gyro_range
    options = _options(args)
    try:
        config = protocol.make_config(args.rate, args.range_g, gyro, **options)
    except ValueError as err:
        option = "--rate" if "rate" in str(err) else "--gyro-range" if "gyro" in str(err) else "--range-g"
        value = {"--rate": args.rate, "--gyro-range": args.gyro_range, "--range-g": args.range_g}[option]
        raise UsageError(option, value, str(err)) from None
    notes = _notifications(protocol, args)
    try:
        decoder = protocol.decoder(config, strict=args.strict)
    except ValueError as err:
        raise UsageError("--option", " ".join(args.option), str(err)) from None
    out = sys.stdout
    for i, (char, payload) in enumerate(notes):
        for batch in decoder.feed(char, payload, i * _HOST_STEP_S):
            for k in range(len(batch)):
                row = {
                    "sensor_time_s": None if batch.sensor_time_s is None else _num(float(batch.sensor_time_s[k])),
                    "accel_mps2": [_num(float(v)) for v in batch.accel_mps2[k]],
                    "gyro_rads": None if batch.gyro_rads is None else [_num(float(v)) for v in batch.gyro_rads[k]],
                }
                out.write(json.dumps(row) + "\n")
    summary: dict[str, Any] = decoder.stats.as_dict()
    if decoder.battery_pct is not None:
        summary["battery_pct"] = decoder.battery_pct
    info = {k: v for k, v in decoder.info.items() if v not in (None, 0, {}, [])}
    if info:
        summary["info"] = info
    out.write(json.dumps(summary, default=str) + "\n")
    return 0
