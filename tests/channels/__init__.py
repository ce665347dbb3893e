"""Tests for channel adapters."""
