"""A demo agency with two clients, their owners, 90 days of history each (_demo_history.py) and billing;
safe to run again (it only adds what is missing)."""

from typing import TypedDict
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Agency, AgencyMembership, Client, ClientMembership, User
from accounts.services import (
    agency_create,
    client_create,
    client_provision,
    client_url,
    hours_from_text,
    user_get_or_create,
)
from agency.management.commands._demo_history import (
    DENTAL,
    PLUMBING,
    Trade,
    billing_add,
    history_add,
    statements_add,
)

PASSWORD = "textback-demo"
AGENCY = {"slug": "demo", "name": "Bright Local Marketing", "admin_email": "agency@demo.test"}
OPERATOR = "operator@demo.test"
AGENCY_STAFF = "staff@demo.test"


class DemoClient(TypedDict):
    """client_create's arguments for one demo client, with its hours as text and its trade (its history)."""

    slug: str
    name: str
    timezone_name: str
    phone_number: str
    forward_to: str
    call_mode: str
    hours: str
    owner_email: str
    trade: Trade
    facts: dict[str, str]  # what suggested replies and the AI receptionist may tell callers


CLIENTS: list[DemoClient] = [
    {
        "slug": "acme-plumbing",
        "name": "Acme Plumbing",
        "timezone_name": "America/Chicago",
        "phone_number": "+13125550110",
        "forward_to": "+13125550111",
        "call_mode": "forward",
        "hours": "mon-fri 08:00-12:00,13:00-17:00; sat 09:00-12:00",
        "owner_email": "owner@acme-plumbing.test",
        "trade": PLUMBING,
        "facts": {
            "facts_services": "Drain cleaning, leak repair, water heaters, toilets and faucets, sump pumps",
            "facts_area": "Chicago and the near north suburbs",
            "facts_prices": "Service call $89 (waived if we do the job); drain cleaning from $149.",
        },
    },
    {
        "slug": "smile-dental",
        "name": "Smile Dental",
        "timezone_name": "America/Los_Angeles",
        "phone_number": "+14155550110",
        "forward_to": "+14155550111",
        "call_mode": "carrier",
        "hours": "mon-thu 07:30-16:00; fri 07:30-12:00",
        "owner_email": "owner@smile-dental.test",
        "trade": DENTAL,
        "facts": {
            "facts_services": "Cleanings and checkups, fillings, crowns, whitening, emergency visits",
            "facts_area": "San Francisco (Mission and Noe Valley)",
            "facts_prices": "",
        },
    },
]


class Command(BaseCommand):
    help = "Create (or complete) the demo agency, its two clients, their owners and 90 days of history."

    def handle(self, *args, **options):
        with transaction.atomic():
            agency = Agency.objects.filter(slug=AGENCY["slug"]).first() or agency_create(
                admin_password=PASSWORD, **AGENCY
            )
            if not User.objects.filter(email=OPERATOR).exists():
                User.objects.create_superuser(OPERATOR, PASSWORD)
            # Agency admins log in with an authenticator app as well; staff can look around without one.
            staff = user_get_or_create(email=AGENCY_STAFF, password=PASSWORD, name="Demo Staff")
            AgencyMembership.objects.get_or_create(user=staff, agency=agency, defaults={"role": "staff"})
        clients = {}
        for spec in CLIENTS:
            client = Client.objects.filter(slug=spec["slug"]).first()
            if client is None:
                client = client_create(
                    agency=agency,
                    slug=spec["slug"],
                    name=spec["name"],
                    timezone_name=spec["timezone_name"],
                    phone_number=spec["phone_number"],
                    forward_to=spec["forward_to"],
                    call_mode=spec["call_mode"],
                    business_hours=hours_from_text(spec["hours"]),
                    owner_email=spec["owner_email"],
                    owner_password=PASSWORD,
                )
            # The facts, unless someone has written their own since.
            Client.objects.filter(pk=client.pk, facts_services="").update(**spec["facts"])
            clients[client_provision(client=client)] = spec["trade"]
        billing_add(agency=agency, prices={client: trade.price for client, trade in clients.items()})
        for client, trade in clients.items():
            owner = ClientMembership.objects.filter(client=client, role="owner").first()
            if owner is None:
                self.stderr.write(f"{client.slug} has no owner; add one in the admin")
            history_add(client=client, trade=trade, owner_id=owner.user_id if owner else None)
        statements_add(agency=agency)
        self._print_welcome(agency)

    def _print_welcome(self, agency: Agency) -> None:
        public = urlsplit(settings.PUBLIC_BASE_URL)
        platform = f"{public.scheme}://{settings.BASE_DOMAIN}{f':{public.port}' if public.port else ''}/"
        lines = [
            "",
            "Textback demo is ready (password for every login below: textback-demo)",
            f"  Agency dashboard   {platform}   {AGENCY['admin_email']} (admin: sets up an authenticator app "
            f"on first login), or {AGENCY_STAFF} (staff)",
            f"  Operator admin     {platform}admin/   {OPERATOR} (operators set up an authenticator app on "
            "first login too: scan the QR code, or type the key it shows into any TOTP app, e.g. oathtool --totp -b KEY)",
        ]
        for client in agency.clients.order_by("name"):
            owner = client.memberships.filter(role="owner").select_related("user").first()
            lines.append(f"  {client.name:<18} {client_url(client)}   {owner.user.email if owner else '-'}")
        lines.append("")
        self.stdout.write("\n".join(lines))
