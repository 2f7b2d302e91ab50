"""The ``datacoop`` command line. Commands call the same services as the API, each inside one
unit of work; long commands show a Rich progress bar on a terminal and stay quiet in pipes."""

from __future__ import annotations

import json
import secrets
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer
import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import select

from datacoop.clock import SystemClock
from datacoop.db.engine import create_db_engine, upgrade_to_head
from datacoop.db.uow import UnitOfWork
from datacoop.errors import DatacoopError
from datacoop.settings import Settings

if TYPE_CHECKING:
    from datacoop.members.models import Member

app = typer.Typer(
    help="datacoop: labeling work that is visible, fairly paid and co-owned.\n\n"
    "Start with `datacoop demo` to see it working, or `datacoop init` to set up an instance.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
project_app = typer.Typer(help="Create and inspect projects.", no_args_is_help=True)
app.add_typer(project_app, name="project")
log_app = typer.Typer(help="Check the transparency log.", no_args_is_help=True)
app.add_typer(log_app, name="log")
receipt_app = typer.Typer(help="Check receipts offline.", no_args_is_help=True)
app.add_typer(receipt_app, name="receipt")
pay_app = typer.Typer(
    help="Fair pay: the policy, funding, settlement and statements.", no_args_is_help=True
)
app.add_typer(pay_app, name="pay")
err = Console(stderr=True)


class State:
    settings: Settings


state = State()


@app.callback()
def main_options(
    data_dir: Path = typer.Option(
        None,
        "--data-dir",
        envvar="DATACOOP_DATA_DIR",
        help="Directory for the SQLite database, signing key and media (default: here).",
    ),
) -> None:
    overrides: dict[str, Any] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    state.settings = Settings(**overrides)


def _fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(code)


def _engine(migrate: bool = True) -> Any:
    engine = create_db_engine(state.settings.resolved_database_url())
    if migrate:
        upgrade_to_head(engine)
    return engine


def _project_owner(session: Any, project: Any) -> Member:
    """The project's requester: the CLI acts on a project as its owner (an operator's tool)."""
    from datacoop.members.models import Member as MemberModel

    owner: Member | None = session.get(MemberModel, project.owner_id)
    assert owner is not None  # a foreign key: every project has an owner
    return owner


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not err.is_terminal,
        transient=True,
    )


@app.command()
def init(
    steward_email: str = typer.Option(
        "steward@localhost.localdomain", help="The steward's login email."
    ),
) -> None:
    """Create the database, the log's signing key and the first steward account.

    Non-interactive: prints the steward's one-time password. Refuses to run twice.
    """
    from datacoop.keys import create_signing_key
    from datacoop.members import services
    from datacoop.members.models import Member, Role
    from datacoop.members.passwords import make_hasher

    s = state.settings
    s.data_dir.mkdir(parents=True, exist_ok=True)
    engine = _engine()
    key_path = s.resolved_signing_key_path()
    password = secrets.token_urlsafe(12)
    try:
        with UnitOfWork(engine) as session:
            if session.scalar(select(Member.id).where(Member.role == Role.steward).limit(1)):
                _fail("this instance is already initialised (a steward exists); nothing changed")
            hasher = make_hasher(s.argon2_time_cost, s.argon2_memory_kib)
            services.register(
                session,
                SystemClock(),
                hasher,
                email=steward_email,
                password=password,
                display_name="Steward",
                role=Role.steward,
            )
            if not key_path.exists():
                create_signing_key(key_path)
    except DatacoopError as exc:
        _fail(exc.message)
    typer.echo(f"database:    {s.resolved_database_url()}")
    typer.echo(f"signing key: {key_path} (mode 0600; back it up, never share it)")
    typer.echo(f"steward:     {steward_email}")
    typer.echo(f"password:    {password}   (shown once)")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to bind. Loopback by default."),
    port: int = typer.Option(8000, min=1, max=65535, help="Port to listen on."),
) -> None:
    """Serve the web pages and the JSON API (/api/v1, OpenAPI at /api/v1/openapi.json)."""
    import uvicorn

    from datacoop.web.app import create_app

    web = create_app(state.settings)
    typer.echo(f"datacoop on http://{host}:{port}  (API docs: http://{host}:{port}/api/v1/docs)")
    uvicorn.run(web, host=host, port=port, log_level="warning")


def _load_spec(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        _fail(f"cannot read {path}: {exc.strerror}")
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            return yaml.safe_load(text)
        return json.loads(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        _fail(
            f"{path} is not valid {'YAML' if path.suffix.lower() in ('.yaml', '.yml') else 'JSON'}"
            f": {exc}"
        )


def _owner(session: Any, email: str | None) -> Any:
    from datacoop.members.models import Member, Role

    if email:
        owner = session.scalar(select(Member).where(Member.email == email.strip().lower()))
        if owner is None:
            _fail(f"no account with email {email}")
        return owner
    owner = session.scalar(select(Member).where(Member.role == Role.steward).order_by(Member.id))
    if owner is None:
        _fail("no steward yet: run `datacoop init` first, or pass --owner EMAIL")
    return owner


@project_app.command("create")
def project_create(
    spec: Path = typer.Argument(..., help="Project spec, JSON or YAML (see docs/projects.md)."),
    owner: str = typer.Option(
        None, help="Email of the requester who owns it (default: the steward)."
    ),
) -> None:
    """Create a project from a spec file; prints the new project's id last."""
    from datacoop.projects import services

    body = _load_spec(spec)
    engine = _engine()
    try:
        with UnitOfWork(engine) as session:
            project = services.create_project(session, SystemClock(), _owner(session, owner), body)
            pid = project.id
    except DatacoopError as exc:
        _fail(exc.message)
    typer.echo(f"created project {pid}")


@project_app.command("list")
def project_list() -> None:
    """List projects: id, task type, overlap, title."""
    from datacoop.projects.models import Project

    with UnitOfWork(_engine()) as session:
        for p in session.scalars(select(Project).order_by(Project.id)):
            typer.echo(f"{p.id}\t{p.task_type}\toverlap={p.overlap}\t{p.title}")


@app.command("import")
def import_items(
    project_id: int = typer.Argument(..., help="The project's id."),
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="CSV, JSONL or Label Studio JSON."
    ),
    format: str = typer.Option(
        None, "--format", help="csv, jsonl or labelstudio (default: guessed)."
    ),
) -> None:
    """Import items into a project. All or nothing: a bad row fails with its line number."""
    from datacoop.projects import importing, services

    engine = _engine()
    try:
        with file.open("rb") as fh, _progress() as bar, UnitOfWork(engine) as session:
            task = bar.add_task(f"importing {file.name}", total=None)
            fmt = format or importing.detect_format(file.name, None, fh.read(512))
            fh.seek(0)
            project = services.get_project(session, project_id)
            owner = _project_owner(session, project)
            record = services.import_items(
                session,
                SystemClock(),
                owner,
                project,
                fh,
                fmt=fmt,
                filename=file.name,
                progress=lambda n: bar.update(task, completed=n),
            )
            count = record.item_count
    except DatacoopError as exc:
        _fail(exc.message)
    typer.echo(f"imported {count} items into project {project_id}")


@app.command()
def aggregate(
    project_id: int = typer.Argument(..., help="The project's id."),
    method: str = typer.Option(
        "ds", "--method", help="mv, wawa, zbs, ds, onecoin, glad, mace, kos, mmsr."
    ),
    seed: int = typer.Option(0, min=0, help="Seed for methods that use randomness."),
    params: str = typer.Option("{}", help="Hyper-parameters as JSON, e.g. '{\"max_iter\": 50}'."),
) -> None:
    """Aggregate a project's answers into one label per item and store the run.

    The run records its method, parameters, seed and the log's size, so it can be re-run to
    the same result. Prints the run id last.
    """
    from datacoop.projects import services as project_services
    from datacoop.quality import services as quality

    try:
        parsed = json.loads(params)
    except ValueError as exc:
        _fail(f"--params is not valid JSON: {exc}")
    engine = _engine()
    try:
        with UnitOfWork(engine) as session:
            project = project_services.get_project(session, project_id)
            owner = _project_owner(session, project)
            run = quality.run_aggregation(
                session, SystemClock(), owner, project, method=method, params=parsed, seed=seed
            )
            summary, rid, n, items = dict(run.summary), run.id, run.answers, run.items
    except DatacoopError as exc:
        _fail(exc.message)
    alpha = summary.get("krippendorff_alpha")
    gold = summary.get("gold_accuracy")
    typer.echo(f"{method}: {n} answers on {items} items")
    typer.echo(
        f"agreement (Krippendorff's alpha, {summary.get('alpha_level')}): "
        + ("undefined" if alpha is None else f"{alpha:.3f}")
    )
    if gold is not None:
        typer.echo(f"accuracy on {summary['gold_items_scored']} gold items: {gold:.3f}")
    typer.echo(f"aggregation run {rid}")


@app.command()
def value(
    project_id: int = typer.Argument(..., help="The project's id."),
    method: str = typer.Option(
        "knn", "--method", help="knn (answer-level, summed per member) or knn-contributors."
    ),
    k: int = typer.Option(
        None, "--k", help="Neighbours (default 5; knn-contributors is exact for K = 1 only)."
    ),
    validation: str = typer.Option(
        "gold", "--validation", help="gold (gold items) or holdout (a seeded split)."
    ),
    holdout: float = typer.Option(
        None, "--holdout", help="Fraction of items held out with --validation holdout (0.2)."
    ),
    seed: int = typer.Option(0, min=0, help="Seed of the holdout split."),
    features: str = typer.Option(
        "auto", "--features", help="Feature spec, e.g. numeric:x,y or image:image or text:text."
    ),
    aggregation: int = typer.Option(
        None, "--aggregation", help="Holdout labels from this run (default: the newest run)."
    ),
) -> None:
    """Value each contributor's answers (KNN-Shapley) and store the run.

    The run records its method, parameters, seed, the log's size and the aggregation run it
    used, so it can be re-run to the same values. Prints the distribution of values (not who
    got which) and the run id last.
    """
    from datacoop.projects import services as project_services
    from datacoop.valuation import services as valuation

    engine = _engine()
    try:
        with UnitOfWork(engine) as session:
            project = project_services.get_project(session, project_id)
            owner = _project_owner(session, project)
            run = valuation.run_valuation(
                session,
                SystemClock(),
                owner,
                project,
                method=method,
                k=k,
                validation=validation,
                holdout=holdout,
                seed=seed,
                features=features,
                aggregation_run_id=aggregation,
                media_dir=state.settings.media_dir,
            )
            shown = valuation.distribution(session, run)
            rid, points, params = run.id, run.points, dict(run.params)
            tested, excluded = run.validation_items, run.excluded_answers
    except DatacoopError as exc:
        _fail(exc.message)
    typer.echo(
        f"{method} (k={params['k']}, features {params['features']}): {points} answers "
        f"by {shown['count']} contributors, validated on {tested} {validation} items"
        + (f" ({excluded} answers on them not valued)" if excluded else "")
    )
    q = shown["quantiles"]
    typer.echo(
        f"values: total {shown['total']:.6g}, min {q['min']:.6g}, median {q['p50']:.6g}, "
        f"max {q['max']:.6g}"
    )
    typer.echo(f"valuation run {rid}")


@app.command()
def export(
    project_id: int = typer.Argument(..., help="The project's id."),
    format: str = typer.Option(
        "jsonl", "--format", help="jsonl (one item per line) or csv (one answer per row)."
    ),
    aggregation: int = typer.Option(
        None, "--aggregation", help="Include this run's labels (default: the newest run)."
    ),
    output: Path = typer.Option(
        None, "--output", "-o", help="Write here instead of standard output."
    ),
) -> None:
    """Export every item with its answers; workers appear as per-project contributor ids."""
    from datacoop.projects import services
    from datacoop.work.export import EXPORT_FORMATS, export_lines

    if format not in EXPORT_FORMATS:
        _fail("--format must be jsonl or csv")
    engine = _engine()
    try:
        with UnitOfWork(engine) as session:
            project = services.get_project(session, project_id)
            out = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
            try:
                for chunk in export_lines(session, project, format, aggregation=aggregation):
                    out.write(chunk)
            finally:
                if output:
                    out.close()
    except DatacoopError as exc:
        _fail(exc.message)


@app.command()
def demo(
    port: int = typer.Option(8000, min=1, max=65535, help="Port for the web app."),
    serve_app: bool = typer.Option(True, "--serve/--no-serve", help="Serve the app when done."),
    members: int = typer.Option(25, min=1, max=500, help="Simulated members."),
    items: int = typer.Option(300, min=10, max=1797, help="Digit images to label."),
    tasks: int = typer.Option(400, min=0, help="Answers the simulated members give."),
    seed: int = typer.Option(7, help="Seed for the simulation (same seed, same run)."),
) -> None:
    """Build a fresh demo instance (in ./.demo unless --data-dir) and serve it.

    A requester and simulated members label scikit-learn's bundled handwritten digits.
    The members are a simulation: their skill and speed are drawn at random.
    """
    from datacoop.demo import DemoDatabaseNotEmpty, build_demo

    s = state.settings
    if "data_dir" not in s.model_fields_set:
        s = s.model_copy(update={"data_dir": Path(".demo")})
    state.settings = s
    with _progress() as bar:
        tasks_by_stage: dict[str, Any] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks_by_stage:
                tasks_by_stage[stage] = bar.add_task(stage, total=total)
            bar.update(tasks_by_stage[stage], completed=done, total=total)

        try:
            result = build_demo(
                s, n_members=members, n_items=items, n_tasks=tasks, seed=seed, progress=progress
            )
        except (DemoDatabaseNotEmpty, ValueError) as exc:
            _fail(str(exc))
    summary = _seal_demo(s, result.project_id)
    typer.echo(f"Demo data in {result.data_dir.resolve()}")
    typer.echo(
        f"Project {result.project_id}: {result.items} handwritten digits "
        f"({result.gold_items} gold), overlap 3."
    )
    typer.echo(
        f"SIMULATION: {len(result.members)} simulated members of varied skill and speed "
        f"gave {result.submissions} answers ({result.accuracy_vs_truth:.0%} correct)."
    )
    gold = summary.get("gold_accuracy")
    typer.echo(
        f"Dawid-Skene aggregation (run {summary['run']}): "
        + (
            "no gold item answered yet"
            if gold is None
            else f"{gold:.0%} right on {summary['gold_items_scored']} gold items"
        )
        + "; datacoop log verify checks the log."
    )
    typer.echo("")
    typer.echo("Log in with (passwords are for this demo only):")
    typer.echo(f"  requester  {result.requester[0]}  {result.requester[1]}")
    typer.echo(f"  steward    {result.steward[0]}  {result.steward[1]}")
    for email, password in result.members[:3]:
        typer.echo(f"  member     {email}  {password}")
    typer.echo(
        f"  ... {len(result.members)} members in all; the full list is in "
        f"{(result.data_dir / 'demo-accounts.txt').resolve()}"
    )
    (result.data_dir / "demo-accounts.txt").write_text(
        "".join(
            f"{r}\t{e}\t{p}\n"
            for r, (e, p) in [("requester", result.requester), ("steward", result.steward)]
            + [("member", m) for m in result.members]
        ),
        encoding="utf-8",
    )
    if serve_app:
        typer.echo("")
        typer.echo(f"Open http://127.0.0.1:{port}/login  (Ctrl-C stops the server)")
        serve(host="127.0.0.1", port=port)


def _seal_demo(settings: Settings, project_id: int) -> dict[str, Any]:
    """Give the demo its own signing key, aggregate the answers with Dawid-Skene, and sign
    tree heads over everything it logged. Returns the aggregation run's summary."""
    from datacoop.keys import create_signing_key
    from datacoop.log import services as log
    from datacoop.log.signer import file_signer

    key_path = settings.resolved_signing_key_path()
    if not key_path.exists():
        create_signing_key(key_path)
    from datacoop.projects.models import Project
    from datacoop.quality import services as quality

    engine = create_db_engine(settings.resolved_database_url())
    with UnitOfWork(engine) as session:
        project = session.get(Project, project_id)
        assert project is not None
        run = quality.run_aggregation(
            session, SystemClock(), _project_owner(session, project), project, method="ds"
        )
        summary = {"run": run.id, **run.summary}
        log.seal(session, SystemClock(), file_signer(key_path))
    engine.dispose()
    return summary


@log_app.command("verify")
def log_verify(
    public_key: Path = typer.Option(
        None, "--public-key", help="PEM public key (default: the instance's own key file)."
    ),
    thorough: bool = typer.Option(
        False, "--thorough", help="Also check every signed tree head and canonical form (slower)."
    ),
) -> None:
    """Recompute every leaf, stored subtree and signed root from storage.

    Exit 0 when everything matches; exit 1 and name the first bad index otherwise.
    """
    from datacoop.algorithms.ledger import load_public_key_pem
    from datacoop.keys import public_path
    from datacoop.log import services as log

    key_file = public_key or public_path(state.settings.resolved_signing_key_path())
    try:
        key = load_public_key_pem(key_file.read_bytes())
    except (OSError, ValueError) as exc:
        _fail(f"cannot read the public key {key_file}: {exc}")
    with UnitOfWork(_engine()) as session:
        problems = log.verify(session, key, thorough=thorough)
        entries = log.size(session)
    if problems:
        typer.echo(f"invalid: the log is not intact; first bad index {problems[0].index}")
        for p in problems[:50]:
            typer.echo(f"  index {p.index}: {p.message}")
        if len(problems) > 50:
            typer.echo(f"  ... and {len(problems) - 50} more")
        raise typer.Exit(1)
    typer.echo(f"ok: {entries} entries, every leaf, subtree and signed tree head matches")


@receipt_app.command("verify")
def receipt_verify(
    receipt: Path = typer.Argument(..., help="The receipt JSON (as the API returned it)."),
    public_key: Path = typer.Option(..., "--public-key", help="The log's public key (PEM)."),
) -> None:
    """Check a receipt offline: no server, no database. Exit 0 if valid, 1 if not."""
    from datacoop.algorithms.ledger import load_public_key_pem, verify_receipt

    try:
        key = load_public_key_pem(public_key.read_bytes())
    except (OSError, ValueError) as exc:
        _fail(f"invalid: cannot read the public key {public_key}: {exc}")
    try:
        body = json.loads(receipt.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        _fail(f"invalid: cannot read the receipt {receipt}: {exc}")
    if isinstance(body, dict) and isinstance(body.get("receipt"), dict):
        body = body["receipt"]  # accept a whole submission response too
    problems = verify_receipt(body, key)
    if problems:
        for p in problems:
            typer.echo(f"invalid: {p}")
        raise typer.Exit(1)
    head = body["tree_head"]
    typer.echo(
        f"valid: entry {body['leaf_index']} is in the log of size {head['tree_size']} "
        f"(root {head['root_hash'][:16]}...), signed by this key"
    )


def _project_and_owner(session: Any, project_id: int) -> tuple[Any, Any]:
    from datacoop.pay import services as pay

    project = pay.get_project_for_pay(session, project_id)
    return project, _project_owner(session, project)


T = TypeVar("T")


def _as_requester(project_id: int, action: Callable[[Any, Any, Any, Any], T]) -> T:
    """Run ``action(session, clock, requester, project)`` in one unit of work on behalf of
    the project's requester; a refusal ends the command with its message and exit code 1."""
    try:
        with UnitOfWork(_engine()) as session:
            project, owner = _project_and_owner(session, project_id)
            return action(session, SystemClock(), owner, project)
    except DatacoopError as exc:
        _fail(exc.message)


@pay_app.command("policy")
def pay_policy(
    floor: str = typer.Option(
        None, "--floor", help='New hourly floor, e.g. "15.00" (never below the hard minimum).'
    ),
    fee_bps: int = typer.Option(None, "--fee-bps", help="New fee in basis points (1500 = 15%)."),
    auto_approve_days: int = typer.Option(None, "--auto-approve-days"),
    appeal_days: int = typer.Option(
        None, "--appeal-days", help="How many days a member may appeal a rejection."
    ),
    payout_threshold: str = typer.Option(
        None,
        "--payout-threshold",
        help='The smallest balance a payout batch pays, e.g. "5.00" ("0" = no minimum).',
    ),
) -> None:
    """Show the pay policy in force; with options, add a new version (as the steward)."""
    from datacoop.pay import services as pay
    from datacoop.pay.money import Money

    try:
        with UnitOfWork(_engine()) as session:
            policy = pay.current_policy(session)
            options = (floor, fee_bps, auto_approve_days, appeal_days, payout_threshold)
            if any(v is not None for v in options):
                policy = pay.set_policy(
                    session,
                    SystemClock(),
                    _owner(session, None),
                    floor_hourly=None
                    if floor is None
                    else Money.parse(floor, policy.currency, field="--floor"),
                    fee_bps=fee_bps,
                    auto_approve_days=auto_approve_days,
                    appeal_days=appeal_days,
                    payout_threshold=None
                    if payout_threshold is None
                    else Money.parse(
                        payout_threshold, policy.currency, field="--payout-threshold"
                    ),
                )
            c = policy.currency
            lines = [
                f"policy {policy.id}",
                f"floor:          {Money(policy.floor_hourly, c)} an hour",
                f"hard minimum:   {Money(policy.hard_minimum_hourly, c)} an hour",
                f"fee:            {policy.fee_bps / 100:g}% (cap {policy.fee_cap_bps / 100:g}%)",
                f"auto-approve:   after {policy.auto_approve_days} days",
                f"appeals:        within {policy.appeal_days} days of a rejection",
                f"payout minimum: {Money(policy.payout_threshold, c)}",
            ]
    except DatacoopError as exc:
        _fail(exc.message)
    typer.echo("\n".join(lines))


@pay_app.command("fund")
def pay_fund(
    project_id: int = typer.Argument(..., help="The project's id."),
    amount: str = typer.Argument(
        ..., help='A decimal amount in the project\'s currency: "150.00".'
    ),
) -> None:
    """Deposit into a project's escrow (on behalf of its requester); turns pay on."""
    from datacoop.pay import services as pay
    from datacoop.pay.money import Money

    _echo_funding(
        _as_requester(
            project_id, lambda s, c, o, p: pay.fund(s, c, o, p, Money.parse(amount, p.currency))
        )
    )


@pay_app.command("launch")
def pay_launch(project_id: int = typer.Argument(..., help="The project's id.")) -> None:
    """Start (or resume) handing out work once the escrow covers it."""
    from datacoop.pay import services as pay

    _echo_funding(_as_requester(project_id, pay.launch))


@pay_app.command("auto-approve")
def pay_auto_approve(
    project_id: int = typer.Option(None, "--project", help="Only this project."),
) -> None:
    """Approve unreviewed submissions older than the policy's auto_approve_days."""
    from datacoop.pay import appeals

    try:
        with UnitOfWork(_engine()) as session:
            approved = appeals.auto_approve(session, SystemClock(), project_id)
    except DatacoopError as exc:
        _fail(exc.message)
    typer.echo(f"approved {approved} submissions")


def _echo_funding(status: Any) -> None:
    from datacoop.pay.money import Money

    c = status.currency
    typer.echo(
        f"project {status.project_id}: {status.state}; escrow {Money(status.escrow, c)}; "
        f"launch needs {Money(status.required, c)} ({status.tasks_needed} tasks at "
        f"{Money(status.task_cost, c)} with the {status.fee_bps / 100:g}% fee)"
    )


@pay_app.command("settle")
def pay_settle(
    project_id: int = typer.Argument(None, help="The project's id (or --all)."),
    every: bool = typer.Option(
        False, "--all", help="Settle every launched, paused or closed project (weekly, for cron)."
    ),
) -> None:
    """Post piece pay for new accepted work and top every member up to the floor."""
    from datacoop.pay import settlement
    from datacoop.pay.money import Money

    if every == (project_id is not None):
        _fail("give a project id or --all, not both")
    if every:
        _settle_all()
        return
    result = _as_requester(project_id, settlement.settle)
    c = result.currency
    typer.echo(
        f"settled project {project_id}: {len(result.postings)} postings to "
        f"{len(result.members)} members; piece {Money(result.piece_total, c)}, "
        f"top-ups {Money(result.top_up_total, c)}, fee {Money(result.fee_total, c)}"
    )
    typer.echo(f"escrow now {Money(result.escrow_after, c)}; project {result.state}")
    if result.owed_by_requester:
        typer.echo(
            f"the requester owes {Money(result.owed_by_requester, c)}: members were paid in "
            "full and the project is paused until it is funded"
        )


def _settle_all() -> None:
    """One unit of work per project, committed before the next: a project's pay row is
    locked only while that project settles, and one failure does not undo the others."""
    from datacoop.pay import services as pay
    from datacoop.pay import settlement
    from datacoop.pay.money import Money

    engine = _engine()
    with UnitOfWork(engine) as session:
        ids = [p.id for p in pay.due_for_settlement(session)]
    failed = 0
    for project_id in ids:
        try:
            with UnitOfWork(engine) as session:
                project = pay.get_project_for_pay(session, project_id)
                r = settlement.settle_project(session, SystemClock(), project)
        except DatacoopError as exc:
            failed += 1
            typer.echo(f"project {project_id}: not settled: {exc.message}")
            continue
        c = r.currency
        typer.echo(
            f"project {project_id}: {len(r.postings)} postings to {len(r.members)} members; "
            f"piece {Money(r.piece_total, c)}, top-ups {Money(r.top_up_total, c)}, "
            f"fee {Money(r.fee_total, c)}; escrow {Money(r.escrow_after, c)}; {r.state}"
        )
    if not ids:
        typer.echo("no project to settle")
    if failed:
        raise typer.Exit(1)


@pay_app.command("refund")
def pay_refund(project_id: int = typer.Argument(..., help="The project's id.")) -> None:
    """Settle, then refund the requester the escrow beyond what the work still owed needs."""
    from datacoop.pay import refunds
    from datacoop.pay.money import Money

    r = _as_requester(project_id, refunds.refund)
    c = r.currency
    typer.echo(
        f"refunded {Money(r.amount, c)} to the requester of project {project_id}; the escrow "
        f"keeps {Money(r.kept, c)} for work still owed; project {r.state}"
    )


@pay_app.command("close")
def pay_close(project_id: int = typer.Argument(..., help="The project's id.")) -> None:
    """Close a project for good: it hands out no new tasks (open ones may be finished)."""
    from datacoop.pay import services as pay
    from datacoop.pay.money import Money

    status = _as_requester(project_id, pay.close)
    c = status.currency
    typer.echo(
        f"project {project_id}: closed; escrow {Money(status.escrow, c)}; the work still owed "
        f"needs {Money(status.required, c)} ({status.tasks_needed} tasks); refund the rest "
        f"with `datacoop pay refund {project_id}`"
    )


@pay_app.command("statement")
def pay_statement(
    project_id: int = typer.Argument(..., help="The project's id."),
    member: str = typer.Option(
        None, "--member", help="A member's email: their earnings statement instead."
    ),
) -> None:
    """The requester's cost statement, or (--member) a member's earnings statement."""
    from datacoop.members.models import Member
    from datacoop.pay import statements
    from datacoop.pay.money import Money

    try:
        with UnitOfWork(_engine()) as session:
            project, owner = _project_and_owner(session, project_id)
            c = project.currency
            if member is not None:
                who = session.scalar(select(Member).where(Member.email == member.strip().lower()))
                if who is None:
                    _fail(f"no account with email {member}")
                e = statements.earnings(session, SystemClock(), who, project)
                hourly = e.effective_hourly
                lines = [
                    f"earnings of {who.pseudonym} in project {project_id}",
                    f"items:            {e.items_submitted} submitted, {e.items_paid} paid",
                    f"active time:      {e.active_ms / 3_600_000:.2f} h",
                    f"piece pay:        {Money(e.piece_pay, c)}",
                    f"top-ups:          {Money(e.top_ups, c)}",
                    f"total paid:       {Money(e.total_paid, c)}",
                    "effective hourly: "
                    + ("n/a" if hourly is None else f"{Money(hourly, c)}")
                    + f" (floor {Money(e.floor_hourly, c)})",
                    f"withheld:         {Money(e.withheld, c)}",
                    f"clawed back:      {Money(e.clawed_back, c)} (top-ups, after fraud)",
                    "payouts (all projects):",
                    f"  paid out:       {Money(e.paid_out, c)}",
                    f"  on its way:     {Money(e.payout_open, c)}",
                    f"  owed now:       {Money(e.payable_balance, c)}",
                ]
                lines += [
                    f"  batch {p.batch_id}: {Money(p.amount, c)} {p.state}, made "
                    f"{p.created_at:%Y-%m-%d}"
                    + ("" if p.paid_at is None else f", paid {p.paid_at:%Y-%m-%d}")
                    for p in e.payouts
                ]
            else:
                s = statements.cost(session, SystemClock(), owner, project)
                hourly = s.effective_hourly
                lines = [
                    f"cost of project {project_id} ({s.state})",
                    f"deposited:        {Money(s.deposited, c)}",
                    f"refunded:         {Money(s.refunded, c)}",
                    f"piece pay:        {Money(s.piece_pay, c)} for {s.items_paid} items",
                    f"top-ups:          {Money(s.top_ups, c)} (rate rise "
                    f"{Money(s.rate_rises, c)}, floor {Money(s.floor_top_ups, c)})",
                    f"piece rate:       {Money(s.piece_rate, c)} (set {Money(s.pay_per_item, c)})",
                    f"withheld:         {Money(s.withheld, c)} (back in escrow)",
                    f"clawed back:      {Money(s.clawed_back, c)} (top-ups, back in escrow)",
                    f"fees:             {Money(s.fees, c)} ({s.fee_bps / 100:g}%)",
                    f"escrow:           {Money(s.escrow, c)}",
                    f"owed by you:      {Money(s.owed_by_requester, c)}",
                    f"members paid:     {s.members_paid}",
                    "effective hourly: " + ("n/a" if hourly is None else f"{Money(hourly, c)}"),
                ]
    except DatacoopError as exc:
        _fail(exc.message)
    typer.echo("\n".join(lines))


@pay_app.command("batch")
def pay_batch(
    currency: str = typer.Option("EUR", "--currency", help="ISO 4217; one batch per currency."),
    export_dir: Path = typer.Option(
        None, "--export-dir", help="Write payout-<id>.csv (and .xml for EUR SEPA lines) here."
    ),
    minimum: int = typer.Option(0, "--minimum", help="Pay only balances of at least this."),
    weekly: bool = typer.Option(
        False, "--weekly", help="Only if no batch was made in the last 7 days (for cron)."
    ),
) -> None:
    """Pay out every member's payable balance as a payout batch (as the steward)."""
    from datacoop.pay.money import Money
    from datacoop.payouts import services as payouts

    clock = SystemClock()
    files: list[str] = []
    try:
        with UnitOfWork(_engine(), clock=clock) as session:
            steward = _owner(session, None)
            code = currency.strip().upper()
            if weekly:
                batch = payouts.weekly_batch(session, clock, steward, code, minimum=minimum)
                if batch is None:
                    typer.echo(f"no weekly payout batch due in {code}")
                    return
                created = True
            else:
                batch, created = payouts.create_batch(
                    session, clock, steward, code, minimum=minimum
                )
            if export_dir is not None:
                files = _write_exports(session, batch, export_dir, clock)
            summary = (
                f"payout batch {batch.id} ({'new' if created else 'already open'}): "
                f"{batch.line_count} members, {Money(batch.total, batch.currency)}"
            )
    except DatacoopError as exc:
        _fail(exc.message)
    typer.echo(summary)
    for name in files:
        typer.echo(f"wrote {name}")


def _write_exports(session: Any, batch: Any, export_dir: Path, clock: Any) -> list[str]:
    from datacoop.payouts import exports

    export_dir.mkdir(parents=True, exist_ok=True)
    csv_path = export_dir / f"payout-{batch.id}.csv"
    csv_path.write_text(exports.to_csv(session, batch), encoding="utf-8")
    written = [str(csv_path)]
    if exports.sepa_lines(session, batch):
        s = state.settings
        if not (s.payout_debtor_name and s.payout_debtor_iban):
            err.print(
                "no SEPA file: set DATACOOP_PAYOUT_DEBTOR_NAME and DATACOOP_PAYOUT_DEBTOR_IBAN",
                highlight=False,
            )
            return written
        debtor = exports.Debtor.checked(
            s.payout_debtor_name, s.payout_debtor_iban, s.payout_debtor_bic
        )
        xml_path = export_dir / f"payout-{batch.id}.xml"
        xml_path.write_bytes(exports.to_sepa_xml(session, batch, debtor, clock.now().date()))
        written.append(str(xml_path))
    return written


@pay_app.command("batches")
def pay_batches() -> None:
    """List payout batches, newest first."""
    from datacoop.pay.money import Money
    from datacoop.payouts import services as payouts

    try:
        with UnitOfWork(_engine()) as session:
            rows = [
                f"{b.id}\t{b.state.value}\t{b.line_count} members\t"
                f"{Money(b.total, b.currency)}\t{b.created_at:%Y-%m-%d %H:%M}"
                for b in payouts.list_batches(session, _owner(session, None))
            ]
    except DatacoopError as exc:
        _fail(exc.message)
    typer.echo("\n".join(rows) if rows else "no payout batches yet")


@pay_app.command("mark-paid")
def pay_mark_paid(batch_id: int = typer.Argument(..., help="The payout batch's id.")) -> None:
    """Record that the bank executed a payout batch (clearing → paid out); only once."""
    from datacoop.pay.money import Money
    from datacoop.payouts import services as payouts

    clock = SystemClock()
    try:
        with UnitOfWork(_engine(), clock=clock) as session:
            batch = payouts.mark_paid(session, clock, _owner(session, None), batch_id)
            line = f"payout batch {batch.id} paid: {Money(batch.total, batch.currency)}"
    except DatacoopError as exc:
        _fail(exc.message)
    typer.echo(line)


def main() -> None:
    try:
        app()
    except DatacoopError as exc:  # a domain error that escaped a command: clear message, no trace
        err.print(f"[red]error:[/red] {exc.message}", highlight=False)
        sys.exit(1)
