"""``datacoop pay batch``, ``pay batches`` and ``pay mark-paid`` end to end, on both
backends: files written, the batch listed, paid once."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from typer.testing import CliRunner

from datacoop.cli import app
from datacoop.clock import SystemClock
from datacoop.db.engine import create_db_engine
from datacoop.db.uow import UnitOfWork
from datacoop.members import services as members
from datacoop.members.passwords import make_hasher
from datacoop.pay import postings
from datacoop.pay.models import AccountKind
from datacoop.payouts import services as payouts


@pytest.fixture
def cli(tmp_path, database_url, monkeypatch):
    monkeypatch.setenv("DATACOOP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATACOOP_DATABASE_URL", database_url)
    monkeypatch.setenv("DATACOOP_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("DATACOOP_ARGON2_MEMORY_KIB", "8")
    monkeypatch.setenv("DATACOOP_PAYOUT_DEBTOR_NAME", "Datacoop eG")
    monkeypatch.setenv("DATACOOP_PAYOUT_DEBTOR_IBAN", "DE02120300000000202051")
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    return run


def _owed(database_url: str) -> None:
    engine = create_db_engine(database_url)
    clock = SystemClock()
    with UnitOfWork(engine) as s:
        m = members.register(
            s,
            clock,
            make_hasher(1, 8),
            email="payee@example.org",
            password="x" * 12,
            display_name="payee",
        )
        payouts.set_method(
            s, clock, m, "sepa", {"account_holder": "Payee", "iban": "DE89370400440532013000"}
        )
        reserve = postings.account(s, clock, AccountKind.reserve, "EUR")
        payable = postings.account(s, clock, AccountKind.payable, "EUR", member_id=m.id)
        postings.post(
            s, clock, "test_credit", [postings.Line(reserve, -2500), postings.Line(payable, 2500)]
        )
    engine.dispose()


def test_batch_export_list_and_pay_once(cli, tmp_path, database_url):
    assert cli("init").exit_code == 0
    r = cli("pay", "batch", "--currency", "EUR")
    assert r.exit_code == 1 and "no member is owed anything in EUR" in r.output
    _owed(database_url)
    out = tmp_path / "exports"
    r = cli("pay", "batch", "--export-dir", str(out))
    assert r.exit_code == 0, r.output
    bid = r.output.split()[2]  # PostgreSQL's sequence skipped the refused batch's id
    assert f"payout batch {bid} (new): 1 members, 25.00 EUR" in r.output
    assert (out / f"payout-{bid}.csv").read_text().count("\n") == 2
    root = ET.parse(out / f"payout-{bid}.xml").getroot()
    assert root.find(".//{*}CtrlSum").text == "25.00"
    assert "no weekly payout batch due in EUR" in cli("pay", "batch", "--weekly").output
    r = cli("pay", "batches")
    assert r.exit_code == 0 and r.output.startswith(f"{bid}\topen\t1 members\t25.00 EUR")
    r = cli("pay", "mark-paid", bid)
    assert r.exit_code == 0 and f"payout batch {bid} paid: 25.00 EUR" in r.output
    r = cli("pay", "mark-paid", bid)
    assert r.exit_code == 1 and "already paid" in r.output
