"""Virtual Bluetooth sensors on Google's bumble stack, and in-process bleak backends to reach them.

Nothing here is needed to use real sensors; it lets the whole product run with no hardware:
``vbt scan/record/dashboard --virtual SENSOR``, the demos and the CI tests. The pieces:

* `VirtualAir` (air.py): the shared in-process radio (a bumble ``LocalLink``) plus the radio
  behaviour it lacks (advertising waits, RSSI, an adapter that can be unplugged);
* `BumbleScannerBackend` / `BumbleClientBackend` (backend.py): bleak backends over bumble,
  passed to bleak's ``backend=`` so our unchanged bleak code talks to virtual sensors;
* `VirtualSensorPeripheral` (peripheral.py): a bumble GATT server driven by a protocol's
  `VirtualDevice`, streaming what a `SampleFeed` (feeds.py) measures, with `RadioModel` /
  `FaultPlan` (faults.py) adding timing and faults;
* `virtual_environment` (environment.py): start N virtual sensors, yield the backends.

Imports bumble and bleak's backend base classes; never Qt.
"""

from vbt.ble.air import VirtualAir
from vbt.ble.backend import BumbleClientBackend, BumbleScannerBackend
from vbt.ble.environment import VirtualEnvironment, VirtualSensorSpec, virtual_environment
from vbt.ble.faults import FaultPlan, LinkDrop, RadioModel, RateChange, Stall
from vbt.ble.feeds import AnalyticRep, AnalyticRepsFeed, SampleFeed
from vbt.ble.peripheral import SampleLog, SentNotification, VirtualSensorPeripheral

__all__ = [
    "AnalyticRep",
    "AnalyticRepsFeed",
    "BumbleClientBackend",
    "BumbleScannerBackend",
    "FaultPlan",
    "LinkDrop",
    "RadioModel",
    "RateChange",
    "SampleFeed",
    "SampleLog",
    "SentNotification",
    "Stall",
    "VirtualAir",
    "VirtualEnvironment",
    "VirtualSensorPeripheral",
    "VirtualSensorSpec",
    "virtual_environment",
]
