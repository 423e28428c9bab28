"""Client schemas: cloned from the template, complete, and sealed off from each other."""

import uuid

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import connection
from django_tenants.utils import schema_context, schema_exists

from accounts import schemas
from accounts.models import Client
from accounts.services import client_create, client_provision

pytestmark = pytest.mark.django_db


def _tables(schema: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema])
        return {row[0] for row in cursor.fetchall()}


def _client_side_tables() -> set[str]:
    """Every table a client schema must have: the models of TENANT_APPS, less split apps' public ones."""
    tables = set()
    for label in settings.TENANT_APPS:
        for model in apps.get_app_config(label.rsplit(".", 1)[-1]).get_models():
            name = f"{model._meta.app_label}.{model._meta.model_name}"
            if model._meta.managed and name not in settings.SPLIT_APPS_PUBLIC_MODELS:
                tables.add(model._meta.db_table)
    return tables | {"django_migrations"}


def _new_client(personas, slug="fresh") -> Client:
    client = client_create(
        agency=personas.northwind,
        slug=slug,
        name="Fresh Paint",
        timezone_name="Europe/London",
        phone_number="+13125550199",
        forward_to="+13125550198",
    )
    return client_provision(client=client)


def test_provisioning_clones_the_template_into_a_live_schema_with_every_client_table(personas):
    client = _new_client(personas)
    assert client.status == Client.Status.LIVE
    assert schema_exists(client.schema_name)
    assert _tables(client.schema_name) == _client_side_tables()
    # ...and none of the public ones, which would shadow public's on the search path.
    assert "accounts_client" not in _tables(client.schema_name)


def test_a_clone_is_as_migrated_as_the_template(personas):
    client = _new_client(personas)
    query = 'SELECT app, name FROM "{}".django_migrations ORDER BY app, name'
    with connection.cursor() as cursor:
        cursor.execute(query.format(settings.TENANT_BASE_SCHEMA))
        template = cursor.fetchall()
        cursor.execute(query.format(client.schema_name))
        assert cursor.fetchall() == template
    assert {tuple(row) for row in template} >= schemas._migrations_on_disk()


def test_a_stale_template_is_migrated_before_it_is_cloned(personas):
    with connection.cursor() as cursor:
        cursor.execute(
            f'DELETE FROM "{settings.TENANT_BASE_SCHEMA}".django_migrations WHERE app = %s', ["sessions"]
        )
    assert not schemas._template_is_current(settings.TENANT_BASE_SCHEMA)
    _new_client(personas)
    assert schemas._template_is_current(settings.TENANT_BASE_SCHEMA)


def test_a_failed_provisioning_is_recorded_and_can_be_retried(personas, monkeypatch):
    client = client_create(
        agency=personas.northwind,
        slug="retry",
        name="Retry Co",
        timezone_name="UTC",
        phone_number="+13125550188",
        forward_to="+13125550187",
    )

    def broken(schema_name):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("accounts.services.client_schema_create", broken)
    with pytest.raises(RuntimeError):
        client_provision(client=client)
    client.refresh_from_db()
    assert client.status == Client.Status.FAILED
    assert client.provisioning_error == "the database went away"
    monkeypatch.undo()
    assert client_provision(client=client).status == Client.Status.LIVE


def test_one_clients_rows_are_invisible_to_another(personas):
    with schema_context(personas.acme.schema_name):
        ContentType.objects.create(app_label="probe", model="only_in_acme")
        assert ContentType.objects.filter(app_label="probe").count() == 1
    with schema_context(personas.bolt.schema_name):
        assert not ContentType.objects.filter(app_label="probe").exists()


def test_cache_keys_are_per_client(personas):
    key = f"greeting-{uuid.uuid4()}"
    with schema_context(personas.acme.schema_name):
        cache.set(key, "acme's", 30)
    with schema_context(personas.bolt.schema_name):
        assert cache.get(key) is None
        cache.set(key, "bolt's", 30)
    with schema_context(personas.acme.schema_name):
        assert cache.get(key) == "acme's"
    assert cache.get(key) is None  # nor does the public schema see either


def _structure(schema: str) -> dict[str, list]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, replace(indexdef, %s, 'X') FROM pg_indexes WHERE schemaname = %s ORDER BY 1",
            [f"{schema}.", schema],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conrelid::regclass::text LIKE '%%.%%', conname, contype, "
            "replace(pg_get_constraintdef(oid), %s, 'X') FROM pg_constraint "
            "WHERE connamespace = %s::regnamespace ORDER BY 2",
            [f"{schema}.", schema],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT table_name, column_name, data_type, is_nullable, column_default, is_identity "
            "FROM information_schema.columns WHERE table_schema = %s ORDER BY 1, 2",
            [schema],
        )
        columns = cursor.fetchall()
    return {"indexes": indexes, "constraints": constraints, "columns": columns}


def test_a_clone_has_the_templates_indexes_and_constraints_under_the_same_names(personas):
    client = _new_client(personas)
    assert _structure(client.schema_name) == _structure(settings.TENANT_BASE_SCHEMA)


def test_a_clones_ids_continue_after_the_copied_rows(personas):
    client = _new_client(personas)
    with schema_context(client.schema_name):
        highest = ContentType.objects.order_by("-pk").first().pk
        assert ContentType.objects.create(app_label="probe", model="new").pk > highest
