"""The billing app's pages on the client's host, mounted by config/urls_tenants.py."""

from django.urls import path

from . import converters, views  # noqa: F401 - converters registers <month:…> and <fmt:…>

app_name = "billing"
urlpatterns = [
    path("", views.own_statement, name="own-current"),
    path("<month:month>/", views.own_statement, name="own-statement"),
    path("<month:month>.<fmt:fmt>", views.own_statement, name="own-statement-file"),
]
