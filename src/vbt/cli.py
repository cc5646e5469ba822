"""The ``vbt`` command line: one subcommand per module under `vbt.commands`.

Every command module exposes ``register(subparsers) -> argparse.ArgumentParser`` and
``run(args) -> int``. Modules import their heavy dependencies (Qt, bleak, SciPy) inside
``run``, so ``vbt --help`` and ``vbt analyze`` start fast and never load Qt.

Errors: a `VbtError` (or a strict-mode `ProtocolError`) is printed as one line on stderr and
the process exits non-zero; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from vbt import __version__
from vbt.errors import VbtError

#: Subcommand name -> module under vbt.commands, in the order ``--help`` lists them.
COMMANDS: dict[str, str] = {
    "demo": "demo",
    "replay": "replay",
    "dashboard": "dashboard",
    "analyze": "analyze",
    "scan": "scan",
    "record": "record",
    "simulate": "simulate",
    "import": "import_",
    "decode": "decode",
    "history": "history",
    "export": "export",
    "profile": "profile",
}

EXIT_INTERNAL_ERROR = 70
EXIT_INTERRUPTED = 130
#: 128 + SIGPIPE, what a shell reports for a program whose reader went away.
EXIT_BROKEN_PIPE = 141


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (every available subcommand registered)."""
    parser = argparse.ArgumentParser(
        prog="vbt",
        description=(
            "Velocity-based-training fatigue monitor: clip a Bluetooth IMU to the bar, see every "
            "rep's velocity, the set's velocity loss, and a clear STOP at 1-2 reps in reserve."
        ),
        epilog="Try it with no sensor: `vbt demo` (dashboard) or `vbt analyze recordings/`.",
    )
    parser.add_argument("--version", action="version", version=f"vbt-monitor {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMANDS.values():
        module = _load_command(module_name)
        if module is None:
            continue
        command_parser = module.register(sub)
        command_parser.set_defaults(_run=module.run)
    return parser


def _load_command(module_name: str):  # noqa: ANN202 - returns a module
    full = f"vbt.commands.{module_name}"
    try:
        return importlib.import_module(full)
    except ModuleNotFoundError as err:
        if err.name == full:  # the command is not part of this build
            return None
        raise


def available_commands() -> list[str]:
    """Names of the subcommands this installation provides."""
    return [name for name, module in COMMANDS.items() if _load_command(module) is not None]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if getattr(args, "_run", None) is None:
        parser.print_help()
        return 0
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print("vbt: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # Whoever read our output stopped early (`vbt export | head`): nothing went wrong here.
        _discard_stdout()
        return EXIT_BROKEN_PIPE
    except VbtError as err:
        if args.debug:
            raise
        print(f"vbt: error: {err}", file=sys.stderr)
        return err.exit_code
    except Exception as err:  # noqa: BLE001 - last line of defence: one clear line, never a traceback
        from firmware_protocols import ProtocolError

        if args.debug:
            raise
        if isinstance(err, ProtocolError):
            print(f"vbt: error: {err}", file=sys.stderr)
            return 1
        print(
            f"vbt: internal error: {type(err).__name__}: {err} -- run again with --debug for details "
            "and please report it",
            file=sys.stderr,
        )
        return EXIT_INTERNAL_ERROR


def _discard_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail a second time."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # not a real file (tests capture stdout)
        pass


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
