"""Browser-test fixtures: the real app on loopback, driven by Debian's Chromium via Playwright.

- ``live_server``: ``create_app`` served by uvicorn in a background thread on 127.0.0.1 and a
  free port, over a fresh database (the suite's ``database_url``) and an in-memory log signing
  key. A test runs on SQLite only (on the first backend listed in ``DATACOOP_TEST_BACKENDS``
  when SQLite is not), unless marked ``@pytest.mark.all_backends``: then it runs once per
  listed backend (SQLite and PostgreSQL by default).
  ``live_server.url("/path")`` is an absolute URL; ``live_server.api`` is an ``ApiClient``
  (httpx, JSON API) to set up accounts, projects and items without clicking through pages.
- ``browser`` (one per session), ``page`` (a fresh context per test, desktop size) and
  ``phone_page`` (375 x 740, touch). Uncaught JavaScript errors on a page fail the test.
- ``screenshot(page, name)``: saves ``<artifacts>/screenshots/<name>.png``, where
  ``<artifacts>`` is ``$DATACOOP_ARTIFACTS`` or ``artifacts/`` at the repository root
  (``<name>-postgresql.png`` on PostgreSQL, so the two runs of a test do not overwrite each
  other). A test that fails also leaves ``failed-<test name>.png`` there (removed when it next
  runs).

Every test in this folder is marked ``slow`` (``make test`` still runs them). Chromium must be
at ``/usr/bin/chromium``: ``bash scripts/system-deps.sh`` installs it (``make test`` does).
Never run ``playwright install``: nothing is downloaded.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_helpers import Api

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct horse battery"
ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def artifacts_dir() -> Path:
    return Path(os.environ.get("DATACOOP_ARTIFACTS") or ROOT / "artifacts")


# Browser tests are slow, so only the main flows, marked ``all_backends``, run on every backend
# in DATACOOP_TEST_BACKENDS; the others run on SQLite only (on the first backend listed when
# SQLite is not among them). The marker sits on the test, where its reader sees it.
ALL_BACKENDS = "all_backends"
_CHOSEN = [b for b in os.environ.get("DATACOOP_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]
DEFAULT_BACKEND = "sqlite" if "sqlite" in _CHOSEN else _CHOSEN[0]  # _CHOSEN as in ../conftest.py


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{ALL_BACKENDS}: a browser test that runs on every backend, not only SQLite"
    )


@pytest.hookimpl(tryfirst=True)  # before pytest parametrizes the fixture itself
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Override the suite's ``backend`` parameter (every backend) for unmarked browser tests."""
    if "backend" in metafunc.fixturenames and not metafunc.definition.get_closest_marker(
        ALL_BACKENDS
    ):
        metafunc.parametrize("backend", [DEFAULT_BACKEND])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.slow)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"rep_{report.when}", report)


# ---------------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ApiClient(Api):
    """The JSON API of a live server, to set up data: accounts, projects, items (``project``
    and ``items`` are the suite's ``Api`` helpers, here over HTTP)."""

    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=base + "/api/v1", timeout=30)
        super().__init__(self.http, prefix="")

    def user(
        self, role: str = "member", email: str | None = None, password: str = PASSWORD
    ) -> dict[str, str]:
        """Register (member or requester) and return Bearer headers for the new account."""
        n = next(self._n)
        email = email or f"{role}{n}@example.org"
        r = self.http.post(
            "/auth/register",
            json={
                "email": email,
                "password": password,
                "display_name": f"{role} {n}",
                "role": role,
            },
        )
        assert r.status_code == 201, r.text
        return self.login(email, password)

    def login(self, email: str, password: str = PASSWORD) -> dict[str, str]:
        r = self.http.post("/auth/token", json={"email": email, "password": password})
        assert r.status_code == 201, r.text
        return {"Authorization": f"Bearer {r.json()['token']}"}

    def close(self) -> None:
        self.http.close()


@dataclass
class LiveServer:
    base: str
    app: Any
    data_dir: Path
    api: ApiClient = field(init=False)

    def __post_init__(self) -> None:
        self.api = ApiClient(self.base)

    def url(self, path: str = "/") -> str:
        return self.base + path

    @property
    def ctx(self) -> Any:
        """The app's ``AppContext`` (sessions, clock, signer) for direct service calls."""
        return self.app.state.ctx


@pytest.fixture
def live_server(tmp_path: Path, database_url: str) -> Iterator[LiveServer]:
    import uvicorn

    from datacoop.log.signer import memory_signer
    from datacoop.settings import Settings
    from datacoop.web.app import create_app

    settings = Settings(  # database_url: a fresh, already migrated database
        data_dir=tmp_path,
        database_url=database_url,
        argon2_time_cost=1,
        argon2_memory_kib=8,
    )
    app = create_app(settings, signer=memory_signer(), migrate=False)
    port = _free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.02)
    live = LiveServer(base=f"http://127.0.0.1:{port}", app=app, data_dir=tmp_path)
    try:
        yield live
    finally:
        live.api.close()
        server.should_exit = True
        thread.join(timeout=20)
        app.state.ctx.engine.dispose()


# ---------------------------------------------------------------------------------------------
# The browser
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is missing: run `bash scripts/system-deps.sh` (as root) to install "
            "Debian's chromium. Browser tests are never skipped.",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _open_page(browser: Any, request: pytest.FixtureRequest, **context_args: Any) -> Iterator[Any]:
    context = browser.new_context(**context_args)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _path("failed-" + request.node.name).unlink(missing_ok=True)  # from an earlier run
    try:
        yield page
        failed = getattr(request.node, "rep_call", None)
        if failed is not None and failed.failed:
            _save(page, "failed-" + request.node.name)
        assert not errors, f"uncaught JavaScript errors: {errors}"
    finally:
        context.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    yield from _open_page(browser, request, viewport={"width": 1280, "height": 800})


@pytest.fixture
def phone_page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    yield from _open_page(
        browser, request, viewport={"width": 375, "height": 740}, has_touch=True, is_mobile=True
    )


def _path(name: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
    return artifacts_dir() / "screenshots" / f"{safe}.png"


def _save(page: Any, name: str) -> Path:
    target = _path(name)
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target), full_page=True)
    return target


@pytest.fixture
def screenshot(backend: str) -> Callable[[Any, str], Path]:
    """``screenshot(page, "member-dashboard")`` -> the saved PNG's path (the name gets a
    ``-postgresql`` suffix on PostgreSQL)."""
    suffix = "" if backend == "sqlite" else f"-{backend}"
    return lambda page, name: _save(page, name + suffix)


# ---------------------------------------------------------------------------------------------
# Logging in through the page
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def login() -> Callable[..., None]:
    """``login(page, live_server, email)``: log in through the real form."""

    def _login(page: Any, server: LiveServer, email: str, password: str = PASSWORD) -> None:
        page.goto(server.url("/login"))
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()

    return _login
