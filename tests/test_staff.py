"""Creating staff accounts from the command line."""
from __future__ import annotations

from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import StaffUser
from app.services.staff import verify_password
from tests.factories import make_network, make_shop


def add(cli: FlaskCliRunner, *args: str, password: str = "un mot de passe solide") -> object:
    return cli.invoke(args=["staff", "add", *args, "--password-stdin"], input=password + "\n")


def test_staff_add_hashes_with_argon2id(cli: FlaskCliRunner, session: Session) -> None:
    shop = make_shop(session, slug="la-mouette")
    result = add(cli, "Anne@Librairie.example", "--shop", "la-mouette")
    assert result.exit_code == 0, result.output
    user = session.scalars(select(StaffUser)).one()
    assert user.password_hash.startswith("$argon2id$")
    assert "un mot de passe solide" not in user.password_hash
    assert verify_password(user.password_hash, "un mot de passe solide")
    assert not verify_password(user.password_hash, "autre chose")
    assert [s.id for s in user.shops] == [shop.id] and user.role == "staff"


def test_network_admin_role_and_several_shops(cli: FlaskCliRunner, session: Session) -> None:
    make_shop(session, slug="a-shop")
    make_shop(session, slug="b-shop")
    make_network(session, slug="gironde")
    result = add(cli, "coord@reseau.example", "--shop", "a-shop", "--shop", "b-shop",
                 "--role", "network_admin", "--network", "gironde")
    assert result.exit_code == 0, result.output
    user = session.scalars(select(StaffUser)).one()
    assert user.role == "network_admin" and len(user.shops) == 2 and len(user.networks) == 1


def test_staff_add_refuses_unknown_shop_duplicate_and_weak_password(
    cli: FlaskCliRunner, session: Session
) -> None:
    make_shop(session, slug="la-mouette")
    unknown = add(cli, "a@b.example", "--shop", "nowhere")
    assert unknown.exit_code == 1 and "unknown shop: nowhere" in unknown.output
    weak = add(cli, "a@b.example", "--shop", "la-mouette", password="court")
    assert weak.exit_code == 1 and "too short" in weak.output
    assert add(cli, "a@b.example", "--shop", "la-mouette").exit_code == 0
    again = add(cli, "A@B.example", "--shop", "la-mouette")
    assert again.exit_code == 1 and "already exists" in again.output


def test_staff_add_prompts_for_the_password(cli: FlaskCliRunner, session: Session) -> None:
    make_shop(session, slug="la-mouette")
    result = cli.invoke(args=["staff", "add", "p@b.example", "--shop", "la-mouette"],
                        input="un mot de passe solide\nun mot de passe solide\n")
    assert result.exit_code == 0, result.output
    assert session.scalars(select(StaffUser)).one().email == "p@b.example"
