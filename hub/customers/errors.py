"""The error a bad customer field or attribute raises: a 400 that names the field."""
from __future__ import annotations

from hub.domain import DomainError


class FieldError(DomainError):
    """A value Kefu will not store; `field` says which one (e.g. "lifecycle_stage", "attributes.plan")."""

    status = 400
    code = "invalid_field"

    def __init__(self, field: str, message: str, *, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.field = field
