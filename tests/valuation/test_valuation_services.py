"""Valuation runs through the services, on both backends: the values are the algorithms'
values on the project's answers, stored, re-runnable, committed to in the log; bad input
stores nothing."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sqlalchemy import func, select, update
from valuation_data import ITEMS, TRUTH, answer_all, honest, worked_project

from datacoop.algorithms.valuation.contributors import contributor_knn_shapley, contributor_values
from datacoop.algorithms.valuation.knn import knn_shapley
from datacoop.clock import FixedClock
from datacoop.errors import NotFound, PermissionDenied, ValidationFailed
from datacoop.log import services as log
from datacoop.log.models import LogEntry
from datacoop.members.models import Member
from datacoop.projects.models import Project
from datacoop.valuation import services
from datacoop.valuation.models import ContributorValue, ValuationRun
from datacoop.work.models import Submission

COORDS = {e: (x, y) for e, x, y, _ in ITEMS}
GOLD = {e: g for e, _, _, g in ITEMS if g}


@pytest.fixture
def worked(client, api):
    return worked_project(client, api)


@pytest.fixture
def session(client):
    with client.app.state.ctx.sessions() as s:
        yield s


def _value(session, w, *, owner=True, project_id=None, **kwargs):
    project = session.get(Project, project_id or w.project["id"])
    member = session.get(Member, project.owner_id if owner else w.member_ids[0])
    return services.run_valuation(session, FixedClock(), member, project, **kwargs)


def _oracle(session, w, test: dict[str, str], method="knn", k=5):
    """The algorithms on the training answers, built independently of the service."""
    ext = {v: e for e, v in w.item_ids.items()}
    rows = session.execute(
        select(Submission.member_id, Submission.item_id, Submission.answer)
        .where(Submission.project_id == w.project["id"])
        .order_by(Submission.log_index)
    ).all()
    train = [(m, ext[i], a) for m, i, a in rows if ext[i] not in test]
    x_train = np.array([COORDS[e] for _, e, _ in train])
    y_train = [a for _, _, a in train]
    owners = [m for m, _, _ in train]
    order = sorted(test, key=lambda e: w.item_ids[e])
    x_test = np.array([COORDS[e] for e in order])
    y_test = [test[e] for e in order]
    if method == "knn":
        values = contributor_values(knn_shapley(x_train, y_train, x_test, y_test, k=k), owners)
    else:
        values = contributor_knn_shapley(x_train, y_train, owners, x_test, y_test)
    return {int(m): float(v) for m, v in values.items()}


def _stored(session, run):
    return {
        m: (v, n)
        for m, v, n in session.execute(
            select(
                ContributorValue.member_id, ContributorValue.value, ContributorValue.n_points
            ).where(ContributorValue.run_id == run.id)
        )
    }


def test_knn_values_are_the_algorithms_summed_per_member_and_stored(session, worked):
    size = log.size(session)
    run = _value(session, worked, features="numeric:x,y", k=3)
    session.commit()
    row = {c: getattr(run, c) for c in ("method", "params", "seed", "validation", "tree_size")}
    assert row == {
        "method": "knn",
        "params": {"k": 3, "features": "numeric:x,y"},
        "seed": 0,
        "validation": "gold",
        "tree_size": size,
    }
    counts = (run.points, run.items, run.contributors, run.validation_items, run.excluded_answers)
    assert counts == (18, 6, 3, 4, 12)  # answers on the 4 gold items are not valued
    assert run.aggregation_run_id is None and run.created_by == worked.requester_id
    expected = _oracle(session, worked, GOLD, k=3)
    assert _stored(session, run) == {m: (v, 6) for m, v in expected.items()}
    honest_a, honest_b, spammer = (expected[m] for m in worked.member_ids)
    assert honest_a == honest_b > spammer


def test_knn_contributors_is_the_exact_contributor_level_value(session, worked):
    run = _value(session, worked, method="knn-contributors", features="numeric:x,y")
    assert run.params == {"k": 1, "features": "numeric:x,y"}
    expected = _oracle(session, worked, GOLD, method="knn-contributors")
    assert _stored(session, run) == {m: (v, 6) for m, v in expected.items()}


def test_auto_features_take_every_numeric_field(session, worked):
    run = _value(session, worked)
    assert run.params == {"k": 5, "features": "numeric:x,y"}
    assert {m: v for m, (v, _) in _stored(session, run).items()} == _oracle(session, worked, GOLD)


def test_a_run_re_runs_to_the_same_values_after_more_answers(client, api, session, worked):
    run = _value(session, worked, features="numeric:x,y")
    session.commit()
    # A new item to answer and a new gold item: neither is part of the stored run's input.
    api.items(worked.requester, worked.project["id"], "id,x,y,gold\nt7,0.5,0.4,\ng5,1,1,red\n")
    late = api.user()
    answer_all(client, late, worked.project["id"], honest)
    session.expire_all()
    again = services.rerun(session, run)
    assert again == {
        "run_id": run.id,
        "identical": True,
        "points": 18,
        "differing_contributors": 0,
        "max_abs_difference": 0.0,
    }
    session.rollback()  # SQLite: one writer at a time
    with client.app.state.ctx.sessions() as other:  # one unit of work per run, as in the app
        newer = _value(other, worked, features="numeric:x,y")
        assert (newer.points, newer.contributors, newer.validation_items) == (19, 4, 5)
        other.commit()
    # A stored value that was changed no longer re-runs to itself.
    session.execute(
        update(ContributorValue)
        .where(
            ContributorValue.run_id == run.id, ContributorValue.member_id == worked.member_ids[2]
        )
        .values(value=ContributorValue.value + 0.5)
    )
    tampered = services.rerun(session, run)
    assert (tampered["identical"], tampered["differing_contributors"]) == (False, 1)
    assert tampered["max_abs_difference"] == pytest.approx(0.5)


def test_the_run_is_committed_to_in_the_log(session, worked):
    run = _value(session, worked, features="numeric:x,y")
    session.commit()
    entry = session.get(LogEntry, run.log_index)
    payload = json.loads(entry.payload)
    assert payload == {
        "v": 1,
        "kind": "valuation:computed",
        "ts": payload["ts"],
        "project": worked.project["id"],
        "run": run.id,
        "method": "knn",
        "input_tree_size": run.tree_size,
        "contributors": 3,
        "run_sha256": services.run_digest(session, run),
    }
    assert run.log_index >= run.tree_size
    session.execute(
        update(ContributorValue).where(ContributorValue.run_id == run.id).values(value=0.0)
    )
    assert services.run_digest(session, run) != payload["run_sha256"]


def test_holdout_validates_on_a_seeded_split_labelled_by_the_aggregation(client, session, worked):
    agg = client.post(
        f"/api/v1/projects/{worked.project['id']}/aggregations",
        headers=worked.requester,
        json={"method": "mv"},
    ).json()
    session.expire_all()
    run = _value(session, worked, validation="holdout", holdout=0.3, seed=5)
    assert run.params == {"k": 5, "features": "numeric:x,y", "holdout": 0.3}
    assert (run.aggregation_run_id, run.seed, run.validation) == (agg["id"], 5, "holdout")
    assert (run.validation_items, run.excluded_answers, run.points) == (3, 9, 21)
    ids = sorted(worked.item_ids.values())
    held = sorted(np.random.default_rng(5).permutation(ids)[:3].tolist())
    ext = {v: e for e, v in worked.item_ids.items()}
    # Majority vote of two honest members and one 'always red' is the truth.
    expected = _oracle(session, worked, {ext[i]: TRUTH[ext[i]] for i in held})
    assert {m: v for m, (v, _) in _stored(session, run).items()} == expected
    same = _value(
        session, worked, validation="holdout", holdout=0.3, seed=5, aggregation_run_id=agg["id"]
    )
    assert _stored(session, same) == _stored(session, run)
    assert services.rerun(session, run)["identical"] is True


def test_a_member_sees_only_their_own_value_and_standing(session, worked):
    run = _value(session, worked, features="numeric:x,y")
    stored = _stored(session, run)
    a, _, spammer = worked.member_ids
    project = session.get(Project, worked.project["id"])
    me = services.my_value(session, session.get(Member, spammer), project)
    assert me == {
        "run_id": run.id,
        "project_id": worked.project["id"],
        "method": "knn",
        "created_at": run.created_at,
        "contributor_id": me["contributor_id"],
        "value": stored[spammer][0],
        "n_points": 6,
        "rank": 3,
        "percentile": pytest.approx(100 / 3),
        "contributors": 3,
    }
    assert me["contributor_id"].startswith("c-")
    top = services.my_value(session, session.get(Member, a), project)
    assert (top["rank"], top["percentile"]) == (1, 100.0)  # the two honest members tie
    owner = session.get(Member, worked.requester_id)
    nobody = services.my_value(session, owner, project, run_id=run.id)
    assert (nobody["value"], nobody["rank"], nobody["contributor_id"]) == (None, None, None)
    with pytest.raises(NotFound):
        services.my_value(session, owner, project, run_id=run.id + 1)
    dist = services.distribution(session, run)
    assert dist["count"] == 3 and dist["total"] == pytest.approx(sum(v for v, _ in stored.values()))
    assert "member" not in json.dumps(dist) and "c-" not in json.dumps(dist)


BAD = [
    ({"method": "nope"}, ValidationFailed, "method"),
    ({"k": 0}, ValidationFailed, "k"),
    ({"method": "knn-contributors", "k": 5}, ValidationFailed, "k"),
    ({"validation": "holdout", "holdout": 1.5}, ValidationFailed, "holdout"),
    ({"validation": "both"}, ValidationFailed, "validation"),
    ({"holdout": 0.3}, ValidationFailed, "holdout"),  # a holdout fraction with gold
    ({"validation": "holdout"}, ValidationFailed, "validation"),  # no aggregation run yet
    ({"validation": "holdout", "aggregation_run_id": 999}, NotFound, None),
    ({"aggregation_run_id": 1}, ValidationFailed, "aggregation_run"),
    ({"features": "numeric:z"}, ValidationFailed, "features"),
    ({"features": "vector:x"}, ValidationFailed, "features"),
    ({"features": "image:x"}, ValidationFailed, "features"),
    ({"features": "pixels:x"}, ValidationFailed, "features"),
    ({"owner": False}, PermissionDenied, None),
]


@pytest.mark.parametrize(("kwargs", "error", "field"), BAD)
def test_bad_requests_are_refused_and_store_nothing(session, worked, kwargs, error, field):
    before = log.size(session)
    with pytest.raises(error) as caught:
        _value(session, worked, **kwargs)
    if field is not None:
        assert caught.value.details[0]["field"] == field
    session.rollback()
    assert session.scalar(select(func.count()).select_from(ValuationRun)) == 0
    assert session.scalar(select(func.count()).select_from(ContributorValue)) == 0
    assert log.size(session) == before


def test_projects_that_cannot_be_valued(client, api, session):
    req = api.user("requester")
    no_gold = api.project(req, overlap=1)
    api.items(req, no_gold["id"], "x\n1\n2\n")
    one_class = api.project(req, overlap=1)
    api.items(req, one_class["id"], "x,gold\n1,red\n2,\n3,\n")
    free = api.project(req, task_type="free_text", labels=None)
    m = api.user()
    answer_all(client, m, no_gold["id"], lambda d: "red")
    answer_all(client, m, one_class["id"], lambda d: "red")
    session.expire_all()
    cases = [
        (no_gold, "validation", "no gold items"),
        (one_class, "project", "fewer than 2 classes"),
        (free, "project", "free_text answers cannot be valued"),
    ]
    for project, field, text in cases:
        with pytest.raises(ValidationFailed) as caught:
            _value(session, None, project_id=project["id"])
        assert caught.value.details[0]["field"] == field and text in caught.value.message
    session.rollback()
    assert session.scalar(select(func.count()).select_from(ValuationRun)) == 0
