"""`flask --app wsgi staff ...`: bookshop staff accounts."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from app.errors import RayonsError
from app.services import staff
from app.session import unit_of_work

staff_cli = AppGroup("staff", help="Bookshop staff accounts.")


@staff_cli.command("add")
@click.argument("email")
@click.option("--shop", "shops", multiple=True, required=True, help="Shop slug (repeatable).")
@click.option("--role", type=click.Choice(["staff", "network_admin"]), default="staff")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def staff_add(email: str, shops: tuple[str, ...], role: str, password_stdin: bool) -> None:
    """Create a staff account (the password is hashed with argon2id)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with unit_of_work() as session:
            user = staff.add_staff(session, email=email, password=password,
                                   shop_slugs=list(shops), role=role)
            user_id = user.id
    except RayonsError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"staff account {user_id} created for {email} ({role}: {', '.join(shops)})")
