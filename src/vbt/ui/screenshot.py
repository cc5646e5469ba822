"""Render the set view to a PNG without a display (``--screenshot``; sharing a set).

The same `SetView` the dashboard shows is laid out offscreen at a fixed size and grabbed, so
a screenshot looks exactly like the screen. Used by ``vbt replay --screenshot``, ``vbt demo
--screenshot`` and the tests, which also read the image back to check it is not blank.
"""

from __future__ import annotations

from pathlib import Path

from vbt.errors import OutputFileError, UsageError
from vbt.ui.messages import LiftInfo
from vbt.ui.model import SetState

#: Default image size: 16:10, large enough to stay sharp on a projector or a phone.
DEFAULT_SIZE = (1600, 1000)


def check_output_path(path: str | Path, option: str = "--screenshot") -> Path:
    """Validate an image path early (before minutes of replay).

    Raises:
        UsageError: Not an image file name.
        OutputFileError: The folder does not exist.
    """
    path = Path(path)
    if path.suffix.lower() not in (".png", ".jpg", ".jpeg", ".bmp"):
        raise UsageError(option, str(path), "give a file name ending in .png")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise OutputFileError(path, f"the folder {parent} does not exist", "create it first")
    return path


def grab_widget(widget, path: str | Path, option: str = "--screenshot") -> Path:  # noqa: ANN001 - QWidget
    """Save what ``widget`` shows to ``path`` (`OutputFileError` if it cannot be written)."""
    from PySide6.QtWidgets import QApplication

    path = check_output_path(path, option)
    QApplication.processEvents()
    pixmap = widget.grab()
    if not pixmap.save(str(path)):
        raise OutputFileError(path, "the image could not be written",
                              "check that the folder is writable and the disk is not full")
    return path


def render_set_view(
    state: SetState | None,
    path: str | Path,
    *,
    lift: LiftInfo | None = None,
    size: tuple[int, int] = DEFAULT_SIZE,
    option: str = "--screenshot",
) -> Path:
    """Render one set as the dashboard shows it and save it as an image.

    Args:
        state: The set (None renders the empty "waiting for the first rep" view).
        path: Output file (``.png``).
        lift: Exercise / load / target RIR for the header line.
        size: Image size in pixels (width, height).
        option: Option name used in error messages.

    Returns:
        The path written.

    Raises:
        UsageError: The path has no image suffix.
        OutputFileError: Its folder is missing or the image cannot be written.
    """
    from PySide6.QtCore import Qt

    from vbt.ui.app import ensure_app
    from vbt.ui.set_view import SetView

    check_output_path(path, option)
    ensure_app(offscreen=True)
    view = SetView()
    view.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    view.resize(*size)
    view.set_lift(lift)
    view.set_state(state)
    view.show()
    try:
        return grab_widget(view, path, option)
    finally:
        view.close()
        view.deleteLater()


__all__ = ["DEFAULT_SIZE", "check_output_path", "grab_widget", "render_set_view"]
