"""Builders of known rep and set results for the UI tests (values chosen by hand, so the
expected bar heights, labels and STOP text follow directly from them)."""

from __future__ import annotations

import numpy as np

from vbt.pipeline.results import FLAG_CONTINUE, FLAG_FAILURE, FLAG_STOP, FailedAttempt, RepResult, SetResult


def make_rep(
    index: int,
    mcv: float,
    *,
    flag: str = FLAG_CONTINUE,
    vl: float | None = None,
    rir: float | None = None,
    quality: float = 1.0,
    provisional: bool = False,
    start_s: float | None = None,
) -> RepResult:
    """A rep with a half-sine concentric velocity curve whose mean is ``mcv``."""
    start = 3.0 * index if start_s is None else start_s
    duration = 0.5 / mcv  # 0.5 m of ROM at mean velocity mcv
    t = np.linspace(0.0, duration, 60)
    v = mcv * np.pi / 2 * np.sin(np.pi * t / duration)
    return RepResult(
        index=index,
        start_s=start,
        end_s=start + duration,
        mean_velocity_mps=mcv,
        mean_propulsive_velocity_mps=mcv * 1.04,
        peak_velocity_mps=float(v.max()),
        rom_m=0.5,
        duration_s=duration,
        time_to_peak_s=duration / 2,
        quality=quality,
        quality_reasons=[] if quality >= 0.5 else ["gap in rep"],
        velocity_loss_pct=vl,
        rir_estimate=rir,
        rir_interval=None if rir is None else (max(0.0, rir - 1.0), rir + 1.0),
        flag=flag,
        provisional=provisional,
        t_s=t + start,
        velocity_mps=v,
    )


#: An 8-rep squat set: fastest rep 2 (0.74), STOP from rep 7 (RIR 2), rep 4 low quality.
SET_MCVS = (0.71, 0.74, 0.70, 0.66, 0.63, 0.59, 0.55, 0.51)
SET_RIRS = (None, None, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0)


def make_set(index: int = 1, *, failed_attempt: bool = False, low_quality_rep: int | None = 4) -> SetResult:
    """The set described by `SET_MCVS`/`SET_RIRS` (optionally ending in a failed attempt)."""
    best = max(SET_MCVS[:2])
    reps = []
    for i, (mcv, rir) in enumerate(zip(SET_MCVS, SET_RIRS, strict=True), start=1):
        ref = SET_MCVS[0] if i == 1 else best
        flag = FLAG_STOP if rir is not None and rir <= 2 else FLAG_CONTINUE
        reps.append(make_rep(i, mcv, flag=flag, vl=100 * (ref - mcv) / ref, rir=rir,
                             quality=0.3 if i == low_quality_rep else 1.0))
    attempts = []
    if failed_attempt:
        attempts.append(FailedAttempt(start_s=reps[-1].end_s + 2.0, end_s=reps[-1].end_s + 4.0, rom_m=0.18))
        reps[-1].flag = FLAG_FAILURE  # the failed attempt proves the last rep was the last possible
        reps[-1].rir_estimate, reps[-1].rir_interval = 0.0, (0.0, 0.0)
    return SetResult(index=index, start_s=reps[0].start_s, end_s=(attempts or reps)[-1].end_s, reps=reps,
                     failed_attempts=attempts, velocity_loss_pct=reps[-1].velocity_loss_pct,
                     rir_estimate=0.0 if failed_attempt else reps[-1].rir_estimate, reference_rep_index=2)
