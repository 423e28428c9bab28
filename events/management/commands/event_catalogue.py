from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from events.catalogue import README_END, README_START, markdown_table, readme_with_table


class Command(BaseCommand):
    help = (
        "Print the catalogue of domain events and their subscribers as the README's Markdown table; with "
        "--write, put it in README.md between its markers."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--write",
            action="store_true",
            help=f"Replace README.md's table (between {README_START.strip()} and {README_END}).",
        )

    def handle(self, *args, **options):
        if not options["write"]:
            self.stdout.write(markdown_table(), ending="")
            return
        readme = Path(settings.BASE_DIR) / "README.md"
        before = readme.read_text()
        after = readme_with_table(before)
        if after == before:
            self.stdout.write("README.md's table is the catalogue already.")
        else:
            readme.write_text(after)
            self.stdout.write("README.md's table of domain events rewritten from the catalogue.")
