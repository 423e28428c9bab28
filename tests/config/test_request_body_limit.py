"""A request body over REQUEST_BODY_MAX_BYTES is refused on its Content-Length, before any of it is read, on every
host (config.middleware.RequestBodyLimitMiddleware): the same limit as the reverse proxy's."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from messaging.models import Message
from tests.inbox.conftest import add_conversation

pytestmark = pytest.mark.django_db

CALLER = "+13125550188"
TOO_LARGE = str(settings.REQUEST_BODY_MAX_BYTES + 1)


def test_a_staff_reply_larger_than_the_limit_is_413_and_sends_nothing(web, personas):
    conversation = add_conversation(personas.acme, name="Jane", number=CALLER)
    owner = web("acme.localhost", personas.alice)
    upload = SimpleUploadedFile("part.png", b"\x89PNG" + b"\x00" * 100, content_type="image/png")
    response = owner.post(
        f"/inbox/{conversation.pk}/reply/",
        {"body": "Is this the part?", "photo": upload},
        CONTENT_LENGTH=TOO_LARGE,
    )
    assert response.status_code == 413
    assert "at most 80 MiB" in response.content.decode()
    with schema_context(personas.acme.schema_name):
        assert not Message.objects.filter(conversation=conversation, kind=Message.Kind.REPLY).exists()


def test_a_webhook_larger_than_the_limit_is_413(web):
    response = web("localhost").post("/hooks/twilio/sms/", {"Body": "hi"}, CONTENT_LENGTH=TOO_LARGE)
    assert response.status_code == 413


def test_the_reverse_proxy_refuses_the_same_size():
    caddyfile = (Path(__file__).resolve().parents[2] / "deploy" / "Caddyfile").read_text()
    size = re.search(r"max_size (\d+)MiB", caddyfile)
    assert size is not None and int(size[1]) * 1024 * 1024 == settings.REQUEST_BODY_MAX_BYTES
