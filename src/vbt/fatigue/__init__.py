"""Fatigue: velocity loss, reps-in-reserve estimation, the stop flag, exercise catalogue, athlete history."""
