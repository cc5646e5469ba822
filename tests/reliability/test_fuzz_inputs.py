"""Property-based fuzzing of everything that reads outside input (issue 8, "Fuzzing").

The decoders have theirs in tests/firmware_protocols/test_contract.py (random bytes, mutated
streams). Here: the recording reader, the CSV importer and the live Session. The rule is the
same everywhere: any input either works -- and then everything that comes out is well formed
(finite numbers, times in order, every sample accounted for) -- or fails with a `VbtError`
subclass whose one-line message names the file. Never another exception, never a hang.

CI runs each property with the reproducible "ci" profile (tests/conftest.py); the long run is
``python benchmarks/fuzz.py --minutes 10`` (docs/reliability.md).
"""

from __future__ import annotations

import atexit
import functools
import gzip
import json
import math
import shutil
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_protocols import ImuBatch
from vbt.analysis import analyze_recording
from vbt.errors import InputFileError, VbtError
from vbt.recording.csv_import import read_csv_samples
from vbt.recording.format import RecordingHeader
from vbt.recording.reader import open_recording
from vbt.recording.writer import RecordingWriter
from vbt.session import Session
from vbt.sim import Athlete, Scenario, SetPlan, simulate
from vbt.sources import LinkEvent, RawPacket

#: One scratch folder for the whole module (hypothesis examples overwrite their file in it).
_SCRATCH = Path(tempfile.mkdtemp(prefix="vbt-fuzz-"))
atexit.register(shutil.rmtree, _SCRATCH, True)

#: The slow ones (a file written and read per example) need no per-example deadline.
slow = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# --------------------------------------------------------------------------- seeds: real recordings


@functools.cache
def seed_recordings() -> dict[str, bytes]:
    """Small real recordings (uncompressed text) to mutate: raw WitMotion packets and samples."""
    out = {}
    plan = [SetPlan("squat", reps=1)]
    for body, sensor in (("packets", "witmotion"), ("samples", "samples")):
        sim = simulate(Scenario(Athlete.random(1), plan, rate_hz=50.0, sensor=sensor, faults="typical",
                                lead_in_s=1.0, tail_s=1.0), seed=1)
        path = _SCRATCH / f"seed-{body}.jsonl"
        header = sim.header
        with RecordingWriter(path, header) as writer:
            items = ([(e.host_time_s, e) for e in sim.link_events]
                     + ([(t, RawPacket(t, u, p)) for t, u, p in sim.packets] if sim.packets is not None
                        else [(b.host_time_s, b) for b in sim.batches]))
            for _, item in sorted(items, key=lambda x: x[0])[:400]:
                writer.write_item(item)
        out[body] = path.read_bytes()
    return out


def _check_failure(err: Exception, path: Path) -> None:
    """A refused input: a VbtError with one line naming the file."""
    assert isinstance(err, InputFileError), repr(err)
    text = str(err)
    assert "\n" not in text and text.startswith(str(path)), text


def _check_recording(path: Path):
    """Open ``path``: either refused properly or every item well formed. Returns the recording or None."""
    try:
        rec = open_recording(path)
    except VbtError as err:
        _check_failure(err, path)
        return None
    last_data_t = -math.inf
    for item in rec:
        if isinstance(item, RawPacket):
            assert math.isfinite(item.host_time_s) and isinstance(item.payload, bytes)
            assert item.host_time_s >= last_data_t - 1e-3  # data never runs back more than 1 ms
            last_data_t = item.host_time_s
        elif isinstance(item, ImuBatch):
            assert item.accel_mps2.ndim == 2 and item.accel_mps2.shape[1] == 3
            assert np.isfinite(item.accel_mps2).all()
            assert item.gyro_rads is None or np.isfinite(item.gyro_rads).all()
        else:
            assert isinstance(item, LinkEvent) and math.isfinite(item.host_time_s)
    if rec.header.body == "packets":
        total = sum(len(p) for _, p in rec.packet_columns().values())
        assert total == sum(1 for i in rec if isinstance(i, RawPacket))
    else:
        t, acc, _ = rec.sample_columns()
        assert len(t) == len(acc) == sum(len(i) for i in rec if isinstance(i, ImuBatch))
    return rec


def _inflate_prefix(data: bytes) -> bytes:
    """What a cut gzip stream decompresses to (as far as it goes)."""
    import zlib

    try:
        return zlib.decompressobj(wbits=31).decompress(data)
    except zlib.error:
        return b""


def _mutate(data: bytes, ops: list[tuple[int, int, int, bytes]]) -> bytes:
    """Apply edits: (kind, position, length, bytes) -> flip, delete, insert, duplicate or swap lines, cut."""
    buf = bytearray(data)
    for kind, pos, length, blob in ops:
        if not buf:
            break
        i = pos % len(buf)
        if kind == 0:  # flip a byte
            buf[i] ^= 1 + (length % 255)
        elif kind == 1:  # delete a range
            del buf[i:i + length]
        elif kind == 2:  # insert bytes
            buf[i:i] = blob
        elif kind in (3, 4):  # duplicate (3) or swap with the next (4) a whole line
            lines = bytes(buf).split(b"\n")
            j = i % len(lines)
            if kind == 3:
                lines.insert(j, lines[j])
            elif j + 1 < len(lines):
                lines[j], lines[j + 1] = lines[j + 1], lines[j]
            buf = bytearray(b"\n".join(lines))
        else:  # cut the file here (a crash)
            del buf[i:]
    return bytes(buf)


_OPS = st.lists(st.tuples(st.integers(0, 5), st.integers(0, 2**31), st.integers(0, 64), st.binary(max_size=40)),
                min_size=1, max_size=6)


@slow
@given(body=st.sampled_from(["packets", "samples"]), ops=_OPS, compress=st.booleans())
def test_mutated_recordings_are_read_or_refused_with_one_line(body, ops, compress):
    data = _mutate(seed_recordings()[body], ops)
    path = _SCRATCH / ("mutated.jsonl.gz" if compress else "mutated.jsonl")
    path.write_bytes(gzip.compress(data) if compress else data)
    rec = _check_recording(path)
    if rec is not None:
        # Whatever reads cleanly also analyses: a result, or one refusal line (e.g. an unknown sensor).
        try:
            result = analyze_recording(rec)
        except VbtError as err:
            assert "\n" not in str(err)
        else:
            assert all(math.isfinite(r.mean_velocity_mps) and math.isfinite(r.quality) for r in result.reps)


@slow
@given(body=st.sampled_from(["packets", "samples"]), cut=st.floats(0.0, 1.0), compress=st.booleans())
def test_a_recording_cut_anywhere_reads_to_its_last_complete_line(body, cut, compress):
    full = seed_recordings()[body]
    source = gzip.compress(full) if compress else full
    path = _SCRATCH / ("cut.jsonl.gz" if compress else "cut.jsonl")
    prefix = source[: int(len(source) * cut)]
    path.write_bytes(prefix)
    rec = _check_recording(path)
    if rec is None:  # only a cut inside the header line may be refused
        assert b"\n" not in (_inflate_prefix(prefix) if compress else prefix)
        return
    whole = _check_recording(_SCRATCH / f"seed-{body}.jsonl")
    if body == "packets":  # exactly the recording's first packets and events
        got, ref = list(rec), list(whole)
        assert len(got) <= len(ref)
        for a, b in zip(got, ref, strict=False):
            assert type(a) is type(b) and a.host_time_s == b.host_time_s
            assert not isinstance(a, RawPacket) or a.payload == b.payload
    else:  # exactly its first samples (batches regroup at the cut)
        t, acc, _ = rec.sample_columns()
        t0, acc0, _ = whole.sample_columns()
        assert len(t) <= len(t0) and np.array_equal(t, t0[: len(t)]) and np.array_equal(acc, acc0[: len(t)])
    if not compress:
        tail = prefix[prefix.rfind(b"\n") + 1:]
        if tail.strip():  # cut mid-line: that line is dropped, and the reader says so
            try:
                json.loads(tail)
            except ValueError:
                assert any("last line truncated" in w for w in rec.warnings), rec.warnings


@slow
@given(st.binary(max_size=2000), st.sampled_from([".jsonl", ".jsonl.gz", ".csv"]))
def test_arbitrary_bytes_are_refused_with_one_line(data, suffix):
    path = _SCRATCH / f"noise{suffix}"
    path.write_bytes(data)
    if suffix == ".csv":
        try:
            read_csv_samples(path)
        except VbtError as err:
            _check_failure(err, path)
    else:
        _check_recording(path)


# --------------------------------------------------------------------------- CSV files

_NUMBER = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=32).map(repr),
    st.integers(-10**6, 10**6).map(str),
    st.floats(-20, 20).map(lambda x: f"{x:.3f}".replace(".", ",")),  # decimal comma
)
_CELL = st.one_of(_NUMBER, _NUMBER, _NUMBER, st.just(""), st.text(max_size=6), st.sampled_from(["nan", "-inf", "1e400"]))
_HEADERS = st.sampled_from([
    ["t", "ax", "ay", "az"], ["t", "ax", "ay", "az", "gx", "gy", "gz"], ["T", " ax ", "ay (g)", "az[g]"],
    ["time", "x", "y", "z"], ["t", "ax", "ay", "az", "gx", "gy"], ["t", "ax", "ay", "az", "temp"], ["t", "ax", "ax", "az"],
])


@st.composite
def csv_texts(draw) -> str:
    header = draw(_HEADERS)
    delimiter = draw(st.sampled_from([",", ";", "\t", " "]))
    width = len(header) + draw(st.integers(-1, 1))
    regular = draw(st.booleans())  # mostly plausible numbers in time order, or anything at all
    rows = []
    t = 0.0
    for _ in range(draw(st.integers(0, 30))):
        if regular:
            t += draw(st.sampled_from([0.0, 0.01, 0.02, -0.01]))
            cells = [f"{t:.3f}"] + [f"{draw(st.floats(-16, 16)):.4f}" for _ in range(max(0, width - 1))]
        else:
            cells = [draw(_CELL) for _ in range(max(0, width))]
        rows.append(delimiter.join(cells))
    prefix = draw(st.sampled_from(["", "\ufeff", "# logger v2\n", "\n\n"]))
    return prefix + delimiter.join(header) + "\n" + "\n".join(rows) + draw(st.sampled_from(["", "\n", "\n\n"]))


@slow
@given(csv_texts(), st.sampled_from(["g", "mps2"]), st.sampled_from(["dps", "rads"]), st.booleans())
def test_csv_files_are_imported_exactly_or_refused_with_one_line(text, acc_unit, gyro_unit, compress):
    path = _SCRATCH / ("fuzz.csv.gz" if compress else "fuzz.csv")
    raw = text.encode("utf-8")
    path.write_bytes(gzip.compress(raw) if compress else raw)
    try:
        samples = read_csv_samples(path, acc_unit=acc_unit, gyro_unit=gyro_unit)
    except VbtError as err:
        _check_failure(err, path)
        return
    n = len(samples)
    assert n >= 1 and samples.t_s.shape == (n,) and samples.accel_mps2.shape == (n, 3)
    assert np.isfinite(samples.t_s).all() and np.isfinite(samples.accel_mps2).all()
    assert np.all(np.diff(samples.t_s) >= 0)
    assert samples.gyro_rads is None or (samples.gyro_rads.shape == (n, 3) and np.isfinite(samples.gyro_rads).all())
    batches = samples.batches()
    assert sum(len(b) for b in batches) == n  # every sample in exactly one batch
    assert np.array_equal(np.concatenate([b.accel_mps2 for b in batches]), samples.accel_mps2)


# --------------------------------------------------------------------------- the live session


_VALUE = st.one_of(st.floats(-200, 200), st.floats(-200, 200), st.sampled_from([math.nan, math.inf, -math.inf, 1e9]))


@st.composite
def batch_streams(draw) -> list[ImuBatch]:
    rate = draw(st.sampled_from([25.0, 50.0, 100.0, 200.0]))
    gyro = draw(st.booleans())
    timed = draw(st.booleans())  # sensor timestamps, or arrival times only
    t = draw(st.floats(0, 100))
    out = []
    for _ in range(draw(st.integers(1, 40))):
        n = draw(st.integers(1, 12))
        acc = np.array([[draw(_VALUE) for _ in range(3)] for _ in range(n)])
        if draw(st.integers(0, 3)) > 0:  # mostly gravity plus a little: the pipeline gets going
            acc = np.nan_to_num(acc, nan=0.0, posinf=0.0, neginf=0.0) * 0.01 + [0.0, 0.0, 9.81]
        g = np.array([[draw(_VALUE) for _ in range(3)] for _ in range(n)]) * 0.01 if gyro else None
        step = draw(st.sampled_from([n / rate, n / rate, 0.0, -0.05, 2.0, 0.3 * n / rate]))
        t += step
        sensor_t = (t - (n - 1 - np.arange(n)) / rate) if timed else None
        out.append(ImuBatch(float(t), acc, g, sensor_t, rate))
    return out


@slow
@given(batch_streams(), st.sampled_from(["squat", "bench", "deadlift", "generic"]))
def test_the_live_session_never_raises_on_any_samples(batches, exercise):
    session = Session(exercise=exercise)
    session.start(RecordingHeader(body="samples", sensor="imported", rate_hz=batches[0].rate_hz))
    for b in batches:
        session.process_item(b)
    session.finish()
    result = session.result()
    json.dumps(result.to_dict(), allow_nan=False)  # the analyze JSON contract: finite numbers only
