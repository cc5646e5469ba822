"""Physics-based simulator of barbell sets and of the IMU and Bluetooth link that observe them."""
