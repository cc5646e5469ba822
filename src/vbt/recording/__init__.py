"""Recordings: the versioned JSON Lines format, its reader and writer, CSV import."""
