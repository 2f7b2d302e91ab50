"""Pages about the log: the public transparency page, and the stewards' list of tree heads.

The transparency page needs no account. It shows the newest signed tree head with the key
that verifies it, and the cooperative's totals, each withheld when it rests on fewer than
10 people (``datacoop.disclosure.rules``), and computed at most once a minute
(``disclosure.services.TotalsCache``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from datacoop.algorithms.ledger import public_key_to_pem
from datacoop.disclosure.rules import K_MIN_PEOPLE
from datacoop.errors import DatacoopError, NotFound
from datacoop.log import services as log
from datacoop.members import rules as member_rules
from datacoop.web.deps import DB, Ctx
from datacoop.web.rendering import error_page, page_member, render, to_login

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


def _shown(head: dict[str, Any]) -> dict[str, Any]:
    """A signed tree head as JSON, plus its timestamp (ms since the epoch) as UTC time."""
    when = datetime.fromtimestamp(head["timestamp"] / 1000, tz=UTC)
    return {**head, "time": when.strftime("%Y-%m-%d %H:%M:%S UTC")}


@router.get("/transparency", response_model=None)
def transparency(request: Request, ctx: Ctx, db: DB) -> Response:
    who = page_member(request, ctx, db)  # optional: the page is public
    try:
        head = _shown(log.head_json(log.latest_tree_head(db)))
    except NotFound:
        head = None
    # The totals read whole tables, so they come from a per-app cache (at most 60 s old);
    # the tree head above stays live.
    totals = ctx.public_totals.get(db, ctx.clock)
    return render(
        request,
        "transparency.html",
        member=who[0] if who else None,
        csrf_token=who[1] if who else None,
        head=head,
        public_key=public_key_to_pem(ctx.signer.public_key()).decode(),
        totals=totals.totals,
        totals_as_of=totals.as_of.astimezone(UTC).strftime("%H:%M UTC"),
        k=K_MIN_PEOPLE,
    )


@router.get("/steward/tree-heads", response_model=None)
def tree_heads(request: Request, ctx: Ctx, db: DB, after: int = Query(0, ge=0)) -> Response:
    who = page_member(request, ctx, db)
    if who is None:
        return to_login(request)
    member, csrf = who
    try:
        member_rules.require_steward(member)
    except DatacoopError as exc:
        return error_page(request, who, exc)
    rows = log.tree_heads(db, after=after, limit=PAGE_SIZE)
    return render(
        request,
        "log_tree_heads.html",
        member=member,
        csrf_token=csrf,
        heads=[_shown(log.head_json(r)) for r in rows],
        next_after=rows[-1].tree_size if len(rows) == PAGE_SIZE else None,
        log_size=log.size(db),
    )
