"""``datacoop pay`` end to end, on both backends: policy, fund, launch, settle, statements;
bad input fails with one clear line and posts nothing."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from datacoop.cli import app
from datacoop.db.engine import create_db_engine
from datacoop.pay.models import PayPolicy, Posting

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


def _count(database_url, model) -> int:
    engine = create_db_engine(database_url)
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(model)).scalar_one()
    engine.dispose()
    return int(n)


def test_fund_launch_settle_and_statements(cli, tmp_path, database_url):
    assert cli("init").exit_code == 0
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(SPEC))
    pid = cli("project", "create", str(spec)).output.split()[-1]
    items = tmp_path / "items.csv"
    items.write_text("id,text\na,sky\nb,grass\nc,sea\n")
    assert cli("import", pid, str(items)).exit_code == 0

    r = cli("pay", "policy")
    assert r.exit_code == 0, r.output
    assert "floor:          15.00 USD an hour" in r.output
    assert "hard minimum:   8.00 USD an hour" in r.output

    r = cli("pay", "fund", pid, "1.00")
    assert r.exit_code == 0, r.output
    assert r.output.strip() == (
        f"project {pid}: draft; escrow 1.00 USD; launch needs 1.74 USD "
        "(6 tasks at 0.29 USD with the 15% fee)"
    )
    r = cli("pay", "launch", pid)
    assert r.exit_code == 1
    assert "the escrow must hold 1.74 USD to launch; add 0.74 USD" in r.output
    assert cli("pay", "fund", pid, "0.74").exit_code == 0
    r = cli("pay", "launch", pid)
    assert r.exit_code == 0 and f"project {pid}: launched" in r.output

    r = cli("pay", "settle", pid)
    assert r.exit_code == 0, r.output
    assert r.output.splitlines() == [
        f"settled project {pid}: 0 postings to 0 members; piece 0.00 USD, "
        "top-ups 0.00 USD, fee 0.00 USD",
        "escrow now 1.74 USD; project launched",
    ]
    r = cli("pay", "statement", pid)
    assert r.exit_code == 0, r.output
    assert "deposited:        1.74 USD" in r.output
    assert "effective hourly: n/a" in r.output
    assert "top-ups:          0.00 USD (rate rise 0.00 USD, floor 0.00 USD)" in r.output
    assert "owed by you:      0.00 USD" in r.output
    r = cli("pay", "statement", pid, "--member", "steward@localhost.localdomain")
    assert r.exit_code == 0, r.output
    assert "items:            0 submitted, 0 paid" in r.output
    assert "withheld:         0.00 USD" in r.output
    assert "  paid out:       0.00 USD" in r.output and "  owed now:       0.00 USD" in r.output


def test_bad_input_fails_clearly_and_posts_nothing(cli, tmp_path, database_url):
    assert cli("init").exit_code == 0
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(SPEC))
    pid = cli("project", "create", str(spec)).output.split()[-1]
    for args, message in [
        (("pay", "fund", pid, "--", "-5.00"), "amount: must not be negative"),
        (("pay", "fund", pid, "1.005"), "amount: 1.005 has more decimals than USD allows (2)"),
        (("pay", "fund", pid, "ten"), "amount: 'ten' is not a decimal"),
        (("pay", "settle", "999"), "no project with id 999"),
        (("pay", "settle", pid), f"project {pid} has no pay yet: fund it first"),
        (
            ("pay", "policy", "--floor", "7.99"),
            "floor_hourly: must be at least the hard minimum of 800 minor units per hour",
        ),
        (("pay", "policy", "--fee-bps", "2000"), "fee_bps: must be from 0 to the cap of 1500"),
    ]:
        r = cli(*args)
        assert r.exit_code == 1, (args, r.output)
        assert message in " ".join(r.output.split()), (args, r.output)
    assert _count(database_url, Posting) == 0
    assert _count(database_url, PayPolicy) == 1
