from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Agency, Client
from accounts.services import client_create, client_provision, client_url, hours_from_text
from accounts.tasks import provision_client

from ._validation import command_error

FLAGS = {
    "slug": "--slug",
    "name": "--name",
    "timezone": "--timezone",
    "phone_number": "--number",
    "forward_to": "--forward-to",
    "call_mode": "--mode",
    "text_delay_seconds": "--text-delay",
    "business_hours": "--hours",
    "suppress_hours": "--suppress-hours",
    "min_ring_seconds": "--min-ring-seconds",
    "email": "--owner-email",
    "password": "--owner-password",
    "schema_name": "--slug",
}


def e164(value: str) -> str:
    value = value.strip()
    if not value.startswith("+"):
        raise ValueError
    return value


def non_negative(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError
    return number


class Command(BaseCommand):
    help = "Create a client business under an agency, clone its schema, and print its host."

    def add_arguments(self, parser):
        parser.add_argument("--agency", required=True, help="The agency's slug.")
        parser.add_argument("--slug", required=True, help="Becomes the host: <slug>.<BASE_DOMAIN>.")
        parser.add_argument("--name", required=True)
        parser.add_argument("--timezone", required=True, help="IANA name, e.g. America/Chicago.")
        parser.add_argument("--number", required=True, type=e164, help="The Textback number, E.164.")
        parser.add_argument("--forward-to", type=e164, help="The business's phone, E.164 (forward mode).")
        parser.add_argument("--mode", choices=[c.value for c in Client.CallMode], default="forward")
        parser.add_argument("--text-delay", type=non_negative, default=0, metavar="SECONDS")
        parser.add_argument(
            "--hours",
            default="mon-fri 09:00-17:00",
            help='e.g. "mon-fri 08:00-12:00,13:00-17:00; sat 09:00-12:00", "24/7" or "none".',
        )
        parser.add_argument("--suppress-hours", type=non_negative, default=24, metavar="H")
        parser.add_argument("--min-ring-seconds", type=non_negative, default=5, metavar="S")
        parser.add_argument("--owner-email")
        parser.add_argument("--owner-password")
        parser.add_argument(
            "--async",
            dest="in_task",
            action="store_true",
            help="Provision the schema in a Celery task instead of inline.",
        )

    def handle(self, *args, **o):
        agency = Agency.objects.filter(slug=o["agency"]).first()
        if agency is None:
            raise CommandError(f"--agency: no agency with slug “{o['agency']}”.")
        if bool(o["owner_email"]) != bool(o["owner_password"]):
            raise CommandError("--owner-email and --owner-password go together.")
        if Client.objects.filter(slug=o["slug"]).exists():
            raise CommandError(f"--slug: a client with slug “{o['slug']}” already exists.")
        try:
            client = client_create(
                agency=agency,
                slug=o["slug"],
                name=o["name"],
                timezone_name=o["timezone"],
                phone_number=o["number"],
                forward_to=o["forward_to"],
                call_mode=o["mode"],
                text_delay_seconds=o["text_delay"],
                business_hours=hours_from_text(o["hours"]),
                suppress_hours=o["suppress_hours"],
                min_ring_seconds=o["min_ring_seconds"],
                owner_email=o["owner_email"],
                owner_password=o["owner_password"],
            )
        except ValidationError as exc:
            raise command_error(exc, FLAGS) from None
        if o["in_task"]:
            provision_client.delay(client.pk)
            self.stdout.write(f"Provisioning {client.slug} in a task; it will be served at {client.host}")
            return
        try:
            client_provision(client=client)
        except Exception as exc:
            raise CommandError(f"Provisioning {client.slug} failed: {exc}") from exc
        self.stdout.write(client.host)
        if o["verbosity"] > 1:
            self.stderr.write(f"{client.name} is live at {client_url(client)}")
