"""The transparency page's totals come from a per-app cache, on both backends: the same
figures (and the same "as of" time) for 60 s by the injected clock, fresh after; the signed
tree head beside them stays live; suppression is applied to the cached figures as before."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

from sqlalchemy.orm import Session

from datacoop.clock import FixedClock
from datacoop.disclosure import services as disclosure
from datacoop.disclosure.rules import K_MIN_PEOPLE
from datacoop.members import services as members
from datacoop.members.models import Role
from datacoop.members.passwords import make_hasher

HASHER = make_hasher(1, 8)
_emails = itertools.count()


def _register(session: Session, clock: FixedClock, n: int = 1) -> None:
    for _ in range(n):
        members.register(
            session,
            clock,
            HASHER,
            email=f"cache{next(_emails)}@example.org",
            password="correct horse battery",
            display_name="someone",
            role=Role.member,
        )
    session.flush()


def _cell(html: str, id_: str) -> str:
    found = re.search(rf'<(span|dd|p)\b[^>]*\bid="{id_}"[^>]*>(.*?)</\1>', html, re.S)
    assert found, id_
    return " ".join(found.group(2).split())


def test_the_cache_keeps_the_totals_for_max_age_by_the_injected_clock(engine):
    clock = FixedClock()
    cache = disclosure.TotalsCache()
    with Session(engine) as s:
        _register(s, clock, K_MIN_PEOPLE)
        first = cache.get(s, clock)
        assert first.as_of == clock.now()
        assert first.totals.members.value == K_MIN_PEOPLE
        assert first.totals == disclosure.public_totals(s)

        _register(s, clock)
        clock.advance(59.999)
        assert cache.get(s, clock) is first  # not recomputed: the old count
        clock.advance(0.001)  # 60 s: recomputed
        fresh = cache.get(s, clock)
        assert (fresh.as_of, fresh.totals.members.value) == (clock.now(), K_MIN_PEOPLE + 1)
        assert cache.get(s, clock) is fresh

        clock.set(clock.now() - timedelta(seconds=1))  # a clock set back: recomputed too
        assert cache.get(s, clock) is not fresh
        s.rollback()


def test_a_short_max_age_and_suppression_of_cached_figures(engine):
    clock = FixedClock()
    cache = disclosure.TotalsCache(max_age=timedelta(seconds=5))
    with Session(engine) as s:
        _register(s, clock, K_MIN_PEOPLE - 1)
        hidden = cache.get(s, clock).totals.members
        assert (hidden.shown, hidden.value, hidden.reason) == (
            False,
            None,
            f"fewer than {K_MIN_PEOPLE} — hidden",
        )
        _register(s, clock)
        clock.advance(4)
        assert not cache.get(s, clock).totals.members.shown
        clock.advance(1)
        assert cache.get(s, clock).totals.members.value == K_MIN_PEOPLE
        s.rollback()


def test_the_page_shows_cached_figures_for_a_minute_and_a_live_tree_head(client, api, clock):
    for _ in range(K_MIN_PEOPLE):
        api.user("member")
    page = client.get("/transparency").text
    assert _cell(page, "members") == str(K_MIN_PEOPLE)
    assert _cell(page, "totals-as-of").startswith("Figures as of 00:00 UTC;")

    api.user("member")  # a new member: a new log entry and tree head
    clock.advance(59)
    page = client.get("/transparency").text
    assert _cell(page, "members") == str(K_MIN_PEOPLE)  # cached
    assert _cell(page, "totals-as-of").startswith("Figures as of 00:00 UTC;")
    latest = client.get("/api/v1/log/tree-heads/latest").json()
    assert _cell(page, "tree-size") == str(latest["tree_size"])  # live

    clock.advance(1)
    page = client.get("/transparency").text
    assert _cell(page, "members") == str(K_MIN_PEOPLE + 1)
    assert _cell(page, "totals-as-of").startswith("Figures as of 00:01 UTC;")
