"""Workers review requesters, on both backends: one editable review per member, ratings 1-5
or 422 with nothing stored, only members who worked for the requester, and aggregates only:
no response ever names a reviewer, and fewer than 3 reviews say so instead of a number."""

from __future__ import annotations

from sqlalchemy import func, select

from datacoop.pay.models import RequesterReview

GOOD = {"communicativity": 4, "generosity": 3, "fairness": 5, "promptness": 2}


def _count(client) -> int:
    with client.app.state.ctx.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(RequesterReview)) or 0)


def _me(client, headers) -> dict:
    return dict(client.get("/api/v1/me", headers=headers).json())


def _work(client, clock, headers, pid, seconds=60):
    aid = client.post(f"/api/v1/projects/{pid}/next", headers=headers).json()["assignment_id"]
    for _ in range(seconds // 10):
        clock.advance(10)
        client.post(f"/api/v1/assignments/{aid}/heartbeat", headers=headers)
    r = client.post(
        "/api/v1/submissions", headers=headers, json={"assignment_id": aid, "answer": "red"}
    )
    assert r.status_code == 201, r.text


def test_reviews_are_aggregated_anonymous_and_validated(client, api, clock):
    req = api.user("requester")
    requester = _me(client, req)
    project = api.project(req, pay_per_item=10, estimated_seconds=60, overlap=3)
    pid = project["id"]
    api.items(req, pid, "id,text\ni0,thing\n")
    client.post(f"/api/v1/projects/{pid}/pay/fund", headers=req, json={"amount": "5.00"})
    assert client.post(f"/api/v1/projects/{pid}/pay/launch", headers=req).status_code == 200
    workers = [api.user() for _ in range(3)]
    for w in workers:
        _work(client, clock, w, pid)
    clock.advance(2 * 86_400)
    client.post(f"/api/v1/projects/{pid}/pay/settle", headers=req)
    url = f"/api/v1/requesters/{requester['id']}/review"

    # Bad ratings: 422 naming each field, nothing stored.
    for bad in ({**GOOD, "fairness": 0}, {**GOOD, "promptness": 6}, {**GOOD, "generosity": "5"}):
        r = client.put(url, headers=workers[0], json=bad)
        assert r.status_code == 422, r.text
    r = client.put(url, headers=workers[0], json={k: v for k, v in GOOD.items() if k != "fairness"})
    assert r.status_code == 422
    # Only members who worked for the requester; only requesters are reviewed.
    outsider = api.user()
    assert client.put(url, headers=outsider, json=GOOD).status_code == 403
    me = _me(client, workers[0])
    r = client.put(f"/api/v1/requesters/{me['id']}/review", headers=workers[1], json=GOOD)
    assert r.status_code == 404
    assert _count(client) == 0

    r = client.put(url, headers=workers[0], json=GOOD)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "requester_id": requester["id"],
        **GOOD,
        "updated_at": r.json()["updated_at"],
    }
    client.put(url, headers=workers[1], json=GOOD)
    summary = client.get(f"/api/v1/requesters/{requester['id']}/reviews", headers=outsider)
    assert summary.status_code == 200
    body = summary.json()
    assert body["reviews"] == 2
    hidden = {"value": None, "note": "fewer than 3 — hidden"}
    assert body["ratings"] == {name: hidden for name in GOOD}

    # An edit replaces the member's one review; a third reviewer makes the means visible.
    client.put(url, headers=workers[0], json={**GOOD, "fairness": 1})
    client.put(url, headers=workers[2], json={**GOOD, "fairness": 3})
    assert _count(client) == 3
    body = client.get(f"/api/v1/requesters/{requester['id']}/reviews", headers=outsider).json()
    assert body == {
        "requester_id": requester["id"],
        "pseudonym": requester["pseudonym"],
        "reviews": 3,
        "ratings": {
            "communicativity": {"value": 4.0, "note": None},
            "generosity": {"value": 3.0, "note": None},
            "fairness": {"value": 3.0, "note": None},
            "promptness": {"value": 2.0, "note": None},
        },
        # 3 members, each paid 0.25 for one minute: 15.00 an hour.
        "effective_hourly": {
            "value": {"amount": 1500, "currency": "USD", "display": "15.00 USD"},
            "note": None,
        },
        "days_to_payment": {"value": 2.0, "note": None},
        "rejection_rate": {"value": 0.0, "note": None},
    }
    # Nobody who reviewed appears anywhere in what members see.
    text = client.get(f"/api/v1/requesters/{requester['id']}/reviews", headers=req).text
    for w in workers:
        who = _me(client, w)
        assert who["pseudonym"] not in text and who["email"] not in text
    assert "reviewer" not in text
    assert client.get("/api/v1/requesters/999999/reviews", headers=req).status_code == 404


def test_own_reviews_are_the_reviewers_own_in_one_query(client, api, clock):
    """The dashboard reads a member's reviews of every requester on the page at once."""
    from datacoop.members.models import Member
    from datacoop.pay import reviews

    owners, pids = [], []
    for _ in range(2):
        req = api.user("requester")
        project = api.project(req, overlap=2)
        api.items(req, project["id"], "id,text\ni0,thing\n")
        owners.append(_me(client, req)["id"])
        pids.append(project["id"])
    a, b = api.user(), api.user()
    for w in (a, b):
        for pid in pids:
            _work(client, clock, w, pid, seconds=0)
    assert (
        client.put(f"/api/v1/requesters/{owners[0]}/review", headers=a, json=GOOD).status_code
        == 200
    )
    worse = {**GOOD, "fairness": 1}
    assert (
        client.put(f"/api/v1/requesters/{owners[1]}/review", headers=b, json=worse).status_code
        == 200
    )
    with client.app.state.ctx.sessions() as s:
        me = s.get(Member, _me(client, a)["id"])
        mine = reviews.own_reviews(s, me, set(owners))
        assert set(mine) == {owners[0]} and mine[owners[0]].reviewer_id == me.id
        assert mine[owners[0]].fairness == GOOD["fairness"]
        assert reviews.own_reviews(s, me, set()) == {}
