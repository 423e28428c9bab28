"""How long a new client takes to get its schema: cloning the template vs running every migration.

    .venv/bin/python bench/tenant_creation.py [--runs 7]

Uses DATABASE_URL (the development database); every schema and row it makes is removed again.
"""

import argparse
import time

from _common import django_setup, report, summary_ms

django_setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from accounts.models import Agency, Client  # noqa: E402
from accounts.schemas import client_schema_create, client_schema_drop, template_schema_ensure  # noqa: E402
from accounts.services import agency_create, client_create, client_provision  # noqa: E402


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def by_migrations(schema: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA "{schema}"')
    call_command("migrate_schemas", schema_name=schema, tenant=True, interactive=False, verbosity=0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    template_schema_ensure()  # not part of any timing: it is made once per migration change
    clone, migrate, create = [], [], []
    for i in range(args.runs):
        schema = f"bench_clone_{i}"
        client_schema_drop(schema)
        clone.append(timed(lambda s=schema: client_schema_create(s)))
        client_schema_drop(schema)
    for i in range(max(3, args.runs // 2)):
        schema = f"bench_migrate_{i}"
        client_schema_drop(schema)
        migrate.append(timed(lambda s=schema: by_migrations(s)))
        client_schema_drop(schema)

    agency = Agency.objects.filter(slug="bench-agency").first() or agency_create(
        slug="bench-agency", name="Bench Agency", admin_email="bench@bench.test", admin_password=None
    )
    for i in range(args.runs):
        slug = f"bench-client-{i}"

        def create_and_provision(slug=slug, i=i):
            client = client_create(
                agency=agency,
                slug=slug,
                name=f"Bench {i}",
                timezone_name="UTC",
                phone_number=f"+1312555{8000 + i:04d}",
                forward_to="+13125559999",
            )
            client_provision(client=client)

        create.append(timed(create_and_provision))
    for client in Client.objects.filter(agency=agency):
        client_schema_drop(client.schema_name)
        client.delete()
    agency.delete()

    rows = [
        {"how": "clone template schema", **summary_ms(clone)},
        {"how": "run every migration", **summary_ms(migrate)},
        {"how": "create + provision (service)", **summary_ms(create)},
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname = %s", [template_schema_ensure()])
        tables = cursor.fetchone()[0]
    print(f"client schema: {tables} tables\n")
    report(
        "tenant_creation",
        rows,
        ["how", "n", "median_ms", "p95_ms", "min_ms", "max_ms"],
        {"client_schema_tables": tables},
    )


if __name__ == "__main__":
    main()
