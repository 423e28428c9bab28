"""Move existing agencies from the platform's Twilio account to a subaccount each (README: "Twilio accounts").

    manage.py twilio_subaccounts --agency SLUG [--agency SLUG …] | --all [--dry-run]

For each agency: its subaccount is created (CreateAccount) unless it has one, then each of its clients' numbers is
moved into it with Twilio's number exchange. Idempotent: run it again after a failure. An agency on its own Twilio
account is left alone."""

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Agency
from messaging.models import TwilioAccount
from messaging.twilio_accounts import AccountError, numbers_move_to_subaccount


class Command(BaseCommand):
    help = "Give agencies a Twilio subaccount each and move their numbers into it."

    def add_arguments(self, parser):
        parser.add_argument("--agency", action="append", default=[], help="an agency's slug (repeatable)")
        parser.add_argument("--all", action="store_true", help="every agency without an account of its own")
        parser.add_argument("--dry-run", action="store_true", help="say what would be done, do nothing")

    def handle(self, *args, agency, all, dry_run, **options):  # noqa: A002 - the option's name
        if not agency and not all:
            raise CommandError("Name agencies with --agency SLUG, or pass --all.")
        agencies = Agency.objects.all() if all else Agency.objects.filter(slug__in=agency)
        missing = set(agency) - set(agencies.values_list("slug", flat=True))
        if missing:
            raise CommandError(f"No such agency: {', '.join(sorted(missing))}")
        own = set(
            TwilioAccount.objects.filter(kind=TwilioAccount.Kind.OWN).values_list("agency_id", flat=True)
        )
        for one in agencies.order_by("slug"):
            if one.pk in own:
                self.stdout.write(f"{one.slug}: on its own Twilio account, left alone")
                continue
            if dry_run:
                self.stdout.write(f"{one.slug}: would get a subaccount and its clients' numbers")
                continue
            try:
                moved = numbers_move_to_subaccount(agency=one)
            except AccountError as exc:
                raise CommandError(f"{one.slug}: {exc}") from exc
            sid = TwilioAccount.objects.get(agency=one).account_sid
            self.stdout.write(f"{one.slug}: subaccount {sid}, {len(moved)} number(s) moved {' '.join(moved)}")
