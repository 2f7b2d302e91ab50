"""The public transparency page and the stewards' tree-head list, over HTTP."""

from __future__ import annotations

import re

import pytest
from page_helpers import log_in as _login

from datacoop.algorithms.ledger import public_key_to_pem
from datacoop.disclosure.rules import K_MIN_PEOPLE, publish

PASSWORD = "correct horse battery"


def _cell(html: str, id_: str) -> str:
    found = re.search(rf'<span id="{id_}"[^>]*>(.*?)</span>', html)
    assert found, id_
    return found.group(1)


def _work(client, clock, headers, project_id, seconds, answer="red"):
    task = client.post(f"/api/v1/projects/{project_id}/next", headers=headers)
    assert task.status_code == 200, task.text
    aid = task.json()["assignment_id"]
    for _ in range(seconds // 10):
        clock.advance(10)
        assert client.post(f"/api/v1/assignments/{aid}/heartbeat", headers=headers).is_success
    r = client.post(
        "/api/v1/submissions", headers=headers, json={"assignment_id": aid, "answer": answer}
    )
    assert r.status_code == 201, r.text


@pytest.mark.parametrize(
    ("people", "shown"), [(0, False), (1, False), (K_MIN_PEOPLE - 1, False), (K_MIN_PEOPLE, True)]
)
def test_a_figure_from_fewer_than_k_people_is_withheld(people, shown):
    figure = publish(1234, people=people)
    assert figure.shown is shown
    assert figure.value == (1234 if shown else None)
    assert figure.reason == (
        "" if shown else "none yet" if people == 0 else "fewer than 10 — hidden"
    )


def test_the_transparency_page_is_public_and_hides_small_groups(client, api, clock):
    req = api.user("requester")
    project = api.project(req, overlap=1)
    api.items(req, project["id"], "text\nsky\ngrass\n")
    member = api.user("member")
    _work(client, clock, member, project["id"], 30)
    page = client.get("/transparency")  # no session
    assert page.status_code == 200
    assert _cell(page.text, "members") == "fewer than 10 — hidden"
    assert _cell(page.text, "hours") == "fewer than 10 — hidden"
    assert '<td id="paid"><span class="suppressed">none yet</span></td>' in page.text
    # the newest signed tree head and the key that verifies it
    latest = client.get("/api/v1/log/tree-heads/latest").json()
    assert f'<dd id="tree-size">{latest["tree_size"]}</dd>' in page.text
    assert latest["root_hash"] in page.text and latest["signature"] in page.text
    pem = public_key_to_pem(client.app.state.ctx.signer.public_key()).decode()
    assert pem.strip() in page.text
    assert "Log out" not in page.text


def test_the_transparency_page_before_anything_is_logged(client):
    page = client.get("/transparency")
    assert page.status_code == 200
    assert "The log has no signed tree head yet." in page.text
    assert _cell(page.text, "members") == "none yet"


def test_figures_from_ten_people_are_published(client, api, clock):
    # 10 cents a piece for a 60 s estimate; each member works 60 measured seconds and is
    # topped up to the 15.00/h floor: 25 cents each, 15.00 an hour.
    req = api.user("requester")
    project = api.project(req, overlap=1, pay_per_item=10, estimated_seconds=60)
    pid = project["id"]
    rows = "".join(f"i{i},thing {i}\n" for i in range(K_MIN_PEOPLE))
    api.items(req, pid, "id,text\n" + rows)
    r = client.post(f"/api/v1/projects/{pid}/pay/fund", headers=req, json={"amount": "10.00"})
    assert r.status_code == 200, r.text
    assert client.post(f"/api/v1/projects/{pid}/pay/launch", headers=req).status_code == 200
    for _ in range(K_MIN_PEOPLE):
        _work(client, clock, api.user("member"), pid, 60)
    assert client.post(f"/api/v1/projects/{pid}/pay/settle", headers=req).status_code == 200
    page = client.get("/transparency")
    assert _cell(page.text, "members") == str(K_MIN_PEOPLE + 1)
    assert _cell(page.text, "hours") == f"{K_MIN_PEOPLE * 60 / 3600:.1f} hours"
    assert _cell(page.text, "paid-1") == "2.50 USD"
    assert _cell(page.text, "hourly-1") == "15.00 USD per hour"


def test_tree_heads_are_for_stewards(client, api):
    api.user("member", email="m@example.org")
    api.user("steward", email="s@example.org")
    r = client.get("/steward/tree-heads", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/steward/tree-heads"
    _login(client, "m@example.org")
    assert client.get("/steward/tree-heads").status_code == 403
    client.cookies.clear()
    _login(client, "s@example.org")
    page = client.get("/steward/tree-heads")
    assert page.status_code == 200
    heads = client.get("/api/v1/log/tree-heads").json()["data"]
    sizes = re.findall(r"<tr><td>(\d+)</td>", page.text)
    assert sizes == [str(h["tree_size"]) for h in heads] and sizes
