"""Kefu channels.webchat package."""
