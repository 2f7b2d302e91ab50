"""The log over HTTP: receipts with submissions, tree heads, proofs, and no personal data."""

from __future__ import annotations

import json

from sqlalchemy import select
from typer.testing import CliRunner

from datacoop.algorithms import ledger
from datacoop.cli import app as cli_app
from datacoop.log.models import LogEntry


def _work_one(client, api, answer="blue"):
    req = api.user("requester", email="rosa.requester@example.org")
    project = api.project(req, title="Colours of things")
    api.items(req, project["id"], "text,gold\nthe sky at noon,blue\n")
    m = api.user("member", email="mila.member@example.org")
    task = client.post(f"/api/v1/projects/{project['id']}/next", headers=m).json()
    sub = client.post(
        "/api/v1/submissions",
        headers=m,
        json={"assignment_id": task["assignment_id"], "answer": answer},
    )
    assert sub.status_code == 201, sub.text
    return sub.json(), m, project


def test_a_submission_returns_a_receipt_that_verifies_offline(client, api, tmp_path):
    sub, member, _ = _work_one(client, api)
    receipt = sub["receipt"]
    assert receipt["leaf_index"] == sub["log_index"]
    assert receipt["entry"]["kind"] == "submission:accepted"
    assert receipt["tree_head"]["tree_size"] == sub["log_index"] + 1
    key_pem = client.get("/api/v1/log/public-key").text
    key = ledger.load_public_key_pem(key_pem)
    assert ledger.verify_receipt(receipt, key) == []

    (tmp_path / "key.pem").write_text(key_pem)
    (tmp_path / "receipt.json").write_text(json.dumps(receipt))
    runner = CliRunner()
    ok = runner.invoke(
        cli_app,
        [
            "receipt",
            "verify",
            str(tmp_path / "receipt.json"),
            "--public-key",
            str(tmp_path / "key.pem"),
        ],
    )
    assert ok.exit_code == 0 and ok.output.startswith("valid:")

    receipt["entry"]["active_ms"] += 1
    (tmp_path / "bad.json").write_text(json.dumps(receipt))
    bad = runner.invoke(
        cli_app,
        [
            "receipt",
            "verify",
            str(tmp_path / "bad.json"),
            "--public-key",
            str(tmp_path / "key.pem"),
        ],
    )
    assert bad.exit_code == 1 and "invalid:" in bad.output

    receipt["entry"]["active_ms"] -= 1
    receipt["inclusion_proof"] = receipt["inclusion_proof"][:-1]
    (tmp_path / "short.json").write_text(json.dumps(receipt))
    short = runner.invoke(
        cli_app,
        [
            "receipt",
            "verify",
            str(tmp_path / "short.json"),
            "--public-key",
            str(tmp_path / "key.pem"),
        ],
    )
    assert short.exit_code == 1 and "invalid:" in short.output

    (tmp_path / "junk.json").write_text("{not json")
    junk = runner.invoke(
        cli_app,
        [
            "receipt",
            "verify",
            str(tmp_path / "junk.json"),
            "--public-key",
            str(tmp_path / "key.pem"),
        ],
    )
    assert junk.exit_code == 1 and "invalid" in junk.output


def test_a_newer_head_extends_an_old_receipt(client, api):
    sub, member, project = _work_one(client, api)
    old = sub["receipt"]["tree_head"]
    api.user("member")  # more entries
    api.user("member")
    latest = client.get("/api/v1/log/tree-heads/latest").json()
    assert latest["tree_size"] > old["tree_size"]
    proof = client.get(
        "/api/v1/log/proofs/consistency",
        params={"first": old["tree_size"], "second": latest["tree_size"]},
    ).json()
    assert ledger.verify_consistency(
        old["tree_size"],
        latest["tree_size"],
        bytes.fromhex(old["root_hash"]),
        bytes.fromhex(latest["root_hash"]),
        [bytes.fromhex(h) for h in proof["proof"]],
    )
    fresh = client.get(f"/api/v1/submissions/{sub['id']}/receipt", headers=member).json()
    assert fresh["tree_head"]["tree_size"] == latest["tree_size"]
    key = ledger.load_public_key_pem(client.get("/api/v1/log/public-key").text)
    assert ledger.verify_receipt(fresh, key) == []


def test_bad_proof_requests_get_a_clear_4xx(client, api):
    _work_one(client, api)
    size = client.get("/api/v1/log/tree-heads/latest").json()["tree_size"]
    r = client.get("/api/v1/log/proofs/consistency", params={"first": 3, "second": 2})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "first"
    r = client.get("/api/v1/log/proofs/consistency", params={"first": 1, "second": size + 1})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "second"
    r = client.get("/api/v1/log/proofs/inclusion", params={"index": size, "tree_size": size})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "index"
    assert client.get(f"/api/v1/log/entries/{size + 5}").status_code == 404
    heads = client.get("/api/v1/log/tree-heads", params={"limit": 2}).json()
    assert [h["tree_size"] for h in heads["data"]] == [1, 2] and heads["next_after"] == 2


def test_nothing_personal_is_ever_logged(client, api):
    answers = ["the sky is blue, says Mila", "free text about Rosa"]
    req = api.user("requester", email="rosa.requester@example.org")
    project = api.project(req, title="Describe", task_type="free_text", labels=None)
    api.items(req, project["id"], "text\nfirst thing\nsecond thing\n")
    m = api.user("member", email="mila.member@example.org")
    for answer in answers:
        task = client.post(f"/api/v1/projects/{project['id']}/next", headers=m).json()
        r = client.post(
            "/api/v1/submissions",
            headers=m,
            json={"assignment_id": task["assignment_id"], "answer": answer},
        )
        assert r.status_code == 201, r.text
    with client.app.state.ctx.sessions() as s:
        payloads = s.scalars(select(LogEntry.payload)).all()
    assert len(payloads) >= 6
    blob = "\n".join(payloads).lower()
    for secret in [
        "rosa",
        "mila",
        "example.org",
        "requester 1",
        "member 2",
        "first thing",
        "sky is blue",
        "free text",
        "correct horse",
    ]:
        assert secret not in blob, secret
