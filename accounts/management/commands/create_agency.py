from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Agency
from accounts.services import agency_create

from ._validation import command_error

FLAGS = {"slug": "--slug", "name": "--name", "email": "--admin-email", "password": "--admin-password"}


class Command(BaseCommand):
    help = "Create an agency and its first admin."

    def add_arguments(self, parser):
        parser.add_argument("--slug", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--admin-password", required=True)

    def handle(self, *args, slug, name, admin_email, admin_password, **options):
        if Agency.objects.filter(slug=slug).exists():
            raise CommandError(f"--slug: an agency with slug “{slug}” already exists.")
        try:
            agency = agency_create(
                slug=slug, name=name, admin_email=admin_email, admin_password=admin_password
            )
        except ValidationError as exc:
            raise command_error(exc, FLAGS) from None
        self.stdout.write(f"Created agency {agency.slug} ({agency.name}); admin {admin_email}")
