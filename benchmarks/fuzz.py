"""The long fuzz run: every property-based test of outside input, with fresh random examples, for a time budget.

CI runs the property tests with a small, reproducible example set (the "ci" hypothesis profile in
tests/conftest.py). This script keeps generating *new* examples for as long as you give it:

* every decoder (tests/firmware_protocols/test_contract.py: random bytes, mutated streams,
  split/merged notifications),
* the recording reader and the CSV importer (tests/recording/*, tests/reliability/test_fuzz_inputs.py:
  mutated and cut recordings, arbitrary bytes, generated CSV files),
* the live session fed arbitrary samples, and the fatigue tracker fed arbitrary reps.

It runs pytest in rounds, each in a fresh process with a new ``--hypothesis-seed`` and the
"fuzz" settings (no deadline, ``--examples`` examples per property), until ``--minutes`` are
used, then prints examples run and failures per property. A failing example is shrunk and saved
in hypothesis' example database (``.hypothesis/``), so a plain ``pytest`` run replays it on this
machine; the round's pytest output is kept under the system temp folder and its path printed.

Usage::

    python benchmarks/fuzz.py --minutes 10          # the documented long run
    python benchmarks/fuzz.py --minutes 1 --examples 50
    python benchmarks/fuzz.py -k csv                # only properties whose id matches (pytest -k)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Test files holding property-based tests of input from outside (bytes, files, samples).
TARGETS = (
    "tests/firmware_protocols/test_contract.py",
    "tests/firmware_protocols/test_timestamp_jumps.py",
    "tests/recording/test_reader.py",
    "tests/recording/test_csv_import.py",
    "tests/reliability/test_fuzz_inputs.py",
    "tests/fatigue/test_tracker.py",
)


# --------------------------------------------------------------------------- worker (one pytest process)


class CountingPlugin:
    """pytest plugin: keep only hypothesis tests, count the examples each runs, note failures.

    Counting wraps ``test.hypothesis.inner_test``, the documented hook for wrapping the test body
    hypothesis calls once per example (pytest-trio and pytest-asyncio use it the same way).
    """

    def __init__(self, examples: int, out_path: Path) -> None:
        self.examples = examples
        self.out_path = out_path
        self.counts: dict[str, int] = defaultdict(int)
        self.failures: dict[str, str] = {}
        self.current = ""

    def pytest_configure(self, config) -> None:  # noqa: ANN001 - pytest hook
        from hypothesis import HealthCheck, settings

        # After tests/conftest.py chose its profile, before any test module is imported.
        settings.register_profile("fuzz-round", deadline=None, max_examples=self.examples, derandomize=False,
                                  suppress_health_check=list(HealthCheck))
        settings.load_profile("fuzz-round")

    def pytest_collection_modifyitems(self, config, items) -> None:  # noqa: ANN001 - pytest hook
        keep, wrapped = [], set()
        for item in items:
            handle = getattr(getattr(item, "obj", None), "hypothesis", None)
            if handle is None:
                continue
            keep.append(item)
            if id(handle) in wrapped:  # parametrised: one function, several items
                continue
            wrapped.add(id(handle))
            inner = handle.inner_test

            def counted(*args, __inner=inner, **kwargs):  # noqa: ANN002, ANN003, ANN202
                self.counts[self.current] += 1
                return __inner(*args, **kwargs)

            handle.inner_test = counted
        deselected = [i for i in items if i not in keep]
        if deselected:
            config.hook.pytest_deselected(items=deselected)
        items[:] = keep

    def pytest_runtest_setup(self, item) -> None:  # noqa: ANN001 - pytest hook
        self.current = item.nodeid

    def pytest_runtest_logreport(self, report) -> None:  # noqa: ANN001 - pytest hook
        if report.failed:
            text = str(report.longrepr)
            self.failures[report.nodeid] = text[-4000:]

    def pytest_sessionfinish(self, session) -> None:  # noqa: ANN001 - pytest hook
        self.out_path.write_text(json.dumps({"counts": self.counts, "failures": self.failures}))


def worker(args: argparse.Namespace) -> int:
    """One round: pytest in this process with the counting plugin."""
    import pytest

    plugin = CountingPlugin(args.examples, Path(args.out))
    argv = [*TARGETS, "-q", "-p", "no:cacheprovider", f"--hypothesis-seed={args.seed}"]
    if args.k:
        argv += ["-k", args.k]
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))  # as `python -m pytest` from the checkout: the top-level packages first
    return int(pytest.main(argv, plugins=[plugin]))


# --------------------------------------------------------------------------- the long run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="time budget (default 10)")
    parser.add_argument("--examples", type=int, default=300, help="examples per property per round (default 300)")
    parser.add_argument("-k", default=None, help="only properties matching this pytest -k expression")
    parser.add_argument("--seed", type=int, default=None, help="seed of the first round (default: random)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)

    budget_s = args.minutes * 60.0
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    logs = Path(tempfile.mkdtemp(prefix="vbt-fuzz-"))
    totals: dict[str, int] = defaultdict(int)
    failures: dict[str, tuple[int, Path]] = {}
    started = time.monotonic()
    rounds = 0
    print(f"fuzzing {len(TARGETS)} test files for {args.minutes:g} min, {args.examples} examples per property "
          f"per round, first seed {seed}; round logs in {logs}", flush=True)
    while time.monotonic() - started < budget_s:
        out = logs / f"round{rounds + 1}.json"
        log = logs / f"round{rounds + 1}.log"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "--examples", str(args.examples),
               "--seed", str(seed + rounds), "--out", str(out)] + (["-k", args.k] if args.k else [])
        left = budget_s - (time.monotonic() - started)
        with log.open("w") as fh:
            try:
                subprocess.run(cmd, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT, timeout=max(60.0, left + 120.0))
            except subprocess.TimeoutExpired:
                print(f"round {rounds + 1} did not finish in time; see {log}", flush=True)
        rounds += 1
        if not out.exists():
            print(f"round {rounds} produced no results (collection error?); see {log}", flush=True)
            break
        data = json.loads(out.read_text())
        n_round = sum(data["counts"].values())
        for node, n in data["counts"].items():
            totals[node] += n
        for node in data["failures"]:
            failures.setdefault(node, (seed + rounds - 1, log))
        elapsed = time.monotonic() - started
        print(f"round {rounds} (seed {seed + rounds - 1}): {n_round} examples, {len(data['failures'])} failing "
              f"properties, {elapsed / 60:.1f} min", flush=True)

    elapsed = time.monotonic() - started
    print()
    print(f"{'property':96s} {'examples':>9s}")
    for node in sorted(totals):
        mark = "  FAILED" if node in failures else ""
        print(f"{node:96s} {totals[node]:9d}{mark}")
    print()
    print(f"{sum(totals.values())} examples of {len(totals)} properties in {rounds} rounds, {elapsed / 60:.1f} min; "
          f"{len(failures)} failing properties")
    for node, (round_seed, log) in sorted(failures.items()):
        print(f"FAILED {node} (seed {round_seed}; details in {log})")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
