"""UI tests run offscreen with the dashboard's own QApplication set-up (theme, pyqtgraph)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session")
def qapp():
    """pytest-qt's application, created the way the dashboard creates it."""
    from vbt.ui.app import ensure_app

    return ensure_app(offscreen=True)
