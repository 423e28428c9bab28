"""Client schemas: the migrated template they are cloned from, and the cloning.

Running every migration for each new client takes seconds and grows with the project; cloning a migrated,
empty template schema takes a fraction of that (bench/tenant_creation.py measures both). The template must be
exactly as migrated as a fresh client would be, or a clone would claim migrations it does not have, so every
clone first checks the template against the migrations on disk and migrates it when it is behind.
"""

import functools
import logging

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django_tenants.clone import CloneSchema
from django_tenants.utils import schema_exists

log = logging.getLogger(__name__)

# Any fixed number: serialises template (re)builds across processes.
_TEMPLATE_LOCK_KEY = 7_416_001


@functools.cache
def _migrations_on_disk() -> frozenset[tuple[str, str]]:
    return frozenset(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)


def _template_is_current(schema: str) -> bool:
    if not schema_exists(schema):
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT to_regclass(%s) IS NOT NULL", [f'"{schema}".django_migrations']
        )
        if not cursor.fetchone()[0]:
            return False
        cursor.execute(f'SELECT app, name FROM "{schema}".django_migrations')
        applied = set(cursor.fetchall())
    return _migrations_on_disk() <= applied


def template_schema_ensure() -> str:
    """Create or migrate the template schema if it is missing or behind; return its name."""
    schema = settings.TENANT_BASE_SCHEMA
    if _template_is_current(schema):
        return schema
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [_TEMPLATE_LOCK_KEY])
    try:
        if not _template_is_current(schema):  # another process may have done it while we waited
            log.info("Migrating the client template schema %s", schema)
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            call_command("migrate_schemas", schema_name=schema, tenant=True, interactive=False, verbosity=0)
    finally:
        connection.set_schema_to_public()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_TEMPLATE_LOCK_KEY])
    return schema


def client_schema_create(schema_name: str) -> None:
    """Clone the template into a new schema. The template's django_migrations rows come along with the
    tables, so the clone is exactly as migrated as the template: no migration runs, none needs faking."""
    template = template_schema_ensure()
    CloneSchema().clone_schema(template, schema_name, clone_mode="DATA")
    connection.set_schema_to_public()


def client_schema_drop(schema_name: str) -> None:
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{schema_name}" CASCADE')
