"""``datacoop pay refund``, ``pay close`` and ``pay settle --all``, on both backends."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from datacoop.cli import app
from datacoop.db.engine import create_db_engine
from datacoop.pay.models import Posting

SPEC = {
    "title": "Colours",
    "task_type": "single_choice",
    "labels": ["red", "blue"],
    "overlap": 2,
    "pay_per_item": 10,
    "estimated_seconds": 60,
}


@pytest.fixture
def cli(tmp_path, database_url, monkeypatch):
    monkeypatch.setenv("DATACOOP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATACOOP_DATABASE_URL", database_url)
    monkeypatch.setenv("DATACOOP_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("DATACOOP_ARGON2_MEMORY_KIB", "8")
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    return run


def _refunds(database_url) -> int:
    engine = create_db_engine(database_url)
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).where(Posting.kind == "refund")).scalar_one()
    engine.dispose()
    return int(n)


def _project(cli, tmp_path, fund: str | None = None, launch: bool = False) -> str:
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(SPEC))
    pid = cli("project", "create", str(spec)).output.split()[-1]
    items = tmp_path / "items.csv"
    items.write_text("id,text\na,sky\nb,grass\nc,sea\n")
    assert cli("import", pid, str(items)).exit_code == 0
    if fund:
        assert cli("pay", "fund", pid, fund).exit_code == 0
    if launch:
        assert cli("pay", "launch", pid).exit_code == 0
    return pid


def test_refund_close_and_settle_all(cli, tmp_path, database_url):
    assert cli("init").exit_code == 0
    r = cli("pay", "settle", "--all")
    assert r.exit_code == 0 and r.output.strip() == "no project to settle"
    pid = _project(cli, tmp_path, fund="5.00", launch=True)
    _project(cli, tmp_path, fund="1.00")  # a draft: never settled by --all

    r = cli("pay", "refund", pid)
    assert r.exit_code == 0, r.output
    assert r.output.strip() == (
        f"refunded 3.26 USD to the requester of project {pid}; the escrow keeps 1.74 USD "
        "for work still owed; project launched"
    )
    r = cli("pay", "refund", pid)
    assert r.exit_code == 1
    assert "nothing to refund: the escrow holds 1.74 USD" in " ".join(r.output.split())

    r = cli("pay", "close", pid)
    assert r.exit_code == 0, r.output
    assert r.output.strip() == (
        f"project {pid}: closed; escrow 1.74 USD; the work still owed needs 0.00 USD "
        f"(0 tasks); refund the rest with `datacoop pay refund {pid}`"
    )
    assert cli("pay", "close", pid).exit_code == 0  # closing again changes nothing
    r = cli("pay", "launch", pid)
    assert r.exit_code == 1 and "closing is final" in " ".join(r.output.split())
    assert cli("pay", "refund", pid).exit_code == 0
    r = cli("pay", "statement", pid)
    assert "deposited:        5.00 USD" in r.output
    assert "refunded:         5.00 USD" in r.output
    assert _refunds(database_url) == 2

    r = cli("pay", "settle", "--all")  # the draft project is not due: it has no work
    assert r.exit_code == 0, r.output
    assert r.output.splitlines() == [
        f"project {pid}: 0 postings to 0 members; piece 0.00 USD, top-ups 0.00 USD, "
        "fee 0.00 USD; escrow 0.00 USD; closed"
    ]


def test_settle_needs_a_project_or_all_not_both(cli, tmp_path):
    assert cli("init").exit_code == 0
    for args in (("pay", "settle"), ("pay", "settle", "1", "--all")):
        r = cli(*args)
        assert r.exit_code == 1, args
        assert "give a project id or --all, not both" in r.output
    r = cli("pay", "refund", "999")
    assert r.exit_code == 1 and "no project with id 999" in r.output
