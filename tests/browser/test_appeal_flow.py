"""Reject → appeal → a steward decides, in real Chromium: the member sees the reason and
evidence on "My work" and appeals by a form; the steward decides it from the appeals queue."""

from __future__ import annotations

from datacoop.members import services as members
from datacoop.members.models import Role

MEMBER = "worker@example.org"
STEWARD = "steward@example.org"
PASSWORD = "correct horse battery"


def test_a_rejection_is_appealed_and_a_steward_overturns_it(
    live_server, page, login, screenshot
):
    ctx = live_server.ctx
    with ctx.sessions() as s:
        members.register(
            s, ctx.clock, ctx.hasher, email=STEWARD, password=PASSWORD,
            display_name="Sam Steward", role=Role.steward,
        )  # fmt: skip
        s.commit()
    http = live_server.api.http
    req = live_server.api.user("requester")
    project = live_server.api.project(req, title="Skies", overlap=1)
    live_server.api.items(req, project["id"], "text\nsky at noon\n")
    worker = live_server.api.user("member", email=MEMBER)
    task = http.post(f"/projects/{project['id']}/next", headers=worker).json()
    sub = http.post(
        "/submissions", headers=worker, json={"assignment_id": task["assignment_id"], "answer": "red"}
    ).json()
    r = http.post(
        f"/submissions/{sub['id']}/rejection",
        headers=req,
        json={"reason": "wrong_answer", "evidence": "The sky at noon is blue."},
    )
    assert r.status_code == 201, r.text
    rid = r.json()["id"]

    # The member sees the rejection with its reason and evidence, and appeals it.
    login(page, live_server, MEMBER)
    page.goto(live_server.url("/work"))
    status = page.locator(f"#rejection-{rid}")
    assert status.locator(".state").inner_text() == "rejected"
    assert "wrong_answer" in status.inner_text()
    assert "The sky at noon is blue." in status.inner_text()
    screenshot(page, "my-work-rejected")
    status.get_by_label("Your appeal").fill("The item showed a red evening sky.")
    status.get_by_role("button", name="Appeal").click()
    page.wait_for_load_state()
    status = page.locator(f"#rejection-{rid}")
    assert status.locator(".state").inner_text() == "appealed"
    screenshot(page, "my-work-appealed")

    # A steward decides it from the queue.
    page.context.clear_cookies()
    login(page, live_server, STEWARD)
    page.get_by_role("link", name="Appeals").click()
    card = page.locator(f"#appeal-{rid}")
    assert "The sky at noon is blue." in card.locator(".evidence").inner_text()
    assert "red evening sky" in card.locator(".appeal-text").inner_text()
    screenshot(page, "steward-appeals-queue")
    card.get_by_label("Overturn: the answer was fine").check()
    card.get_by_label("Note for the member").fill("Evening light: red is right.")
    card.get_by_role("button", name=f"Decide appeal {rid}").click()
    page.wait_for_load_state()
    assert "decided and logged" in page.get_by_role("status").inner_text()
    assert page.locator("#no-appeals").is_visible()

    # The member sees the decision.
    page.context.clear_cookies()
    login(page, live_server, MEMBER)
    page.goto(live_server.url("/work"))
    status = page.locator(f"#rejection-{rid}")
    assert status.locator(".state").inner_text() == "decided: overturned"
    assert "Evening light: red is right." in status.inner_text()
    screenshot(page, "my-work-decided")
