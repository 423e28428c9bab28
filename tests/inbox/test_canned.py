"""/inbox/canned/: the replies a business sends often."""

import pytest
from django_tenants.utils import schema_context

from inbox.models import CannedReply

pytestmark = pytest.mark.django_db

HOST = "acme.localhost"


def test_it_adds_lists_and_deletes_canned_replies(web, personas):
    browser = web(HOST, personas.bob)
    response = browser.post(
        "/inbox/canned/", {"title": "On my way", "body": "On my way, see you in 20 minutes!"}
    )
    assert response.status_code == 302
    html = browser.get("/inbox/canned/").content.decode()
    assert "On my way, see you in 20 minutes!" in html
    assert "33 characters · 1 segment · GSM-7" in html
    with schema_context(personas.acme.schema_name):
        canned = CannedReply.objects.get()
    assert browser.post(f"/inbox/canned/{canned.pk}/delete/").status_code == 302
    with schema_context(personas.acme.schema_name):
        assert not CannedReply.objects.exists()


def test_a_canned_reply_needs_a_title_and_text(web, personas):
    response = web(HOST, personas.alice).post("/inbox/canned/", {"title": "", "body": ""})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
