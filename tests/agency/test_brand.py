"""White-label: a client's pages, login screen and emails carry its agency's brand (name, colours, logo,
support contacts), never the platform's; agency admins set it."""

import re

import pytest
from django.core import mail

from accounts.models import Agency
from accounts.tasks import verify_custom_domain

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def set_brand(web, personas, **fields):
    data = {
        "brand_name": "Northwind Growth",
        "brand_color": "#ffcc00",
        "support_email": "help@northwind.test",
        "support_phone": "+13125550199",
        "custom_domain": "",
        **fields,
    }
    return web("localhost", personas.nina).post("/agency/northwind/brand/", data)


def test_an_admin_sets_the_brand_and_client_pages_wear_it(web, personas):
    assert set_brand(web, personas).status_code == 302
    login = web("acme.localhost").get("/accounts/login/").content.decode()
    assert "<title>Log in · Northwind Growth</title>" in login
    assert "help@northwind.test" in login and "+13125550199" in login
    assert "Textback" not in login
    css = web("acme.localhost").get("/brand.css")
    assert css["Content-Type"].startswith("text/css")
    # A light colour gets dark text on it.
    assert css.content.decode() == ":root { --brand: #ffcc00; --brand-ink: #111827; }\n"
    # Another agency's clients keep their own.
    assert (
        "--brand: #2563eb; --brand-ink: #ffffff" in web("cedar.localhost").get("/brand.css").content.decode()
    )


@pytest.mark.parametrize(
    "page", ["/", "/inbox/", "/contacts/", "/settings/", "/team/", "/accounts/password/reset/"]
)
def test_no_client_page_names_the_platform(web, personas, page):
    html = web("acme.localhost", personas.alice).get(page).content.decode()
    assert "Northwind Marketing" in html
    assert "Textback" not in html


def test_the_stylesheet_link_changes_when_the_colour_does(web, personas):
    before = re.search(
        r'href="/brand.css\?v=(\w+)"', web("acme.localhost").get("/accounts/login/").content.decode()
    )
    set_brand(web, personas)
    after = re.search(
        r'href="/brand.css\?v=(\w+)"', web("acme.localhost").get("/accounts/login/").content.decode()
    )
    assert before.group(1) != after.group(1)


def test_a_logo_is_uploaded_checked_and_served_from_our_own_host(web, personas):
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = set_brand(
        web, personas, logo=SimpleUploadedFile("x.svg", b"<svg onload=alert(1)>", "image/svg+xml")
    )
    assert bad.status_code == 400 and "Upload a PNG, JPEG or WebP image." in bad.content.decode()
    assert set_brand(web, personas, logo=SimpleUploadedFile("logo.png", PNG, "image/png")).status_code == 302
    logo = web("acme.localhost").get("/brand/logo")
    assert logo.status_code == 200 and logo["Content-Type"] == "image/png" and logo.content == PNG
    assert (
        'class="brand-logo" src="/brand/logo?v='
        in web("acme.localhost").get("/accounts/login/").content.decode()
    )
    assert web("cedar.localhost").get("/brand/logo").status_code == 404


def test_the_tab_icon_is_the_agencys_colour_then_its_logo(web, personas):
    """Without an icon named in the page, browsers ask every host for /favicon.ico (a 404 each time)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    def icon_of(host):
        link = re.search(
            r'<link rel="icon"[^>]* href="([^"]+)"', web(host).get("/accounts/login/").content.decode()
        )
        return link.group(1)

    assert set_brand(web, personas).status_code == 302
    icon = web("acme.localhost").get(icon_of("acme.localhost"))
    assert icon.status_code == 200 and icon["Content-Type"] == "image/svg+xml"
    assert 'fill="#ffcc00"' in icon.content.decode()
    assert 'fill="#2563eb"' in web("cedar.localhost").get(icon_of("cedar.localhost")).content.decode()
    assert set_brand(web, personas, logo=SimpleUploadedFile("logo.png", PNG, "image/png")).status_code == 302
    assert icon_of("acme.localhost").startswith("/brand/logo?v=")
    assert web("acme.localhost").get(icon_of("acme.localhost")).content == PNG


def test_bad_brand_input_is_a_form_error(web, personas):
    response = set_brand(web, personas, brand_color="red", custom_domain="acme.localhost")
    html = response.content.decode()
    assert response.status_code == 400 and "Use a colour like #2563eb." in html
    assert Agency.objects.get(pk=personas.northwind.pk).brand_color == "#2563eb"
    response = set_brand(web, personas, custom_domain="x.localhost")
    assert response.status_code == 400 and "not one of the platform" in response.content.decode()


def test_a_custom_domain_serves_the_agencys_dashboard_in_its_brand_once_its_dns_record_is_found(
    web, personas, fake_dns, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr("agency.views.verify_custom_domain.delay", queued.append)
    with django_capture_on_commit_callbacks(execute=True):
        set_brand(web, personas, custom_domain="app.northwind.test")
    assert queued == [personas.northwind.pk]  # checked at once, and by the beat task after
    agency = Agency.objects.get(pk=personas.northwind.pk)
    page = web("localhost", personas.nina).get("/agency/northwind/brand/").content.decode()
    assert "Pending" in page and "_textback-verification.app.northwind.test" in page
    assert f"textback-verification={agency.custom_domain_token}" in page
    assert web("app.northwind.test", personas.nina).get("/").status_code == 404  # pending: serves nothing

    fake_dns["_textback-verification.app.northwind.test"] = [
        f"textback-verification={agency.custom_domain_token}"
    ]
    with django_capture_on_commit_callbacks(execute=True):
        web("localhost", personas.nina).post("/agency/northwind/brand/domain-check/")
    assert queued == [personas.northwind.pk] * 2
    verify_custom_domain(personas.northwind.pk)  # what the worker runs

    assert "Verified" in web("localhost", personas.nina).get("/agency/northwind/brand/").content.decode()
    html = web("app.northwind.test", personas.nina).get("/").content.decode()
    assert "Acme Plumbing" in html and "Northwind Growth" in html
    assert web("app.northwind.test", personas.sara).get("/")["Location"].startswith("/accounts/login/")


def test_brand_page_is_for_that_agencys_admins(web, personas):
    assert web("localhost", personas.nate).get("/agency/northwind/brand/").status_code == 403
    assert web("localhost", personas.sara).get("/agency/northwind/brand/").status_code == 404
    assert (
        web("localhost", personas.sara)
        .post("/agency/northwind/brand/", {"brand_color": "#000000"})
        .status_code
        == 404
    )
    assert web("localhost").get("/agency/northwind/brand/")["Location"].startswith("/accounts/login/")
    assert Agency.objects.get(pk=personas.northwind.pk).brand_color == "#2563eb"


# --- Password reset, in the brand of the host it was asked on ---


def test_an_owner_resets_their_password_by_email_in_the_agencys_brand(web, personas):
    browser = web("acme.localhost")
    response = browser.post("/accounts/password/reset/", {"email": "ALICE@acme.test"})
    assert response["Location"] == "/accounts/password/reset/sent/"
    (message,) = mail.outbox
    assert message.from_email == '"Northwind Marketing" <no-reply@localhost>'
    assert message.subject == "Reset your Northwind Marketing password"
    assert "Textback" not in message.body and "Acme Plumbing" in message.body
    # On the client's own host as PUBLIC_BASE_URL spells hosts (scheme, port), never as the request wrote it.
    path = re.search(r"http://acme\.localhost:8000(/accounts/password/reset/\S+/)", message.body).group(1)
    form = browser.get(path, follow=True)
    assert form.status_code == 200 and "Choose a new password" in form.content.decode()
    done = browser.post(
        form.redirect_chain[-1][0],
        {"new_password1": "fresh-passphrase-77", "new_password2": "fresh-passphrase-77"},
    )
    assert done["Location"] == "/accounts/password/reset/done/"
    login = web("acme.localhost").post(
        "/accounts/login/", {"username": "alice@acme.test", "password": "fresh-passphrase-77"}
    )
    assert login.status_code == 302


def test_a_reset_on_another_clients_host_mails_nobody(web, personas):
    response = web("acme.localhost").post("/accounts/password/reset/", {"email": personas.dave.email})
    assert response.status_code == 302  # the same answer as for anyone
    assert not mail.outbox
