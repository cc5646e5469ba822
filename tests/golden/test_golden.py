"""Golden outputs: ``vbt analyze --format json`` of every recording in ``recordings/``.

Any change in the analysis output for the bundled recordings fails here, so it is always a
conscious decision. After an intended change (bump `vbt.pipeline.settings.ALGORITHM_VERSION`),
regenerate the files and review the diff::

    python -m pytest tests/golden --update-golden
    git diff tests/golden
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vbt.analysis import analyze_path

ROOT = Path(__file__).resolve().parents[2]
RECORDINGS = sorted((ROOT / "recordings").glob("*.jsonl.gz")) + sorted((ROOT / "recordings").glob("*.csv"))
GOLDEN = Path(__file__).resolve().parent


def golden_path(rec: Path) -> Path:
    name = rec.name.replace(".jsonl.gz", "").replace(".csv", "")
    return GOLDEN / f"{name}.json"


def test_every_recording_has_a_golden_file() -> None:
    assert RECORDINGS, "recordings/ holds no recordings"
    names = {golden_path(r).name for r in RECORDINGS}
    stale = {p.name for p in GOLDEN.glob("*.json")} - names
    assert not stale, f"golden files without a recording: {sorted(stale)} (regenerate with --update-golden)"


@pytest.mark.parametrize("rec", RECORDINGS, ids=lambda p: p.name)
def test_analysis_matches_golden(rec: Path, update_golden: bool) -> None:
    result = analyze_path(rec).to_dict()
    result["source"] = rec.name
    target = golden_path(rec)
    if update_golden:
        target.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
        return
    assert target.exists(), f"no golden file for {rec.name}: run pytest tests/golden --update-golden"
    expected = json.loads(target.read_text())
    assert result == expected
