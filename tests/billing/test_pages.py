"""Billing pages and who may see them. Agency host: an agency's people see their own clients' usage and
statements; another agency's are a 404. Client host: the client's statement, for its agency's people always
and for its owners only when the agency allows it; everyone else gets a 404 or is sent to log in."""

import re
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from billing.models import AgencyBilling, ClientPrice, Plan, UsageKind
from billing.services import statements_close, usage_record

from .conftest import price_for

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
AGENCY_HOST = "localhost"
NOV = "2026-11"


@pytest.fixture(autouse=True)
def _november():
    with time_machine.travel(datetime(2026, 11, 20, 15, 0, tzinfo=CHICAGO), tick=True):
        yield


@pytest.fixture
def traffic(personas, plan):
    usage_record(client=personas.acme, kind=UsageKind.SEGMENTS_OUT, source="message:1", quantity=123)
    usage_record(client=personas.cedar, kind=UsageKind.SEGMENTS_OUT, source="message:1", quantity=77)
    price_for(personas.acme, included_segments=150)
    southpeak_plan = Plan.objects.create(name="Starter", monthly_price=Decimal("19.00"))
    AgencyBilling.objects.create(agency=personas.southpeak, plan=southpeak_plan)


# --- Agency host -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["nina", "nate"])
def test_an_agencys_people_see_their_clients_usage_this_month(web, personas, traffic, who):
    html = web(AGENCY_HOST, getattr(personas, who)).get("/billing/").content.decode()
    assert "Acme Plumbing" in html and "Bolt Electric" in html
    assert "123" in html and "82%" in html  # 123 of 150 included
    assert "Cedar Roofing" not in html


def test_another_agency_sees_only_its_own(web, personas, traffic):
    html = web(AGENCY_HOST, personas.sara).get("/billing/").content.decode()
    assert "Cedar Roofing" in html and "77" in html
    assert "Acme Plumbing" not in html


@pytest.mark.parametrize(
    "path",
    [
        f"/billing/northwind/{NOV}/",
        f"/billing/northwind/{NOV}.csv",
        f"/billing/northwind/{NOV}.pdf",
        f"/billing/northwind/clients/acme/{NOV}/",
        f"/billing/northwind/clients/acme/{NOV}.csv",
        "/billing/northwind/clients/acme/price/",
    ],
)
def test_another_agencys_staff_get_404(web, personas, traffic, path):
    assert web(AGENCY_HOST, personas.sara).get(path).status_code == 404


def test_a_client_of_another_agency_is_not_found_under_ones_own(web, personas, traffic):
    response = web(AGENCY_HOST, personas.nina).get(f"/billing/northwind/clients/cedar/{NOV}/")
    assert response.status_code == 404


@pytest.mark.parametrize("who", [None, "charlie"])
def test_anonymous_and_strangers_are_sent_to_log_in(web, personas, traffic, who):
    user = getattr(personas, who) if who else None
    response = web(AGENCY_HOST, user).get(f"/billing/northwind/{NOV}/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_agency_statement_page_and_its_files(web, personas, traffic):
    browser = web(AGENCY_HOST, personas.nina)
    html = browser.get(f"/billing/northwind/{NOV}/").content.decode()
    assert "Growth plan, monthly fee" in html and "Open" in html
    assert "69.00" in html  # 49 + 2 active × 10; 123 segments are within the 200 included
    csv_response = browser.get(f"/billing/northwind/{NOV}.csv")
    assert csv_response["Content-Type"].startswith("text/csv")
    assert 'filename="statement-northwind-2026-11.csv"' in csv_response["Content-Disposition"]
    assert "Total,,,69.00,USD" in csv_response.content.decode()
    pdf_response = browser.get(f"/billing/northwind/{NOV}.pdf")
    assert pdf_response["Content-Type"] == "application/pdf" and pdf_response.content.startswith(b"%PDF-")


def test_a_closed_month_says_so(web, personas, traffic):
    with time_machine.travel(datetime(2026, 12, 2, tzinfo=CHICAGO), tick=False):
        statements_close(agency=personas.northwind, month=date(2026, 11, 1))
        html = web(AGENCY_HOST, personas.nina).get(f"/billing/northwind/{NOV}/").content.decode()
    assert "This statement is final" in html


def test_a_month_that_does_not_exist_is_404(web, personas, traffic):
    assert web(AGENCY_HOST, personas.nina).get("/billing/northwind/2026-13/").status_code == 404


def test_an_agency_admin_sets_a_clients_price(web, personas, traffic):
    browser = web(AGENCY_HOST, personas.nina)
    page = browser.get("/billing/northwind/clients/bolt/price/")
    assert page.status_code == 200
    html = page.content.decode()
    for money in (
        "monthly_price",
        "price_per_segment",
        "price_per_voice_minute",
    ):  # each amount wears its currency
        assert re.search(rf'<span>\$</span><input[^>]*name="{money}"[^>]*><span>USD</span>', html), money
    assert not re.search(r'<span>\$</span><input[^>]*name="included_segments"', html)  # a count is no money
    response = browser.post(
        "/billing/northwind/clients/bolt/price/",
        {
            "monthly_price": "79.00",
            "included_segments": "500",
            "price_per_segment": "0.0250",
            "price_per_voice_minute": "0",
            "over_limit": "pause",
            "owner_sees_statement": "on",
        },
    )
    assert response.status_code == 302
    price = ClientPrice.objects.get(client=personas.bolt)
    assert (price.monthly_price, price.included_segments, price.over_limit, price.owner_sees_statement) == (
        Decimal("79.00"),
        500,
        "pause",
        True,
    )


def test_a_bad_price_is_a_form_error_and_changes_nothing(web, personas, traffic):
    response = web(AGENCY_HOST, personas.nina).post(
        "/billing/northwind/clients/bolt/price/",
        {
            "monthly_price": "-5",
            "price_per_segment": "abc",
            "price_per_voice_minute": "0",
            "over_limit": "maybe",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "greater than or equal to 0" in html and "Enter a number" in html
    assert not ClientPrice.objects.filter(client=personas.bolt).exists()


def test_agency_staff_cannot_set_prices(web, personas, traffic):
    assert web(AGENCY_HOST, personas.nate).get("/billing/northwind/clients/bolt/price/").status_code == 404


# --- Client host -------------------------------------------------------------------------------------------


def _allow_owner(client, allowed: bool = True):
    ClientPrice.objects.filter(client=client).update(owner_sees_statement=allowed)


@pytest.mark.parametrize(
    "path", ["/billing/", f"/billing/{NOV}/", f"/billing/{NOV}.csv", f"/billing/{NOV}.pdf"]
)
def test_the_owner_sees_the_clients_statement_when_the_agency_allows_it(web, personas, traffic, path):
    _allow_owner(personas.acme)
    assert web("acme.localhost", personas.alice).get(path).status_code == 200


def test_the_owners_statement_shows_the_agencys_prices(web, personas, traffic):
    _allow_owner(personas.acme)
    html = web("acme.localhost", personas.alice).get("/billing/").content.decode()
    assert "Monthly service" in html and "99.00" in html
    assert "Growth plan" not in html  # what the platform charges the agency is not the client's business


def test_the_owner_is_told_when_the_agency_does_not_share_statements(web, personas, traffic):
    _allow_owner(personas.acme, False)
    owner = web("acme.localhost", personas.alice)
    response = owner.get("/billing/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Northwind Marketing has not shared Acme Plumbing's statements here" in html
    assert "Monthly service" not in html and "99.00" not in html
    assert owner.get(f"/billing/{NOV}.csv").status_code == 404  # no file to download either


@pytest.mark.parametrize("who", ["bob"])
def test_client_staff_never_see_the_statement(web, personas, traffic, who):
    _allow_owner(personas.acme)
    staff = web("acme.localhost", getattr(personas, who))
    html = staff.get("/billing/").content.decode()
    assert "Statements are shown to Acme Plumbing's owners only" in html and "99.00" not in html
    assert staff.get(f"/billing/{NOV}.pdf").status_code == 404


@pytest.mark.parametrize("who", ["nina", "nate", "oscar"])
def test_the_agency_and_operators_see_it_on_the_clients_host(web, personas, traffic, who):
    assert web("acme.localhost", getattr(personas, who)).get("/billing/").status_code == 200


@pytest.mark.parametrize("who", ["dave", "erin", "sara", "charlie", None])
def test_other_clients_owners_other_agencies_and_anonymous_are_sent_to_log_in(web, personas, traffic, who):
    _allow_owner(personas.acme)
    user = getattr(personas, who) if who else None
    response = web("acme.localhost", user).get("/billing/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_an_owner_sees_only_their_own_clients_statement(web, personas, traffic):
    price_for(personas.bolt, owner_sees_statement=True, monthly_price=Decimal("55.00"))
    _allow_owner(personas.acme)
    html = web("bolt.localhost", personas.dave).get("/billing/").content.decode()
    assert "Bolt Electric" in html and "55.00" in html and "Acme" not in html


# --- The operator's admin ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/admin/billing/plan/",
        "/admin/billing/plan/add/",
        "/admin/billing/agencybilling/add/",
        "/admin/billing/clientprice/",
        "/admin/billing/monthlyusage/",
        "/admin/billing/usageevent/",
        "/admin/billing/usagewarning/",
        "/admin/billing/statement/",
    ],
)
def test_the_operator_manages_plans_and_reads_usage_in_the_admin(web, personas, traffic, path):
    assert web(AGENCY_HOST, personas.oscar).get(path).status_code == 200


def test_the_operator_creates_a_plan_in_the_admin(web, personas):
    response = web(AGENCY_HOST, personas.oscar).post(
        "/admin/billing/plan/add/",
        {
            "name": "Scale",
            "currency": "USD",
            "monthly_price": "199.00",
            "price_per_active_client": "8.00",
            "included_segments_per_client": "500",
            "overage_per_segment": "0.0100",
            "price_per_voice_minute": "0",
            "price_per_lookup": "0",
        },
    )
    assert response.status_code == 302
    assert Plan.objects.get(name="Scale").overage_per_segment == Decimal("0.0100")


def test_usage_is_read_only_in_the_admin(web, personas, traffic):
    assert web(AGENCY_HOST, personas.oscar).get("/admin/billing/monthlyusage/add/").status_code == 403
