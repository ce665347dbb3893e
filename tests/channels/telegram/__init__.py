"""Tests for the Telegram channel."""
