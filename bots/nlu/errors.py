"""Errors the NLU package raises on purpose."""


class MissingExtraError(RuntimeError):
    """An optional dependency needed by the chosen mode is not installed."""


class ModelFormatError(ValueError):
    """A model file is not one Kefu wrote, or was written by an unsupported version."""
