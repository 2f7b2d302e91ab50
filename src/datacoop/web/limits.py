"""ASGI middleware: request body size limits and JSON content types, before any handler runs."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

JSON_TYPES = {"application/json"}


def _is_import(path: str, method: str) -> bool:
    # The API's import and the requester's upload page (``/projects/{id}/items``).
    return (
        method == "POST"
        and path.startswith(("/api/v1/projects/", "/projects/"))
        and path.endswith("/items")
    )


class BodyLimits:
    """413 for bodies over the limit (imports have their own, larger limit); 415 for API
    writes whose body is not JSON. Checked on the declared length and again while reading,
    so a chunked body cannot slip past."""

    def __init__(self, app: ASGIApp, *, max_body: int, max_import: int) -> None:
        self.app = app
        self.max_body = max_body
        self.max_import = max_import

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        declared: str | None = None
        content_type = ""
        chunked = False
        for key, value in scope["headers"]:  # the last of repeated headers wins
            name = key.lower()
            if name == b"content-length":
                declared = value.decode("latin-1")
            elif name == b"content-type":
                content_type = value.decode("latin-1")
            elif name == b"transfer-encoding":
                chunked = True
        importing = _is_import(path, scope["method"])
        limit = self.max_import if importing else self.max_body
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _reply(send, 413, "payload_too_large", f"the request body is over {limit} bytes")
            return
        content_type = content_type.split(";")[0].strip().lower()
        has_body = declared not in (None, "0") or chunked
        if (
            path.startswith("/api/")
            and not importing
            and has_body
            and content_type not in JSON_TYPES
        ):
            await _reply(send, 415, "unsupported_media_type", "send the body as application/json")
            return
        received = 0
        too_large = False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large = True
                    raise _TooLarge
            return message

        started = False

        async def guarded_send(message: Message) -> None:
            # Once the body went over the limit, whatever the app answers (FastAPI turns a
            # failed body read into a 400) is dropped, and the 413 below goes out instead.
            nonlocal started
            if too_large:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        with contextlib.suppress(_TooLarge):
            await self.app(scope, limited_receive, guarded_send)
        if too_large and not started:
            await _reply(send, 413, "payload_too_large", f"the request body is over {limit} bytes")


class _TooLarge(Exception):
    pass


async def _reply(send: Send, status: int, code: str, message: str) -> None:
    body: Any = json.dumps({"error": {"code": code, "message": message, "details": None}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
