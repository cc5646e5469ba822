"""vbt-monitor: a velocity-based-training fatigue monitor for barbell IMUs over Bluetooth LE.

Streams a commodity IMU clipped to the bar, finds every rep, measures bar velocity (mean
concentric, mean propulsive, peak, range of motion), tracks velocity loss, estimates reps in
reserve, and flags the set when it reaches 1-2 reps in reserve.

The command line (``vbt --help``) is the main entry point; the Python API re-exported here is
what the commands use.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vbt-monitor")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

from vbt.errors import VbtError

__all__ = ["VbtError", "__version__"]
