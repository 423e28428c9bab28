"""Client schemas: the migrated template they are cloned from, and the cloning.

Running every migration for each new client takes seconds and grows with the project; cloning a migrated,
empty template schema takes a fraction of that (bench/tenant_creation.py measures both). The template must be
exactly as migrated as a fresh client would be, or a clone would claim migrations it does not have, so every
clone first checks the template against the migrations on disk and migrates it when it is behind.
"""

import contextlib
import functools
import logging
import re

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from django_tenants.utils import schema_exists, tenant_context

from config.db import tenant_connection

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
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f'"{schema}".django_migrations'])
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
    tenant_connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [_TEMPLATE_LOCK_KEY])
    try:
        if not _template_is_current(schema):  # another process may have done it while we waited
            log.info("Migrating the client template schema %s", schema)
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            call_command("migrate_schemas", schema_name=schema, tenant=True, interactive=False, verbosity=0)
    finally:
        tenant_connection.set_schema_to_public()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_TEMPLATE_LOCK_KEY])
    return schema


class TemplateNotClonable(RuntimeError):
    """The template holds something the cloner does not copy (a view, function, trigger, loose sequence)."""


def _clone_statements(template: str, target: str) -> list[str]:
    """The DDL that makes `target` a copy of `template`: tables with their defaults, CHECK and NOT NULL
    constraints and identity columns (LIKE), then primary keys, unique constraints and indexes under their
    original names (later migrations drop them by name), then foreign keys, then the rows (django_migrations,
    contenttypes). The catalog prints references inside the template as `template.name` (it is never on the
    search path here); those are pointed at the target, while references to public tables stay as they are."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", template) or not re.fullmatch(r"[a-z_][a-z0-9_]*", target):
        raise ValueError("schema names must be plain lowercase identifiers")
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FILTER (WHERE c.relkind IN ('v', 'm', 'f')),
                   (SELECT count(*) FROM pg_proc p WHERE p.pronamespace = n.oid),
                   (SELECT count(*) FROM pg_trigger t JOIN pg_class tc ON tc.oid = t.tgrelid
                     WHERE tc.relnamespace = n.oid AND NOT t.tgisinternal),
                   count(*) FILTER (WHERE c.relkind = 'S' AND NOT EXISTS (
                     SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('i', 'a')))
              FROM pg_namespace n LEFT JOIN pg_class c ON c.relnamespace = n.oid
             WHERE n.nspname = %s GROUP BY n.oid
            """,
            [template],
        )
        views, functions, triggers, sequences = cursor.fetchone()
        if views or functions or triggers or sequences:
            raise TemplateNotClonable(
                f"{template} has {views} views, {functions} functions, {triggers} triggers and {sequences} "
                "free sequences; accounts.schemas clones tables, indexes and constraints only"
            )
        cursor.execute(
            """
            SELECT c.relname,
                   string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
                     FILTER (WHERE a.attgenerated = ''),
                   max(a.attname) FILTER (WHERE a.attidentity <> '')
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             WHERE n.nspname = %s AND c.relkind IN ('r', 'p')
             GROUP BY c.relname ORDER BY c.relname
            """,
            [template],
        )
        tables = cursor.fetchall()
        cursor.execute(
            """
            SELECT t.relname, quote_ident(k.conname), pg_get_constraintdef(k.oid), k.contype
              FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid
             WHERE k.connamespace = %s::regnamespace AND k.contype IN ('p', 'u', 'x', 'f')
             ORDER BY k.contype = 'f', k.conname
            """,
            [template],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            """
            SELECT pg_get_indexdef(i.indexrelid)
              FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
             WHERE c.relnamespace = %s::regnamespace
               AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
             ORDER BY c.relname
            """,
            [template],
        )
        indexes = [row[0] for row in cursor.fetchall()]

    src, dst = f'"{template}"', f'"{target}"'

    def retarget(sql: str) -> str:
        return sql.replace(f"{template}.", f"{dst}.")

    like = "INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY INCLUDING GENERATED INCLUDING STORAGE"
    statements = [f"CREATE SCHEMA {dst}", f"SET LOCAL search_path TO {dst}, public"]
    statements += [f'CREATE TABLE "{name}" (LIKE {src}."{name}" {like})' for name, _, _ in tables]
    statements += [
        f'ALTER TABLE "{table}" ADD CONSTRAINT {name} {retarget(definition)}'
        for table, name, definition, kind in constraints
        if kind != "f"
    ]
    statements += [retarget(index) for index in indexes]
    statements += [
        f'ALTER TABLE "{table}" ADD CONSTRAINT {name} {retarget(definition)}'
        for table, name, definition, kind in constraints
        if kind == "f"
    ]
    for name, columns, _ in tables:
        statements.append(
            f'INSERT INTO "{name}" ({columns}) OVERRIDING SYSTEM VALUE SELECT {columns} FROM {src}."{name}"'
        )
    # The copy's identity sequences are new and start at 1; move each past the rows just copied.
    for name, _, identity in tables:
        if identity:
            statements.append(
                f"SELECT setval(pg_get_serial_sequence('{dst}.\"{name}\"', '{identity}'), "
                f'COALESCE((SELECT max("{identity}") FROM "{name}"), 0) + 1, false)'
            )
    statements.append("SET LOCAL search_path TO public")
    return statements


@transaction.atomic
def client_schema_create(schema_name: str) -> None:
    """Copy the template into a new schema, in one transaction.

    django-tenants ships a general clone_schema() SQL function; it took about 2.5 s on a two-table schema here
    (bench/tenant_creation.py), longer than running the migrations. Our schemas hold only what Django
    migrations make, so this copies just that, and refuses a template with anything else in it. The template's
    django_migrations rows come along, so the copy is exactly as migrated as the template."""
    template = template_schema_ensure()
    with connection.cursor() as cursor:
        cursor.execute(";\n".join(_clone_statements(template, schema_name)))
    tenant_connection.set_schema_to_public()


def client_schema_drop(schema_name: str) -> None:
    tenant_connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{schema_name}" CASCADE')


def in_schema_of(client):
    """tenant_context(client), minus its two search_path changes when the connection is in the client's schema
    already (as a task is: tenant-schemas-celery runs it in the schema it was queued from)."""
    if tenant_connection.schema_name == client.schema_name:
        return contextlib.nullcontext()
    return tenant_context(client)
