"""An agency's own people see their agency's brand on the platform host too (the dashboard, the wizard, the
team), and the wizard's words never name the platform; operators see the platform's."""

import re

import pytest

from accounts.models import Agency, Onboarding

pytestmark = pytest.mark.django_db


def brand_of(html: str) -> str:
    return re.search(r'<a class="brand" href="/">.*?<span class="brand-name">([^<]*)</span></a>', html).group(
        1
    )


@pytest.fixture
def northwind_brand(personas):
    Agency.objects.filter(pk=personas.northwind.pk).update(
        brand_name="Northwind Growth", brand_color="#ffcc00"
    )


@pytest.mark.parametrize("who", ["nina", "nate"])
def test_an_agencys_people_see_its_brand_on_the_platform_host(web, personas, northwind_brand, who):
    browser = web("localhost", getattr(personas, who))
    html = browser.get("/").content.decode()
    assert brand_of(html) == "Northwind Growth" and "Textback" not in html
    css_url = re.search(r'href="(/brand\.css\?[^"]+)"', html).group(1).replace("&amp;", "&")
    assert "agency=northwind" in css_url
    assert "--brand: #ffcc00" in browser.get(css_url).content.decode()


def test_the_wizard_does_not_name_the_platform(web, personas, northwind_brand, monkeypatch):
    from agency import onboarding as wizard

    monkeypatch.setattr(wizard, "onboarding_enqueue", lambda *, onboarding: None)
    browser = web("localhost", personas.nate)
    browser.post(
        "/agency/northwind/onboarding/new/",
        {
            "name": "Harbor Heating",
            "industry": "hvac",
            "timezone": "America/Chicago",
            "average_job_value": "1",
        },
    )
    onboarding = Onboarding.objects.get(client__slug="harbor-heating")
    Onboarding.objects.filter(pk=onboarding.pk).update(reached="live")
    for step in ("profile", "hours", "number", "owner", "test", "live"):
        html = browser.get(f"/agency/onboarding/{onboarding.pk}/{step}/").content.decode()
        assert "Textback" not in html, step


def test_operators_and_strangers_see_the_platform(web, personas, northwind_brand):
    assert brand_of(web("localhost", personas.oscar).get("/").content.decode()) == "Textback"
    assert brand_of(web("localhost").get("/accounts/login/").content.decode()) == "Textback"
    southpeak = web("localhost", personas.sara).get("/").content.decode()
    assert brand_of(southpeak) == "Southpeak Digital" and "Northwind" not in southpeak
