"""The one error envelope and the request limits: malformed JSON, content types, body sizes,
validation errors, unknown routes and methods; plus the OpenAPI document and health check."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from datacoop import __version__
from datacoop.members.models import ApiToken, Member
from datacoop.projects.models import Project

REGISTER = "/api/v1/auth/register"
PASSWORD = "correct horse battery"


def _rows(client) -> dict[str, int]:
    with client.app.state.ctx.sessions() as s:
        return {
            model.__tablename__: s.scalar(select(func.count()).select_from(model))
            for model in (Member, ApiToken, Project)
        }


def _error(response) -> dict:
    """The error object, after checking the envelope has exactly its three keys."""
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == ["error"]
    assert set(body["error"]) == {"code", "message", "details"}
    return body["error"]


def _registration(email: str = "ada@example.org", **extra) -> dict:
    return {"email": email, "password": PASSWORD, "display_name": "Ada", **extra}


def _padded_registration(size: int) -> bytes:
    """A registration body of exactly ``size`` bytes (the padding is in the name)."""
    body = _registration(display_name="")
    base = len(json.dumps(body).encode())
    body["display_name"] = "A" * (size - base)
    data = json.dumps(body).encode()
    assert len(data) == size
    return data


# --- malformed bodies ----------------------------------------------------------------------


@pytest.mark.parametrize("body", [b'{"email": "ada@example.org",', b"{'email': 1}", b"nope"])
def test_malformed_json_is_a_400(client, api, body):
    headers = api.user("requester")
    before = _rows(client)
    for path, h in ((REGISTER, {}), ("/api/v1/projects", headers)):
        r = client.post(path, content=body, headers={**h, "content-type": "application/json"})
        assert r.status_code == 400
        assert _error(r) == {
            "code": "malformed_json",
            "message": "the request body is not valid JSON",
            "details": None,
        }
    assert _rows(client) == before


def test_a_body_that_is_not_utf8_is_malformed_json(client):
    r = client.post(
        REGISTER, content=b'{"email": "\xff"}', headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    assert _error(r)["code"] == "malformed_json"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", b'{"email": "ada@example.org"}'),
        ("application/x-www-form-urlencoded", b"email=ada%40example.org&password=x"),
        ("multipart/form-data; boundary=x", b"--x--\r\n"),
        ("application/merge-patch+json", b"{}"),
        ("", b"{}"),
    ],
)
def test_api_writes_must_be_json(client, content_type, body):
    r = client.post(REGISTER, content=body, headers={"content-type": content_type})
    assert r.status_code == 415
    assert _error(r) == {
        "code": "unsupported_media_type",
        "message": "send the body as application/json",
        "details": None,
    }
    assert _rows(client)["members"] == 0


def test_json_with_a_charset_parameter_is_fine(client):
    r = client.post(
        REGISTER,
        content=json.dumps(_registration()).encode(),
        headers={"content-type": "Application/JSON; charset=utf-8"},
    )
    assert r.status_code == 201, r.text


# --- body size -----------------------------------------------------------------------------


def test_a_body_at_the_limit_is_accepted(small_client):
    r = small_client.post(
        REGISTER, content=_padded_registration(1024), headers={"content-type": "application/json"}
    )
    assert r.status_code == 422  # read and validated: the name is too long, not the body
    assert [d["field"] for d in _error(r)["details"]] == ["display_name"]


def test_a_body_over_the_limit_with_content_length_is_a_413(small_client, client):
    body = _padded_registration(1025)
    r = small_client.post(REGISTER, content=body, headers={"content-type": "application/json"})
    assert r.request.headers["content-length"] == "1025"
    assert r.status_code == 413
    assert _error(r) == {
        "code": "payload_too_large",
        "message": "the request body is over 1024 bytes",
        "details": None,
    }
    assert _rows(client)["members"] == 0


def test_a_chunked_body_over_the_limit_is_a_413(small_client, client):
    body = _padded_registration(2000)
    r = small_client.post(
        REGISTER,
        content=(body[i : i + 500] for i in range(0, len(body), 500)),
        headers={"content-type": "application/json"},
    )
    assert r.request.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in r.request.headers
    assert r.status_code == 413
    assert _error(r) == {
        "code": "payload_too_large",
        "message": "the request body is over 1024 bytes",
        "details": None,
    }
    assert _rows(client)["members"] == 0


def test_a_chunked_body_over_the_limit_is_refused_and_stores_nothing(small_client, client):
    """The oversized body never reaches a handler: nothing is stored."""
    body = _padded_registration(2000)
    r = small_client.post(
        REGISTER,
        content=(body[i : i + 500] for i in range(0, len(body), 500)),
        headers={"content-type": "application/json"},
    )
    assert 400 <= r.status_code < 500
    _error(r)
    assert _rows(client)["members"] == 0


def test_a_chunked_body_under_the_limit_is_read(small_client, client):
    body = _padded_registration(250)
    r = small_client.post(
        REGISTER,
        content=(body[i : i + 100] for i in range(0, len(body), 100)),
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 201, r.text
    assert _rows(client)["members"] == 1


# --- validation, routes, methods -----------------------------------------------------------


def test_validation_errors_use_the_envelope_with_one_detail_per_field(client):
    r = client.post(REGISTER, json={"email": 5, "display_name": "Ada", "extra": 1})
    assert r.status_code == 422
    details = [
        {"field": "email", "message": "Input should be a valid string"},
        {"field": "password", "message": "Field required"},
        {"field": "extra", "message": "Extra inputs are not permitted"},
    ]
    assert _error(r) == {
        "code": "validation_failed",
        "message": "; ".join(f"{d['field']}: {d['message']}" for d in details),
        "details": details,
    }
    assert _rows(client)["members"] == 0


@pytest.mark.parametrize("body", [b"", b"null", b"[]"])
def test_a_missing_or_non_object_body_is_a_validation_error(client, body):
    r = client.post(REGISTER, content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422
    error = _error(r)
    assert error["code"] == "validation_failed"
    assert [d["field"] for d in error["details"]] == ["body"]


def test_path_and_query_errors_name_the_parameter(client, api):
    headers = api.user("steward")
    r = client.get("/api/v1/projects/abc", headers=headers)
    assert r.status_code == 422
    assert _error(r)["details"] == [
        {
            "field": "project_id",
            "message": "Input should be a valid integer, unable to parse string as an integer",
        }
    ]
    r = client.get("/api/v1/projects?limit=0", headers=headers)
    assert _error(r)["details"] == [
        {"field": "limit", "message": "Input should be greater than or equal to 1"}
    ]


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/projects/1/nope", "/api/v2/me"])
def test_an_unknown_route_is_a_404_envelope(client, path):
    for r in (client.get(path), client.post(path, json={})):
        assert r.status_code == 404
        assert _error(r) == {"code": "not_found", "message": "Not Found", "details": None}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("put", "/api/v1/me"),
        ("delete", "/api/v1/projects"),
        ("post", "/api/v1/health"),
        ("patch", "/api/v1/submissions/1"),
        ("delete", "/api/v1/auth/register"),
    ],
)
def test_a_wrong_method_is_a_405_envelope(client, api, method, path):
    r = getattr(client, method)(path, headers=api.user())
    assert r.status_code == 405
    assert _error(r) == {
        "code": "method_not_allowed",
        "message": "Method Not Allowed",
        "details": None,
    }


def test_a_405_says_which_methods_are_allowed(client):
    r = client.put("/api/v1/me")
    assert r.status_code == 405
    assert "GET" in r.headers.get("allow", "")


def test_every_error_has_exactly_code_message_and_details(client, small_client, api):
    member = api.user()
    requester = api.user("requester")
    client.post(REGISTER, json=_registration("taken@example.org"))
    responses = {
        400: client.post(REGISTER, content=b"{", headers={"content-type": "application/json"}),
        401: client.get("/api/v1/me", headers={"Authorization": "Bearer nope"}),
        403: client.get("/api/v1/members", headers=member),
        404: client.get("/api/v1/projects/424242", headers=member),
        405: client.put("/api/v1/me"),
        409: client.post(REGISTER, json=_registration("TAKEN@example.org")),
        413: small_client.post(
            REGISTER,
            content=b"{" + b" " * 2000 + b"}",
            headers={"content-type": "application/json"},
        ),
        415: client.post(REGISTER, content=b"x", headers={"content-type": "text/plain"}),
        422: client.post("/api/v1/projects", json={"title": ""}, headers=requester),
    }
    for status, r in responses.items():
        assert r.status_code == status, r.text
        error = _error(r)
        assert isinstance(error["code"], str) and error["code"]
        assert isinstance(error["message"], str) and error["message"]
        assert error["details"] is None or isinstance(error["details"], list | dict)
        assert ("www-authenticate" in r.headers) == (status == 401)


# --- meta ----------------------------------------------------------------------------------


def test_openapi_lists_the_main_paths(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    expected = {
        "/api/v1/health": {"get"},
        "/api/v1/auth/register": {"post"},
        "/api/v1/auth/token": {"post"},
        "/api/v1/me": {"get"},
        "/api/v1/me/tokens": {"get", "post"},
        "/api/v1/me/tokens/{token_id}": {"delete"},
        "/api/v1/members": {"get"},
        "/api/v1/members/{member_id}": {"patch"},
        "/api/v1/projects": {"get", "post"},
        "/api/v1/projects/{project_id}": {"get", "patch"},
        "/api/v1/projects/{project_id}/instructions": {"get"},
        "/api/v1/projects/{project_id}/items": {"get", "post"},
        "/api/v1/projects/{project_id}/export": {"get"},
        "/api/v1/projects/{project_id}/next": {"post"},
        "/api/v1/assignments/{assignment_id}/heartbeat": {"post"},
        "/api/v1/submissions": {"get", "post"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert methods <= set(paths[path]), (path, set(paths[path]))
    upload = paths["/api/v1/projects/{project_id}/items"]["post"]["requestBody"]["content"]
    assert {"text/csv", "application/x-ndjson", "application/json", "multipart/form-data"} <= set(
        upload
    )


def test_health_answers_without_credentials(client):
    r = client.get("/api/v1/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "version": __version__}
