"""Rep quality: how much to trust one rep's numbers, 0-1, with the reasons that lowered it.

Quality is a product of factors, each tied to a documented way the velocity estimate goes
wrong. It is meant for people (low-quality reps are drawn as such) and for the fatigue side
(a rep below 0.5 is never the velocity-loss reference, `vbt.fatigue.tracker`).

| Reason | Why it matters | Factor |
|---|---|---|
| samples interpolated (gaps) | lost samples inside the concentric are guessed, not measured | ``1 - 3 x share`` (>= 0.2) |
| stream break / no still period after the rep | without the closing zero-velocity anchor the drift is not removed (science.md §1.2) | 0.3 |
| accelerometer clipped at full scale | the true acceleration is larger than what was recorded | 0.4 |
| large drift correction | a detrend over 0.25 m/s means a bias change, a missed rotation, or a wrong anchor | ``1 / (1 + (d / 0.25)^2)`` |
| long motion without stillness | drift grows with the time between anchors (touch-and-go runs, walking) | 0.9 above 8 s, 0.7 above 15 s |
| short still period before the rep | the opening anchor's bias and up-vector come from few samples | 0.9 under 0.15 s |
| low sample rate | 25 Hz doubles the MCV error of 50 Hz (science.md §1.3: 0.024 vs 0.013 m/s) | 0.9 under 40 Hz |
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class QualityInputs:
    """What a rep's quality is computed from.

    Attributes:
        filled_share: Share of concentric samples that were interpolated.
        clipped: Any concentric sample at accelerometer full scale.
        anchored: The motion segment ended in a still anchor (drift corrected).
        drift_mps: Largest drift removed by the detrend in the segments the rep spans.
        segment_s: Longest motion segment (between still anchors) the rep lies in.
        anchor_before_s: Duration of the still period that opened the rep's segment.
        rate_hz: Measured sample rate.
    """

    filled_share: float = 0.0
    clipped: bool = False
    anchored: bool = True
    drift_mps: float = 0.0
    segment_s: float = 0.0
    anchor_before_s: float = 1.0
    rate_hz: float = 100.0


def rep_quality(q: QualityInputs) -> tuple[float, list[str]]:
    """Quality (0-1) and the reasons that lowered it, most important first."""
    score = 1.0
    reasons: list[str] = []
    if not q.anchored:
        score *= 0.3
        reasons.append("no still period after the rep: drift not corrected")
    if q.clipped:
        score *= 0.4
        reasons.append("accelerometer clipped at full scale")
    if q.filled_share > 0.0:
        score *= max(0.2, 1.0 - 3.0 * q.filled_share)
        reasons.append(f"{100.0 * q.filled_share:.0f} % of samples interpolated over gaps")
    d = abs(q.drift_mps)
    if d > 0.1:
        score *= 1.0 / (1.0 + (d / 0.25) ** 2)
        reasons.append(f"large drift correction ({d:.2f} m/s)")
    if q.segment_s > 15.0:
        score *= 0.7
        reasons.append(f"{q.segment_s:.0f} s of motion without a still period")
    elif q.segment_s > 8.0:
        score *= 0.9
        reasons.append(f"{q.segment_s:.0f} s of motion without a still period")
    if q.anchor_before_s < 0.15:
        score *= 0.9
        reasons.append("short still period before the rep")
    if q.rate_hz < 40.0:
        score *= 0.9
        reasons.append(f"low sample rate ({q.rate_hz:.0f} Hz)")
    return max(0.0, min(1.0, score)), reasons


__all__ = ["QualityInputs", "rep_quality"]
