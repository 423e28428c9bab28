"""A caller's contact on first sight, in one statement (crm.services.contact_upsert), under webhooks that race."""

import threading

import psycopg
import pytest
from django.db import connection
from django_tenants.utils import schema_context

from crm.models import Contact, Suppression
from crm.services import contact_upsert

pytestmark = pytest.mark.django_db

CALLER = "+13125550166"


def test_a_new_caller_is_created_once_and_found_after(personas):
    with schema_context(personas.acme.schema_name):
        first = contact_upsert(phone_number=CALLER, name="JANE DOE")
        again = contact_upsert(phone_number=CALLER, name="SOMEONE ELSE")
        assert again.pk == first.pk
        assert again.name == "JANE DOE"  # a name is filled once, not overwritten
        assert Contact.objects.filter(phone_number=CALLER).count() == 1


def test_a_known_callers_missing_name_is_filled(personas):
    with schema_context(personas.acme.schema_name):
        contact_upsert(phone_number=CALLER)
        assert contact_upsert(phone_number=CALLER, name="JANE DOE").name == "JANE DOE"
        assert Contact.objects.get(phone_number=CALLER).name == "JANE DOE"


def test_a_number_that_opted_out_before_starts_opted_out(personas):
    with schema_context(personas.acme.schema_name):
        Suppression.objects.create(phone_number=CALLER)
        assert contact_upsert(phone_number=CALLER).opted_out is True


def test_each_new_caller_gets_its_own_opt_out_from_the_statement_compiled_once(personas):
    """The INSERT (with its opt-out check) is compiled on first use and only bound after: each caller's number is
    checked, not the first one's."""
    with schema_context(personas.acme.schema_name):
        Suppression.objects.create(phone_number="+13125550167")
        assert contact_upsert(phone_number=CALLER).opted_out is False
        assert contact_upsert(phone_number="+13125550167").opted_out is True
        assert contact_upsert(phone_number="+13125550168").opted_out is False
        assert dict(Contact.objects.values_list("phone_number", "opted_out")) == {
            CALLER: False,
            "+13125550167": True,
            "+13125550168": False,
        }


def test_a_caller_another_webhook_is_creating_right_now_is_that_contact(personas):
    """Another request inserts the same caller and commits while this one waits on its row: this one cannot see
    the row in the statement that waited, reads it again, and both end with the one contact."""
    db = connection.settings_dict
    options = {k: v for k, v in {"host": db["HOST"], "port": db["PORT"], "user": db["USER"]}.items() if v}
    schema = personas.acme.schema_name
    other = psycopg.connect(dbname=db["NAME"], **options)  # a transaction of its own, not yet committed
    try:
        other.execute(f'SET search_path = "{schema}", public')
        other.execute(
            "INSERT INTO crm_contact (phone_number, name, email, notes, tags, opted_out, is_blocked, "
            "line_type, unreachable, created_at, updated_at) "
            "VALUES (%s, 'THE OTHER', '', '', '{}', false, false, '', false, now(), now())",
            [CALLER],
        )
        committing = threading.Timer(0.5, other.commit)
        committing.start()
        with schema_context(schema):
            contact = contact_upsert(phone_number=CALLER)  # waits for the other transaction's row
        committing.join()
        assert contact is not None
        assert contact.name == "THE OTHER"
        with schema_context(schema):
            assert Contact.objects.filter(phone_number=CALLER).count() == 1
    finally:
        other.rollback()
        other.execute(f'SET search_path = "{schema}", public')
        other.execute("DELETE FROM crm_contact WHERE phone_number = %s", [CALLER])
        other.commit()
        other.close()
