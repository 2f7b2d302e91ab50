"""The one table that maps domain errors to HTTP, and the one error envelope.

Every error response has the body ``{"error": {"code", "message", "details"}}``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from datacoop import errors

STATUS: dict[type[errors.DatacoopError], int] = {
    errors.ImportFailed: 422,
    errors.ValidationFailed: 422,
    errors.NotAuthenticated: 401,
    errors.PermissionDenied: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.PayloadTooLarge: 413,
    errors.UnsupportedMediaType: 415,
}


def status_for(exc: errors.DatacoopError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]  # type: ignore[index]
    return 400


def envelope(status: int, code: str, message: str, details: Any = None) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        {"error": {"code": code, "message": message, "details": details}},
        status_code=status,
        headers=headers,
    )


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.DatacoopError)
    async def _domain(_request: Request, exc: errors.DatacoopError) -> JSONResponse:
        return envelope(status_for(exc), exc.code, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        details = []
        for err in exc.errors():
            if err.get("type") == "json_invalid":
                return envelope(400, "malformed_json", "the request body is not valid JSON")
            details.append(
                {"field": _field_name(tuple(err.get("loc", ()))), "message": err.get("msg", "")}
            )
        message = "; ".join(f"{d['field']}: {d['message']}" for d in details)
        return envelope(422, "validation_failed", message or "invalid request", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):
            # FastAPI could not decode the body (not UTF-8, say): that is malformed JSON too.
            return envelope(400, "malformed_json", "the request body is not valid JSON")
        codes = {404: "not_found", 405: "method_not_allowed", 401: "not_authenticated"}
        response = envelope(
            exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail)
        )
        response.headers.update(exc.headers or {})  # e.g. Allow on a 405
        return response
