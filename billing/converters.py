"""Path converters for billing URLs, registered once here (both hosts' URLconfs import this module)."""

from django.urls import register_converter


class MonthConverter:
    """YYYY-MM; a month that does not exist (2026-13) is a 404 from the view."""

    regex = r"\d{4}-\d{2}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class FormatConverter:
    regex = "csv|pdf"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(MonthConverter, "month")
register_converter(FormatConverter, "fmt")
