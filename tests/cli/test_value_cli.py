"""``datacoop value`` end to end on both backends: the same service as the API, a clear
error and nothing stored on bad input."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner
from valuation_data import worked_project

from datacoop.cli import app
from datacoop.valuation.models import ValuationRun


@pytest.fixture
def cli(tmp_path, database_url, monkeypatch):
    monkeypatch.setenv("DATACOOP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATACOOP_DATABASE_URL", database_url)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args), catch_exceptions=False)


def _runs(client) -> int:
    with client.app.state.ctx.sessions() as s:
        return s.scalar(select(func.count()).select_from(ValuationRun))


def test_value_stores_a_run_and_prints_the_distribution(cli, client, api):
    w = worked_project(client, api)
    pid = str(w.project["id"])
    done = cli("value", pid, "--k", "3")
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert lines[0] == (
        "knn (k=3, features numeric:x,y): 18 answers by 3 contributors, "
        "validated on 4 gold items (12 answers on them not valued)"
    )
    assert lines[1].startswith("values: total ")
    assert lines[-1] == "valuation run 1"
    body = client.get("/api/v1/valuations/1", headers=w.requester).json()
    assert (body["params"], body["points"]) == ({"k": 3, "features": "numeric:x,y"}, 18)
    assert lines[1] == (
        f"values: total {body['distribution']['total']:.6g}, "
        f"min {body['distribution']['quantiles']['min']:.6g}, "
        f"median {body['distribution']['quantiles']['p50']:.6g}, "
        f"max {body['distribution']['quantiles']['max']:.6g}"
    )
    client.post(f"/api/v1/projects/{pid}/aggregations", headers=w.requester, json={"method": "mv"})
    held = cli(
        "value", pid, "--method", "knn-contributors", "--validation", "holdout",
        "--holdout", "0.3", "--seed", "4",
    )  # fmt: skip
    assert held.exit_code == 0, held.output
    assert "validated on 3 holdout items (9 answers on them not valued)" in held.output
    assert held.output.splitlines()[-1] == "valuation run 2"
    assert client.post("/api/v1/valuations/2/rerun", headers=w.requester).json()["identical"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["999"], "no project with id 999"),
        (["PID", "--method", "banzhaf"], "method: unknown method 'banzhaf'"),
        (["PID", "--features", "numeric:z"], "features: item 1 has no field 'z'"),
        (["PID", "--validation", "holdout"], "validation: holdout labels come from an"),
        (["PID", "--method", "knn-contributors", "--k", "2"], "k: knn-contributors is exact"),
    ],
)
def test_bad_input_is_a_clear_error_and_stores_nothing(cli, client, api, args, message):
    w = worked_project(client, api)
    done = cli("value", *[str(w.project["id"]) if a == "PID" else a for a in args])
    assert done.exit_code == 1
    assert done.output.startswith(f"error: {message}"), done.output
    assert _runs(client) == 0


def test_value_has_help():
    result = CliRunner().invoke(app, ["value", "--help"])
    assert result.exit_code == 0 and "knn-contributors" in result.output
