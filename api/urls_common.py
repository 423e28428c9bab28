"""The API's pages, the same on a client's host and an agency's (the view decides whose keys they are)."""

from django.urls import path

from . import views

urlpatterns = [
    path("keys/", views.keys, name="keys"),
    path("keys/<int:key_id>/revoke/", views.key_revoke, name="key-revoke"),
    path("webhooks/", views.webhooks, name="webhooks"),
    path("webhooks/<int:endpoint_id>/", views.webhook, name="webhook"),
    path("webhooks/<int:endpoint_id>/toggle/", views.webhook_toggle, name="webhook-toggle"),
    path("webhooks/<int:endpoint_id>/delete/", views.webhook_delete, name="webhook-delete"),
    path("webhooks/<int:endpoint_id>/test/", views.webhook_test, name="webhook-test"),
    path("connect/", views.connect, name="connect"),
    path("webhooks/deliveries/<int:delivery_id>/replay/", views.delivery_replay, name="delivery-replay"),
]
