"""The requester's pages over HTTP: create a project, upload items, progress, export, cost."""

from __future__ import annotations

import re

from page_helpers import log_in as _login
from sqlalchemy import func, select

from datacoop.projects.models import Item, ItemImport, Project

PASSWORD = "correct horse battery"


def _count(client, query) -> int:
    with client.app.state.ctx.sessions() as s:
        return int(s.scalar(query) or 0)


FORM = {
    "title": "Colour check",
    "task_type": "single_choice",
    "labels": "red\nblue\n",
    "instructions": "Pick the colour.\nLook closely.",
    "overlap": "2",
    "pay_per_item": "5",
    "estimated_seconds": "10",
    "currency": "USD",
    "sensitivity": "none",
    "action": "create",
}


def test_the_new_project_page_needs_a_session_and_a_requester(client, api):
    r = client.get("/projects/new", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/projects/new"
    api.user("member", email="m@example.org")
    csrf = _login(client, "m@example.org")
    assert client.get("/projects/new").status_code == 403
    r = client.post("/projects/new", data={**FORM, "csrf_token": csrf})
    assert r.status_code == 403
    assert _count(client, select(func.count()).select_from(Project)) == 0


def test_a_requester_creates_a_project_from_the_form(client, api):
    api.user("requester", email="req@example.org")
    csrf = _login(client, "req@example.org")
    page = client.get("/projects/new")
    assert page.status_code == 200
    assert 'for="labels"' in page.text and 'id="hourly"' in page.text
    assert "/static/project_form.js" in page.text
    r = client.post("/projects/new", data={**FORM, "csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    with client.app.state.ctx.sessions() as s:
        project = s.scalars(select(Project)).one()
        assert r.headers["location"] == f"/projects/{project.id}/items"
        assert (project.title, project.config["labels"], project.overlap) == (
            "Colour check",
            ["red", "blue"],
            2,
        )
        assert (project.pay_per_item, project.estimated_seconds) == (5, 10)


def test_a_bad_form_keeps_the_input_and_shows_each_error_next_to_its_field(client, api):
    api.user("requester", email="req@example.org")
    csrf = _login(client, "req@example.org")
    bad = {
        **FORM,
        "title": "",
        "labels": "only one",
        "pay_per_item": "lots",
        "instructions": "Keep <this> text",
        "csrf_token": csrf,
    }
    r = client.post("/projects/new", data=bad)
    assert r.status_code == 422
    assert 'id="title-error"' in r.text and "1 to 200 characters" in r.text
    assert 'id="pay_per_item-error"' in r.text and "must be a whole number" in r.text
    assert 'id="labels-error"' in r.text
    # the input is kept (escaped), and each control points at its error
    assert "Keep &lt;this&gt; text</textarea>" in r.text
    assert ">only one</textarea>" in r.text and 'value="lots"' in r.text
    assert 'aria-describedby="title-error"' in r.text
    assert _count(client, select(func.count()).select_from(Project)) == 0


def test_preview_shows_the_instructions_and_the_implied_hourly_rate(client, api):
    api.user("requester", email="req@example.org")
    csrf = _login(client, "req@example.org")
    r = client.post(
        "/projects/new", data={**FORM, "action": "preview", "csrf_token": csrf, "pay_per_item": "7"}
    )
    assert r.status_code == 200
    assert 'id="preview-instructions">Pick the colour.\nLook closely.</div>' in r.text
    # 7 cents per 10 s = 2520 cents an hour
    assert '<strong id="hourly">25.20 USD</strong>' in r.text
    assert _count(client, select(func.count()).select_from(Project)) == 0


def test_a_form_without_its_csrf_token_is_refused(client, api):
    api.user("requester", email="req@example.org")
    _login(client, "req@example.org")
    r = client.post("/projects/new", data={**FORM, "csrf_token": "forged"})
    assert r.status_code == 403 and "Your form expired" in r.text
    assert _count(client, select(func.count()).select_from(Project)) == 0


def _upload(
    client, project_id: int, csrf: str, text: str, name: str = "items.csv", kind="text/csv"
):
    return client.post(
        f"/projects/{project_id}/items",
        data={"csrf_token": csrf, "format": ""},
        files={"file": (name, text.encode(), kind)},
        follow_redirects=False,
    )


def test_an_upload_with_a_bad_row_shows_its_line_and_keeps_nothing(client, api):
    req = api.user("requester", email="req@example.org")
    project = api.project(req)
    csrf = _login(client, "req@example.org")
    assert "No items yet" in client.get(f"/projects/{project['id']}/items").text
    r = _upload(client, project["id"], csrf, "id,text,gold\n1,sky,blue\n2,grass,green\n")
    assert r.status_code == 422
    assert "Nothing was imported" in r.text and "<strong>Line 3</strong>" in r.text
    assert "green" in r.text
    assert _count(client, select(func.count()).select_from(Item)) == 0
    assert _count(client, select(func.count()).select_from(ItemImport)) == 0
    fixed = _upload(client, project["id"], csrf, "id,text,gold\n1,sky,blue\n2,blood,red\n")
    assert fixed.status_code == 303
    assert fixed.headers["location"] == f"/projects/{project['id']}/progress?imported=2"
    assert _count(client, select(func.count()).select_from(Item)) == 2
    page = client.get(f"/projects/{project['id']}/items")
    assert "items.csv" in page.text and "<td>2</td>" in page.text


def test_an_upload_needs_the_form_token(client, api):
    req = api.user("requester", email="req@example.org")
    project = api.project(req)
    _login(client, "req@example.org")
    r = _upload(client, project["id"], "forged", "text\nsky\n")
    assert r.status_code == 403
    assert _count(client, select(func.count()).select_from(Item)) == 0


def test_an_unreadable_file_is_refused_on_the_page(client, api):
    req = api.user("requester", email="req@example.org")
    project = api.project(req)
    csrf = _login(client, "req@example.org")
    r = _upload(client, project["id"], csrf, "PK", name="items.xlsx", kind="application/zip")
    assert r.status_code == 422 and "cannot import a .xlsx file" in r.text


def _work(api, project_id: int, member_headers, answer: str) -> None:
    task = api.client.post(f"/api/v1/projects/{project_id}/next", headers=member_headers)
    assert task.status_code == 200, task.text
    r = api.client.post(
        "/api/v1/submissions",
        json={"assignment_id": task.json()["assignment_id"], "answer": answer},
        headers=member_headers,
    )
    assert r.status_code == 201, r.text


def test_progress_shows_items_done_agreement_and_answers_per_item(client, api):
    req = api.user("requester", email="req@example.org")
    project = api.project(req)
    api.items(req, project["id"], "text\nsky\ngrass\nblood\n")
    a, b = api.user("member"), api.user("member")
    for _ in range(2):
        _work(api, project["id"], a, "blue")
        _work(api, project["id"], b, "blue")
    _login(client, "req@example.org")
    page = client.get(f"/projects/{project['id']}/progress?imported=3")
    assert page.status_code == 200
    assert "Imported 3 items." in page.text
    assert '<td id="items">3</td>' in page.text
    assert '<td id="answers">4 of 6</td>' in page.text
    # answers per item, every count from 0 to the most answers given
    with client.app.state.ctx.sessions() as s:
        counts = list(s.scalars(select(Item.answer_count)))
    expected = [(str(k), str(counts.count(k))) for k in range(max(counts) + 1)]
    rows = re.findall(r'<tr><th scope="row">(\d+)</th><td>(\d+)</td>', page.text)
    assert rows == expected and sum(counts) == 4
    assert "Krippendorff" in page.text and "(computed now)" in page.text
    assert f'href="/projects/{project["id"]}/export?format=csv"' in page.text


def test_the_export_downloads_with_the_session_cookie(client, api):
    req = api.user("requester", email="req@example.org")
    project = api.project(req, overlap=1)
    api.items(req, project["id"], "id,text\nk1,sky\n")
    _work(api, project["id"], api.user("member"), "blue")
    _login(client, "req@example.org")
    r = client.get(f"/projects/{project['id']}/export?format=csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert f'filename="project-{project["id"]}.csv"' in r.headers["content-disposition"]
    lines = r.text.strip().splitlines()
    assert lines[0].startswith("item_id,external_id,contributor_id,answer")
    assert len(lines) == 2 and ",k1," in lines[1] and '"""blue"""' in lines[1]
    jsonl = client.get(f"/projects/{project['id']}/export")
    assert jsonl.status_code == 200 and '"external_id": "k1"' in jsonl.text.replace('":"', '": "')


def test_the_cost_statement_page(client, api):
    req = api.user("requester", email="req@example.org")
    project = api.project(req)
    _login(client, "req@example.org")
    page = client.get(f"/projects/{project['id']}/cost")
    assert page.status_code == 200
    assert "pay is not set up for this project yet" in page.text
    assert "0.05 USD" in page.text and "18.00 USD" in page.text  # piece and hourly


def test_requester_pages_belong_to_the_owner(client, api):
    owner = api.user("requester", email="owner@example.org")
    project = api.project(owner)
    api.user("requester", email="other@example.org")
    csrf = _login(client, "other@example.org")
    pid = project["id"]
    for path in ("progress", "items", "cost", "export?format=csv"):
        assert client.get(f"/projects/{pid}/{path}").status_code == 403, path
    assert _upload(client, pid, csrf, "text\nsky\n").status_code == 403
    assert client.get("/projects/999/progress").status_code == 404
    assert _count(client, select(func.count()).select_from(Item)) == 0


def test_the_upload_page_has_the_import_size_limit_not_the_json_one(small_client, client, api):
    # small_client: 1 KiB JSON bodies, 2 KiB imports, same database
    req = api.user("requester", email="req@example.org")
    project = api.project(req, overlap=1)
    csrf = _login(small_client, "req@example.org")
    rows = "".join(f"thing number {i}\n" for i in range(80))  # about 1.3 KiB
    ok = _upload(small_client, project["id"], csrf, "text\n" + rows)
    assert ok.status_code == 303, ok.text
    too_big = _upload(small_client, project["id"], csrf, "text\n" + rows * 2)
    assert too_big.status_code == 413
    assert _count(client, select(func.count()).select_from(Item)) == 80


def test_progress_shows_the_newest_aggregation_runs_agreement(client, api):
    req = api.user("requester", email="req@example.org")
    project = api.project(req)
    api.items(req, project["id"], "text\nsky\ngrass\n")
    a, b = api.user("member"), api.user("member")
    for answer_a, answer_b in (("blue", "blue"), ("red", "blue")):
        _work(api, project["id"], a, answer_a)
        _work(api, project["id"], b, answer_b)
    r = client.post(
        f"/api/v1/projects/{project['id']}/aggregations", headers=req, json={"method": "mv"}
    )
    assert r.status_code == 201, r.text
    alpha = r.json()["summary"]["krippendorff_alpha"]
    _login(client, "req@example.org")
    page = client.get(f"/projects/{project['id']}/progress")
    shown = "not defined yet" if alpha is None else f"{alpha:.3f}"
    assert f"<strong>{shown}</strong>" in page.text
    assert f"(aggregation run {r.json()['id']}, mv" in page.text


def test_the_cost_page_funds_launches_and_settles_with_csrf_forms(client, api):
    from datacoop.pay.models import Posting

    req = api.user("requester", email="req@example.org")
    project = api.project(req)
    api.items(req, project["id"], "text\nsky\ngrass\n")
    api.user("requester", email="other@example.org")
    _login(client, "req@example.org")
    base = f"/projects/{project['id']}/cost"
    page = client.get(base).text
    assert f'action="{base}/fund"' in page
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = client.post(f"{base}/fund", data={"amount": "1.005", "csrf_token": csrf})
    assert r.status_code == 422 and 'id="amount-error"' in r.text
    assert 'value="1.005"' in r.text  # input kept
    r = client.post(f"{base}/fund", data={"amount": "5.00", "csrf_token": "nope"})
    assert r.status_code == 403
    assert _count(client, select(func.count()).select_from(Posting)) == 0
    r = client.post(f"{base}/fund", data={"amount": "0.01", "csrf_token": csrf},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == f"{base}?done=funded"
    r = client.post(f"{base}/launch", data={"csrf_token": csrf})
    assert r.status_code == 409 and 'id="launched-error">the escrow must hold' in r.text
    assert 'id="shortfall"' in r.text
    r = client.post(f"{base}/fund", data={"amount": "5.00", "csrf_token": csrf})
    assert r.status_code == 200 and "added to the project&#39;s escrow" in r.text
    r = client.post(f"{base}/launch", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.headers["location"] == f"{base}?done=launched"
    r = client.post(f"{base}/settle", data={"csrf_token": csrf})
    assert r.status_code == 200 and "Settled: accepted work is paid" in r.text
    assert "(state: launched)" in r.text and "<td>5.01 USD</td>" in r.text
    assert _count(client, select(func.count()).select_from(Posting)) == 2
    client.cookies.clear()
    _login(client, "other@example.org")
    page = client.get("/dashboard").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post(f"{base}/settle", data={"csrf_token": csrf}).status_code == 403
