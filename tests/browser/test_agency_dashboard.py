"""The agency dashboard's actions in a real browser, which (unlike Django's test client) enforces the
Content-Security-Policy: opening a client's app, pausing one, and what each role is offered."""

from playwright.sync_api import expect

from accounts.models import Client
from tests.browser.conftest import DESKTOP, fits_the_screen, screenshot
from tests.browser.test_login_pages import log_in


def _row(page, client):
    return page.locator(f"#client-{client.pk}")


def _more(page, client):
    """A row's one clear action is on it (Open, Continue setup); the rest are behind its menu."""
    row = _row(page, client)
    row.locator(".menu > summary").click()
    return row


def test_open_takes_agency_staff_into_the_clients_inbox(page_for, personas):
    page, base = page_for("localhost", DESKTOP)
    log_in(page, base, personas.nate.email)
    _row(page, personas.acme).get_by_role("button", name="Open").click()
    # The POST answers with a page whose form posts a one-time token to the client's own host (sent on by a
    # script); `form-action 'self'` alone made the browser refuse to go there, and the "same-origin" referrer
    # policy would have sent `Origin: null`, which the client's host refuses.
    port = base.rsplit(":", 1)[1]
    page.wait_for_url(f"http://acme.localhost:{port}/inbox/")
    expect(page.locator(".client-name")).to_have_text("Acme Plumbing")


def test_agency_staff_are_not_offered_offboarding(page_for, personas):
    page, base = page_for("localhost", DESKTOP)
    log_in(page, base, personas.nate.email)
    row = _row(page, personas.acme)
    expect(row.get_by_role("button", name="Open")).to_be_visible()
    _more(page, personas.acme)
    expect(row.get_by_role("link", name="Pause")).to_be_visible()
    expect(row.get_by_role("link", name="Offboard")).to_have_count(0)
    # The address typed by hand is refused on a page that looks like the rest of the app and says why.
    page.goto(f"{base}/agency/clients/{personas.acme.pk}/offboard/")
    expect(page.get_by_role("heading", name="You can't do that here")).to_be_visible()
    expect(page.get_by_text("Only the agency's admins may do this.")).to_be_visible()
    expect(page.locator("link[href*='app.css']")).to_have_count(1)
    expect(page.get_by_role("link", name="Back to the dashboard")).to_be_visible()


def test_pausing_a_client_asks_first(page_for, personas):
    page, base = page_for("localhost")
    log_in(page, base, personas.nate.email)
    try:
        _more(page, personas.acme).get_by_role("link", name="Pause").click()
        expect(page.get_by_role("heading", name="Pause Acme Plumbing?")).to_be_visible()
        assert Client.objects.get(pk=personas.acme.pk).status == Client.Status.LIVE  # nothing happened yet
        assert fits_the_screen(page)
        screenshot(page, "agency-pause-confirm-phone")
        page.get_by_role("link", name="Cancel").click()
        expect(_row(page, personas.acme).get_by_text("Live")).to_be_visible()
        assert Client.objects.get(pk=personas.acme.pk).status == Client.Status.LIVE

        _more(page, personas.acme).get_by_role("link", name="Pause").click()
        page.get_by_role("button", name="Pause text-backs").click()
        expect(page.get_by_text("Acme Plumbing is paused")).to_be_visible()
        assert Client.objects.get(pk=personas.acme.pk).status == Client.Status.PAUSED
    finally:
        Client.objects.filter(pk=personas.acme.pk).update(status=Client.Status.LIVE)


def test_an_owner_of_two_businesses_switches_between_their_hosts(page_for, personas, live):
    """The client switcher hands over to the other client's host the way Open does: the same form-action rule."""
    from accounts.models import ClientMembership

    membership = ClientMembership.objects.create(user=personas.alice, client=personas.bolt, role="owner")
    try:
        page, base = page_for("acme.localhost", DESKTOP)
        log_in(page, base, personas.alice.email)
        page.goto(f"{base}/team/")
        page.get_by_text("Switch to another business").click()
        page.get_by_role("button", name="Bolt Electric").click()
        port = base.rsplit(":", 1)[1]
        page.wait_for_url(f"http://bolt.localhost:{port}/inbox/")
        expect(page.locator(".client-name")).to_have_text("Bolt Electric")
    finally:
        membership.delete()
