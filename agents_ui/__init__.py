"""Kefu agents_ui package."""
