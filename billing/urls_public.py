"""The billing app's pages on the platform host (and agencies' own domains), mounted by config/urls_public.py."""

from django.urls import path

from . import connect_views, converters, views  # noqa: F401 - converters registers <month:…> and <fmt:…>

app_name = "billing"
urlpatterns = [
    path("", views.overview, name="overview"),
    # Stripe Connect: the agency's Payments page, and where Stripe sends its admin back (one fixed address).
    path("stripe/return/", connect_views.stripe_connect_return, name="stripe-return"),
    path("<slug:agency>/stripe/", connect_views.stripe_page, name="stripe"),
    path("<slug:agency>/stripe/connect/", connect_views.stripe_connect_start, name="stripe-connect"),
    path("<slug:agency>/stripe/disconnect/", connect_views.stripe_disconnect, name="stripe-disconnect"),
    path(
        "<slug:agency>/stripe/invoices/<int:pk>/retry/",
        connect_views.stripe_invoice_retry,
        name="stripe-invoice-retry",
    ),
    path("<slug:agency>/<month:month>/", views.agency_statement, name="agency-statement"),
    path("<slug:agency>/<month:month>.<fmt:fmt>", views.agency_statement, name="agency-statement-file"),
    path("<slug:agency>/clients/<slug:client>/price/", views.client_price, name="client-price"),
    path(
        "<slug:agency>/clients/<slug:client>/<month:month>/", views.client_statement, name="client-statement"
    ),
    path(
        "<slug:agency>/clients/<slug:client>/<month:month>.<fmt:fmt>",
        views.client_statement,
        name="client-statement-file",
    ),
]
