"""Re-encrypt every stored Twilio auth token with the newest key in CREDENTIALS_KEYS (README: "Twilio accounts")."""

from django.core.management.base import BaseCommand

from messaging.twilio_accounts import credentials_rotate


class Command(BaseCommand):
    help = "Re-encrypt stored Twilio credentials with the first key of CREDENTIALS_KEYS."

    def handle(self, *args, **options):
        count = credentials_rotate()
        self.stdout.write(
            f"{count} account(s) re-encrypted with the newest key; the older keys may now be removed."
        )
