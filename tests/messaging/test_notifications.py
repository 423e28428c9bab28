"""The business hears about a reply: everyone on the client gets an email with the text and where to answer."""

import pytest
from django_tenants.utils import schema_context

from messaging.services import inbound_receive
from messaging.tasks import notify_reply

pytestmark = pytest.mark.django_db


def test_a_reply_is_emailed_to_the_clients_people(personas, mailoutbox):
    with schema_context(personas.acme.schema_name):
        message = inbound_receive(client=personas.acme, sid="SMnotify1", from_number="+13125550155",
                                  body="Can you come fix a burst pipe today?")
        sent = notify_reply(personas.acme.pk, message.pk)
    assert sent == 1
    [email] = mailoutbox
    assert sorted(email.to) == ["alice@acme.test", "bob@acme.test"]
    assert "replied to Acme Plumbing" in email.subject
    assert "Can you come fix a burst pipe today?" in email.body
    assert "http://acme.localhost:8000/" in email.body
