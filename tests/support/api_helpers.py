"""``Api``: make accounts, projects and items through the JSON API in tests."""

from __future__ import annotations

import itertools
from typing import Any


class Api:
    """A thin test client wrapper: make accounts and call the API as them.

    ``client`` is anything with ``post``: a TestClient, or an ``httpx.Client`` against a live
    server (tests/browser/conftest.py); ``prefix`` is where the JSON API is mounted on it.
    """

    def __init__(self, client: Any, prefix: str = "/api/v1") -> None:
        self.client = client
        self.prefix = prefix
        self._n = itertools.count(1)

    def user(self, role: str = "member", email: str | None = None) -> dict[str, str]:
        n = next(self._n)
        email = email or f"{role}{n}@example.org"
        body = {"email": email, "password": "correct horse battery", "display_name": f"{role} {n}"}
        if role in ("member", "requester"):
            body["role"] = role
            r = self.client.post(f"{self.prefix}/auth/register", json=body)
            assert r.status_code == 201, r.text
        else:
            from datacoop.members import services
            from datacoop.members.models import Role

            ctx = self.client.app.state.ctx
            with ctx.sessions() as s:
                services.register(
                    s,
                    ctx.clock,
                    ctx.hasher,
                    email=email,
                    password=body["password"],
                    display_name=body["display_name"],
                    role=Role(role),
                )
                s.commit()
        r = self.client.post(
            f"{self.prefix}/auth/token", json={"email": email, "password": "correct horse battery"}
        )
        assert r.status_code == 201, r.text
        return {"Authorization": f"Bearer {r.json()['token']}"}

    def project(self, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
        spec = {
            "title": "Colours",
            "instructions": "Pick the colour.",
            "task_type": "single_choice",
            "labels": ["red", "blue"],
            "overlap": 2,
            "pay_per_item": 5,
            "estimated_seconds": 10,
            "currency": "USD",
        }
        spec.update(overrides)
        spec = {k: v for k, v in spec.items() if v is not None}  # None drops a default
        r = self.client.post(f"{self.prefix}/projects", json=spec, headers=headers)
        assert r.status_code == 201, r.text
        return dict(r.json())

    def items(self, headers: dict[str, str], project_id: int, csv_text: str) -> dict[str, Any]:
        r = self.client.post(
            f"{self.prefix}/projects/{project_id}/items",
            content=csv_text.encode(),
            headers={**headers, "content-type": "text/csv"},
        )
        assert r.status_code == 201, r.text
        return dict(r.json())
