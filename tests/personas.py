"""The people and places every test can name: two agencies, three clients, and a person in each role.

    Northwind Marketing (agency)            Southpeak Digital (agency)
      nina  – agency admin                    sara – agency admin
      nate  – agency staff
      acme  – Acme Plumbing (client)          cedar – Cedar Roofing (client)
        alice – owner                           erin – owner
        bob   – staff
      bolt  – Bolt Electric (client)
        dave  – owner
    charlie – belongs nowhere              oscar – platform operator

Built once per test database (committed, so a real Celery worker sees them too) and reused with --reuse-db.
"""

from dataclasses import dataclass

from django.db import connection

from accounts.models import Agency, AgencyMembership, Client, ClientMembership, User
from accounts.services import (
    agency_create,
    client_create,
    client_provision,
    hours_from_text,
    user_get_or_create,
)

PASSWORD = "correct-horse-battery"


@dataclass
class Personas:
    northwind: Agency
    southpeak: Agency
    acme: Client
    bolt: Client
    cedar: Client
    nina: User
    nate: User
    sara: User
    alice: User
    bob: User
    dave: User
    erin: User
    charlie: User
    oscar: User


CLIENTS = {
    # slug: (agency, name, timezone, number, forward_to, hours)
    "acme": (
        "northwind",
        "Acme Plumbing",
        "America/Chicago",
        "+13125550100",
        "+13125550142",
        "mon-fri 08:00-12:00,13:00-17:00; sat 09:00-12:00",
    ),
    "bolt": ("northwind", "Bolt Electric", "America/New_York", "+12025550100", "+12025550142", "24/7"),
    "cedar": (
        "southpeak",
        "Cedar Roofing",
        "America/Los_Angeles",
        "+14155550100",
        "+14155550142",
        "mon-fri 07:00-15:00",
    ),
}


def _agency(slug: str, name: str, admin_email: str) -> Agency:
    agency = Agency.objects.filter(slug=slug).first()
    return agency or agency_create(slug=slug, name=name, admin_email=admin_email, admin_password=PASSWORD)


def _client(slug: str, agencies: dict[str, Agency]) -> Client:
    client = Client.objects.filter(slug=slug).first()
    if client is None:
        agency, name, tz, number, forward_to, hours = CLIENTS[slug]
        client = client_create(
            agency=agencies[agency],
            slug=slug,
            name=name,
            timezone_name=tz,
            phone_number=number,
            forward_to=forward_to,
            business_hours=hours_from_text(hours),
        )
    return client_provision(client=client)


def _member(email: str, *, client: Client | None = None, agency: Agency | None = None, role: str) -> User:
    user = user_get_or_create(email=email, password=PASSWORD, name=email.split("@")[0].title())
    if client is not None:
        ClientMembership.objects.get_or_create(user=user, client=client, defaults={"role": role})
    if agency is not None:
        AgencyMembership.objects.get_or_create(user=user, agency=agency, defaults={"role": role})
    return user


def build() -> Personas:
    connection.set_schema_to_public()
    agencies = {
        "northwind": _agency("northwind", "Northwind Marketing", "nina@northwind.test"),
        "southpeak": _agency("southpeak", "Southpeak Digital", "sara@southpeak.test"),
    }
    clients = {slug: _client(slug, agencies) for slug in CLIENTS}
    oscar = User.objects.filter(email="oscar@textback.test").first() or User.objects.create_superuser(
        "oscar@textback.test", PASSWORD
    )
    return Personas(
        **agencies,
        **clients,
        nina=User.objects.get(email="nina@northwind.test"),
        sara=User.objects.get(email="sara@southpeak.test"),
        nate=_member("nate@northwind.test", agency=agencies["northwind"], role="staff"),
        alice=_member("alice@acme.test", client=clients["acme"], role="owner"),
        bob=_member("bob@acme.test", client=clients["acme"], role="staff"),
        dave=_member("dave@bolt.test", client=clients["bolt"], role="owner"),
        erin=_member("erin@cedar.test", client=clients["cedar"], role="owner"),
        charlie=user_get_or_create(email="charlie@nowhere.test", password=PASSWORD),
        oscar=oscar,
    )
