"""The requester's submissions page over HTTP: list, paginate, reject and approve by form."""

from __future__ import annotations

import re

from page_helpers import log_in as _login
from sqlalchemy import func, select

from datacoop.members.models import Contributor
from datacoop.pay import appeals
from datacoop.pay.models import Approval, Rejection, RejectionReason, RejectionState

PASSWORD = "correct horse battery"


def _csrf(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def _submit(client, headers, project_id: int, answer="red") -> int:
    task = client.post(f"/api/v1/projects/{project_id}/next", headers=headers).json()
    r = client.post(
        "/api/v1/submissions",
        json={"assignment_id": task["assignment_id"], "answer": answer},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _setup(client, api, items: int = 1) -> tuple[int, list[int]]:
    """A requester r@ with one project, a member m@ who answers ``items`` items."""
    req = api.user("requester", email="r@example.org")
    project = api.project(req, title="Skies", overlap=1)
    api.items(req, project["id"], "text\n" + "".join(f"sky {n}\n" for n in range(items)))
    me = api.user("member", email="m@example.org")
    return project["id"], [_submit(client, me, project["id"]) for _ in range(items)]


def _count(client, query) -> int:
    with client.app.state.ctx.sessions() as s:
        return int(s.scalar(query) or 0)


def _row(html: str, sid: int) -> str:
    start = html.index(f'id="submission-{sid}"')
    return html[start : html.index("</li>", start)]


def test_the_page_lists_submissions_newest_first_and_pages_through_them(client, api, monkeypatch):
    from datacoop.projects import submissions_pages

    monkeypatch.setattr(submissions_pages, "PAGE_SIZE", 2)
    pid, sids = _setup(client, api, items=3)
    _login(client, "r@example.org")
    first = client.get(f"/projects/{pid}/submissions")
    assert first.status_code == 200
    assert re.findall(r'<li class="card submission" id="submission-(\d+)">', first.text) == [
        str(sids[2]),
        str(sids[1]),
    ]
    assert f'href="/projects/{pid}/submissions?before={sids[1]}" rel="next"' in first.text
    second = client.get(f"/projects/{pid}/submissions?before={sids[1]}").text
    assert re.findall(r'<li class="card submission" id="submission-(\d+)">', second) == [
        str(sids[0])
    ]
    assert 'rel="next"' not in second and f'href="/projects/{pid}/submissions">Newest' in second
    with client.app.state.ctx.sessions() as s:
        contributor = s.scalars(select(Contributor.contributor_id)).one()
    row = _row(first.text, sids[2])
    assert f'<code class="contributor">{contributor}</code>' in row
    assert '<dd class="answer">red</dd>' in row and "awaiting review" in row
    assert "m@example.org" not in first.text and "member 2" not in first.text
    assert f'for="reject-{sids[2]}-reason"' in row and f'for="reject-{sids[2]}-evidence"' in row
    for reason in RejectionReason:
        assert f'<option value="{reason.value}">' in row
    progress = client.get(f"/projects/{pid}/progress").text
    assert f'href="/projects/{pid}/submissions"' in progress


def test_only_the_projects_requester_may_review_and_stewards_only_look(client, api):
    pid, (sid,) = _setup(client, api)
    api.user("requester", email="other@example.org")
    api.user("steward", email="s@example.org")
    path = f"/projects/{pid}/submissions"
    r = client.get(path, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/login?next={path}"
    for email in ("m@example.org", "other@example.org"):
        _login(client, email)
        page = client.get(path)
        assert page.status_code == 403
        r = client.post(
            f"{path}/{sid}/reject",
            data={"reason": "gibberish", "evidence": "x", "csrf_token": _csrf(page.text)},
        )
        assert r.status_code == 403
        r = client.post(f"{path}/{sid}/approve", data={"csrf_token": _csrf(page.text)})
        assert r.status_code == 403
    _login(client, "s@example.org")
    page = client.get(path)
    assert page.status_code == 200 and f'id="submission-{sid}"' in page.text
    assert "/reject" not in page.text and "Only the project's requester" in page.text
    assert _count(client, select(func.count()).select_from(Rejection)) == 0
    assert _count(client, select(func.count()).select_from(Approval)) == 0


def test_a_bad_rejection_keeps_the_input_and_shows_each_error_next_to_its_field(client, api):
    pid, (sid,) = _setup(client, api)
    _login(client, "r@example.org")
    csrf = _csrf(client.get(f"/projects/{pid}/submissions").text)
    url = f"/projects/{pid}/submissions/{sid}/reject"
    r = client.post(url, data={"reason": "gibberish", "evidence": "  ", "csrf_token": csrf})
    assert r.status_code == 422
    row = _row(r.text, sid)
    assert '<details class="reject-form" open>' in row
    assert '<option value="gibberish" selected>' in row
    assert f'id="reject-{sid}-evidence-error">Evidence must not be empty</span>' in row
    assert f'aria-describedby="reject-{sid}-evidence-hint reject-{sid}-evidence-error"' in row
    r = client.post(url, data={"reason": "lazy", "evidence": "keep <this>", "csrf_token": csrf})
    assert r.status_code == 422
    row = _row(r.text, sid)
    assert f'id="reject-{sid}-reason-error">Reason must be one of wrong_answer' in row
    assert f'aria-describedby="reject-{sid}-reason-error"' in row
    assert ">keep &lt;this&gt;</textarea>" in row
    forged = client.post(url, data={"reason": "gibberish", "evidence": "x", "csrf_token": "no"})
    assert forged.status_code == 403 and "Your form expired" in forged.text
    assert _count(client, select(func.count()).select_from(Rejection)) == 0


def test_a_requester_rejects_from_the_page_and_the_member_sees_it(client, api):
    pid, (sid,) = _setup(client, api)
    _login(client, "r@example.org")
    csrf = _csrf(client.get(f"/projects/{pid}/submissions").text)
    r = client.post(
        f"/projects/{pid}/submissions/{sid}/reject",
        data={"reason": "wrong_answer", "evidence": "The sky is blue.", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert (
        r.headers["location"] == f"/projects/{pid}/submissions?done=rejected-{sid}#submission-{sid}"
    )
    page = client.get(r.headers["location"]).text
    assert f"Submission {sid} rejected." in page
    row = _row(page, sid)
    assert '<strong class="state">rejected</strong>' in row and "The sky is blue." in row
    assert "/reject" not in row and "The member may appeal until" in row
    with client.app.state.ctx.sessions() as s:
        (rejection,) = s.scalars(select(Rejection)).all()
        assert (rejection.submission_id, rejection.reason, rejection.state) == (
            sid, RejectionReason.wrong_answer, RejectionState.open,
        )  # fmt: skip
    # Rejecting it again is a calm conflict, not an error page.
    again = client.post(
        f"/projects/{pid}/submissions/{sid}/reject",
        data={"reason": "gibberish", "evidence": "again", "csrf_token": csrf},
    )
    assert again.status_code == 409
    assert f'id="problem">Submission {sid} was already rejected; nothing changed.' in again.text
    _login(client, "m@example.org")
    mine = client.get("/work").text
    assert '<strong class="state">rejected</strong>' in mine and "The sky is blue." in mine


def test_a_requester_approves_from_the_page(client, api):
    pid, sids = _setup(client, api, items=2)
    _login(client, "r@example.org")
    csrf = _csrf(client.get(f"/projects/{pid}/submissions").text)
    r = client.post(
        f"/projects/{pid}/submissions/{sids[0]}/approve",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert f"Submission {sids[0]} approved." in page
    assert '<strong class="state">approved</strong>' in _row(page, sids[0])
    assert "by you, " in _row(page, sids[0])
    assert "awaiting review" in _row(page, sids[1])
    assert _count(client, select(func.count()).select_from(Approval)) == 1
    late = client.post(
        f"/projects/{pid}/submissions/{sids[0]}/reject",
        data={"reason": "gibberish", "evidence": "too late", "csrf_token": csrf},
    )
    assert late.status_code == 409 and "already approved" in late.text
    assert 'id="problem"' in late.text
    assert _count(client, select(func.count()).select_from(Rejection)) == 0


def test_after_auto_approval_a_submission_reads_approved_and_has_no_forms(client, api, clock):
    pid, (sid,) = _setup(client, api)
    clock.advance(60 * 86_400)  # past any auto_approve_days
    _login(client, "r@example.org")
    row = _row(client.get(f"/projects/{pid}/submissions").text, sid)
    assert '<strong class="state">approved</strong>' in row and "automatically" in row
    assert "/reject" not in row and "/approve" not in row
    ctx = client.app.state.ctx
    with ctx.sessions() as s:  # settlement's auto-approval writes it down
        assert appeals.auto_approve(s, ctx.clock) == 1
        s.commit()
    row = _row(client.get(f"/projects/{pid}/submissions").text, sid)
    assert '<strong class="state">approved</strong>' in row and "automatically, " in row


def test_a_submission_of_another_project_is_not_found(client, api):
    pid, (sid,) = _setup(client, api)
    req = api.user("requester", email="r2@example.org")
    other = api.project(req, title="Other")
    _login(client, "r2@example.org")
    csrf = _csrf(client.get(f"/projects/{other['id']}/submissions").text)
    r = client.post(
        f"/projects/{other['id']}/submissions/{sid}/reject",
        data={"reason": "gibberish", "evidence": "x", "csrf_token": csrf},
    )
    assert r.status_code == 404
    assert _count(client, select(func.count()).select_from(Rejection)) == 0
