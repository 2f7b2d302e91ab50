"""Valuation through the HTTP API, on both backends: the requester runs and sees the
distribution (never who got which), each member sees their own value, nobody else sees
anything; bad requests are refused and store nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from valuation_data import answer_all, worked_project

from datacoop.log.models import LogEntry
from datacoop.valuation import embeddings, rules
from datacoop.valuation.models import ContributorValue, ValuationRun


@pytest.fixture
def worked(client, api):
    return worked_project(client, api)


def _db(client, query):
    with client.app.state.ctx.sessions() as s:
        return s.execute(query).all()


def _count(client, model) -> int:
    return _db(client, select(func.count()).select_from(model))[0][0]


def _values(client, run_id) -> dict[int, float]:
    rows = _db(
        client,
        select(ContributorValue.member_id, ContributorValue.value).where(
            ContributorValue.run_id == run_id
        ),
    )
    return dict(rows)


def test_the_requester_runs_a_valuation_and_sees_only_the_distribution(client, worked):
    pid = worked.project["id"]
    entries = _count(client, LogEntry)
    r = client.post(
        f"/api/v1/projects/{pid}/valuations",
        headers=worked.requester,
        json={"features": "numeric:x,y", "k": 3},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    values = _values(client, body["id"])
    assert body == {
        "id": 1,
        "project_id": pid,
        "method": "knn",
        "params": {"k": 3, "features": "numeric:x,y"},
        "seed": 0,
        "validation": "gold",
        "tree_size": entries,
        "aggregation_run_id": None,
        "points": 18,
        "items": 6,
        "contributors": 3,
        "validation_items": 4,
        "excluded_answers": 12,
        "log_index": entries,
        "created_at": "2026-01-01T00:00:00Z",
        "distribution": rules.distribution(sorted(values.values())),
    }
    assert body["distribution"]["count"] == 3
    assert body["distribution"]["histogram"]["counts"][0] == 1  # the 'always red' member
    assert _count(client, LogEntry) == entries + 1
    assert client.get(f"/api/v1/projects/{pid}/valuations", headers=worked.requester).json() == [
        body
    ]
    assert client.get("/api/v1/valuations/1", headers=worked.requester).json() == body
    again = client.post("/api/v1/valuations/1/rerun", headers=worked.requester).json()
    assert again == {
        "run_id": 1,
        "identical": True,
        "points": 18,
        "differing_contributors": 0,
        "max_abs_difference": 0.0,
    }


def test_each_member_sees_their_own_value_and_nothing_else(client, api, worked):
    pid = worked.project["id"]
    me = f"/api/v1/projects/{pid}/valuations/me"
    assert client.get(me, headers=worked.members[0]).status_code == 404  # no run yet
    client.post(
        f"/api/v1/projects/{pid}/valuations", headers=worked.requester, json={"k": 3}
    ).raise_for_status()
    values = _values(client, 1)
    for headers, member_id, rank in zip(worked.members, worked.member_ids, [1, 1, 3], strict=True):
        body = client.get(me, headers=headers).json()
        assert body == {
            "run_id": 1,
            "project_id": pid,
            "method": "knn",
            "created_at": "2026-01-01T00:00:00Z",
            "contributor_id": body["contributor_id"],
            "value": values[member_id],
            "n_points": 6,
            "rank": rank,
            "percentile": 100.0 if rank == 1 else pytest.approx(100 / 3),
            "contributors": 3,
        }
    outsider = api.user()
    assert client.get(me, headers=outsider).json()["value"] is None
    assert client.get(me, params={"run": 2}, headers=outsider).status_code == 404
    assert client.get("/api/v1/projects/999/valuations/me", headers=outsider).status_code == 404


def test_nobody_but_the_requester_runs_or_sees_runs(client, api, worked):
    pid = worked.project["id"]
    member = worked.members[0]
    other_requester = api.user("requester")
    r = client.post(f"/api/v1/projects/{pid}/valuations", headers=member, json={})
    assert r.status_code == 403 and r.json()["error"]["code"] == "permission_denied"
    assert (
        client.post(f"/api/v1/projects/{pid}/valuations", headers=other_requester, json={})
    ).status_code == 403
    assert (
        client.post("/api/v1/projects/999/valuations", headers=member, json={}).status_code == 404
    )
    assert _count(client, ValuationRun) == 0
    client.post(f"/api/v1/projects/{pid}/valuations", headers=worked.requester, json={})
    for headers in (member, other_requester):
        assert client.get(f"/api/v1/projects/{pid}/valuations", headers=headers).status_code == 403
        assert client.get("/api/v1/valuations/1", headers=headers).status_code == 403
        assert client.post("/api/v1/valuations/1/rerun", headers=headers).status_code == 403
    assert client.get("/api/v1/valuations/2", headers=worked.requester).status_code == 404
    assert client.get("/api/v1/valuations/1").status_code == 401
    steward = api.user("steward")
    assert client.get("/api/v1/valuations/1", headers=steward).status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"method": "shapley"}, 422, "method"),
        ({"method": "knn-contributors", "k": 3}, 422, "k"),
        ({"validation": "holdout"}, 422, "validation"),
        ({"validation": "holdout", "holdout": 0}, 422, "holdout"),
        ({"validation": "holdout", "aggregation_run": 999}, 404, None),
        ({"features": "numeric:z"}, 422, "features"),
        ({"features": "text:x+numeric:nope"}, 422, "features"),
        ({"colour": "red"}, 422, "colour"),
        ({"seed": -1}, 422, "seed"),
    ],
)
def test_bad_requests_are_refused_and_store_nothing(client, worked, body, status, field):
    entries = _count(client, LogEntry)
    r = client.post(
        f"/api/v1/projects/{worked.project['id']}/valuations", headers=worked.requester, json=body
    )
    assert r.status_code == status, r.text
    if field:
        assert r.json()["error"]["details"][0]["field"] == field
    assert _count(client, ValuationRun) == 0 and _count(client, ContributorValue) == 0
    assert _count(client, LogEntry) == entries


def test_holdout_through_the_api_records_the_aggregation_run(client, worked):
    pid = worked.project["id"]
    agg = client.post(
        f"/api/v1/projects/{pid}/aggregations", headers=worked.requester, json={"method": "mv"}
    ).json()
    r = client.post(
        f"/api/v1/projects/{pid}/valuations",
        headers=worked.requester,
        json={"validation": "holdout", "holdout": 0.5, "seed": 7, "method": "knn-contributors"},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["aggregation_run_id"], body["validation"], body["seed"]) == (
        agg["id"],
        "holdout",
        7,
    )
    assert body["params"] == {"k": 1, "features": "numeric:x,y", "holdout": 0.5}
    assert (body["validation_items"], body["excluded_answers"], body["points"]) == (5, 15, 15)
    assert client.post("/api/v1/valuations/1/rerun", headers=worked.requester).json()["identical"]


def _two_members(client, api, req, pid, truth):
    """One member answers truthfully, one always wrong; returns their member ids."""
    honest, wrong = api.user(), api.user()
    labels = sorted(set(truth.values()))
    flip = {a: b for a, b in zip(labels, reversed(labels), strict=True)}
    answer_all(client, honest, pid, lambda d: truth[d["key"]])
    answer_all(client, wrong, pid, lambda d: flip[truth[d["key"]]])
    return [client.get("/api/v1/me", headers=h).json()["id"] for h in (honest, wrong)]


def test_image_features_read_the_media_directory(client, api):
    from PIL import Image

    media = client.app.state.ctx.settings.media_dir / "shades"
    media.mkdir(parents=True)
    truth = {}
    rows = ["id,key,image,gold"]
    for n, level in enumerate([10, 30, 50, 200, 220, 240]):
        Image.new("L", (8, 8), level).save(media / f"{n}.png")
        truth[f"k{n}"] = "dark" if level < 128 else "light"
        gold = truth[f"k{n}"] if n in (0, 5) else ""
        rows.append(f"i{n},k{n},/media/shades/{n}.png,{gold}")
    req = api.user("requester")
    project = api.project(req, labels=["dark", "light"], overlap=2)
    api.items(req, project["id"], "\n".join(rows) + "\n")
    honest, wrong = _two_members(client, api, req, project["id"], truth)
    r = client.post(
        f"/api/v1/projects/{project['id']}/valuations",
        headers=req,
        json={"features": "image:image:4", "k": 1},
    )
    assert r.status_code == 201, r.text
    assert r.json()["params"] == {"k": 1, "features": "image:image:4"}
    assert (r.json()["points"], r.json()["validation_items"]) == (8, 2)
    values = _values(client, r.json()["id"])
    assert values[honest] > values[wrong]
    # Efficiency: the values sum to the 1-NN accuracy of all answers (the nearest answer to
    # each gold image is the honest one: same distance as the wrong one, logged first).
    assert sum(values.values()) == pytest.approx(1.0)


@pytest.mark.skipif(not embeddings.available(), reason="the embeddings extra is not installed")
def test_text_items_are_valued_by_their_sentence_embeddings(client, api):
    sentences = {
        "k0": ("The cat purred on my lap.", "animal"),
        "k1": ("A dog barked at the mailman.", "animal"),
        "k2": ("Horses graze in the meadow.", "animal"),
        "k3": ("Parrots can imitate speech.", "animal"),
        "k4": ("The invoice is due on Friday.", "money"),
        "k5": ("Interest rates rose again this quarter.", "money"),
        "k6": ("She paid the rent by bank transfer.", "money"),
        "k7": ("Stocks fell sharply at the open.", "money"),
    }
    truth = {k: label for k, (_, label) in sentences.items()}
    rows = ["id,key,text,gold"] + [
        f"i{n},{k},{text},{label if k in ('k0', 'k7') else ''}"
        for n, (k, (text, label)) in enumerate(sentences.items())
    ]
    req = api.user("requester")
    project = api.project(req, labels=["animal", "money"], overlap=2)
    api.items(req, project["id"], "\n".join(rows) + "\n")
    honest, wrong = _two_members(client, api, req, project["id"], truth)
    r = client.post(
        f"/api/v1/projects/{project['id']}/valuations", headers=req, json={"features": "text:text"}
    )
    assert r.status_code == 201, r.text
    values = _values(client, r.json()["id"])
    assert values[honest] > values[wrong]
    assert client.post(f"/api/v1/valuations/{r.json()['id']}/rerun", headers=req).json()[
        "identical"
    ]
