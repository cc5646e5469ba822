"""The Qt dashboard (the only package that imports Qt; nothing imports it)."""
