"""CLI groups: `flask users ...` and `flask seed ...`. They call services and print."""
from __future__ import annotations

import click
from flask.cli import AppGroup

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
    counts = seeding.load_demo()
    if counts:
        click.echo("demo loaded: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    else:
        click.echo("demo already loaded")
    click.echo("demo log-ins (all demo content is marked as such):")
    for login in seeding.DEMO_LOGINS:
        click.echo(f"  {login.role:<13} {login.email:<34} {login.password}")
