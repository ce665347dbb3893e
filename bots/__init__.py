"""Kefu bots package."""
