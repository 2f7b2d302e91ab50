"""The command line, end to end, on both backends: init, project create, import, export."""

from __future__ import annotations

import json
import os
import stat

import pytest
from typer.testing import CliRunner

from datacoop.cli import app

SPEC = {
    "title": "Colours",
    "instructions": "Pick the colour.",
    "task_type": "single_choice",
    "labels": ["red", "blue"],
    "overlap": 3,
    "pay_per_item": 5,
    "estimated_seconds": 10,
    "currency": "USD",
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


def test_init_creates_key_0600_and_steward_once(cli, tmp_path):
    first = cli("init")
    assert first.exit_code == 0, first.output
    assert "password:" in first.output
    key = tmp_path / "keys" / "log-signing-key.pem"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert key.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    again = cli("init")
    assert again.exit_code == 1
    assert "already initialised" in again.output


def test_project_import_export_round_trip(cli, tmp_path):
    cli("init")
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(SPEC))
    created = cli("project", "create", str(spec))
    assert created.exit_code == 0, created.output
    pid = created.output.split()[-1]
    assert pid.isdigit()

    items = tmp_path / "items.jsonl"
    items.write_text('{"text": "sky", "gold": "blue"}\n{"text": "blood"}\n')
    imported = cli("import", pid, str(items))
    assert imported.exit_code == 0, imported.output
    assert f"imported 2 items into project {pid}" in imported.output

    out = tmp_path / "out.jsonl"
    exported = cli("export", pid, "--format", "jsonl", "--output", str(out))
    assert exported.exit_code == 0, exported.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["data"], r["gold"], r["answers"]) for r in rows] == [
        ({"text": "sky"}, "blue", []),
        ({"text": "blood"}, None, []),
    ]


def test_yaml_spec_and_bad_spec(cli, tmp_path):
    cli("init")
    good = tmp_path / "spec.yaml"
    good.write_text(
        "title: Stars\ntask_type: rating\nmin: 1\nmax: 5\npay_per_item: 3\n"
        "estimated_seconds: 4\ncurrency: EUR\n"
    )
    assert cli("project", "create", str(good)).exit_code == 0
    bad = tmp_path / "bad.json"
    bad.write_text('{"title": "x", "task_type": "nope", "pay_per_item": 1.5}')
    result = cli("project", "create", str(bad))
    assert result.exit_code == 1
    assert "task_type" in result.output and "pay_per_item" in result.output
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    result = cli("project", "create", str(broken))
    assert result.exit_code == 1 and "not valid JSON" in result.output


def test_bad_import_reports_the_line_and_keeps_nothing(cli, tmp_path):
    cli("init")
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(SPEC))
    pid = cli("project", "create", str(spec)).output.split()[-1]
    items = tmp_path / "items.csv"
    items.write_text("text,gold\nsky,blue\ngrass,green\nsea,blue\n")
    result = cli("import", pid, str(items))
    assert result.exit_code == 1
    assert "line 3" in result.output
    out = cli("export", pid, "--format", "csv")
    assert out.output.splitlines()[1:] == []
    assert cli("export", pid).output == ""


def test_unknown_project_is_a_clear_error(cli):
    cli("init")
    result = cli("export", "999")
    assert result.exit_code == 1 and "no project with id 999" in result.output


def test_every_command_has_help():
    runner = CliRunner()
    for args in (
        ["--help"],
        ["init", "--help"],
        ["serve", "--help"],
        ["project", "create", "--help"],
        ["import", "--help"],
        ["export", "--help"],
        ["demo", "--help"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, args
        assert "Usage" in result.output


def test_log_verify_passes_then_names_the_first_bad_index(cli, tmp_path, database_url):
    from sqlalchemy import update

    from datacoop.db.engine import create_db_engine
    from datacoop.log.models import LogEntry

    cli("init")
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(SPEC))
    cli("project", "create", str(spec))
    cli("project", "create", str(spec))
    ok = cli("log", "verify")
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("ok: 3 entries")
    engine = create_db_engine(database_url)
    with engine.begin() as conn:
        conn.execute(update(LogEntry).where(LogEntry.index == 1).values(payload='{"v":1}'))
    engine.dispose()
    bad = cli("log", "verify")
    assert bad.exit_code == 1
    assert "first bad index 1" in bad.output


def test_demo_builds_aggregates_and_leaves_a_verifiable_log(cli, tmp_path):
    result = cli("demo", "--no-serve", "--members", "4", "--items", "20", "--tasks", "40")
    assert result.exit_code == 0, result.output
    assert "SIMULATION: 4 simulated members" in result.output
    assert "Dawid-Skene aggregation (run 1)" in result.output
    roles = [
        line.split("\t")[0] for line in (tmp_path / "demo-accounts.txt").read_text().splitlines()
    ]
    assert roles == ["requester", "steward"] + ["member"] * 4
    verify = cli("log", "verify")
    assert verify.exit_code == 0 and verify.output.startswith("ok:")
