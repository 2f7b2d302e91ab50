"""Docs are part of the build: each setting, CLI command, task type, import format and API
route must be documented."""

from __future__ import annotations

import re
from pathlib import Path

from datacoop.cli import app as cli_app
from datacoop.projects.importing import FORMATS
from datacoop.projects.tasktypes import TASK_TYPES
from datacoop.settings import Settings

DOCS = Path(__file__).parent.parent / "docs"


def _read(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def test_every_setting_is_documented():
    text = _read("settings.md")
    for name in Settings.model_fields:
        assert f"DATACOOP_{name.upper()}" in text, name


def test_every_cli_command_is_documented():
    text = _read("cli.md")

    def name(c):
        return c.name or c.callback.__name__.replace("_", "-")

    names = [name(c) for c in cli_app.registered_commands]
    names += [
        f"{g.name} {name(c)}"
        for g in cli_app.registered_groups
        for c in g.typer_instance.registered_commands
    ]
    assert names
    for name in names:
        assert f"datacoop {name}" in text, name


def test_every_log_entry_kind_and_its_fields_are_documented():
    from datacoop.log.kinds import FIELDS, EntryKind

    text = _read("ledger.md")
    for kind in EntryKind:
        assert f"`{kind.value}`" in text, kind
        section = text.split(f"`{kind.value}`", 1)[1][:800]
        for field in FIELDS[kind]:
            assert f"`{field}`" in section, (kind, field)


def test_every_aggregation_method_is_documented():
    from datacoop.algorithms.aggregation import METHODS, PAIRWISE_METHODS

    text = _read("algorithms.md")
    for name, (_module, cls) in {**METHODS, **PAIRWISE_METHODS}.items():
        assert f"`{name}`" in text and f"`{cls}`" in text, name


def test_every_task_type_and_format_is_documented():
    text = _read("projects.md")
    for t in TASK_TYPES:
        assert f"`{t}`" in text, t
    assert "CSV" in text and "JSON Lines" in text and "Label Studio" in text
    assert len(FORMATS) == 3


def test_every_api_route_is_documented():
    from datacoop.web.app import create_app

    text = _read("api.md")
    from datacoop.log.signer import memory_signer

    app = create_app(Settings(database_url="sqlite://"), signer=memory_signer(), migrate=False)
    documented = {re.sub(r"\{[^}]+\}", "{}", p) for p in re.findall(r"(/api/v1/[^\s`,\[]+)", text)}
    for route in app.routes:
        path = getattr(route, "path", "")
        if path.startswith("/api/v1") and "openapi" not in path and "docs" not in path:
            short = re.sub(r"\{[^}]+\}", "{}", path)
            assert short in documented or short.replace("/api/v1", "") in text, path


def test_every_member_and_shared_page_is_documented():
    from datacoop.members import pages as member_pages
    from datacoop.web import pages as shared_pages
    from datacoop.work import pages as work_pages

    text = _read("web.md")
    for router in (shared_pages.router, member_pages.router, work_pages.router):
        for route in router.routes:
            path = re.sub(r"\{[^}]+\}", "{id}", getattr(route, "path", ""))
            if "GET" in getattr(route, "methods", set()):
                assert f"`{path}" in text, path


def test_every_requester_steward_and_public_page_is_documented():
    from datacoop.log import pages as log_pages
    from datacoop.members import steward_pages
    from datacoop.projects import pages as project_pages
    from datacoop.projects import submissions_pages

    text = _read("web.md")
    routers = (project_pages.router, submissions_pages.router, log_pages.router)
    for router in (*routers, steward_pages.router):
        for route in router.routes:
            path = re.sub(r"\{[^}]+\}", "{id}", getattr(route, "path", ""))
            if "GET" in getattr(route, "methods", set()):
                assert f"`{path}" in text, path
