"""A small worked project for valuation tests: two clusters of points, gold items in both,
two honest members and one who always answers 'red'."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# (external id, x, y, gold or ""): blue near (0, 0), red near (1, 1).
ITEMS = [
    ("g1", 0.0, 0.0, "blue"),
    ("g2", 0.2, 0.1, "blue"),
    ("g3", 1.0, 1.0, "red"),
    ("g4", 0.9, 1.1, "red"),
    ("t1", 0.1, 0.0, ""),
    ("t2", 0.0, 0.2, ""),
    ("t3", 0.2, 0.2, ""),
    ("t4", 1.0, 0.9, ""),
    ("t5", 1.1, 1.0, ""),
    ("t6", 0.8, 0.9, ""),
]
TRUTH = {ext: ("blue" if x + y < 1 else "red") for ext, x, y, _ in ITEMS}
CSV = "id,x,y,gold\n" + "".join(f"{e},{x},{y},{g}\n" for e, x, y, g in ITEMS)


@dataclass
class Worked:
    requester: dict[str, str]
    requester_id: int
    project: dict[str, Any]
    members: list[dict[str, str]]  # honest, honest, always red
    member_ids: list[int]
    item_ids: dict[str, int]  # external id -> item id


def answer_all(client: Any, headers: dict[str, str], project_id: int, choose: Any) -> None:
    while True:
        r = client.post(f"/api/v1/projects/{project_id}/next", headers=headers)
        if r.status_code == 204:
            return
        task = r.json()
        s = client.post(
            "/api/v1/submissions",
            headers=headers,
            json={"assignment_id": task["assignment_id"], "answer": choose(task["data"])},
        )
        assert s.status_code == 201, s.text


def honest(data: dict[str, Any]) -> str:
    return "blue" if float(data["x"]) + float(data["y"]) < 1 else "red"


def worked_project(client: Any, api: Any, **spec: Any) -> Worked:
    req = api.user("requester")
    project = api.project(req, overlap=3, **spec)
    api.items(req, project["id"], CSV)
    members = [api.user(), api.user(), api.user()]
    for headers, choose in zip(members, [honest, honest, lambda d: "red"], strict=True):
        answer_all(client, headers, project["id"], choose)
    ids = [client.get("/api/v1/me", headers=h).json()["id"] for h in members]
    listed = client.get(f"/api/v1/projects/{project['id']}/items", headers=req).json()["data"]
    req_id = client.get("/api/v1/me", headers=req).json()["id"]
    return Worked(req, req_id, project, members, ids, {i["external_id"]: i["id"] for i in listed})
