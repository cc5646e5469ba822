"""Time-base building blocks against plain reference implementations."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest

from vbt.pipeline.settings import DEFAULT_SETTINGS
from vbt.pipeline.timebase import _STEP_WINDOW_S, Timebase, _Envelope, row_norms


@pytest.mark.parametrize("n", [1, 2, 3, 8, 9, 100, 20000])
def test_row_norms_are_numpys_bit_for_bit(n: int) -> None:
    # The time base and the stillness detector rely on this to keep their results unchanged.
    rng = np.random.default_rng(n)
    v = rng.normal(0.0, 1.0, (n, 3)) * 10.0 ** rng.integers(-8, 9, (n, 3))
    for layout in (v, np.asfortranarray(v), np.repeat(v, 2, axis=0)[::2]):
        assert row_norms(layout).tobytes() == np.linalg.norm(layout, axis=1).tobytes()


def test_envelope_keeps_the_last_points_in_order() -> None:
    rng = np.random.default_rng(1)
    env, ref = _Envelope(5), deque(maxlen=5)
    for i in range(200):
        if rng.random() < 0.03:
            env.clear()
            ref.clear()
        point = (float(i), float(rng.normal()))
        env.append(point)
        ref.append(point)
        assert len(env) == len(ref)
        assert np.array_equal(env.array(), np.asarray(ref, dtype=float).reshape(-1, 2))


@pytest.mark.parametrize("seed", range(20))
def test_recent_floors_are_window_minima(seed: int) -> None:
    # Each candidate's floor: the lowest excess over the remembered bursts and this span's, in
    # [x - window, x) before the candidate's own burst (+inf when there is none).
    rng = np.random.default_rng(seed)
    tb = Timebase(DEFAULT_SETTINGS)
    x = np.cumsum(rng.exponential(rng.choice([0.02, 0.3]), int(rng.integers(1, 60))))  # gaps > window too
    e = rng.normal(0.0, 0.01, len(x))
    start = int(rng.integers(0, len(x))) if seed % 4 else 0  # bursts before it are history, in blocks
    cuts = sorted({0, start, *rng.integers(0, start + 1, 3).tolist()})
    for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
        tb._excess_hist.append((x[lo:hi], e[lo:hi], float(e[lo:hi].min())))
    xf, ef = x[start:], e[start:]
    cand = np.flatnonzero((rng.random(len(xf)) < 0.5) | (np.arange(len(xf)) == len(xf) - 1))
    got = tb._recent_floors(xf, ef, cand)
    for q, floor in zip(cand.tolist(), got.tolist(), strict=True):
        now = xf[q]
        window = e[(x >= now - _STEP_WINDOW_S) & (x < now)]
        assert floor == (window.min() if window.size else np.inf)
