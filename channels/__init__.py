"""Kefu channels package."""
