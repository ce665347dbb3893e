"""Kefu hub package."""
