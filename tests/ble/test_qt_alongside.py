"""BleSource beside a Qt event loop: its own asyncio loop in a worker thread (sensors.md §9).

The portable arrangement the dashboard uses: the Qt thread polls a queue with a QTimer (a
signal/slot, safe) and stops the source from the Qt thread. qasync is deliberately not used
here: with PySide6 6.12 on Python 3.11 every Python ``timerEvent`` override (qasync runs each
loop callback through one) drops a reference to ``None``, and the process aborts after a few
thousand callbacks ("none_dealloc"), i.e. within seconds of streaming.
"""

from __future__ import annotations

import asyncio
import queue
import threading

import pytest

from firmware_protocols import get_protocol
from vbt.clock import FakeClock
from vbt.sources import RawPacket
from vbt.sources.ble import BleSource, scan

QtCore = pytest.importorskip("PySide6.QtCore")


def test_source_in_a_worker_thread_feeds_the_qt_thread_and_stops_from_it(qapp):
    from vbt.ble import virtual_environment

    # The QApplication of pytest-qt: a bare QCoreApplication would outlive this test in the
    # worker process, and every later test that builds a widget would abort Qt.
    app = qapp
    items: queue.Queue = queue.Queue()
    ready = threading.Event()
    holder: dict[str, object] = {}

    def worker() -> None:
        async def main() -> None:
            clock = FakeClock(until_idle=True)
            async with virtual_environment("witmotion", clock=clock) as env:
                found = await scan(1.0, backend=env.scanner_backend, clock=clock)
                source = BleSource(found[0], config=get_protocol("witmotion").make_config(rate_hz=100),
                                   clock=clock, client_backend=env.client_backend)
                holder["source"] = source
                ready.set()
                async with source:
                    async for item in source:
                        items.put(item)
                holder["peripheral_connected_after"] = env.peripherals[0].connected

        try:
            asyncio.run(main())
        except BaseException as err:  # surfaced to the test below
            holder["error"] = err
            ready.set()
        finally:
            items.put(None)

    received: list[object] = []
    finished = {"done": False}

    def poll() -> None:
        while True:
            try:
                item = items.get_nowait()
            except queue.Empty:
                return
            if item is None:
                finished["done"] = True
                timer.stop()
                app.quit()
                return
            received.append(item)
            if len(received) == 300:
                holder["source"].stop()  # type: ignore[attr-defined]  # from the Qt thread

    timer = QtCore.QTimer()
    timer.setInterval(1)
    timer.timeout.connect(poll)
    guard = QtCore.QTimer()
    guard.setSingleShot(True)
    guard.timeout.connect(app.quit)  # hang guard only; never fires when things work
    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    ready.wait(30)
    timer.start()
    guard.start(30_000)
    app.exec()
    guard.stop()
    thread.join(30)

    assert "error" not in holder, holder.get("error")
    assert finished["done"] and not thread.is_alive()
    packets = [i for i in received if isinstance(i, RawPacket)]
    assert len(packets) >= 250
    assert holder["peripheral_connected_after"] is False  # closed cleanly after the stop
