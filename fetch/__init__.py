"""Aushang: a tracker-free public archive of a city's own social-media posts."""

__version__ = "0.1.0"
