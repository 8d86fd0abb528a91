"""The project's one error model.

Services raise these; nothing else translates errors to HTTP. The API maps them in
``core.api.exception_handler`` (one DRF handler), pages in ``core.middleware.ApplicationErrorMiddleware``
and, for forms, in ``core.actions.run_page_action`` (the form is shown again with the error).

An error names what the user can fix: ``field`` for a form or body field, ``line``/``column`` for a
row of an imported file; ``errors`` holds every row error of a file refused as a whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RowError:
    """One bad cell of an imported file: 1-based ``line`` of the file and the column's name."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "error": self.message}


class ApplicationError(Exception):
    """Base of every error a service raises on purpose. ``status`` is its HTTP status."""

    status = 400
    code = "invalid"

    def __init__(
        self,
        message: Any = "",
        *,
        code: str | None = None,
        field: str | None = None,
        errors: list[RowError] | list[str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.message = str(message) if message else "\n".join(str(e) for e in errors or [])
        super().__init__(self.message)
        if code:
            self.code = code
        self.field = field
        self.errors = list(errors or [])
        self.extra = dict(extra or {})

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"detail": self.message, "code": self.code}
        if self.field:
            body["field"] = self.field
        if self.errors:
            body["errors"] = [e.as_dict() if isinstance(e, RowError) else str(e) for e in self.errors]
        body.update(self.extra)
        return body


class InvalidInput(ApplicationError, ValueError):
    """Input the user can correct: a missing reason, an amount out of range, a bad row or file."""

    status = 400
    code = "invalid"


class NotAuthenticated(ApplicationError):
    """A machine caller (webhook) that did not prove who it is."""

    status = 401
    code = "not_authenticated"


class NotPermitted(ApplicationError):
    """Wrong role, wrong owner, or staff acting on their own merchant's object."""

    status = 403
    code = "not_permitted"


class NotFound(ApplicationError, LookupError):
    """No such object visible to the caller (another merchant's object is not found either)."""

    status = 404
    code = "not_found"


class StateConflict(ApplicationError):
    """The object's state does not allow the action, or another user changed it first."""

    status = 409
    code = "state_conflict"


class PayloadTooLarge(InvalidInput):
    status = 413
    code = "too_large"


class UnsupportedMediaType(InvalidInput):
    status = 415
    code = "unsupported_media_type"
