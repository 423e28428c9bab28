from django.core.management.base import BaseCommand

from events.catalogue import markdown_table


class Command(BaseCommand):
    help = "Print the catalogue of domain events and their subscribers as the README's Markdown table."

    def handle(self, *args, **options):
        self.stdout.write(markdown_table(), ending="")
