"""Aggregation runs, quality reports and dynamic overlap through the API, on both backends."""

from __future__ import annotations

import json

import pytest


def _answer_all(client, members_answers, project_id):
    """Each member (headers, answer function) works until no task is left for them."""
    for headers, choose in members_answers:
        while True:
            r = client.post(f"/api/v1/projects/{project_id}/next", headers=headers)
            if r.status_code == 204:
                break
            task = r.json()
            s = client.post(
                "/api/v1/submissions",
                headers=headers,
                json={"assignment_id": task["assignment_id"], "answer": choose(task["data"])},
            )
            assert s.status_code == 201, s.text


@pytest.fixture
def worked(client, api):
    """A colour project: 4 items (2 gold), overlap 3; two honest members and one who always
    says 'red'."""
    req = api.user("requester")
    project = api.project(req, overlap=3)
    api.items(
        req,
        project["id"],
        "id,text,gold\nsky,the sky,blue\nblood,blood,red\nsea,the sea,\nrose,a rose,\n",
    )
    truth = {"the sky": "blue", "blood": "red", "the sea": "blue", "a rose": "red"}
    honest = lambda d: truth[d["text"]]  # noqa: E731
    members = [(api.user(), honest), (api.user(), honest), (api.user(), lambda d: "red")]
    _answer_all(client, members, project["id"])
    return req, project, members, truth


def test_aggregation_run_is_stored_and_reproducible(client, api, worked):
    req, project, members, truth = worked
    r = client.post(
        f"/api/v1/projects/{project['id']}/aggregations",
        headers=req,
        json={"method": "ds", "seed": 3},
    )
    assert r.status_code == 201, r.text
    run = r.json()
    assert (run["method"], run["seed"], run["answers"], run["items"]) == ("ds", 3, 12, 4)
    assert run["summary"]["gold_items_scored"] == 2 and run["summary"]["gold_accuracy"] == 1.0
    assert run["summary"]["alpha_level"] == "nominal"
    detail = client.get(f"/api/v1/aggregations/{run['id']}", headers=req).json()
    items = {
        i["id"]: i["data"]["text"]
        for i in client.get(f"/api/v1/projects/{project['id']}/items", headers=req).json()["data"]
    }
    assert {items[x["item_id"]]: x["label"] for x in detail["labels"]} == truth
    assert all(0.5 <= x["confidence"] <= 1 for x in detail["labels"])

    # More answers arrive; the old run still re-runs to exactly its stored labels.
    late = api.user()
    _answer_all(client, [(late, lambda d: "red")], project["id"])
    again = client.post(f"/api/v1/aggregations/{run['id']}/rerun", headers=req).json()
    assert again == {"run_id": run["id"], "identical": True, "answers": 12, "differing_items": []}


def test_export_carries_the_aggregated_label(client, worked):
    req, project, _, truth = worked
    run = client.post(
        f"/api/v1/projects/{project['id']}/aggregations", headers=req, json={"method": "mv"}
    ).json()
    lines = [
        json.loads(x)
        for x in client.get(
            f"/api/v1/projects/{project['id']}/export", headers=req
        ).text.splitlines()
    ]
    assert {x["data"]["text"]: x["aggregated_label"] for x in lines} == truth
    csv_text = client.get(
        f"/api/v1/projects/{project['id']}/export",
        params={"format": "csv", "aggregation": run["id"]},
        headers=req,
    ).text
    assert csv_text.splitlines()[0].endswith(",gold,aggregated_label")
    missing = client.get(
        f"/api/v1/projects/{project['id']}/export", params={"aggregation": 999}, headers=req
    )
    assert missing.status_code == 404


def test_quality_report_for_the_requester_and_each_member(client, api, worked):
    req, project, members, _ = worked
    client.post(
        f"/api/v1/projects/{project['id']}/aggregations", headers=req, json={"method": "ds"}
    )
    report = client.get(f"/api/v1/projects/{project['id']}/quality", headers=req).json()
    rows = report["contributors"]
    assert len(rows) == 3 and all(r["contributor_id"].startswith("c-") for r in rows)
    golds = sorted(r["gold"]["accuracy"] for r in rows)
    assert golds == [0.5, 1.0, 1.0]  # the 'always red' member is right on 1 of 2 gold items
    rates = sorted(r["agreement"]["rate"] for r in rows)
    assert rates == [0.5, 1.0, 1.0]
    mine = client.get(f"/api/v1/projects/{project['id']}/quality/me", headers=members[2][0]).json()
    assert [r["gold"]["accuracy"] for r in mine["contributors"]] == [0.5]
    assert (
        client.get(f"/api/v1/projects/{project['id']}/quality", headers=members[0][0]).status_code
        == 403
    )


def test_bad_aggregation_requests_are_refused_and_store_nothing(client, api, worked):
    req, project, members, _ = worked
    base = f"/api/v1/projects/{project['id']}/aggregations"
    r = client.post(base, headers=req, json={"method": "nope"})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "method"
    r = client.post(base, headers=req, json={"method": "ds", "params": {"max_iters": 5}})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "params.max_iters"
    assert client.post(base, headers=members[0][0], json={"method": "ds"}).status_code == 403
    free = api.project(req, task_type="free_text", labels=None)
    r = client.post(
        f"/api/v1/projects/{free['id']}/aggregations", headers=req, json={"method": "mv"}
    )
    assert r.status_code == 422
    assert client.get(base, headers=req).json() == []


def test_dynamic_overlap_stops_early_when_confident_and_asks_more_when_not(client, api):
    req = api.user("requester")
    project = api.project(
        req,
        overlap=2,
        labels=["red", "blue", "green"],
        dynamic_overlap={"confidence": 0.95, "max_overlap": 4},
    )
    assert project["dynamic_overlap"] == {"confidence": 0.95, "max_overlap": 4}
    api.items(req, project["id"], "text\nagree\ndisagree\n")
    answers = {"agree": ["red", "red", "red", "red"], "disagree": ["red", "blue", "red", "blue"]}
    for n in range(4):
        m = api.user()
        while True:
            r = client.post(f"/api/v1/projects/{project['id']}/next", headers=m)
            if r.status_code == 204:
                break
            task = r.json()
            client.post(
                "/api/v1/submissions",
                headers=m,
                json={
                    "assignment_id": task["assignment_id"],
                    "answer": answers[task["data"]["text"]][n],
                },
            )
    items = {
        i["data"]["text"]: i["answer_count"]
        for i in client.get(f"/api/v1/projects/{project['id']}/items", headers=req).json()["data"]
    }
    # One-coin members of default skill 0.7 over 3 labels: two agreeing answers give a
    # posterior of 0.916 < 0.95, so a third is asked for (0.981), which closes the item.
    # The split item keeps asking up to the cap of 4.
    assert items == {"agree": 3, "disagree": 4}
    progress = client.get(f"/api/v1/projects/{project['id']}/progress", headers=req).json()
    assert progress["items_complete"] == 2


def test_dynamic_overlap_settings_are_validated(client, api):
    req = api.user("requester")
    r = client.post(
        "/api/v1/projects",
        headers=req,
        json={
            "title": "x",
            "task_type": "single_choice",
            "labels": ["a", "b"],
            "overlap": 3,
            "pay_per_item": 1,
            "estimated_seconds": 5,
            "dynamic_overlap": {"confidence": 1.5, "max_overlap": 2},
        },
    )
    fields = [d["field"] for d in r.json()["error"]["details"]]
    assert r.status_code == 422
    assert fields == ["dynamic_overlap.confidence", "dynamic_overlap.max_overlap"]
