"""``vbt record``: connect to one or more sensors, configure them and write raw-packet recordings.

    vbt record --sensor WT901BLE68 --exercise squat --load-kg 100 --out set1.jsonl.gz
    vbt record --sensor WT901BLE68 --sensor "Polar H10 A1B2C3D4" --out rack{n}_{name}.jsonl.gz
    vbt record --virtual witmotion --exercise squat --duration 40 --out set.jsonl.gz

Each sensor gets its own `BleSource` (reconnecting on its own) and its own file. ``--out`` is
a file for one sensor, or -- for several -- a folder or a pattern with placeholders:
``{n}`` (1, 2, ... in the order given), ``{name}`` (advertised name), ``{sensor}`` (protocol),
``{address}`` and ``{date}`` (local start time, ``YYYYmmdd-HHMMSS``). A folder gets
``{date}_{name}.jsonl.gz`` files.

A status line on stderr, refreshed twice a second, shows per sensor the measured rate, samples,
estimated drops, RSSI and battery. Ctrl-C, ``--duration`` or a sensor lost for good end the
recording; every file is complete and readable in all three cases (the writer flushes each
line). A recording that cannot be written (disk full, read-only) stops with one clear line while
the other sensors keep recording.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from vbt.commands._common import positive_float
from vbt.errors import UsageError, VbtError

log = logging.getLogger(__name__)
#: Placeholders ``--out`` understands.
PLACEHOLDERS = ("n", "name", "sensor", "address", "date")
_SUFFIXES = (".jsonl", ".jsonl.gz")
#: Status refresh period on a terminal (s); the issue asks for about 2 per second.
STATUS_PERIOD_S = 0.5
#: Without a terminal (logs, pipes) print a status line this rarely (s).
STATUS_PERIOD_PLAIN_S = 10.0


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``vbt record`` to the CLI's subparsers and return its parser."""
    parser = subparsers.add_parser(
        "record",
        help="record raw sensor data over Bluetooth to a file",
        description="Connect to Bluetooth sensors (or virtual ones), configure rate and range, and "
        "record every notification to a vbt recording. Ctrl-C stops cleanly.",
    )
    who = parser.add_argument_group("which sensor(s)")
    who.add_argument("--sensor", action="append", metavar="NAME|ADDRESS",
                     help="advertised name or address (repeat for several sensors; see `vbt scan`)")
    who.add_argument("--virtual", action="append", metavar="SENSOR",
                     help="record a simulated sensor through the emulated Bluetooth link instead "
                          "(witmotion, polar, metawear, movesense, thingy52; repeatable or comma-separated)")
    who.add_argument("--protocol", default=None, metavar="NAME",
                     help="force the sensor protocol for --sensor (when a sensor was renamed)")
    cfg = parser.add_argument_group("stream configuration")
    cfg.add_argument("--rate", type=positive_float, default=None, metavar="HZ",
                     help="sample rate (default: the sensor's recommended rate, about 200 Hz)")
    cfg.add_argument("--range-g", type=positive_float, default=None, metavar="G",
                     help="accelerometer full scale in g (default: up to 8 g, never below the sensor's default)")
    cfg.add_argument("--gyro-range", type=positive_float, default=None, metavar="DPS",
                     help="gyro full scale in deg/s (default: the sensor's default)")
    cfg.add_argument("--no-gyro", action="store_true", help="do not stream the gyro")
    lift = parser.add_argument_group("what is lifted (stored in the header)")
    lift.add_argument("--exercise", default=None, metavar="NAME",
                      help="squat, front-squat, bench, incline-bench, deadlift, ohp, row or generic "
                           "(virtual sensors simulate this lift; default squat for them)")
    lift.add_argument("--load-kg", type=positive_float, default=None, metavar="KG",
                      help="bar + plates in kg (enables power in the analysis)")
    lift.add_argument("--athlete", default=None, metavar="NAME", help="who lifts")
    lift.add_argument("--notes", default="", metavar="TEXT", help="free text")
    run_group = parser.add_argument_group("recording")
    run_group.add_argument("--out", required=True, metavar="FILE|DIR|PATTERN",
                           help="output .jsonl or .jsonl.gz file; for several sensors a folder or a pattern "
                                "such as rack{n}_{name}.jsonl.gz")
    run_group.add_argument("--duration", type=positive_float, default=None, metavar="S",
                           help="stop after S seconds (default: until Ctrl-C; virtual sensors: their set)")
    run_group.add_argument("--overwrite", action="store_true", help="replace existing output files")
    run_group.add_argument("--scan-timeout", type=positive_float, default=10.0, metavar="S",
                           help="how long to look for each --sensor (default 10)")
    run_group.add_argument("--reconnect-s", type=positive_float, default=60.0, metavar="S",
                           help="give up on a dropped sensor after S seconds without a link (default 60)")
    virt = parser.add_argument_group("virtual sensors")
    virt.add_argument("--seed", type=int, default=0, help="seed of the simulated set (default 0)")
    virt.add_argument("--replay", type=Path, default=None, metavar="RECORDING",
                      help="feed the virtual sensor(s) with this recording's samples instead of a "
                           "simulated set (re-record a file over the emulated link)")
    virt.add_argument("--faults", choices=("none", "typical", "harsh"), default="none",
                      help="link conditions of virtual sensors (default none)")
    virt.add_argument("--instant", action="store_true",
                      help="run virtual sensors on simulated time: the same recording, without waiting")
    return parser


# --------------------------------------------------------------------------- options


def stream_config(protocol: Any, args: argparse.Namespace) -> Any:
    """The `StreamConfig` to request from ``protocol`` given the command-line options.

    Unset options take `vbt.sources.ble.recommended_config`'s defaults (about 200 Hz, up to
    8 g but never below the sensor's default range, gyro on at its default range).

    Raises:
        UsageError: a value the sensor does not support (lists what it supports).
    """
    from vbt.sources.ble import recommended_config

    gyro: float | bool = True
    if args.no_gyro:
        gyro = False
    elif args.gyro_range is not None:
        gyro = args.gyro_range
    try:
        return recommended_config(protocol, rate_hz=args.rate, accel_range_g=args.range_g, gyro_range_dps=gyro)
    except ValueError as err:
        text = str(err)
        option, value = (("--rate", args.rate) if "rate" in text else
                         ("--gyro-range", args.gyro_range) if "gyro" in text else ("--range-g", args.range_g))
        raise UsageError(option, value, f"{protocol.display_name}: {err}") from None


def _has_placeholder(text: str) -> bool:
    return any("{" + p + "}" in text for p in PLACEHOLDERS)


def plan_outputs(out: str, count: int) -> list[str]:
    """Output templates, one per sensor (placeholders are filled once names are known).

    Raises:
        UsageError: the file name lacks .jsonl/.jsonl.gz, a single file was named for several
            sensors, the folder does not exist, or an unknown placeholder is used.
    """
    unknown = sorted(set(re.findall(r"{([^{}]*)}", out)) - set(PLACEHOLDERS))
    if unknown:
        raise UsageError("--out", out, f"unknown placeholder {{{unknown[0]}}}; use {', '.join('{'+p+'}' for p in PLACEHOLDERS)}")
    path = Path(out)
    if out.endswith(("/", "\\")) or path.is_dir():
        return [str(path / "{date}_{name}.jsonl.gz")] * count
    if not out.lower().endswith(_SUFFIXES):
        raise UsageError("--out", out, "name a .jsonl or .jsonl.gz file (gzip recommended), or an existing folder")
    if count > 1 and not _has_placeholder(out):
        raise UsageError("--out", out, f"{count} sensors need {count} files: give a folder or a pattern "
                         "such as rack{n}_{name}.jsonl.gz")
    if not path.parent.exists():
        raise UsageError("--out", out, f"folder {path.parent} does not exist; create it first")
    return [out] * count


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "sensor"


def fill_output(template: str, *, n: int, name: str, sensor: str, address: str, started: datetime) -> Path:
    """Fill an output template's placeholders (values made safe for file names)."""
    return Path(template.format(
        n=n, name=_safe(name), sensor=_safe(sensor), address=_safe(address.replace(":", "-")),
        date=started.strftime("%Y%m%d-%H%M%S"),
    ))


# --------------------------------------------------------------------------- running


@dataclass
class _Job:
    """One sensor being recorded."""

    index: int
    label: str
    template: str
    source: Any = None
    writer: Any = None
    path: Path | None = None
    packets: int = 0
    error: VbtError | None = None
    started_s: float | None = None
    done: bool = False
    notes: list[str] = field(default_factory=list)


def run(args: argparse.Namespace) -> int:
    """Record every requested sensor until Ctrl-C, ``--duration`` or loss of all of them.

    Returns:
        0 if every recording ended cleanly; otherwise the exit status of the first error
        (each error is printed as one line; the files stay complete and readable).

    Raises:
        UsageError: options that cannot work together or values a sensor does not support.
    """
    import asyncio

    if bool(args.sensor) == bool(args.virtual):
        raise UsageError("--sensor/--virtual", None, "give --sensor NAME|ADDRESS (real sensors) or --virtual SENSOR, "
                         "not both and not neither")
    if args.exercise is not None:
        from vbt.pipeline.settings import resolve_exercise

        args.exercise = resolve_exercise(args.exercise).name
    return asyncio.run(_record(args))


async def _record(args: argparse.Namespace) -> int:
    from firmware_protocols import PROTOCOLS, get_protocol
    from vbt.clock import FakeClock, MonotonicClock
    from vbt.errors import UnsupportedSensorError

    forced = None
    if args.protocol:
        try:
            forced = get_protocol(args.protocol)
        except KeyError:
            raise UnsupportedSensorError(args.protocol, PROTOCOLS) from None
    if args.virtual:
        from vbt.ble.environment import parse_virtual_names, virtual_environment, virtual_specs
        from vbt.ble.feeds import SimulatedFeed

        names = parse_virtual_names(args.virtual)
        templates = plan_outputs(args.out, len(names))
        clock = FakeClock(until_idle=True) if args.instant else MonotonicClock()

        def simulated_set(protocol: Any, seed: int) -> Any:
            # the set is simulated at the configuration this command will request
            return SimulatedFeed.for_stream(stream_config(protocol, args), exercise=args.exercise, seed=seed)

        feed_factory = simulated_set
        if args.replay is not None:
            from vbt.ble.feeds import RecordingFeed
            from vbt.commands._common import existing_file

            replayed = RecordingFeed(existing_file(args.replay, what="recording"))

            def feed_factory(protocol: Any, seed: int) -> Any:
                return replayed

        specs = virtual_specs(names, seed=args.seed, faults=args.faults, feed_factory=feed_factory)
        duration = args.duration
        if duration is None:  # the simulated set; its own lead-in and tail are part of it
            duration = max((s.feed.duration_s or 0.0) for s in specs)
        async with virtual_environment(*specs, clock=clock) as env:
            targets = [(p.name, p.protocol) for p in env.peripherals]
            extra = {"virtual": {"seed": args.seed, "faults": args.faults,
                                 "feed": [type(s.feed).__name__ for s in specs],
                                 **({"replayed": str(args.replay)} if args.replay is not None else {})}}
            return await _record_all(args, targets, templates, clock, duration, env.scanner_backend,
                                     env.client_backend, synthetic=True, extra=extra, live_status=not args.instant)
    if args.instant:
        raise UsageError("--instant", True, "only virtual sensors can run on simulated time")
    templates = plan_outputs(args.out, len(args.sensor))
    targets = [(s, forced) for s in args.sensor]
    return await _record_all(args, targets, templates, MonotonicClock(), args.duration, None, None,
                             synthetic=False, extra={}, live_status=True)


async def _record_all(
    args: argparse.Namespace,
    targets: list[tuple[str, Any]],
    templates: list[str],
    clock: Any,
    duration_s: float | None,
    scanner_backend: Any,
    client_backend: Any,
    *,
    synthetic: bool,
    extra: dict[str, Any],
    live_status: bool,
) -> int:
    import asyncio
    import signal

    from vbt.sources.ble import BleSource, ReconnectPolicy

    jobs = [_Job(i + 1, name, templates[i]) for i, (name, _) in enumerate(targets)]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    sigint_installed = False
    try:
        loop.add_signal_handler(signal.SIGINT, _on_sigint, loop, stop, jobs)
        sigint_installed = True
    except (NotImplementedError, RuntimeError, ValueError):  # Windows, or not the main thread
        pass
    for job, (target, protocol) in zip(jobs, targets, strict=True):
        job.source = BleSource(
            target, protocol, lambda found, a=args: stream_config(found, a), clock=clock, scanner_backend=scanner_backend, client_backend=client_backend,
            scan_timeout_s=args.scan_timeout, reconnect=ReconnectPolicy(budget_s=args.reconnect_s),
            exercise=args.exercise, load_kg=args.load_kg, athlete=args.athlete, notes=args.notes,
            synthetic=synthetic, extra={"recorded_by": "vbt record", **extra},
        )
    status_task = asyncio.ensure_future(_status_loop(jobs, clock, live_status)) if live_status else None
    started = datetime.now()
    try:
        await asyncio.gather(*(_record_one(job, args, clock, duration_s, stop, started) for job in jobs))
    except asyncio.CancelledError:  # Ctrl-C where signal handlers are unavailable
        stop.set()
    finally:
        if status_task is not None:
            status_task.cancel()
            await asyncio.gather(status_task, return_exceptions=True)
            _clear_status_line()
        if sigint_installed:
            loop.remove_signal_handler(signal.SIGINT)
    return _report(jobs)


def _on_sigint(loop: Any, stop: Any, jobs: list[_Job]) -> None:
    import signal

    print("\nvbt: stopping (Ctrl-C again to abort at once)...", file=sys.stderr)
    stop.set()
    for job in jobs:
        if job.source is not None:
            job.source.stop()
    loop.remove_signal_handler(signal.SIGINT)


async def _record_one(job: _Job, args: argparse.Namespace, clock: Any, duration_s: float | None,
                      stop: Any, started: datetime) -> None:
    from vbt.errors import RecordingWriteError
    from vbt.recording.writer import RecordingWriter

    source = job.source
    try:
        await source.open()
        job.label = source.name or job.label
        if stop.is_set():
            return
        job.path = fill_output(job.template, n=job.index, name=source.name, sensor=source.protocol.name,
                               address=source.address, started=started)
        if job.path.exists() and not args.overwrite:
            raise UsageError("--out", str(job.path), "the file exists; choose another name or pass --overwrite")
        job.writer = RecordingWriter(job.path, source.header)
        job.started_s = clock.monotonic()
        async for item in source:
            job.writer.write_item(item)
            if hasattr(item, "payload"):
                job.packets += 1
            if duration_s is not None and clock.monotonic() - job.started_s >= duration_s:
                break
            if stop.is_set():
                break
        if source.lost is not None:
            job.error = source.lost
    except VbtError as err:  # RecordingWriteError included: that sensor stops, the others go on
        job.error = err
        # printed as one line at the end; --debug (debug logging) also shows where it came from
        log.debug("%s: recording ended by an error", job.label, exc_info=True)
    finally:
        job.done = True
        await source.close()
        if job.writer is not None:
            try:
                job.writer.close()
            except RecordingWriteError as err:
                job.error = job.error or err


async def _status_loop(jobs: list[_Job], clock: Any, tty_only_refresh: bool) -> None:
    from vbt.sources.ble import describe_status

    tty = sys.stderr.isatty()
    period = STATUS_PERIOD_S if tty else STATUS_PERIOD_PLAIN_S
    while True:
        await clock.sleep(period)
        parts = []
        for job in jobs:
            source = job.source
            if source is None or job.started_s is None or job.done:
                continue
            elapsed = clock.monotonic() - job.started_s
            nominal = source.config.rate_hz
            parts.append(f"[{job.label}] {_mmss(elapsed)}  {describe_status(source.status(), nominal)}")
        if not parts:
            continue
        line = "  |  ".join(parts)
        if tty:
            sys.stderr.write("\r\x1b[K" + line)
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()


def _clear_status_line() -> None:
    if sys.stderr.isatty():
        sys.stderr.write("\r\x1b[K")
        sys.stderr.flush()


def _mmss(seconds: float) -> str:
    m, s = divmod(max(0.0, seconds), 60.0)
    return f"{int(m):02d}:{s:04.1f}"


def _report(jobs: list[_Job]) -> int:
    """One summary line per sensor on stdout, one error line per failure on stderr."""
    code = 0
    for job in jobs:
        source = job.source
        if job.writer is not None and job.path is not None:
            status = source.status()
            gaps = f", {status.reconnects} reconnect(s), {status.gap_s:.1f} s without link" if status.reconnects else ""
            print(f"{job.label}: {job.path} -- {job.writer.duration_s:.1f} s, {job.packets} packets, "
                  f"{status.samples} samples, ~{status.dropped} dropped{gaps}")
        if job.error is not None:
            print(f"vbt: error: {job.error}", file=sys.stderr)
            code = code or job.error.exit_code
    return code
