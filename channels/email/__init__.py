"""Kefu channels.email package."""
