"""CLI groups: `flask users|seed|index|matching ...`. They call services and print."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from proeftuin.enums import Role
from proeftuin.services import DomainError, accounts, seeding

users_cli = AppGroup("users", help="Manage platform staff accounts.")
seed_cli = AppGroup("seed", help="Load reference and demo data.")


def _create_staff(email: str, name: str, password: str, role: Role) -> None:
    try:
        user = accounts.create_staff_user(None, email, name, role, password=password)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"created {role.value} {user.email}")


@users_cli.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True, default="Admin")
@click.password_option()
def create_admin(email: str, name: str, password: str) -> None:
    """Create a platform admin."""
    _create_staff(email, name, password, Role.ADMIN)


@users_cli.command("create-facilitator")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True)
@click.password_option()
def create_facilitator(email: str, name: str, password: str) -> None:
    """Create a facilitator of the support point."""
    _create_staff(email, name, password, Role.FACILITATOR)


@seed_cli.command("reference")
def seed_reference() -> None:
    """Load (or refresh) the municipalities of Flanders and Brussels."""
    click.echo(f"municipalities: {seeding.load_municipalities()}")


@seed_cli.command("demo")
def seed_demo() -> None:
    """Load the demo content once, and print the demo log-ins."""
    seeding.load_municipalities()
    try:
        counts = seeding.load_demo()
    except seeding.SeedDataError as exc:
        raise click.ClickException(str(exc)) from exc
    if counts:
        click.echo("demo loaded: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    else:
        click.echo("demo already loaded")
    click.echo("demo log-ins (all demo content is marked as such):")
    for login in seeding.DEMO_LOGINS:
        click.echo(f"  {login.role:<13} {login.email:<34} {login.password}")


index_cli = AppGroup("index", help="The matching engine's vectors and suggestions.")


@index_cli.command("rebuild")
@click.option("--suggestions/--no-suggestions", default=True, help="Refresh match suggestions afterwards.")
def index_rebuild(suggestions: bool) -> None:
    """Encode changed or missing texts (only those), drop the rest, refresh suggestions."""
    from tqdm import tqdm

    from proeftuin.services import matching
    from proeftuin.services import suggestions as suggestion_service

    report = matching.rebuild(progress=lambda items: tqdm(items, desc="encoding", unit="text"))
    click.echo(
        f"engine {report.engine_id}: {report.encoded} encoded, {report.unchanged} unchanged, "
        f"{report.removed} removed; index version {report.version}"
    )
    if suggestions:
        total = suggestion_service.refresh_all(progress=lambda items: tqdm(items, desc="suggesting", unit="challenge"))
        click.echo(f"suggestions: {total} proposed")


@index_cli.command("status")
def index_status() -> None:
    """Show the engine, the index version and how many objects are indexed or stale."""
    from proeftuin.services import matching

    status = matching.status()
    click.echo(f"engine   {status.engine_id}")
    click.echo(f"version  {status.version}")
    for kind, count in status.indexed.items():
        click.echo(f"{kind:<9} {count} indexed, {status.stale[kind]} stale")
    for engine_id, count in status.other_engines.items():
        click.echo(f"other engine {engine_id}: {count} vectors (unused)")


matching_cli = AppGroup("matching", help="Learning the ranking of suggestions from facilitators' decisions.")


def _ndcg(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


@matching_cli.command("learn")
@click.option("--dry-run", is_flag=True, help="Train and compare, but record and switch nothing.")
def matching_learn(dry_run: bool) -> None:
    """Train a re-ranking on the decisions; switch to it only when better on the held-back ones."""
    from proeftuin.services import learning

    report = learning.learn(dry_run=dry_run)
    click.echo(f"decisions used   {report.decisions}")
    click.echo(f"held-back lists  {report.held_back} ({report.held_back_decisions} decisions)")
    click.echo(f"nDCG@10 current  {_ndcg(report.current_ndcg)} ({report.current})")
    click.echo(f"nDCG@10 learned  {_ndcg(report.learned_ndcg)}")
    if report.switched:
        click.echo("would switch to the learned ranking (dry run)" if dry_run
                   else f"switched to the learned ranking (run {report.run.id})")
    else:
        click.echo(f"not switched: {report.reason.value}" + ("" if dry_run else f" (run {report.run.id})"))


@matching_cli.command("forget-learned")
def matching_forget_learned() -> None:
    """Go back to the plain hybrid ranking (the learned model in use is retired)."""
    from proeftuin.services import learning

    run = learning.forget()
    if run is None:
        click.echo("nothing learned was in use")
    else:
        click.echo(f"retired learned run {run.id}; ranking with the hybrid")


@click.command("worker")
@click.option("--threads", default=2, show_default=True, help="Effects run at the same time.")
@click.option("--drain", "drain_only", is_flag=True, help="Run the pending effects once and exit.")
@with_appcontext
def worker_command(threads: int, drain_only: bool) -> None:
    """Run the background worker: the outbox's effects after commit, and the periodic checks."""
    worker = current_app.extensions["proeftuin_worker"]
    if drain_only:
        click.echo(f"{worker.drain()} effects ran")
        return
    from proeftuin.services import outbox

    click.echo(f"worker: {outbox.pending_count()} effects pending; queue {current_app.config['WORKER_QUEUE']}")
    worker.consumer(workers=threads).run()
