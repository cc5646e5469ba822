"""`TapSource`: wraps the session's source to watch items go by and to inject user markers.

The dashboard needs to see the raw stream as well as the pipeline's results: the recorder
writes every item exactly as received, the replay transport follows the position, the link
panel follows link events, and the latency figure needs the moment each live packet reached
the host. Wrapping the source -- rather than asking the `Session` for hooks -- keeps the
session unaware of any of that, and works the same for BLE, replay and simulated sources.

It also carries the manual set override: "Start set"/"End set" become ``marker`` link events
inserted into the stream (the `LinkEvent` contract's user markers), so they reach the pipeline
through the same path as everything else and end up in the recording too.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Callable

from vbt.sources import LINK_MARKER, LinkEvent, Source, SourceItem


class TapSource(Source):
    """A `Source` that forwards ``inner`` unchanged, calling ``on_item`` for every item.

    Args:
        inner: The real source (BLE, replay, simulated).
        on_item: Called with each item just before it is yielded (on the session's loop).
        clock_now: Returns the current time on the inner source's host clock; stamps markers.
    """

    def __init__(self, inner: Source, on_item: Callable[[SourceItem], None],
                 clock_now: Callable[[], float] | None = None) -> None:
        self.inner = inner
        self.on_item = on_item
        self._clock_now = clock_now
        self._injected: deque[LinkEvent] = deque()
        self._last_host_s: float | None = None
        if hasattr(inner, "header"):
            self.header = inner.header

    @property
    def path(self) -> object:
        """The inner source's file, if it has one (the session names its result after it)."""
        return getattr(self.inner, "path", "")

    @property
    def last_host_time_s(self) -> float | None:
        """Host time of the newest item that went through (the replay position)."""
        return self._last_host_s

    async def open(self) -> None:
        """Open the inner source and take over its header."""
        await self.inner.open()
        self.header = self.inner.header

    async def close(self) -> None:
        """Close the inner source."""
        await self.inner.close()

    def inject_marker(self, **detail: object) -> None:
        """Insert a user marker before the next item (e.g. ``set="start"``)."""
        t = self._last_host_s if self._last_host_s is not None else 0.0
        if self._clock_now is not None:
            t = max(t, self._clock_now())
        self._injected.append(LinkEvent(t, LINK_MARKER, dict(detail)))

    def __aiter__(self) -> AsyncIterator[SourceItem]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[SourceItem]:
        async for item in self.inner:
            host = getattr(item, "host_time_s", None)
            while self._injected:
                marker = self._injected.popleft()
                if host is not None and marker.host_time_s > host:
                    # Never let a marker run ahead of the data it precedes.
                    marker = LinkEvent(host, marker.kind, marker.detail)
                self.on_item(marker)
                yield marker
            if host is not None:
                self._last_host_s = float(host)
            self.on_item(item)
            yield item


__all__ = ["TapSource"]
