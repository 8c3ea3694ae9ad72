"""`flask --app wsgi staff ...`: bookshop staff accounts."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from app.errors import RayonsError
from app.models.staff import ROLES
from app.services import staff
from app.session import unit_of_work

staff_cli = AppGroup("staff", help="Bookshop staff accounts.")


@staff_cli.command("add")
@click.argument("email")
@click.option("--shop", "shops", multiple=True,
              help="Shop slug the account works for (repeatable).")
@click.option("--network", "networks", multiple=True,
              help="Network slug a network_admin coordinates (repeatable).")
@click.option("--role", type=click.Choice(ROLES), default="staff",
              help="staff: works for its shops; network_admin: also follows every shop of its "
                   "networks (stock and imports, read only).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def staff_add(email: str, shops: tuple[str, ...], networks: tuple[str, ...], role: str,
              password_stdin: bool) -> None:
    """Create a staff account (the password is hashed with argon2id)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with unit_of_work() as session:
            user = staff.add_staff(session, email=email, password=password,
                                   shop_slugs=list(shops), role=role,
                                   network_slugs=list(networks))
            user_id = user.id
    except RayonsError as exc:
        raise click.ClickException(exc.message) from exc
    followed = ", ".join([*shops, *(f"network {slug}" for slug in networks)])
    click.echo(f"staff account {user_id} created for {email} ({role}: {followed})")
