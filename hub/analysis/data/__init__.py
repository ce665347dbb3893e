"""Seed data shipped with the analysers (read with importlib.resources)."""
