"""Close a billing month: store the statements of every agency (or one) for a month that has ended."""

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Agency
from billing.months import current_month, month_parse, previous_month
from billing.selectors import agency_time_zone
from billing.services import MonthNotOver, statements_close


class Command(BaseCommand):
    help = "Store the month's statements (immutable from then on). Default: the month before the current one."

    def add_arguments(self, parser):
        parser.add_argument("--month", help="YYYY-MM")
        parser.add_argument("--agency", help="The agency's slug (default: every agency)")

    def handle(self, *args, month=None, agency=None, **options):
        if month is not None and month_parse(month) is None:
            raise CommandError(f"--month must be YYYY-MM, not {month!r}.")
        agencies = Agency.objects.all()
        if agency is not None:
            agencies = agencies.filter(slug=agency)
            if not agencies.exists():
                raise CommandError(f"No agency {agency!r}.")
        for each in agencies:
            month_date = (
                month_parse(month) if month else previous_month(current_month(agency_time_zone(agency=each)))
            )
            try:
                stored = statements_close(agency=each, month=month_date)
            except MonthNotOver as exc:
                raise CommandError(f"{each.slug}: {exc}") from None
            total = sum((s.total for s in stored if s.kind == "platform"), start=0)
            self.stdout.write(
                f"{each.slug} {month_date:%Y-%m}: {len(stored)} statements, platform total {total}"
            )
