"""The analysis pipeline: timing, orientation, velocity, rep segmentation, metrics (NumPy/SciPy only)."""
