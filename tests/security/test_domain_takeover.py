"""An agency admin types a domain they do not own (or one that is another agency's) as the agency's custom domain,
to have our pages served there and our emails link there: whoever runs that host reads every token in those links.

A domain is pending until the agency proves it holds it with a DNS TXT record holding a token we made; a pending
domain serves nothing and appears in no link."""

import pytest
from django.core import mail
from django.utils import timezone

from accounts.domains import domain_verify
from accounts.models import Agency
from accounts.tasks import verify_pending_domains

from .account_steps import link_in

pytestmark = pytest.mark.django_db

EVIL = "login.evil.test"


def set_domain(web, admin, slug: str, domain: str):
    return web("localhost", admin).post(
        f"/agency/{slug}/brand/", {"brand_name": "", "brand_color": "#2563eb", "custom_domain": domain}
    )


def publish_token(fake_dns, agency: Agency) -> None:
    agency.refresh_from_db()
    fake_dns.setdefault(f"_textback-verification.{agency.custom_domain}", []).append(
        f"textback-verification={agency.custom_domain_token}"
    )


def test_a_domain_nobody_proved_serves_no_page(web, personas):
    assert set_domain(web, personas.nina, "northwind", EVIL).status_code == 302
    for path in ("/", "/accounts/login/", "/accounts/password/reset/", "/admin/login/"):
        assert web(EVIL).get(path).status_code == 404
    response = web(EVIL).post("/accounts/password/reset/", {"email": personas.nina.email})
    assert response.status_code == 404 and not mail.outbox
    assert Agency.objects.get(pk=personas.northwind.pk).custom_domain_verified_at is None


def test_an_invitation_never_links_to_a_domain_nobody_proved(web, personas, mail_on_commit):
    set_domain(web, personas.nina, "northwind", EVIL)
    web("localhost", personas.nina).post(
        "/agency/northwind/team/", {"email": "new@northwind.test", "role": "staff"}
    )
    (message,) = mail.outbox
    assert EVIL not in message.body
    assert link_in(message, "/accounts/invitation/").startswith("http://localhost:8000/accounts/invitation/")


def test_a_record_with_another_token_proves_nothing(web, personas, fake_dns):
    set_domain(web, personas.nina, "northwind", EVIL)
    fake_dns[f"_textback-verification.{EVIL}"] = ["textback-verification=0123456789abcdef0123456789abcdef"]
    assert domain_verify(agency_id=personas.northwind.pk) is False
    assert web(EVIL).get("/accounts/login/").status_code == 404
    agency = Agency.objects.get(pk=personas.northwind.pk)
    assert agency.custom_domain_verified_at is None and "No TXT record" in agency.custom_domain_check_error


def test_claiming_another_agencys_domain_first_does_not_keep_it_from_them(web, personas, fake_dns):
    # Northwind's admin squats Southpeak's domain before Southpeak sets it up.
    set_domain(web, personas.nina, "northwind", "app.southpeak.test")
    # Southpeak can still set it, prove it, and have it served as theirs.
    assert set_domain(web, personas.sara, "southpeak", "app.southpeak.test").status_code == 302
    publish_token(fake_dns, personas.southpeak)
    assert domain_verify(agency_id=personas.southpeak.pk) is True
    assert domain_verify(agency_id=personas.northwind.pk) is False  # no record of Northwind's there
    assert web("app.southpeak.test", personas.sara).get("/").status_code == 200
    assert web("app.southpeak.test", personas.nina).get("/")["Location"].startswith("/accounts/login/")


def test_a_proven_domain_that_is_changed_is_pending_again(web, personas, fake_dns):
    set_domain(web, personas.nina, "northwind", "app.northwind.test")
    publish_token(fake_dns, personas.northwind)
    assert domain_verify(agency_id=personas.northwind.pk) is True
    set_domain(web, personas.nina, "northwind", EVIL)
    agency = Agency.objects.get(pk=personas.northwind.pk)
    assert agency.custom_domain == EVIL and agency.custom_domain_verified_at is None
    assert web(EVIL).get("/accounts/login/").status_code == 404
    assert web("app.northwind.test").get("/accounts/login/").status_code == 404


def test_the_periodic_check_verifies_only_what_dns_proves(web, personas, fake_dns):
    set_domain(web, personas.nina, "northwind", "app.northwind.test")
    set_domain(web, personas.sara, "southpeak", "app.southpeak.test")
    publish_token(fake_dns, personas.southpeak)
    assert verify_pending_domains() == 1
    verified = dict(Agency.objects.values_list("slug", "custom_domain_verified_at"))
    assert verified["southpeak"] is not None and verified["northwind"] is None
    assert timezone.now() - verified["southpeak"] < timezone.timedelta(minutes=1)
