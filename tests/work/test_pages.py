"""The member's work pages over HTTP: dashboard offers, task page, my work, one submission."""

from __future__ import annotations

import re

import pytest
from page_helpers import log_in as _login

PASSWORD = "correct horse battery"




def _submit(client, headers, project_id: int, answer="red") -> dict:
    task = client.post(f"/api/v1/projects/{project_id}/next", headers=headers).json()
    r = client.post(
        "/api/v1/submissions",
        json={"assignment_id": task["assignment_id"], "answer": answer},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    return r.json()


@pytest.mark.parametrize(
    "path", ["/dashboard", "/work", "/work/submissions/1", "/projects/1/work", "/earnings"]
)
def test_member_pages_need_a_session(client, path):
    r = client.get(path, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/login?next={path}"


def test_a_member_logs_in_to_the_dashboard(client, api):
    api.user("member", email="m@example.org")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    r = client.post(
        "/login",
        data={"email": "m@example.org", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/dashboard"
    assert client.get("/", follow_redirects=False).headers["location"] == "/dashboard"


def test_the_dashboard_shows_pay_time_hourly_reviews_and_warnings_before_acceptance(client, api):
    req = api.user("requester")
    api.project(req, title="Plain", pay_per_item=12, estimated_seconds=45)
    api.project(
        req, title="Hard", pay_per_item=30, estimated_seconds=20, currency="JPY",
        sensitivity="disturbing",
    )
    api.user("member", email="m@example.org")
    _login(client, "m@example.org")
    page = client.get("/dashboard")
    assert page.status_code == 200
    plain, hard = (
        page.text[page.text.index(f'id="project-{i}"'):] for i in (1, 2)
    )
    plain = plain[: plain.index("</li>")]
    hard = hard[: hard.index("</li>")]
    assert '<dd class="pay">0.12 USD</dd>' in plain
    assert "<dd>45 s</dd>" in plain
    assert '<dd class="hourly">9.60 USD per hour</dd>' in plain  # 12 * 3600 // 45 = 960
    assert "No reviews yet" in plain and "Content warning" not in plain
    assert '<dd class="pay">30 JPY</dd>' in hard
    assert '<dd class="hourly">5,400 JPY per hour</dd>' in hard
    assert "Content warning:</strong> this project contains\n       disturbing content" in hard
    assert page.text.index('id="project-1"') < page.text.index('id="project-2"')  # oldest first


def test_the_dashboard_pages_through_projects(client, api, monkeypatch):
    from datacoop.work import pages

    monkeypatch.setattr(pages, "PAGE_SIZE", 2)
    req = api.user("requester")
    for n in range(3):
        api.project(req, title=f"P{n}")
    api.user("member", email="m@example.org")
    _login(client, "m@example.org")
    first = client.get("/dashboard").text
    assert re.findall(r'id="project-(\d+)"', first) == ["1", "2"]
    assert 'href="/dashboard?after=2" rel="next"' in first
    second = client.get("/dashboard?after=2").text
    assert re.findall(r'id="project-(\d+)"', second) == ["3"] and 'rel="next"' not in second


@pytest.mark.parametrize(
    "spec",
    [
        {"task_type": "single_choice"},
        {"task_type": "multi_label"},
        {"task_type": "pairwise", "labels": None},
        {"task_type": "rating", "labels": None, "min": 1, "max": 5},
        {"task_type": "free_text", "labels": None},
        {"task_type": "span", "labels": ["PER"]},
    ],
)
def test_the_task_page_renders_for_every_task_type(client, api, spec):
    req = api.user("requester")
    project = api.project(req, instructions="Read <b>carefully</b>.", **spec)
    api.user("member", email="m@example.org")
    _login(client, "m@example.org")
    page = client.get(f"/projects/{project['id']}/work")
    assert page.status_code == 200
    assert f'data-task-type="{spec["task_type"]}"' in page.text
    assert "Read &lt;b&gt;carefully&lt;/b&gt;." in page.text  # instructions are escaped
    assert '<meta name="csrf-token"' in page.text and '<script src="/static/work.js">' in page.text
    assert '<button type="button" id="skip"' in page.text


def test_the_task_page_warns_about_sensitive_content(client, api):
    req = api.user("requester")
    project = api.project(req, sensitivity="sensitive")
    api.user("member", email="m@example.org")
    _login(client, "m@example.org")
    page = client.get(f"/projects/{project['id']}/work")
    assert 'data-sensitivity="sensitive"' in page.text and "Content warning" in page.text


def test_no_such_project(client, api):
    api.user("member", email="m@example.org")
    _login(client, "m@example.org")
    page = client.get("/projects/999/work")
    assert page.status_code == 404 and "no project with id 999" in page.text


def test_my_work_lists_only_my_submissions_with_receipts(client, api):
    req = api.user("requester")
    project = api.project(req, title="Colour check", overlap=2, pay_per_item=7)
    api.items(req, project["id"], "text\nsky\ngrass\nsea\n")
    me = api.user("member", email="m@example.org")
    other = api.user("member", email="o@example.org")
    mine = [_submit(client, me, project["id"], a) for a in ("blue", "red")]
    theirs = _submit(client, other, project["id"], "red")
    _login(client, "m@example.org")
    page = client.get("/work")
    assert page.status_code == 200
    rows = re.findall(r'<tr id="submission-(\d+)">', page.text)
    assert rows == [str(s["id"]) for s in mine]
    assert f'data-verify="{theirs["id"]}"' not in page.text
    for s in mine:
        assert f'data-verify="{s["id"]}"' in page.text
        assert f'href="/api/v1/submissions/{s["id"]}/receipt" download' in page.text
    assert '<td class="status">accepted</td>' in page.text
    assert '<script src="/static/receipts.js">' in page.text


def test_my_work_pages_through_submissions(client, api, monkeypatch):
    from datacoop.work import pages

    monkeypatch.setattr(pages, "PAGE_SIZE", 2)
    req = api.user("requester")
    project = api.project(req, overlap=1)
    api.items(req, project["id"], "text\na\nb\nc\n")
    me = api.user("member", email="m@example.org")
    ids = [_submit(client, me, project["id"])["id"] for _ in range(3)]
    _login(client, "m@example.org")
    first = client.get("/work").text
    assert re.findall(r'<tr id="submission-(\d+)">', first) == [str(i) for i in ids[:2]]
    assert f'href="/work?after={ids[1]}" rel="next"' in first
    second = client.get(f"/work?after={ids[1]}").text
    assert re.findall(r'<tr id="submission-(\d+)">', second) == [str(ids[2])]
    assert 'rel="next"' not in second


def test_an_empty_my_work_page_points_to_the_dashboard(client, api):
    api.user("member", email="m@example.org")
    _login(client, "m@example.org")
    page = client.get("/work")
    assert "You have not submitted any work yet" in page.text and 'href="/dashboard"' in page.text


def test_one_submission_is_visible_to_its_member_and_stewards_only(client, api):
    req = api.user("requester", email="r@example.org")
    project = api.project(req)
    api.items(req, project["id"], "text\nsky\n")
    me = api.user("member", email="m@example.org")
    api.user("member", email="o@example.org")
    api.user("steward", email="s@example.org")
    s = _submit(client, me, project["id"], "blue")
    _login(client, "m@example.org")
    page = client.get(f"/work/submissions/{s['id']}")
    assert page.status_code == 200
    assert '<dd class="answer">blue</dd>' in page.text and f"#{s['log_index']}" in page.text
    assert client.get("/work/submissions/999").status_code == 404
    for email, status in (("o@example.org", 403), ("r@example.org", 403), ("s@example.org", 200)):
        client.cookies.clear()
        _login(client, email)
        r = client.get(f"/work/submissions/{s['id']}")
        assert r.status_code == status, email
    client.cookies.clear()
    _login(client, "o@example.org")
    assert "only see your own submissions" in client.get(f"/work/submissions/{s['id']}").text


def test_earnings_show_the_piece_rate_value_per_project_and_per_day(client, api, clock):
    req = api.user("requester")
    usd = api.project(req, title="Colour check", overlap=1, pay_per_item=7)
    jpy = api.project(req, title="Yen work", overlap=1, pay_per_item=30, currency="JPY")
    api.items(req, usd["id"], "text\nsky\ngrass\nsea\n")
    api.items(req, jpy["id"], "text\nsky\n")
    me = api.user("member", email="m@example.org")
    api.user("member", email="o@example.org")
    _submit(client, me, usd["id"])
    clock.advance(86400)
    task = client.post(f"/api/v1/projects/{usd['id']}/next", headers=me).json()
    for _ in range(3):  # 3 x 20 s of measured active time
        clock.advance(20)
        client.post(f"/api/v1/assignments/{task['assignment_id']}/heartbeat", headers=me)
    r = client.post(
        "/api/v1/submissions",
        json={"assignment_id": task["assignment_id"], "answer": "red"},
        headers=me,
    )
    assert r.status_code == 201
    _submit(client, me, jpy["id"])
    _login(client, "m@example.org")
    page = client.get("/earnings")
    assert page.status_code == 200
    start = page.text.index('id="totals"')
    totals = page.text[start:page.text.index("</table>", start)]
    assert "<td>Colour check</td><td>2</td><td>1 min</td>\n        <td>0.14 USD</td>" in totals
    assert "<td>8.40 USD</td>" in totals  # 14 cents per minute of active time
    assert "<td>—</td>" in totals  # no rate from under a minute of measured time
    assert "<td>Yen work</td><td>1</td><td>0 s</td>\n        <td>30 JPY</td>" in totals
    assert page.text.count('<svg class="chart"') == 2  # one chart per currency
    assert page.text.count('class="chart-bar"') == 60
    days = page.text[page.text.index('id="days"'):]
    today = clock.now().date().isoformat()
    assert days.count(f'<time datetime="{today}">') == 2
    assert "once settlement lands" not in page.text
    assert 'id="no-payouts"' in page.text
    statements = page.text[page.text.index('id="statements"'):]
    assert f'<tr id="statement-{usd["id"]}"><td>Colour check</td><td>2</td><td>0</td>' in statements
    assert '<td class="floor">15.00 USD per hour</td>' in statements
    from datacoop.pay.statements import EarningsStatement

    if "payable_balance" in EarningsStatement.__dataclass_fields__:  # payouts in the statement
        assert 'id="owed-USD"' in page.text and 'id="owed-JPY"' in page.text
    client.cookies.clear()
    _login(client, "o@example.org")
    other = client.get("/earnings").text
    assert "No accepted work yet" in other and "<svg" not in other


def _reject(client, req, sid: int, reason="wrong_answer", evidence="the sky is blue") -> int:
    r = client.post(
        f"/api/v1/submissions/{sid}/rejection",
        headers=req,
        json={"reason": reason, "evidence": evidence},
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_my_work_shows_rejections_and_takes_an_appeal_within_the_window(client, api, clock):
    from datacoop.pay.models import Rejection, RejectionState

    req = api.user("requester")
    project = api.project(req, overlap=1)
    api.items(req, project["id"], "text\na\nb\nc\n")
    me = api.user("member", email="m@example.org")
    kept, rejected, late = (_submit(client, me, project["id"])["id"] for _ in range(3))
    rid = _reject(client, req, rejected, evidence="answered <red> for the sky")
    late_rid = _reject(client, req, late, reason="gibberish", evidence="random keys")
    _login(client, "m@example.org")
    page = client.get("/work").text
    assert f'<tr id="submission-{kept}">' in page
    row = page[page.index(f'id="rejection-{rid}"'):page.index(f'id="rejection-{late_rid}"')]
    assert '<strong class="state">rejected</strong>' in row
    assert "<code>wrong_answer</code>" in row
    assert "answered &lt;red&gt; for the sky" in row  # escaped
    assert f'action="/work/rejections/{rid}/appeal"' in row
    csrf = _csrf(page)
    r = client.post(f"/work/rejections/{rid}/appeal", data={"statement": " ", "csrf_token": csrf})
    assert r.status_code == 422
    assert f'id="appeal-{rid}-error">Your appeal must not be empty' in r.text
    r = client.post(
        f"/work/rejections/{rid}/appeal", data={"statement": "it was red", "csrf_token": "x"}
    )
    assert r.status_code == 403
    r = client.post(
        f"/work/rejections/{rid}/appeal",
        data={"statement": "the item showed a red sky", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"/work?after=0#rejection-{rid}"
    page = client.get("/work").text
    row = page[page.index(f'id="rejection-{rid}"'):page.index(f'id="rejection-{late_rid}"')]
    assert '<strong class="state">appealed</strong>' in row
    assert "the item showed a red sky" in row and "<form" not in row
    clock.advance(15 * 86_400)  # the window (14 days) has closed for the other one
    client.cookies.clear()
    _login(client, "m@example.org")  # the session did not last 15 days
    page = client.get("/work").text
    csrf = _csrf(page)
    late_row = page[page.index(f'id="rejection-{late_rid}"'):]
    late_row = late_row[: late_row.index("</td>")]
    assert "The appeal window closed on" in late_row and "<form" not in late_row
    r = client.post(
        f"/work/rejections/{late_rid}/appeal", data={"statement": "late", "csrf_token": csrf}
    )
    assert r.status_code == 409 and "the appeal window has closed" in r.text
    with client.app.state.ctx.sessions() as s:
        states = {r.id: r.state for r in s.query(Rejection)}
    assert states == {rid: RejectionState.appealed, late_rid: RejectionState.open}


def test_the_dashboard_shows_requester_review_aggregates_suppressed_under_three(client, api):
    from datacoop.members.models import Member

    req = api.user("requester", email="r@example.org")
    project = api.project(req, title="Reviewed", overlap=3)
    api.items(req, project["id"], "text\nsky\n")
    with client.app.state.ctx.sessions() as s:
        rid = s.query(Member).filter_by(email="r@example.org").one().id
    workers = [api.user("member", email=f"w{i}@example.org") for i in range(3)]
    for n, w in enumerate(workers):
        _submit(client, w, project["id"])
        r = client.put(
            f"/api/v1/requesters/{rid}/review",
            headers=w,
            json={"communicativity": 4, "generosity": 3 + n % 2, "fairness": 5, "promptness": 2},
        )
        assert r.status_code == 200, r.text
        _login(client, f"w{n}@example.org")
        page = client.get("/dashboard").text
        card = page[page.index(f'id="project-{project["id"]}"'):]
        card = card[: card.index("</li>")]
        client.cookies.clear()
        if n < 2:
            assert f'<dd class="reviews">{n + 1} review' in card
            assert '<dd class="rating-fairness">fewer than 3 — hidden</dd>' in card
            assert "5.00 of 5" not in card
    assert '<dd class="reviews">3 reviews</dd>' in card
    assert '<dd class="rating-fairness">5.00 of 5</dd>' in card
    assert '<dd class="rating-generosity">3.33 of 5</dd>' in card  # (3 + 4 + 3) / 3


def test_a_member_reviews_a_requester_they_worked_for_from_the_dashboard(client, api):
    from datacoop.pay.models import RequesterReview

    req = api.user("requester", email="r@example.org")
    project = api.project(req, title="Reviewed", overlap=2)
    api.items(req, project["id"], "text\nsky\n")
    me = api.user("member", email="m@example.org")
    api.user("member", email="o@example.org")
    _submit(client, me, project["id"])
    _login(client, "o@example.org")
    assert "review-form" not in client.get("/dashboard").text  # never worked for them
    client.cookies.clear()
    _login(client, "m@example.org")
    page = client.get("/dashboard").text
    action = re.search(r'action="(/requesters/\d+/review)"', page).group(1)
    ratings = {"communicativity": "4", "generosity": "2", "fairness": "5", "promptness": "3"}
    r = client.post(action, data=ratings | {"csrf_token": "bad"})
    assert r.status_code == 403
    r = client.post(action, data=ratings | {"csrf_token": _csrf(page)}, follow_redirects=False)
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "Your review was saved." in page and "Edit your review" in page
    assert '<option value="2" selected>2</option>' in page
    with client.app.state.ctx.sessions() as s:
        (stored,) = s.query(RequesterReview).all()
        assert (stored.communicativity, stored.generosity, stored.fairness, stored.promptness) == (
            4, 2, 5, 3,
        )  # fmt: skip


def test_one_submission_shows_its_rejection_and_only_its_member_may_appeal(client, api):
    req = api.user("requester")
    project = api.project(req, overlap=1)
    api.items(req, project["id"], "text\nsky\n")
    me = api.user("member", email="m@example.org")
    api.user("steward", email="s@example.org")
    sid = _submit(client, me, project["id"])["id"]
    rid = _reject(client, req, sid, reason="gibberish", evidence="keyboard mash")
    _login(client, "m@example.org")
    page = client.get(f"/work/submissions/{sid}").text
    assert '<strong class="state">rejected</strong>' in page and "keyboard mash" in page
    assert f'action="/work/rejections/{rid}/appeal"' in page
    client.cookies.clear()
    _login(client, "s@example.org")
    page = client.get(f"/work/submissions/{sid}").text
    assert "keyboard mash" in page and "<textarea" not in page
    assert "The member may appeal until" in page
