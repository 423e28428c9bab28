"""A client's owner reads the change history of an object in their business's settings admin. Object ids repeat
from one client's schema to the next, and Django's admin log is one table for all: the history of Acme's template
no. 1 was also Bolt's. The client admin keeps no history, and its history page does not exist."""

import pytest
from django.contrib.admin.models import LogEntry
from django_tenants.utils import schema_context

from messaging.models import Template

pytestmark = pytest.mark.django_db


def test_an_owner_cannot_read_another_clients_changes_in_the_history(web, personas):
    with schema_context(personas.bolt.schema_name):
        bolts = Template.objects.get(kind="business_hours")
    entries = LogEntry.objects.count()
    changed = web("bolt.localhost", personas.dave).post(
        f"/admin/messaging/template/{bolts.pk}/change/",
        {"body": "Bolt's secret offer, {caller_name}", "is_active": "on"},
    )
    assert changed.status_code == 302
    assert LogEntry.objects.count() == entries  # nothing about Bolt was written where others can read it

    alice = web("acme.localhost", personas.alice)
    history = alice.get(f"/admin/messaging/template/{bolts.pk}/history/")
    assert history.status_code == 404
    assert personas.dave.email not in history.content.decode()
    index = alice.get("/admin/").content.decode()
    assert "Recent actions" not in index and personas.dave.email not in index
