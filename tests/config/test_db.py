"""config.db.insert_unless_exists: one INSERT … ON CONFLICT DO NOTHING, saying whether it inserted."""

import pytest
from django.db.models import Value
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


def test_the_statement_compiled_once_binds_each_rows_own_values(personas):
    with schema_context(personas.acme.schema_name):
        for number, name in [("+13125550997", "Ana"), ("+13125550998", "Bo"), ("+13125550999", "Cy")]:
            assert insert_unless_exists(Contact(phone_number=number, name=name, tags=[name.lower()]))
        assert sorted(Contact.objects.values_list("phone_number", "name", "tags")) == [
            ("+13125550997", "Ana", ["ana"]),
            ("+13125550998", "Bo", ["bo"]),
            ("+13125550999", "Cy", ["cy"]),
        ]


def test_a_value_computed_by_the_insert_is_raw_sql(personas):
    """Its SQL is kept in the statement compiled once, so it must be the same every time: a RawSQL, whose
    params are bound. Any other expression would be compiled into the statement with its values."""
    with schema_context(personas.acme.schema_name), pytest.raises(TypeError, match="RawSQL"):
        insert_unless_exists(Contact(phone_number="+13125550996", name=Value("Ana")))
