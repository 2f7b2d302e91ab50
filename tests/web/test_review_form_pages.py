"""The dashboard's review form (``pay/pages.py: review``): a refused rating re-renders the
dashboard with the member's input kept and each error under its field."""

from __future__ import annotations

import re

from page_helpers import log_in as _login

from datacoop.pay.models import RequesterReview

PASSWORD = "correct horse battery"


def test_a_bad_review_keeps_the_input_and_shows_each_error_under_its_field(client, api):
    req = api.user("requester", email="r@example.org")
    project = api.project(req, title="Reviewed", overlap=1)
    api.items(req, project["id"], "text\nsky\n")
    me = api.user("member", email="m@example.org")
    task = client.post(f"/api/v1/projects/{project['id']}/next", headers=me).json()
    r = client.post(
        "/api/v1/submissions", json={"assignment_id": task["assignment_id"], "answer": "red"},
        headers=me,
    )  # fmt: skip
    assert r.status_code == 201
    _login(client, "m@example.org")
    page = client.get("/dashboard").text
    action = re.search(r'action="(/requesters/\d+/review)"', page).group(1)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    sent = {"communicativity": "4", "generosity": "9", "fairness": "", "promptness": "2"}
    r = client.post(action, data=sent | {"csrf_token": csrf})
    assert r.status_code == 422
    pid = project["id"]
    assert "<h1>Available work</h1>" in r.text  # the dashboard, not an error page
    assert '<details class="review-form" open>' in r.text
    assert f'id="review-{pid}-generosity-error">Generosity must be an integer from 1 to 5' in r.text
    assert f'id="review-{pid}-fairness-error">Fairness must be an integer from 1 to 5' in r.text
    assert f'aria-describedby="review-{pid}-generosity-error"' in r.text
    assert f'id="review-{pid}-communicativity-error"' not in r.text
    # the member's input is kept, the good ratings and the bad ones
    assert '<option value="4" selected>4</option>' in r.text
    assert '<option value="2" selected>2</option>' in r.text
    assert '<option value="9" selected>9</option>' in r.text
    with client.app.state.ctx.sessions() as s:
        assert s.query(RequesterReview).count() == 0
    good = sent | {"generosity": "3", "fairness": "5", "csrf_token": csrf}
    r = client.post(action, data=good, follow_redirects=False)
    assert r.status_code == 303
    # A second review edits the first: no conflict, one review.
    r = client.post(action, data=good | {"fairness": "1"}, follow_redirects=False)
    assert r.status_code == 303
    with client.app.state.ctx.sessions() as s:
        (stored,) = s.query(RequesterReview).all()
        assert stored.fairness == 1
