"""The work loop through the HTTP API: next task, heartbeats, skip, submit, authorization."""

from __future__ import annotations

from sqlalchemy import func, select

from datacoop.work.models import Submission


def _setup(api, n_items=3, overlap=2, **spec):
    req = api.user("requester")
    project = api.project(req, overlap=overlap, **spec)
    rows = "".join(f"i{i},thing {i}\n" for i in range(n_items))
    api.items(req, project["id"], "id,text\n" + rows)
    return req, project


def _count_submissions(client) -> int:
    with client.app.state.ctx.sessions() as s:
        return s.scalar(select(func.count()).select_from(Submission))


def test_next_task_hides_gold_and_returns_same_lease_until_done(client, api):
    req = api.user("requester")
    project = api.project(req)
    api.items(req, project["id"], "id,text,gold\na,sky,blue\n")
    m = api.user()
    first = client.post(f"/api/v1/projects/{project['id']}/next", headers=m)
    assert first.status_code == 200
    body = first.json()
    assert body["data"] == {"text": "sky"}
    assert "gold" not in body
    again = client.post(f"/api/v1/projects/{project['id']}/next", headers=m)
    assert again.json()["assignment_id"] == body["assignment_id"]


def test_member_never_gets_the_same_item_twice_and_overlap_is_respected(client, api):
    _, project = _setup(api, n_items=2, overlap=2)
    members = [api.user() for _ in range(3)]
    got: dict[int, list[int]] = {}
    for m in members:
        while True:
            r = client.post(f"/api/v1/projects/{project['id']}/next", headers=m)
            if r.status_code == 204:
                break
            task = r.json()
            got.setdefault(task["item_id"], []).append(id(m))
            s = client.post(
                "/api/v1/submissions",
                headers=m,
                json={"assignment_id": task["assignment_id"], "answer": "red"},
            )
            assert s.status_code == 201, s.text
    assert sorted(len(v) for v in got.values()) == [2, 2]
    assert all(len(set(v)) == len(v) for v in got.values())
    assert _count_submissions(client) == 4


def test_lease_expiry_frees_the_item_and_late_work_is_kept(client, api, clock):
    _, project = _setup(api, n_items=1, overlap=1, lease_seconds=60)
    a, b = api.user(), api.user()
    ta = client.post(f"/api/v1/projects/{project['id']}/next", headers=a).json()
    assert client.post(f"/api/v1/projects/{project['id']}/next", headers=b).status_code == 204
    clock.advance(61)
    tb = client.post(f"/api/v1/projects/{project['id']}/next", headers=b).json()
    assert tb["item_id"] == ta["item_id"]
    late = client.post(
        "/api/v1/submissions",
        headers=a,
        json={"assignment_id": ta["assignment_id"], "answer": "blue"},
    )
    assert late.status_code == 201 and late.json()["late"] is True
    on_time = client.post(
        "/api/v1/submissions",
        headers=b,
        json={"assignment_id": tb["assignment_id"], "answer": "red"},
    )
    assert on_time.status_code == 201 and on_time.json()["late"] is False
    # Overlap 1, two answers: honest late work is never thrown away.
    assert _count_submissions(client) == 2


def test_active_time_counts_only_gaps_up_to_30_seconds_inside_the_lease(client, api, clock):
    _, project = _setup(api, n_items=1, overlap=1, lease_seconds=120)
    m = api.user()
    task = client.post(f"/api/v1/projects/{project['id']}/next", headers=m).json()
    aid = task["assignment_id"]
    for step in (10, 10, 40, 5):  # the 40 s gap means the member was away
        clock.advance(step)
        hb = client.post(f"/api/v1/assignments/{aid}/heartbeat", headers=m)
        assert hb.status_code == 200
    assert hb.json()["active_seconds"] == 25.0
    clock.advance(20)
    sub = client.post(
        "/api/v1/submissions", headers=m, json={"assignment_id": aid, "answer": "red"}
    )
    assert sub.json()["active_seconds"] == 45.0
    assert sub.json()["wall_seconds"] == 85.0


def test_active_time_is_capped_by_the_lease(client, api, clock):
    _, project = _setup(api, n_items=1, overlap=1, lease_seconds=30)
    m = api.user()
    aid = client.post(f"/api/v1/projects/{project['id']}/next", headers=m).json()["assignment_id"]
    clock.advance(20)
    client.post(f"/api/v1/assignments/{aid}/heartbeat", headers=m)
    clock.advance(20)  # lease ended 10 s into this gap
    sub = client.post(
        "/api/v1/submissions", headers=m, json={"assignment_id": aid, "answer": "red"}
    )
    assert sub.json()["active_seconds"] == 30.0
    assert sub.json()["late"] is True


def test_skip_costs_nothing_and_the_item_is_not_offered_again(client, api):
    _, project = _setup(api, n_items=2, overlap=1)
    m = api.user()
    first = client.post(f"/api/v1/projects/{project['id']}/next", headers=m).json()
    assert (
        client.post(f"/api/v1/assignments/{first['assignment_id']}/skip", headers=m).status_code
        == 204
    )
    second = client.post(f"/api/v1/projects/{project['id']}/next", headers=m).json()
    assert second["item_id"] != first["item_id"]
    other = api.user()
    # The skipped item is free again for someone else.
    got = client.post(f"/api/v1/projects/{project['id']}/next", headers=other).json()
    assert got["item_id"] == first["item_id"]


def test_idempotent_retry_returns_the_original(client, api):
    _, project = _setup(api, n_items=1, overlap=1)
    m = api.user()
    aid = client.post(f"/api/v1/projects/{project['id']}/next", headers=m).json()["assignment_id"]
    body = {"assignment_id": aid, "answer": "red"}
    first = client.post("/api/v1/submissions", headers={**m, "Idempotency-Key": "k1"}, json=body)
    retry = client.post("/api/v1/submissions", headers={**m, "Idempotency-Key": "k1"}, json=body)
    assert first.status_code == 201 and retry.status_code == 200
    assert retry.json() == first.json()
    other = client.post("/api/v1/submissions", headers={**m, "Idempotency-Key": "k2"}, json=body)
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "already_submitted"
    changed = client.post(
        "/api/v1/submissions",
        headers={**m, "Idempotency-Key": "k1"},
        json={"assignment_id": aid, "answer": "blue"},
    )
    assert changed.status_code == 409
    assert changed.json()["error"]["code"] == "idempotency_key_reused"
    assert _count_submissions(client) == 1


def test_bad_answers_and_foreign_assignments_are_refused_and_change_nothing(client, api):
    _, project = _setup(api, n_items=2, overlap=2)
    a, b = api.user(), api.user()
    ta = client.post(f"/api/v1/projects/{project['id']}/next", headers=a).json()
    wrong = client.post(
        "/api/v1/submissions",
        headers=a,
        json={"assignment_id": ta["assignment_id"], "answer": "green"},
    )
    assert wrong.status_code == 422
    assert wrong.json()["error"]["details"][0]["field"] == "answer"
    foreign = client.post(
        "/api/v1/submissions",
        headers=b,
        json={"assignment_id": ta["assignment_id"], "answer": "red"},
    )
    assert foreign.status_code == 403
    assert foreign.json()["error"]["code"] == "not_assigned"
    never = client.post(
        "/api/v1/submissions", headers=b, json={"item_id": ta["item_id"], "answer": "red"}
    )
    assert never.status_code == 409
    assert never.json()["error"]["code"] == "not_assigned"
    missing = client.post(
        "/api/v1/submissions", headers=b, json={"assignment_id": 999999, "answer": "red"}
    )
    assert missing.status_code == 404
    assert _count_submissions(client) == 0


def test_members_see_only_their_own_submissions(client, api):
    _, project = _setup(api, n_items=1, overlap=2)
    a, b = api.user(), api.user()
    steward = api.user("steward")
    ta = client.post(f"/api/v1/projects/{project['id']}/next", headers=a).json()
    sub = client.post(
        "/api/v1/submissions",
        headers=a,
        json={"assignment_id": ta["assignment_id"], "answer": "red"},
    ).json()
    assert client.get(f"/api/v1/submissions/{sub['id']}", headers=a).status_code == 200
    assert client.get(f"/api/v1/submissions/{sub['id']}", headers=b).status_code == 403
    assert client.get(f"/api/v1/submissions/{sub['id']}", headers=steward).status_code == 200
    assert client.get("/api/v1/submissions", headers=b).json() == {"data": [], "next_after": None}
    listed = client.get("/api/v1/submissions", headers=a).json()["data"]
    assert [s["id"] for s in listed] == [sub["id"]]
    # Stewards administer but there is no way to edit a submission.
    for method in ("put", "patch", "delete"):
        r = getattr(client, method)(f"/api/v1/submissions/{sub['id']}", headers=steward)
        assert r.status_code == 405


def test_progress_and_export_belong_to_the_project_owner(client, api):
    req, project = _setup(api, n_items=2, overlap=1)
    other_req = api.user("requester")
    m = api.user()
    t = client.post(f"/api/v1/projects/{project['id']}/next", headers=m).json()
    client.post(
        "/api/v1/submissions",
        headers=m,
        json={"assignment_id": t["assignment_id"], "answer": "red"},
    )
    progress = client.get(f"/api/v1/projects/{project['id']}/progress", headers=req)
    assert progress.json() == {
        "project_id": project["id"],
        "items": 2,
        "items_complete": 1,
        "answers": 1,
        "answers_wanted": 2,
        "live_leases": 0,
        "contributors": 1,
        "active_seconds_total": 0,
    }
    for path in ("progress", "export", "items"):
        assert (
            client.get(f"/api/v1/projects/{project['id']}/{path}", headers=other_req).status_code
            == 403
        )
        assert client.get(f"/api/v1/projects/{project['id']}/{path}", headers=m).status_code == 403
    export = client.get(f"/api/v1/projects/{project['id']}/export?format=jsonl", headers=req)
    lines = [__import__("json").loads(x) for x in export.text.splitlines()]
    assert [len(x["answers"]) for x in lines] == [1, 0]
    answer = lines[0]["answers"][0]
    assert answer["answer"] == "red" and answer["contributor_id"].startswith("c-")
    assert "member_id" not in answer and "pseudonym" not in answer
