"""config.db.insert_unless_exists: one INSERT … ON CONFLICT DO NOTHING, saying whether it inserted."""

import pytest
from django_tenants.utils import schema_context

from config.db import insert_unless_exists
from crm.models import Contact

pytestmark = pytest.mark.django_db


def test_the_first_insert_writes_the_row_and_the_second_finds_it_there(personas):
    with schema_context(personas.acme.schema_name):
        first = Contact(phone_number="+13125550999", name="Maria")
        assert insert_unless_exists(first) is True
        assert first.pk is not None
        assert Contact.objects.get(pk=first.pk).name == "Maria"

        again = Contact(phone_number="+13125550999", name="Someone else")
        assert insert_unless_exists(again) is False
        assert again.pk is None
        assert list(Contact.objects.filter(phone_number="+13125550999").values_list("name", flat=True)) == [
            "Maria"
        ]
