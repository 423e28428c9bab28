"""Middleware that belongs to no app."""

from django.http import HttpResponse


class RejectNulInQueryMiddleware:
    """A query string holding a NUL character is a 400 with the reason.

    PostgreSQL cannot store or compare text containing NUL, and psycopg refuses to send it: a search for it
    would be a 500. Forms and the API's serializers already refuse NUL in what they read (Django's and DRF's
    CharField validators); query strings reach filters and searches without them, so they are checked here."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "%00" in request.META.get("QUERY_STRING", "") and any(
            "\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists()
        ):
            return HttpResponse("Query parameters can't contain NUL characters.", status=400,
                                content_type="text/plain")
        return self.get_response(request)
