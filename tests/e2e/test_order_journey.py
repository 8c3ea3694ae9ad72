"""Ask your bookshop to order it, on a 375 px phone in French and a 1280 px screen in English: a
book no shop near the reader has, an order request to the reader's own shop, the staff desk (in
French) marking it ordered then arrived, and the reader's page following along; mail through a
real SMTP listener. Every page must fit the screen's width (no horizontal scroll)."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session, sessionmaker

from tests.e2e.conftest import LiveServer, PageProblems
from tests.e2e.test_journeys import app, deliver, inbox, sign_in  # noqa: F401 (fixtures)
from tests.factories import make_shop, make_staff
from tests.smtp import Inbox

pytestmark = pytest.mark.e2e
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 800}
# A real ISBN no shop's file names: the catalogue has no title for it.
ISBN = "9782330090159"
UNKNOWN = f"(ISBN {ISBN})"
# What the reader reads, in each language.
WORDS = {
    "fr": {"order_it": "Le faire commander par une librairie", "unknown": "Titre inconnu",
           "sent": "Votre demande a été envoyée", "requested": "Demande envoyée à la librairie",
           "ordered": "Commandé par la librairie",
           "arrived": "Arrivé : vous attend en librairie", "collect_by": "À retirer avant",
           "subjects": [f"Votre demande de commande : Titre inconnu {UNKNOWN}",
                        f"Commandé pour vous : Titre inconnu {UNKNOWN}",
                        f"Votre livre est arrivé : Titre inconnu {UNKNOWN}"]},
    "en": {"order_it": "Ask a bookshop to order it", "unknown": "Unknown title",
           "sent": "Your request has been sent", "requested": "Request sent to the bookshop",
           "ordered": "Ordered by the bookshop",
           "arrived": "Arrived: waiting for you at the bookshop",
           "collect_by": "Collect it before",
           "subjects": [f"Your order request: Unknown title {UNKNOWN}",
                        f"Ordered for you: Unknown title {UNKNOWN}",
                        f"Your book has arrived: Unknown title {UNKNOWN}"]},
}


def assert_fits(page: Page, what: str) -> None:
    """The page is no wider than the phone: nothing to scroll sideways."""
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
        .slice(0, 8).map(e => e.tagName + '.' + e.className + '#' + e.id + ' '
                              + Math.round(e.getBoundingClientRect().right))""")
    assert widths[0] <= widths[1], \
        f"{what}: {widths[0]} px wide on a {widths[1]} px screen; too wide: {wide}"


@pytest.mark.parametrize(("language", "screen"), [("fr", PHONE), ("en", DESKTOP)],
                         ids=["fr-375px", "en-1280px"])
def test_order_request_through_to_arrived(
    app: Flask, page: Page, live_server: LiveServer, session: Session,  # noqa: F811
    test_sessionmaker: sessionmaker[Session], inbox: tuple[Inbox, int],  # noqa: F811
    screenshot: Callable[[str], Path], page_problems: PageProblems,
    language: str, screen: dict[str, int],
) -> None:
    words = WORDS[language]
    mine = make_shop(session, slug="chartrons", name="Librairie des Chartrons", lat=44.8530,
              lon=-0.5700, opening_hours="Mo-Su 00:00-24:00", email="chartrons@example.org")
    make_shop(session, slug="pessac", name="Librairie de Pessac", lat=44.8067, lon=-0.6311,
              postcode="33600", city="Pessac", opening_hours="Mo-Su 00:00-24:00")
    staff = make_staff(session, shops=[mine])
    page.set_viewport_size(screen)  # type: ignore[arg-type]

    # The reader types the ISBN: no shop has it, the book page offers to order it.
    page.goto(live_server.url(f"/?lang={language}"))
    page.fill("#q", "978-2-330-09015-9")
    page.fill("#lieu", "Bordeaux")
    page.click("form.search button[type=submit]")
    expect(page.locator("p.none")).to_be_visible()
    assert_fits(page, "book page")
    screenshot("book-nobody-has-it")
    page.click(f"text={words['order_it']}")

    # The shops nearest the reader's place, nearest first; the reader picks their own.
    expect(page.locator(".order-shop h3").first).to_have_text("Librairie des Chartrons")
    assert_fits(page, "shop picker")
    screenshot("pick-a-shop")
    page.locator("#order-shop-chartrons a.button").click()
    expect(page.locator(".order-title")).to_have_text(words["unknown"])
    page.fill("#name", "Camille Lectrice")
    page.fill("#email", "camille@example.org")
    page.check("input[name=consent]")
    assert_fits(page, "order form")
    screenshot("order-form")
    page.click("#order-submit")
    expect(page.locator(".notice.success")).to_contain_text(words["sent"])
    expect(page.locator(".order-state")).to_have_text(words["requested"])
    assert_fits(page, "order page")
    screenshot("order-requested")
    status_url = page.url.split("?")[0]
    deliver(app, test_sessionmaker)
    receipt = next(m for m in inbox[0].messages if m["To"] == "camille@example.org")
    link = "http://rayons.test" + status_url.removeprefix(live_server.url(""))
    assert link in receipt.get_body(("plain",)).get_content()
    assert any(m["To"] == "chartrons@example.org" for m in inbox[0].messages)

    # The shop's desk, in French: the request is there; staff order it, then mark it arrived.
    page.goto(live_server.url("/?lang=fr"))
    sign_in(page, live_server, staff.email)
    page.goto(live_server.url("/staff/shops/chartrons/reservations#orders"))
    card = page.locator(".orders-requested .order-card", has_text="Camille Lectrice")
    expect(card).to_contain_text("Titre inconnu")
    assert_fits(page, "staff desk")
    screenshot("desk-order-requested")
    card.locator("button[data-order-action=order]").click()
    expect(page.locator(".orders-ordered")).to_contain_text("Camille Lectrice")
    page.goto(f"{status_url}?lang={language}")
    expect(page.locator(".order-state")).to_have_text(words["ordered"])
    assert_fits(page, "order page, ordered")
    page.goto(live_server.url("/staff/shops/chartrons/reservations#orders"))
    page.locator(".orders-ordered .order-card").locator(
        "button[data-order-action=arrive]").click()
    expect(page.locator(".orders-arrived")).to_contain_text("Camille Lectrice")
    assert_fits(page, "staff desk, arrived")
    page.goto(f"{status_url}?lang={language}")
    expect(page.locator(".order-state")).to_have_text(words["arrived"])
    expect(page.locator(".order-steps li[aria-current=step]")).to_have_text(words["arrived"])
    expect(page.locator("dl.order")).to_contain_text(words["collect_by"])
    assert_fits(page, "order page, arrived")
    screenshot("order-arrived")

    deliver(app, test_sessionmaker)
    subjects = [" ".join(str(m["Subject"]).split()) for m in inbox[0].messages
                if m["To"] == "camille@example.org"]
    assert subjects == words["subjects"]
    page_problems.assert_clean()
