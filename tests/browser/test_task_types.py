"""Every task type worked in real Chromium with the keyboard alone (span also by selection)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from datacoop.work.models import Assignment, AssignmentState, Submission

EMAIL = "m@example.org"


def _press(page, *keys: str) -> None:
    for key in keys:
        page.keyboard.press(key)


def _type(page, text: str) -> None:
    page.keyboard.type(text)


CASES = {
    "multi_label": (
        {"labels": ["cat", "dog", "bird"], "min_choices": 1},
        "text\nA photo\n",
        lambda page: _press(page, "1", "3", "Enter"),
        ["cat", "bird"],
    ),
    "pairwise": (
        {"labels": None},
        "a,b\nThe first answer,The second answer\n",
        lambda page: _press(page, "ArrowLeft", "ArrowRight", "Enter"),
        "B",
    ),
    "pairwise_tie": (
        {"task_type": "pairwise", "labels": None},
        "a,b\nSame,Same\n",
        lambda page: _press(page, "t", "Enter"),
        "tie",
    ),
    "rating": (
        {"labels": None, "min": 1, "max": 5, "anchors": {"1": "poor", "5": "excellent"}},
        "text\nA sentence to rate\n",
        lambda page: _press(page, "4", "ArrowLeft", "Enter"),
        3,
    ),
    "free_text": (
        {"labels": None},
        "text\nDescribe this\n",
        lambda page: (_type(page, "  a small cat  "), _press(page, "Enter")),
        "a small cat",
    ),
    "span": (
        {"labels": ["PER", "LOC"]},
        "text\nAda went to Paris\n",
        lambda page: _press(
            page,
            "Home",
            *["Shift+ArrowRight"] * 3,
            "1",
            "End",
            *["Shift+ArrowLeft"] * 5,
            "2",
            "Enter",
        ),
        [{"start": 0, "end": 3, "label": "PER"}, {"start": 12, "end": 17, "label": "LOC"}],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_task_type_by_keyboard(live_server, page, login, screenshot, case):
    spec, items, keys, expected = CASES[case]
    spec = {"task_type": case, "overlap": 1, "title": f"A {case} project"} | spec
    req = live_server.api.user("requester")
    project = live_server.api.project(req, **spec)
    live_server.api.items(req, project["id"], items)
    live_server.api.user("member", email=EMAIL)
    login(page, live_server, EMAIL)
    page.goto(live_server.url(f"/projects/{project['id']}/work"))
    page.wait_for_function("document.getElementById('answer-form').hidden === false")
    screenshot(page, f"task-{case.replace('_', '-')}")
    keys(page)
    page.wait_for_function("document.getElementById('done').textContent === '1'")
    with live_server.ctx.sessions() as s:
        answers = list(s.scalars(select(Submission.answer)))
    assert answers == [expected]


def test_span_by_selection_and_label_button(live_server, page, login):
    req = live_server.api.user("requester")
    project = live_server.api.project(req, task_type="span", labels=["PER", "LOC"], overlap=1)
    live_server.api.items(req, project["id"], "text\nZoë met Ada\n")
    live_server.api.user("member", email=EMAIL)
    login(page, live_server, EMAIL)
    page.goto(live_server.url(f"/projects/{project['id']}/work"))
    text = page.get_by_label("Text (select a stretch")
    text.wait_for()
    # Code-point offsets, as the server counts them: "Ada" starts at 8.
    text.evaluate("t => t.setSelectionRange(8, 11)")
    page.get_by_role("button", name="Mark as PER").click()
    assert page.locator("#span-preview mark").inner_text().startswith("Ada")
    page.get_by_role("button", name="Submit").click()
    page.wait_for_function("document.getElementById('done').textContent === '1'")
    with live_server.ctx.sessions() as s:
        answers = list(s.scalars(select(Submission.answer)))
    assert answers == [[{"start": 8, "end": 11, "label": "PER"}]]


def test_sensitive_items_are_blurred_until_revealed(live_server, page, login, screenshot):
    req = live_server.api.user("requester")
    project = live_server.api.project(req, sensitivity="disturbing", overlap=1)
    live_server.api.items(req, project["id"], "text\nsomething hard\n")
    live_server.api.user("member", email=EMAIL)
    login(page, live_server, EMAIL)
    page.goto(live_server.url(f"/projects/{project['id']}/work"))
    field = page.locator("#item .item-field")
    field.wait_for()
    assert "blurred" in field.get_attribute("class")
    screenshot(page, "task-sensitive-blurred")
    page.keyboard.press("v")
    assert "blurred" not in field.get_attribute("class")
    assert page.locator("#reveal").count() == 0


def test_heartbeats_count_active_time_while_visible(live_server, page, login):
    """The page beats on becoming visible; the server's count is shown on the page."""
    req = live_server.api.user("requester")
    project = live_server.api.project(req, overlap=1)
    live_server.api.items(req, project["id"], "text\nsky\n")
    live_server.api.user("member", email=EMAIL)
    login(page, live_server, EMAIL)
    calls: list[str] = []
    page.on("request", lambda r: calls.append(r.url) if r.url.endswith("/heartbeat") else None)
    page.goto(live_server.url(f"/projects/{project['id']}/work"))
    page.wait_for_function("document.getElementById('answer-form').hidden === false")
    # Time passes on the server: move the lease start back 12 s, then let the page beat.
    with live_server.ctx.sessions() as s:
        a = s.scalars(select(Assignment)).one()
        a.leased_at -= timedelta(seconds=12)
        a.last_beat_at -= timedelta(seconds=12)
        s.commit()
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    page.wait_for_function("document.getElementById('active').textContent !== '0 s'")
    assert calls, "no heartbeat was sent"
    assert page.locator("#active").inner_text() in ("12 s", "13 s")


def test_skip_with_the_button_or_esc(live_server, page, login):
    req = live_server.api.user("requester")
    project = live_server.api.project(req, overlap=1)
    live_server.api.items(req, project["id"], "text\nfirst\nsecond\n")
    live_server.api.user("member", email=EMAIL)
    login(page, live_server, EMAIL)
    page.goto(live_server.url(f"/projects/{project['id']}/work"))
    page.get_by_text("text: first").wait_for()
    page.keyboard.press("Escape")
    page.get_by_text("text: second").wait_for()
    skip = page.get_by_role("button", name="Skip")
    assert skip.is_visible()
    skip.click()
    page.get_by_text("No more tasks for you in this project").wait_for()
    with live_server.ctx.sessions() as s:
        states = list(s.scalars(select(Assignment.state)))
        assert states == [AssignmentState.skipped] * 2
        assert list(s.scalars(select(Submission.id))) == []
