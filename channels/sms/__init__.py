"""Kefu channels.sms package."""
