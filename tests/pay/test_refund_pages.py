"""The cost page's refund and close forms over HTTP: CSRF enforced, post/redirect/get, the
error next to its button, the refunded total in the statement."""

from __future__ import annotations

import re

from page_helpers import log_in as _login
from sqlalchemy import func, select

from datacoop.pay.models import Posting

PASSWORD = "correct horse battery"


def _postings(client) -> int:
    with client.app.state.ctx.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Posting)) or 0)


def test_the_cost_page_refunds_and_closes_with_csrf_forms(client, api):
    req = api.user("requester", email="req@example.org")
    project = api.project(req)  # 5 cents a piece, 10 s: 0.05 + 0.01 fee a task, 2 × 2 tasks
    pid = project["id"]
    api.items(req, pid, "text\nsky\ngrass\n")
    client.post(f"/api/v1/projects/{pid}/pay/fund", headers=req, json={"amount": "1.00"})
    _login(client, "req@example.org")
    base = f"/projects/{pid}/cost"
    page = client.get(base).text
    assert f'action="{base}/refund"' in page and f'action="{base}/close"' in page
    assert '<td id="refunded">0.00 USD</td>' in page
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    for path in ("refund", "close"):
        r = client.post(f"{base}/{path}", data={"csrf_token": "nope"})
        assert r.status_code == 403, path
    assert _postings(client) == 1  # the deposit only

    r = client.post(f"{base}/refund", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"{base}?done=refunded"
    page = client.get(r.headers["location"]).text
    assert "the unspent escrow was refunded to you" in page
    assert '<td id="refunded">0.76 USD</td>' in page  # 1.00 − 4 tasks × 0.06
    r = client.post(f"{base}/refund", data={"csrf_token": csrf})
    assert r.status_code == 409 and 'id="refunded-error">nothing to refund' in r.text

    r = client.post(f"{base}/close", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.headers["location"] == f"{base}?done=closed"
    page = client.get(r.headers["location"]).text
    assert "(state: closed)" in page and f'action="{base}/close"' not in page
    r = client.post(f"{base}/launch", data={"csrf_token": csrf})
    assert r.status_code == 409 and 'id="launched-error">project' in r.text
    r = client.post(f"{base}/refund", data={"csrf_token": csrf})
    assert r.status_code == 200 and '<td id="refunded">1.00 USD</td>' in r.text
    assert _postings(client) == 3
