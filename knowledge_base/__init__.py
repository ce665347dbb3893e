"""Kefu knowledge_base package."""
