"""Projects over HTTP: specs for every task type, instruction versions, item import in every
format (all or nothing), size and type limits, and who may see items and gold answers."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import func, select

from datacoop.projects.models import InstructionVersion, Item, ItemImport, Project

NOW = "2026-01-01T00:00:00Z"  # the FixedClock's start, as the API renders it
COMMON = {
    "title": "Colours",
    "instructions": "Pick the colour.",
    "overlap": 2,
    "pay_per_item": 5,
    "estimated_seconds": 10,
    "currency": "USD",
}
WANTED = "upload CSV (.csv), JSON Lines (.jsonl) or a Label Studio JSON file (.json)"


def _counts(client) -> dict[str, int]:
    with client.app.state.ctx.sessions() as s:
        return {
            model.__tablename__: s.scalar(select(func.count()).select_from(model))
            for model in (Project, InstructionVersion, ItemImport, Item)
        }


def _error(response) -> dict:
    """The error object, after checking the envelope has exactly its three keys."""
    body = response.json()
    assert list(body) == ["error"]
    assert set(body["error"]) == {"code", "message", "details"}
    return body["error"]


def _create(client, headers, **spec):
    return client.post("/api/v1/projects", json=spec, headers=headers)


def _upload(client, headers, project_id, body: bytes, content_type: str, query: str = ""):
    return client.post(
        f"/api/v1/projects/{project_id}/items{query}",
        content=body,
        headers={**headers, "content-type": content_type},
    )


def _project(client, headers, **spec) -> dict:
    r = _create(client, headers, **{**COMMON, **spec})
    assert r.status_code == 201, r.text
    return r.json()


def _owned_project(api, **spec):
    owner = api.user("requester")
    return owner, api.project(owner, **spec)


# --- creating projects ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("task_type", "given", "config"),
    [
        ("single_choice", {"labels": [" red ", "blue"]}, {"labels": ["red", "blue"]}),
        (
            "multi_label",
            {"labels": ["cat", "dog", "bird"], "max_choices": 2},
            {"labels": ["cat", "dog", "bird"], "min_choices": 0, "max_choices": 2},
        ),
        (
            "pairwise",
            {},
            {"allow_tie": True, "left_field": "a", "right_field": "b", "labels": ["A", "B", "tie"]},
        ),
        (
            "pairwise",
            {"allow_tie": False, "left_field": "left", "right_field": "right"},
            {
                "allow_tie": False,
                "left_field": "left",
                "right_field": "right",
                "labels": ["A", "B"],
            },
        ),
        (
            "rating",
            {"min": 0, "max": 10, "anchors": {"0": " awful ", "10": "superb"}},
            {"min": 0, "max": 10, "anchors": {"0": "awful", "10": "superb"}},
        ),
        ("rating", {}, {"min": 1, "max": 5, "anchors": {}}),
        ("free_text", {"max_length": 500}, {"min_length": 1, "max_length": 500}),
        (
            "span",
            {"labels": ["PER", "ORG"]},
            {"labels": ["PER", "ORG"], "text_field": "text", "allow_overlap": False},
        ),
    ],
)
def test_create_a_project_of_every_task_type(client, api, task_type, given, config):
    owner = api.user("requester")
    r = _create(client, owner, **COMMON, task_type=task_type, **given)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body == {
        "id": body["id"],
        "title": "Colours",
        "task_type": task_type,
        "config": config,
        "overlap": 2,
        "lease_seconds": 600,
        "pay_per_item": 5,
        "estimated_seconds": 10,
        "implied_hourly": 1800,
        "currency": "USD",
        "sensitivity": "none",
        "dynamic_overlap": None,
        "instructions": "Pick the colour.",
        "instructions_version": 1,
        "created_at": NOW,
    }
    assert client.get(f"/api/v1/projects/{body['id']}", headers=api.user()).json() == body
    assert _counts(client) == {
        "projects": 1,
        "instruction_versions": 1,
        "item_imports": 0,
        "items": 0,
    }


def test_implied_hourly_pay_is_rounded_down_in_minor_units(client, api):
    owner = api.user("requester")
    spec = {**COMMON, "task_type": "single_choice", "labels": ["a", "b"]}
    r = _create(client, owner, **{**spec, "pay_per_item": 7, "estimated_seconds": 11})
    assert r.json()["implied_hourly"] == 2290  # 7 * 3600 / 11 = 2290.9
    r = _create(
        client,
        owner,
        **{
            **spec,
            "pay_per_item": 0,
            "sensitivity": "disturbing",
            "lease_seconds": 30,
            "currency": "EUR",
        },
    )
    body = r.json()
    assert (
        body["implied_hourly"],
        body["sensitivity"],
        body["lease_seconds"],
        body["currency"],
    ) == (0, "disturbing", 30, "EUR")


def test_a_bad_spec_lists_every_bad_field(client, api):
    owner = api.user("requester")
    r = _create(
        client,
        owner,
        **{**COMMON, "task_type": "poll", "pay_per_item": 5.5, "overlap": 0, "currency": "usd"},
    )
    assert r.status_code == 422
    details = [
        {
            "field": "task_type",
            "message": "must be one of: single_choice, multi_label, pairwise, rating, free_text, span",
        },
        {"field": "overlap", "message": "must be an integer from 1 to 50"},
        {
            "field": "pay_per_item",
            "message": "must be an integer number of minor units (cents), 0 or more",
        },
        {"field": "currency", "message": "must be a three-letter ISO 4217 code such as USD or EUR"},
    ]
    assert _error(r) == {
        "code": "validation_failed",
        "message": "; ".join(f"{d['field']}: {d['message']}" for d in details),
        "details": details,
    }
    assert _counts(client)["projects"] == 0


@pytest.mark.parametrize(
    ("spec", "details"),
    [
        (
            {"task_type": "single_choice", "labels": ["a", "b"], "colour": "red"},
            [{"field": "colour", "message": "unknown setting; allowed: labels"}],
        ),
        (
            {"task_type": "single_choice", "labels": ["a"], "overlap": 51},
            [
                {"field": "overlap", "message": "must be an integer from 1 to 50"},
                {"field": "labels", "message": "must have at least 2 labels"},
            ],
        ),
        (
            {"task_type": "rating", "min": 5, "max": 5},
            [{"field": "max", "message": "must be greater than min (5)"}],
        ),
        (
            {
                "task_type": "single_choice",
                "labels": ["a", "b"],
                "pay_per_item": True,
                "estimated_seconds": 0,
                "title": "  ",
            },
            [
                {"field": "title", "message": "must be a string of 1 to 200 characters"},
                {
                    "field": "pay_per_item",
                    "message": "must be an integer number of minor units (cents), 0 or more",
                },
                {"field": "estimated_seconds", "message": "must be an integer from 1 to 86400"},
            ],
        ),
    ],
)
def test_bad_specs_name_each_field(client, api, spec, details):
    owner = api.user("requester")
    r = _create(client, owner, **{**COMMON, **spec})
    assert r.status_code == 422
    error = _error(r)
    assert error["code"] == "validation_failed"
    assert error["details"] == details
    assert _counts(client)["projects"] == 0


def test_a_spec_must_be_a_json_object(client, api):
    owner = api.user("requester")
    r = client.post("/api/v1/projects", json=["not", "an", "object"], headers=owner)
    assert r.status_code == 422
    assert _error(r)["details"] == [
        {"field": "body", "message": "Input should be a valid dictionary"}
    ]
    assert _counts(client)["projects"] == 0


def test_members_cannot_create_projects_but_stewards_can(client, api):
    spec = {**COMMON, "task_type": "single_choice", "labels": ["a", "b"]}
    r = _create(client, api.user(), **spec)
    assert r.status_code == 403
    assert _error(r) == {
        "code": "permission_denied",
        "message": "only requesters and stewards can create projects",
        "details": None,
    }
    assert _counts(client)["projects"] == 0
    assert _create(client, api.user("steward"), **spec).status_code == 201


# --- instructions --------------------------------------------------------------------------


def test_changing_instructions_keeps_every_version(client, api, clock):
    owner, project = _owned_project(api)
    url = f"/api/v1/projects/{project['id']}"
    clock.advance(60)
    r = client.patch(url, json={"instructions": "Pick the main colour."}, headers=owner)
    assert r.status_code == 200, r.text
    assert r.json() == {
        **project,
        "instructions": "Pick the main colour.",
        "instructions_version": 2,
    }
    clock.advance(60)
    same = client.patch(url, json={"instructions": "Pick the main colour."}, headers=owner)
    assert same.json()["instructions_version"] == 2
    renamed = client.patch(url, json={"title": "  Colours v2 "}, headers=owner)
    assert renamed.json() == {
        **project,
        "title": "Colours v2",
        "instructions": "Pick the main colour.",
        "instructions_version": 2,
    }
    history = client.get(f"{url}/instructions", headers=api.user())
    assert history.status_code == 200
    assert history.json() == [
        {"version": 1, "text": "Pick the colour.", "created_at": NOW},
        {"version": 2, "text": "Pick the main colour.", "created_at": "2026-01-01T00:01:00Z"},
    ]
    assert _counts(client)["instruction_versions"] == 2


@pytest.mark.parametrize("who", ["requester", "member"])
def test_only_the_owner_changes_a_project(client, api, who):
    _, project = _owned_project(api)
    r = client.patch(
        f"/api/v1/projects/{project['id']}",
        json={"title": "Mine now", "instructions": "Do as I say."},
        headers=api.user(who),
    )
    assert r.status_code == 403
    assert _error(r) == {
        "code": "permission_denied",
        "message": "only the project's requester can do this",
        "details": None,
    }
    owner_view = client.get(f"/api/v1/projects/{project['id']}", headers=api.user()).json()
    assert owner_view == project
    assert _counts(client)["instruction_versions"] == 1


def test_a_steward_may_change_any_project(client, api):
    _, project = _owned_project(api)
    r = client.patch(
        f"/api/v1/projects/{project['id']}",
        json={"instructions": "Fixed."},
        headers=api.user("steward"),
    )
    assert r.status_code == 200 and r.json()["instructions_version"] == 2


@pytest.mark.parametrize(
    ("patch", "details"),
    [
        (
            {"title": "   "},
            [{"field": "title", "message": "must be a string of 1 to 200 characters"}],
        ),
        (
            {"title": "x" * 201},
            [{"field": "title", "message": "String should have at most 200 characters"}],
        ),
        ({"overlap": 5}, [{"field": "overlap", "message": "Extra inputs are not permitted"}]),
        (
            {"title": "New", "instructions": "x" * 100_001},
            [{"field": "instructions", "message": "is too long"}],
        ),
    ],
)
def test_bad_project_changes_are_refused_and_change_nothing(client, api, patch, details):
    owner, project = _owned_project(api)
    r = client.patch(f"/api/v1/projects/{project['id']}", json=patch, headers=owner)
    assert r.status_code == 422
    error = _error(r)
    assert (error["code"], error["details"]) == ("validation_failed", details)
    assert client.get(f"/api/v1/projects/{project['id']}", headers=owner).json() == project
    assert _counts(client)["instruction_versions"] == 1


# --- importing items -----------------------------------------------------------------------

CSV_BODY = b"id,text,gold\na,sky,blue\nb,grass,\n"
JSONL_BODY = b'{"id": "a", "text": "sky", "gold": "blue"}\n{"id": "b", "text": "grass"}\n'
LABELSTUDIO_BODY = (
    b'[\n  {"id": "a", "data": {"text": "sky"}, "gold": "blue"},\n'
    b'  {"id": "b", "data": {"text": "grass"}, "annotations": []}\n]\n'
)
EXPECTED_ITEMS = [
    {
        "external_id": "a",
        "data": {"text": "sky"},
        "is_gold": True,
        "gold": "blue",
        "answer_count": 0,
    },
    {
        "external_id": "b",
        "data": {"text": "grass"},
        "is_gold": False,
        "gold": None,
        "answer_count": 0,
    },
]


def _items(client, headers, project_id) -> list[dict]:
    r = client.get(f"/api/v1/projects/{project_id}/items", headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["next_after"] is None
    return [{k: v for k, v in i.items() if k != "id"} for i in r.json()["data"]]


@pytest.mark.parametrize(
    ("body", "content_type", "fmt"),
    [
        (CSV_BODY, "text/csv", "csv"),
        (CSV_BODY, "text/csv; charset=utf-8", "csv"),
        (JSONL_BODY, "application/x-ndjson", "jsonl"),
        (LABELSTUDIO_BODY, "application/json", "labelstudio"),
    ],
)
def test_import_items_in_each_format(client, api, body, content_type, fmt):
    owner, project = _owned_project(api)
    r = _upload(client, owner, project["id"], body, content_type)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out == {
        "id": out["id"],
        "format": fmt,
        "filename": None,
        "item_count": 2,
        "sha256": hashlib.sha256(body).hexdigest(),
        "created_at": NOW,
    }
    assert _items(client, owner, project["id"]) == EXPECTED_ITEMS
    assert _counts(client)["item_imports"] == 1


@pytest.mark.parametrize(
    ("filename", "body", "fmt"),
    [
        ("batch.csv", CSV_BODY, "csv"),
        ("batch.JSONL", JSONL_BODY, "jsonl"),
        ("batch.ndjson", JSONL_BODY, "jsonl"),
        ("export.json", LABELSTUDIO_BODY, "labelstudio"),
    ],
)
def test_import_a_multipart_upload_by_file_extension(client, api, filename, body, fmt):
    owner, project = _owned_project(api)
    r = client.post(
        f"/api/v1/projects/{project['id']}/items",
        files={"file": (filename, body, "application/octet-stream")},
        headers=owner,
    )
    assert r.status_code == 201, r.text
    out = r.json()
    assert (out["format"], out["filename"], out["item_count"], out["sha256"]) == (
        fmt,
        filename,
        2,
        hashlib.sha256(body).hexdigest(),
    )
    assert _items(client, owner, project["id"]) == EXPECTED_ITEMS


def test_a_raw_upload_may_name_its_file(client, api):
    owner, project = _owned_project(api)
    r = _upload(
        client,
        owner,
        project["id"],
        JSONL_BODY,
        "application/octet-stream",
        "?filename=batch.jsonl",
    )
    assert r.status_code == 201, r.text
    assert (r.json()["format"], r.json()["filename"]) == ("jsonl", "batch.jsonl")


def test_a_multipart_upload_needs_a_file_field(client, api):
    owner, project = _owned_project(api)
    r = client.post(
        f"/api/v1/projects/{project['id']}/items",
        files={"upload": ("a.csv", CSV_BODY, "text/csv")},
        headers=owner,
    )
    assert r.status_code == 422
    assert _error(r)["details"] == [
        {"field": "file", "message": "send the items as a form field named 'file'"}
    ]
    assert _counts(client)["items"] == 0


def test_imports_add_up(client, api):
    owner, project = _owned_project(api)
    _upload(client, owner, project["id"], CSV_BODY, "text/csv")
    _upload(client, owner, project["id"], JSONL_BODY, "application/x-ndjson")
    assert _items(client, owner, project["id"]) == EXPECTED_ITEMS * 2
    assert _counts(client)["item_imports"] == 2


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (
            b"id,text\na,one\nb,two\nc,three,extra\nd,four\n",
            "text/csv",
            "expected 2 fields, found 3",
        ),
        (
            b'{"text": "one"}\n{"text": "two"}\n\n{"text": \'three\'}\n{"text": "four"}\n',
            "application/x-ndjson",
            "invalid JSON: Expecting value at column 10",
        ),
        (
            b'[\n{"data": {"text": "one"}},\n{"data": {"text": "two"}},\n{"text": "three"},\n'
            b'{"data": {"text": "four"}}\n]',
            "application/json",
            "task 3: missing 'data'",
        ),
    ],
)
def test_one_bad_row_fails_the_whole_import(client, api, body, content_type, reason):
    owner, project = _owned_project(api)
    r = _upload(client, owner, project["id"], body, content_type)
    assert r.status_code == 422
    assert _error(r) == {
        "code": "import_failed",
        "message": f"line 4: {reason}",
        "details": {"line": 4, "reason": reason},
    }
    assert _counts(client)["items"] == 0
    assert _counts(client)["item_imports"] == 0


def test_a_bad_row_after_a_full_batch_still_keeps_nothing(client, api):
    owner, project = _owned_project(api)
    _upload(client, owner, project["id"], CSV_BODY, "text/csv")
    before = _counts(client)
    rows = "".join(f"i{n},text {n}\n" for n in range(5001))  # more than one insert batch
    body = f"id,text\n{rows}bad,row,extra\n".encode()
    r = _upload(client, owner, project["id"], body, "text/csv")
    assert r.status_code == 422
    assert _error(r)["details"] == {"line": 5003, "reason": "expected 2 fields, found 3"}
    assert _counts(client) == before
    assert _items(client, owner, project["id"]) == EXPECTED_ITEMS


def test_a_truncated_jsonl_line_reports_the_column_where_it_ends(client, api):
    owner, project = _owned_project(api)
    body = b'{"text": "one"}\n{"text": "two"\n{"text": "three"}\n'
    r = _upload(client, owner, project["id"], body, "application/x-ndjson")
    assert r.status_code == 422
    assert _error(r)["details"] == {
        "line": 2,
        "reason": "invalid JSON: Expecting ',' delimiter at column 15",
    }


@pytest.mark.parametrize(
    ("spec", "body", "line", "reason"),
    [
        (
            {},
            b"id,text,gold\na,sky,blue\nb,grass,green\n",
            3,
            "gold: 'green' is not one of the labels: red, blue",
        ),
        (
            {"task_type": "rating", "labels": None},
            b"text,gold\nok,3\nbad,lots\n",
            3,
            "gold: 'lots' is not a whole number",
        ),
        (
            {"task_type": "rating", "labels": None},
            b"text,gold\nok,3\nhigh,6\n",
            3,
            "gold: must be between 1 and 5",
        ),
    ],
)
def test_a_bad_gold_answer_fails_the_import_with_its_line(client, api, spec, body, line, reason):
    owner = api.user("requester")
    full = {"task_type": "single_choice", "labels": ["red", "blue"], **spec}
    project = _project(client, owner, **{k: v for k, v in full.items() if v is not None})
    r = _upload(client, owner, project["id"], body, "text/csv")
    assert r.status_code == 422
    assert _error(r) == {
        "code": "import_failed",
        "message": f"line {line}: {reason}",
        "details": {"line": line, "reason": reason},
    }
    assert _counts(client)["items"] == 0
    assert _counts(client)["item_imports"] == 0


def test_a_bad_gold_reason_quotes_the_gold_value_unchanged(client, api):
    owner = api.user("requester")
    project = api.project(owner, labels=["yes", "no"])
    r = _upload(client, owner, project["id"], b"text,gold\nq,answered\n", "text/csv")
    assert r.status_code == 422
    assert _error(r)["details"] == {
        "line": 2,
        "reason": "gold: 'answered' is not one of the labels: yes, no",
    }


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"", "text/csv"),
        (b"id,text\n", "text/csv"),
        (b"\n\n", "application/x-ndjson"),
        (b"[]", "application/json"),
    ],
)
def test_an_import_with_no_items_is_refused(client, api, body, content_type):
    owner, project = _owned_project(api)
    r = _upload(client, owner, project["id"], body, content_type)
    assert r.status_code == 422
    assert _error(r) == {
        "code": "import_failed",
        "message": "line 1: the file holds no items",
        "details": {"line": 1, "reason": "the file holds no items"},
    }
    assert _counts(client)["item_imports"] == 0


@pytest.mark.parametrize(
    ("content_type", "query", "message"),
    [
        ("application/pdf", "?filename=x.pdf", f"cannot import a .pdf file: {WANTED}"),
        ("application/pdf", "", f"cannot import application/pdf: {WANTED}"),
        ("application/octet-stream", "", f"this looks like a binary file: {WANTED}"),
    ],
)
def test_an_unsupported_file_type_is_refused(client, api, content_type, query, message):
    owner, project = _owned_project(api)
    r = _upload(client, owner, project["id"], b"%PDF-1.7\n...", content_type, query)
    assert r.status_code == 415
    assert _error(r) == {"code": "unsupported_media_type", "message": message, "details": None}
    assert _counts(client)["item_imports"] == 0


def test_an_unknown_format_parameter_is_refused(client, api):
    owner, project = _owned_project(api)
    r = _upload(client, owner, project["id"], CSV_BODY, "text/csv", "?format=xml")
    assert r.status_code == 422
    assert _error(r)["details"] == [
        {"field": "format", "message": "must be one of: csv, jsonl, labelstudio"}
    ]
    assert _counts(client)["item_imports"] == 0


def _csv_of_size(size: int) -> bytes:
    body = b"id,text\n"
    n = 0
    while len(body) < size:
        body += f"i{n},some words\n".encode()
        n += 1
    return body


def test_imports_have_their_own_size_limit(client, small_client, api):
    owner, project = _owned_project(api)
    fits = _csv_of_size(1500)  # over the JSON limit, under the import limit
    assert _upload(small_client, owner, project["id"], fits, "text/csv").status_code == 201
    before = _counts(client)
    too_big = _csv_of_size(3000)
    declared = _upload(small_client, owner, project["id"], too_big, "text/csv")
    chunked = small_client.post(
        f"/api/v1/projects/{project['id']}/items",
        content=iter([too_big[:1000], too_big[1000:]]),
        headers={**owner, "content-type": "text/csv"},
    )
    multipart = small_client.post(
        f"/api/v1/projects/{project['id']}/items",
        files={"file": ("big.csv", too_big, "text/csv")},
        headers=owner,
    )
    for r in (declared, chunked, multipart):
        assert r.status_code == 413, r.text
        assert _error(r) == {
            "code": "payload_too_large",
            "message": "the request body is over 2048 bytes",
            "details": None,
        }
    assert _counts(client) == before


# --- reading items and projects ------------------------------------------------------------


def test_items_and_gold_are_shown_to_the_owner_and_stewards_only(client, api):
    owner, project = _owned_project(api)
    _upload(client, owner, project["id"], CSV_BODY, "text/csv")
    assert _items(client, owner, project["id"]) == EXPECTED_ITEMS
    assert _items(client, api.user("steward"), project["id"]) == EXPECTED_ITEMS
    for who in ("member", "requester"):
        r = client.get(f"/api/v1/projects/{project['id']}/items", headers=api.user(who))
        assert r.status_code == 403
        assert _error(r)["code"] == "permission_denied"
        assert "blue" not in r.text


def test_items_are_paged(client, api):
    owner, project = _owned_project(api)
    _upload(client, owner, project["id"], _csv_of_size(200), "text/csv")
    total = _counts(client)["items"]
    seen, after = [], 0
    while after is not None:
        page = client.get(
            f"/api/v1/projects/{project['id']}/items?after={after}&limit=3", headers=owner
        ).json()
        seen.extend(i["external_id"] for i in page["data"])
        after = page["next_after"]
    assert seen == [f"i{n}" for n in range(total)]


def test_others_cannot_import_into_a_project(client, api):
    _, project = _owned_project(api)
    for who in ("member", "requester"):
        r = _upload(client, api.user(who), project["id"], CSV_BODY, "text/csv")
        assert r.status_code == 403
        assert _error(r)["code"] == "permission_denied"
    assert _counts(client)["items"] == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", ""),
        ("patch", ""),
        ("get", "/instructions"),
        ("get", "/items"),
        ("post", "/items"),
        ("get", "/export"),
    ],
)
def test_an_unknown_project_is_not_found(client, api, method, path):
    headers = api.user("steward")
    kwargs: dict = {"headers": headers}
    if method == "patch":
        kwargs["json"] = {"title": "x"}
    if path == "/items" and method == "post":
        kwargs = {"headers": {**headers, "content-type": "text/csv"}, "content": CSV_BODY}
    r = getattr(client, method)(f"/api/v1/projects/999999{path}", **kwargs)
    assert r.status_code == 404
    assert _error(r) == {
        "code": "not_found",
        "message": "no project with id 999999",
        "details": None,
    }
    assert _counts(client) == {
        "projects": 0,
        "instruction_versions": 0,
        "item_imports": 0,
        "items": 0,
    }


def test_projects_are_listed_and_mine_filters_by_owner(client, api):
    owner, project = _owned_project(api)
    other, theirs = _owned_project(api, title="Other")
    everyone = client.get("/api/v1/projects", headers=api.user()).json()
    assert everyone == {"data": [project, theirs], "next_after": None}
    mine = client.get("/api/v1/projects?mine=true", headers=owner).json()
    assert mine == {"data": [project], "next_after": None}


def test_label_studio_import_keeps_json_values(client, api):
    owner = api.user("requester")
    project = _project(client, owner, task_type="rating", min=1, max=5)
    body = json.dumps([{"id": 7, "data": {"text": "ok", "n": 2}, "gold": 4}]).encode()
    r = _upload(client, owner, project["id"], body, "application/json")
    assert r.status_code == 201, r.text
    assert _items(client, owner, project["id"]) == [
        {
            "external_id": "7",
            "data": {"text": "ok", "n": 2},
            "is_gold": True,
            "gold": 4,
            "answer_count": 0,
        }
    ]
