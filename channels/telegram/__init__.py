"""Kefu channels.telegram package."""
