"""The analysis pipeline: timing, orientation, velocity, rep segmentation, metrics (NumPy/SciPy only).

One streaming implementation serves the live dashboard and ``vbt analyze``
(docs/analysis.md). Public API::

    from vbt.pipeline import StreamingPipeline, DEFAULT_SETTINGS

    pipeline = StreamingPipeline(DEFAULT_SETTINGS.with_changes(exercise="squat", load_kg=100))
    for batch in batches:                 # firmware_protocols.ImuBatch, any chunking
        for event in pipeline.feed(batch):
            ...                           # RepProvisional, RepFinal, SetEnded, TraceEvent...
    pipeline.finish()
    result = pipeline.result("my-file")   # AnalysisResult: the vbt analyze JSON contract

It knows nothing about files, Bluetooth, Qt or fatigue: `vbt.session.Session` wires sources,
decoders, this pipeline and the fatigue tracker together.
"""

from vbt.pipeline.events import (
    FailedAttemptEvent,
    PipelineEvent,
    PipelineWarning,
    RepFinal,
    RepProvisional,
    RepRetracted,
    SetEnded,
    SetStarted,
    TimingStatus,
    TraceEvent,
)
from vbt.pipeline.results import AnalysisResult, FailedAttempt, RepResult, SetResult
from vbt.pipeline.settings import (
    ALGORITHM_VERSION,
    DEFAULT_SETTINGS,
    EXERCISE_ALIASES,
    EXERCISES,
    ExerciseProfile,
    PipelineSettings,
    resolve_exercise,
)


def __getattr__(name: str) -> object:
    # StreamingPipeline pulls in SciPy: imported on first use, so that light users of the
    # result types (the fatigue tracker, ``vbt --help``) stay fast to import.
    if name == "StreamingPipeline":
        from vbt.pipeline.streaming import StreamingPipeline

        return StreamingPipeline
    raise AttributeError(f"module 'vbt.pipeline' has no attribute {name!r}")

__all__ = [
    "ALGORITHM_VERSION",
    "DEFAULT_SETTINGS",
    "EXERCISES",
    "EXERCISE_ALIASES",
    "AnalysisResult",
    "ExerciseProfile",
    "FailedAttempt",
    "FailedAttemptEvent",
    "PipelineEvent",
    "PipelineSettings",
    "PipelineWarning",
    "RepFinal",
    "RepProvisional",
    "RepResult",
    "RepRetracted",
    "SetEnded",
    "SetResult",
    "SetStarted",
    "StreamingPipeline",
    "TimingStatus",
    "TraceEvent",
    "resolve_exercise",
]
