"""Tests for the email channel."""
