"""A requester in real Chromium: create a project, upload a CSV with one bad row and see the
error, fix it, watch progress, download the export; and a steward's and the public's pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from datacoop.members import services as members
from datacoop.members.models import Role

GOOD_CSV = "id,text,gold\nk1,sky,blue\nk2,blood,red\n"
BAD_CSV = "id,text,gold\nk1,sky,blue\nk2,blood,crimson\n"


def _answer(server, headers, project_id: int, answer: str) -> None:
    http = server.api.http
    task = http.post(f"/projects/{project_id}/next", headers=headers)
    assert task.status_code == 200, task.text
    r = http.post(
        "/submissions",
        headers=headers,
        json={"assignment_id": task.json()["assignment_id"], "answer": answer},
    )
    assert r.status_code == 201, r.text


@pytest.mark.all_backends
def test_a_requester_creates_uploads_fixes_watches_and_exports(
    live_server, page, login, screenshot
):
    live_server.api.user("requester", email="req@example.org")
    login(page, live_server, "req@example.org")
    page.get_by_role("link", name="New project").click()
    assert page.url.endswith("/projects/new")

    page.get_by_label("Title").fill("Sky colours")
    page.get_by_label("Task type").select_option("single_choice")
    page.get_by_label("Labels, one per line").fill("red\nblue")
    page.get_by_label("Instructions").fill("Pick the colour of the thing.")
    page.get_by_label("Answers wanted per item (overlap)").fill("1")
    page.get_by_label("Pay per item").fill("5")
    page.get_by_label("Estimated time per item (seconds)").fill("10")
    # the implied hourly rate updates while typing: 5 cents per 10 s = 18.00 an hour
    assert page.locator("#hourly").inner_text() == "18.00 USD"
    assert page.get_by_label("Lowest rating").is_hidden()  # only this task type's settings
    screenshot(page, "requester-new-project")

    page.get_by_role("button", name="Preview").click()
    assert page.locator("#preview-instructions").inner_text() == "Pick the colour of the thing."
    assert page.get_by_label("Title").input_value() == "Sky colours"  # input kept
    screenshot(page, "requester-new-project-preview")
    page.get_by_role("button", name="Create project").click()
    match = re.search(r"/projects/(\d+)/items$", page.url)
    assert match, page.url
    project_id = int(match.group(1))

    page.get_by_label("Items file").set_input_files(
        {"name": "items.csv", "mimeType": "text/csv", "buffer": BAD_CSV.encode()}
    )
    page.get_by_role("button", name="Upload").click()
    error = page.get_by_role("alert")
    assert "Nothing was imported" in error.inner_text()
    assert "Line 3" in error.inner_text() and "crimson" in error.inner_text()
    screenshot(page, "requester-upload-error")

    page.get_by_label("Items file").set_input_files(
        {"name": "items.csv", "mimeType": "text/csv", "buffer": GOOD_CSV.encode()}
    )
    page.get_by_role("button", name="Upload").click()
    assert page.url.endswith(f"/projects/{project_id}/progress?imported=2")
    assert page.get_by_role("status").inner_text() == "Imported 2 items."
    assert page.locator("#items").inner_text() == "2"

    worker = live_server.api.user("member")
    _answer(live_server, worker, project_id, "blue")
    page.reload()
    assert page.locator("#answers").inner_text() == "1 of 2"
    assert page.locator("#items-complete").inner_text().startswith("1")
    screenshot(page, "requester-progress")

    with page.expect_download() as info:
        page.get_by_role("link", name="Download export (CSV)").click()
    download = info.value
    assert download.suggested_filename == f"project-{project_id}.csv"
    lines = Path(download.path()).read_text(encoding="utf-8").strip().splitlines()
    assert lines[0].startswith("item_id,external_id,contributor_id,answer")
    assert len(lines) == 2  # one row per answer
    assert any(",k1," in line and '"""blue"""' in line for line in lines)

    page.get_by_role("link", name="Cost statement").click()
    assert "pay is not set up for this project yet" in page.locator("#cost").inner_text()
    screenshot(page, "requester-cost-statement")


def test_a_steward_changes_a_role_and_the_public_reads_the_transparency_page(
    live_server, page, phone_page, login, screenshot
):
    ctx = live_server.ctx
    with ctx.sessions() as s:
        members.register(
            s,
            ctx.clock,
            ctx.hasher,
            email="steward@example.org",
            password="correct horse battery",
            display_name="Sam Steward",
            role=Role.steward,
        )
        s.commit()
    live_server.api.user("member", email="m@example.org")
    login(page, live_server, "steward@example.org")
    page.get_by_role("link", name="Members").click()
    screenshot(page, "steward-members")
    row = page.locator("tr", has_text="m@example.org")
    row.get_by_role("combobox").select_option("requester")
    row.get_by_role("button", name="Change").click()
    assert "changed" in page.get_by_role("status").inner_text()
    assert (
        page.locator("tr", has_text="m@example.org").get_by_role("combobox").input_value()
        == "requester"
    )

    page.get_by_role("link", name="Tree heads").click()
    assert page.locator("#tree-heads tbody tr").count() >= 1
    screenshot(page, "steward-tree-heads")
    page.get_by_role("link", name="Appeals").click()
    screenshot(page, "steward-appeals")

    phone_page.goto(live_server.url("/transparency"))  # no session: public
    assert phone_page.locator("#members").inner_text() == "fewer than 10 — hidden"
    assert "BEGIN PUBLIC KEY" in phone_page.locator("#public-key").inner_text()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(phone_page, "public-transparency-phone")
    page.goto(live_server.url("/transparency"))
    screenshot(page, "public-transparency")
