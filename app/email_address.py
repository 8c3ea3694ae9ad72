"""Is this an email address we can write to? One answer for readers, shops and staff.

Addresses end up in mail headers and in pages (a shop's contact), so "has an @" is not enough:
`"><svg/onload=alert(1)>@x.fr` had one. email-validator checks the syntax of RFC 5321/5322 as
mail servers accept it (with internationalised addresses, IDNA domains) and refuses reserved
domains (`.test`, `.localhost`). It never asks DNS: the machine may be offline, and a shop's
mail server being down tonight does not make its address wrong.
"""
from __future__ import annotations

from email_validator import EmailNotValidError, validate_email


class InvalidEmail(ValueError):
    """Not an address; the message (English, from email-validator) says what is wrong."""


def checked_email(value: str) -> str:
    """The address as it should be stored (surrounding spaces dropped, domain in its normal
    form, the local part as given); InvalidEmail when it is not one."""
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidEmail(str(exc)) from exc
