"""Events the streaming pipeline emits, in order, as samples arrive.

Every event carries ``at_s``: the host (arrival) time, on the input's time axis, of the sample
whose arrival let the pipeline make that decision. For live data this is when the result could
first be shown; the latency benchmark subtracts the true lockout time from it. It depends only
on the sample sequence, never on how the input was chunked.

Event kinds:

* `TraceEvent` -- decimated live velocity/position trace (causal, not drift-corrected), for the
  dashboard's scrolling plot (~`PipelineSettings.trace_rate_hz` points per second).
* `RepProvisional` -- a concentric phase just ended (velocity back to zero after a big enough
  rise); numbers from the causal integration, before drift correction.
* `RepFinal` -- the rep is confirmed and drift-corrected (lockout stillness seen, or the
  motion segment closed); ``set_result`` holds the set so far (the `Session` runs the
  fatigue assessment on it before listeners see the event).
* `RepRetracted` -- a provisional rep that finalisation did not confirm (an unrack, a failed
  attempt, a pick-up); the dashboard removes it.
* `FailedAttemptEvent` -- a concentric that did not reach lockout.
* `SetStarted` / `SetEnded` -- set boundaries (a set starts with its first rep or failed
  attempt and ends after `PipelineSettings.set_gap_s` without one, or at the end of input).
* `TimingStatus` -- measured sample rate and missing-sample share, once per
  `PipelineSettings.status_interval_s`.
* `PipelineWarning` -- something the user should know (gaps, clipping, no stillness).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vbt.pipeline.results import FailedAttempt, RepResult, SetResult


@dataclass(frozen=True, slots=True)
class PipelineEvent:
    """Base of all pipeline events.

    Attributes:
        at_s: Arrival time (input time axis, s) of the sample that triggered the event.
    """

    at_s: float


@dataclass(frozen=True, slots=True)
class TraceEvent(PipelineEvent):
    """Decimated causal velocity and position samples for a live trace.

    Attributes:
        t_s: Sample times (input time axis).
        velocity_mps: Vertical velocity (causal: reset at each still period, not detrended).
        position_m: Vertical position relative to the last still period.
        still: True where the bar was judged still.
    """

    t_s: np.ndarray = field(default_factory=lambda: np.empty(0))
    velocity_mps: np.ndarray = field(default_factory=lambda: np.empty(0))
    position_m: np.ndarray = field(default_factory=lambda: np.empty(0))
    still: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=bool))


@dataclass(frozen=True, slots=True)
class RepProvisional(PipelineEvent):
    """A concentric phase just ended; early numbers (``rep.provisional`` is True).

    Attributes:
        set_index: 1-based set the rep would belong to.
        rep: The provisional result (index = its tentative number in the set).
    """

    set_index: int = 0
    rep: RepResult | None = None


@dataclass(frozen=True, slots=True)
class RepFinal(PipelineEvent):
    """A confirmed, drift-corrected rep.

    Attributes:
        set_index: 1-based set number.
        rep: The final result (``rep.provisional`` is False).
        set_result: The set so far, this rep included (mutable; fatigue fields are filled by
            the `Session` before listeners see the event).
    """

    set_index: int = 0
    rep: RepResult | None = None
    set_result: SetResult | None = None


@dataclass(frozen=True, slots=True)
class RepRetracted(PipelineEvent):
    """A provisional rep that was not confirmed.

    Attributes:
        set_index: Set the provisional rep was shown in.
        rep_index: Its tentative index.
        reason: Why (``"failed attempt"``, ``"range of motion too small"``, ``"pick-up"`` ...).
    """

    set_index: int = 0
    rep_index: int = 0
    reason: str = ""


@dataclass(frozen=True, slots=True)
class FailedAttemptEvent(PipelineEvent):
    """A concentric that started but did not reach lockout (never counted as a rep)."""

    set_index: int = 0
    attempt: FailedAttempt | None = None
    set_result: SetResult | None = None


@dataclass(frozen=True, slots=True)
class SetStarted(PipelineEvent):
    """A new set began (its first rep or failed attempt was just confirmed).

    Attributes:
        set_index: 1-based set number.
        start_s: Start of the set (beginning of the first rep's descent, or its concentric).
    """

    set_index: int = 0
    start_s: float = 0.0


@dataclass(frozen=True, slots=True)
class SetEnded(PipelineEvent):
    """A set is over: rest longer than `PipelineSettings.set_gap_s`, or end of input."""

    set_index: int = 0
    set_result: SetResult | None = None


@dataclass(frozen=True, slots=True)
class TimingStatus(PipelineEvent):
    """Measured timing of the input so far.

    Attributes:
        rate_hz: Measured sample rate (sensor clock against the host clock).
        missing_pct: Share of samples missing (filled by interpolation or lost in gaps).
        samples: Samples processed.
    """

    rate_hz: float = 0.0
    missing_pct: float = 0.0
    samples: int = 0


@dataclass(frozen=True, slots=True)
class PipelineWarning(PipelineEvent):
    """Something worth telling the user.

    Attributes:
        code: Stable short identifier (``"gap"``, ``"clipping"``, ``"nonfinite"``, ``"no-still"``,
            ``"long-motion"``, ``"rate"``).
        message: One human line.
    """

    code: str = ""
    message: str = ""


__all__ = [
    "FailedAttemptEvent",
    "PipelineEvent",
    "PipelineWarning",
    "RepFinal",
    "RepProvisional",
    "RepRetracted",
    "SetEnded",
    "SetStarted",
    "TimingStatus",
    "TraceEvent",
]
