"""Tests for the bot: content model, Rasa interop, NLU and policy."""
