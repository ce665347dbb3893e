"""Kefu hub.storage package."""
