"""Stewards confirm fraud on unappealed ``suspected_fraud`` rejections from the appeals page,
once the appeal window is over."""

from __future__ import annotations

from page_helpers import log_in as _login

from datacoop.log.models import LogEntry
from datacoop.pay.models import PiecePayment, Rejection, RejectionState

PASSWORD = "correct horse battery"


def _rejected(client, api, reason: str) -> int:
    req = api.user("requester")
    project = api.project(req, title="Skies", overlap=1)
    api.items(req, project["id"], "text\nsky\n")
    worker = api.user("member")
    task = client.post(f"/api/v1/projects/{project['id']}/next", headers=worker).json()
    sub = client.post(
        "/api/v1/submissions",
        json={"assignment_id": task["assignment_id"], "answer": "red"},
        headers=worker,
    ).json()
    r = client.post(
        f"/api/v1/submissions/{sub['id']}/rejection",
        headers=req,
        json={"reason": reason, "evidence": "the same answer 400 times in a minute"},
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_unappealed_suspected_fraud_is_listed_only_after_the_window(client, api, clock):
    fraud = _rejected(client, api, "suspected_fraud")
    other = _rejected(client, api, "wrong_answer")
    api.user("steward", email="s@example.org")
    _login(client, "s@example.org")
    page = client.get("/steward/appeals").text
    assert "Suspected fraud, appeal window over" in page and 'id="no-fraud"' in page
    assert f'id="fraud-{fraud}"' not in page
    clock.advance(15 * 86_400)  # the 14-day appeal window has closed
    _login(client, "s@example.org")
    page = client.get("/steward/appeals").text
    assert f'id="fraud-{fraud}"' in page and f'id="fraud-{other}"' not in page
    assert 'id="no-fraud"' not in page
    assert "withholds that one" in page and "public log" in page
    card = page[
        page.index(f'id="fraud-{fraud}"') : page.index("</li>", page.index(f'id="fraud-{fraud}"'))
    ]
    assert f'<label for="fraud-{fraud}-note">Note for the member</label>' in card
    assert 'name="outcome" value="fraud_confirmed"' in card
    assert "the same answer 400 times in a minute" in card


def test_a_steward_confirms_fraud_and_a_bad_note_is_shown_next_to_it(client, api, clock):
    rid = _rejected(client, api, "suspected_fraud")
    api.user("steward", email="s@example.org")
    clock.advance(15 * 86_400)
    csrf = _login(client, "s@example.org")
    with client.app.state.ctx.sessions() as s:
        logged = s.query(LogEntry).count()
    url = f"/steward/appeals/{rid}/decision"
    r = client.post(url, data={"outcome": "fraud_confirmed", "note": " ", "csrf_token": csrf})
    assert r.status_code == 422
    assert f'id="fraud-{rid}-note-error">Note must not be empty' in r.text
    assert f'aria-describedby="fraud-{rid}-note-error"' in r.text
    r = client.post(
        url,
        data={"outcome": "fraud_confirmed", "note": "Scripted answers.", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"/steward/appeals?confirmed={rid}"
    after = client.get(r.headers["location"]).text
    assert f"Fraud confirmed on rejection {rid} and logged" in after
    assert 'id="no-fraud"' in after
    with client.app.state.ctx.sessions() as s:
        decided = s.get(Rejection, rid)
        assert decided.state is RejectionState.fraud_confirmed
        assert decided.decision_note == "Scripted answers."
        assert s.get(PiecePayment, decided.submission_id).amount == 0  # never paid
        assert s.query(LogEntry).count() == logged + 1


def test_before_the_window_a_confirmation_is_refused(client, api, clock):
    rid = _rejected(client, api, "suspected_fraud")
    api.user("steward", email="s@example.org")
    csrf = _login(client, "s@example.org")
    r = client.post(
        f"/steward/appeals/{rid}/decision",
        data={"outcome": "fraud_confirmed", "note": "too early", "csrf_token": csrf},
    )
    assert r.status_code == 409
    assert (
        f'id="problem">Rejection {rid}: fraud is confirmed only after the appeal window' in r.text
    )
    with client.app.state.ctx.sessions() as s:
        assert s.get(Rejection, rid).state is RejectionState.open
