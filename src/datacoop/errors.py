"""Domain errors.

Every failure a user can cause is one of these types. The web layer maps each to an HTTP
status in one table (``datacoop.web.errors``) and renders the one error envelope
``{"error": {"code", "message", "details"}}``; the CLI prints the message and exits non-zero.

    DatacoopError
    ├── ValidationFailed        422  input does not fit a schema (details: [{field, message}])
    │   └── ImportFailed        422  an import row is bad (details: {line, reason}); nothing kept
    ├── NotAuthenticated        401  no or bad credentials
    ├── PermissionDenied        403  authenticated, but a named rule says no
    ├── NotFound                404  no such object
    ├── Conflict                409  the request clashes with current state (duplicate email, ...)
    ├── PayloadTooLarge         413  body over the configured limit
    └── UnsupportedMediaType    415  content type we do not read
"""

from __future__ import annotations

from typing import Any


class DatacoopError(Exception):
    """Base of all domain errors: a stable machine ``code``, a human ``message``, ``details``."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details

    def __str__(self) -> str:
        return self.message


class ValidationFailed(DatacoopError):
    """Input does not fit its schema. ``details`` is a list of ``{"field", "message"}``."""

    code = "validation_failed"

    @classmethod
    def field(cls, field: str, message: str) -> ValidationFailed:
        return cls(f"{field}: {message}", details=[{"field": field, "message": message}])


class ImportFailed(ValidationFailed):
    """A row of an item import is bad; the whole import is refused."""

    code = "import_failed"

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}", details={"line": line, "reason": reason})
        self.line = line
        self.reason = reason


class NotAuthenticated(DatacoopError):
    code = "not_authenticated"


class PermissionDenied(DatacoopError):
    code = "permission_denied"


class NotFound(DatacoopError):
    code = "not_found"


class Conflict(DatacoopError):
    code = "conflict"


class PayloadTooLarge(DatacoopError):
    code = "payload_too_large"


class UnsupportedMediaType(DatacoopError):
    code = "unsupported_media_type"


class InvalidData(DatacoopError, ValueError):
    """Input to an algorithm is unusable (empty frame, missing column, NaN label, ...).

    Also a ``ValueError``, so library users can catch it the usual way.
    """

    code = "invalid_data"
