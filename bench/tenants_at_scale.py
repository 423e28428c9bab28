"""10,000 clients on one PostgreSQL: what creating, migrating and serving them costs.

    .venv/bin/python bench/tenants_at_scale.py [--clients 10000] [--agencies 50] [--jobs 2] [--hosts 1000]
        [--skip-migration]

Uses a database of its own, `textback_scale` (created and migrated when missing; kept between runs, so a second
run only tops the clients up: creating 10,000 schemas takes a while). Clients are spread over --agencies
agencies; each is a real client (its row, its host, its schema cloned from the template by
accounts.schemas.client_schema_create, in --jobs processes at once). Then, with every schema in place:

- creating client N+1 through the services a person's click runs (client_create, then client_provision);
- a new migration across every schema: a throwaway app (bench.scale_app, one table) is added to the tenant apps
  and `migrate_schemas --executor multiprocessing` applies it to each schema, then it is rolled back the same
  way (both timed; see the README's "10,000 clients" for rolling a migration out without downtime);
- the agency dashboard of the biggest agency and the operator's client list (Django admin, 10,000 rows paged),
  each through the whole middleware stack in this process (median of a few runs, and the query count);
- one gunicorn worker serving a client page on --hosts different client hosts: its memory after 10, 100 and all
  of them (it must not grow with the number of schemas touched);
- PostgreSQL's catalog: relations, the size of pg_class and pg_attribute, and the database.
Results go to bench/results/tenants_at_scale.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import _stack
from _common import report

DB = "textback_scale"
ROOT = Path(__file__).resolve().parent.parent
AGENCY_SLUG = "scale-agency-{:03d}"


def env(**extra: str) -> dict[str, str]:
    return _stack.base_env(DATABASE_URL=f"postgres:///{DB}", REDIS_URL="redis://127.0.0.1:6379/6", **extra)


def setup_django(settings_module: str = "bench.settings_scale") -> None:
    os.environ.update(env(DJANGO_SETTINGS_MODULE=settings_module))
    import django

    django.setup()


def ensure_database() -> None:
    import psycopg

    with psycopg.connect(dbname="postgres", autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB]).fetchone():
            admin.execute(f'CREATE DATABASE "{DB}"')
    # The public schema only: `migrate` would visit every client schema, which with thousands of them takes
    # many minutes even when nothing is pending (the template, which new clients are cloned from, is brought up
    # to date by populate). How long that visit takes is what the migration roll-out below measures.
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "manage.py", "migrate_schemas", "--shared", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env(),
        check=True,
    )
    print(f"migrated the public schema in {time.perf_counter() - started:.1f}s", flush=True)


def _clone(schemas: list[str]) -> float:
    """In a worker process: clone the template into each schema (skipping those that exist)."""
    setup_django()
    from django.db import connection

    from accounts.schemas import client_schema_create

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s)", [schemas])
        present = {row[0] for row in cursor.fetchall()}
    for schema in schemas:
        if schema not in present:
            client_schema_create(schema)
    return time.perf_counter() - started


def populate(count: int, agencies: int, jobs: int) -> dict:
    """Client rows, hosts and schemas up to `count`; → what it took."""
    from django.db import connection
    from django.utils import timezone

    from accounts.models import Agency, Client, Domain
    from accounts.schemas import template_schema_ensure

    template_schema_ensure()
    for a in range(agencies):
        Agency.objects.get_or_create(slug=AGENCY_SLUG.format(a), defaults={"name": f"Scale Agency {a:03d}"})
    by_slug = {agency.slug: agency for agency in Agency.objects.filter(slug__startswith="scale-agency-")}
    have = set(Client.objects.filter(slug__startswith="scale-").values_list("slug", flat=True))
    new = []
    for i in range(count):
        slug = f"scale-{i:05d}"
        if slug not in have:
            new.append(
                Client(
                    agency=by_slug[AGENCY_SLUG.format(i % agencies)],
                    slug=slug,
                    name=f"Scale {i:05d}",
                    schema_name=Client.schema_name_for(slug),
                    status=Client.Status.LIVE,
                    timezone="America/Chicago",
                    phone_number=f"+1646{i:07d}",
                    went_live_at=timezone.now(),
                )
            )
    Client.objects.bulk_create(new, batch_size=1000)
    made = Client.objects.filter(slug__in=[client.slug for client in new])
    Domain.objects.bulk_create(
        [Domain(domain=client.host, tenant=client, is_primary=True) for client in made], batch_size=1000
    )
    schemas = list(
        Client.objects.filter(slug__startswith="scale-")
        .order_by("slug")
        .values_list("schema_name", flat=True)
    )
    connection.close()
    chunks = [schemas[i : i + 100] for i in range(0, len(schemas), 100)]
    started = time.perf_counter()
    done = 0
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for _ in pool.map(_clone, chunks):
            done += 1
            if done % 10 == 0:
                print(f"  schemas: {min(done * 100, len(schemas))}/{len(schemas)}", flush=True)
    return {
        "clients": len(schemas),
        "new_clients": len(new),
        "schemas_seconds": round(time.perf_counter() - started, 1),
    }


def timed_ms(fn, runs: int = 5) -> tuple[float, int]:
    """Median wall ms of fn() and the queries its last run made."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            fn()
            times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1), len(queries)


def one_more_client(n: int) -> float:
    from accounts.models import Agency, Client
    from accounts.services import client_create, client_provision

    agency = Agency.objects.get(slug=AGENCY_SLUG.format(0))
    slug = f"scale-extra-{int(time.time())}"
    Client.objects.filter(phone_number=f"+1646555{n % 10000:04d}").update(phone_number=None)  # a rerun's
    started = time.perf_counter()
    client = client_create(
        agency=agency,
        slug=slug,
        name=f"Scale extra {n}",
        timezone_name="America/Chicago",
        phone_number=f"+1646555{n % 10000:04d}",
        forward_to="+13125559999",
    )
    client_provision(client=client)
    return round(time.perf_counter() - started, 2)


def pages() -> list[dict]:
    from django.test import Client as HttpClient

    from accounts.models import Agency, AgencyMembership, User

    agency = Agency.objects.get(slug=AGENCY_SLUG.format(0))
    staff, _ = User.objects.get_or_create(email="scale-staff@bench.test")
    AgencyMembership.objects.get_or_create(user=staff, agency=agency, defaults={"role": "staff"})
    operator, _ = User.objects.get_or_create(email="scale-operator@bench.test", defaults={"is_staff": True})
    User.objects.filter(pk=operator.pk).update(is_staff=True, is_superuser=True)
    operator.refresh_from_db()
    rows = []
    browser = HttpClient(HTTP_HOST="localhost")
    browser.force_login(staff)
    ms, queries = timed_ms(lambda: browser.get("/"))
    rows.append(
        {"page": f"agency dashboard ({agency.clients.count()} clients)", "median_ms": ms, "queries": queries}
    )
    admin = HttpClient(HTTP_HOST="localhost")
    admin.force_login(operator)
    # An operator's session counts once a second factor was verified; the bench marks it so, as the tests do.
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import Client

    device, _ = TOTPDevice.objects.get_or_create(user=operator, name="Bench", defaults={"confirmed": True})
    session = admin.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()

    response = admin.get("/admin/accounts/client/")
    if response.status_code == 200:
        ms, queries = timed_ms(lambda: admin.get("/admin/accounts/client/"))
        rows.append(
            {
                "page": f"operator's client list ({Client.objects.count()} clients)",
                "median_ms": ms,
                "queries": queries,
            }
        )
    else:
        rows.append(
            {
                "page": f"operator's client list: answered {response.status_code}",
                "median_ms": None,
                "queries": None,
            }
        )
    return rows


def migration_rollout(jobs: int) -> dict:
    """Apply the throwaway app's one migration to every schema, then roll it back (both through
    migrate_schemas with the multiprocessing executor)."""
    run_env = env(DJANGO_SETTINGS_MODULE="bench.settings_scale_migration")
    timings = {}
    for label, target in (("apply", []), ("roll back", ["scale_app", "zero"])):
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "manage.py",
                "migrate_schemas",
                *target,
                "--tenant",
                "--executor",
                "multiprocessing",
                "--noinput",
                "-v",
                "0",
            ],
            cwd=ROOT,
            env={**run_env, "TENANT_MULTIPROCESSING_MAX_PROCESSES": str(jobs)},
            check=True,
        )
        timings[label] = round(time.perf_counter() - started, 1)
    return timings


def web_memory(hosts: int) -> list[dict]:
    """One gunicorn worker, a client page on `hosts` different client hosts: its RSS as it goes."""
    import urllib.request

    from accounts.models import Client

    slugs = list(
        Client.objects.filter(slug__startswith="scale-0")
        .order_by("slug")
        .values_list("slug", flat=True)[:hosts]
    )
    port = _stack.free_port()
    stack = _stack.Stack(
        env(PUBLIC_BASE_URL=f"http://localhost:{port}", DJANGO_SETTINGS_MODULE="bench.settings_scale")
    )
    rows = []
    try:
        stack.start_web(port=port, workers=1, threads=1, worker_class="sync")
        worker = int(
            subprocess.run(
                ["pgrep", "-P", str(stack.processes["web"].pid)], capture_output=True, text=True
            ).stdout.split()[0]
        )

        def rss_mb() -> float:
            with open(f"/proc/{worker}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        return round(int(line.split()[1]) / 1024, 1)
            return 0.0

        marks = {10, 100, len(slugs)}
        for n, slug in enumerate(slugs, 1):
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/accounts/login/", headers={"Host": f"{slug}.localhost"}
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
            if n in marks:
                rows.append({"hosts served": n, "worker RSS MB": rss_mb()})
    finally:
        stack.close()
    return rows


def catalog() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM pg_class), pg_size_pretty(pg_total_relation_size('pg_class')), "
            "pg_size_pretty(pg_total_relation_size('pg_attribute')), pg_size_pretty(pg_database_size(%s)), "
            "(SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'c\\_%%')",
            [DB],
        )
        relations, pg_class, pg_attribute, database, schemas = cursor.fetchone()
    return {
        "schemas": schemas,
        "relations": relations,
        "pg_class": pg_class,
        "pg_attribute": pg_attribute,
        "database": database,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--agencies", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=2, help="processes cloning schemas and migrating")
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--skip-migration", action="store_true")
    parser.add_argument(
        "--measure-only",
        action="store_true",
        help="measure what is there (client rows and however many schemas were cloned so far); clone nothing",
    )
    args = parser.parse_args()

    ensure_database()
    setup_django()
    load_before = os.getloadavg()[0]
    if args.measure_only:
        from accounts.models import Client
        from accounts.schemas import template_schema_ensure

        template_schema_ensure()
        made = {
            "clients": Client.objects.filter(slug__startswith="scale-").count(),
            "new_clients": 0,
            "schemas_seconds": 0,
        }
    else:
        made = populate(args.clients, args.agencies, args.jobs)
    print(
        f"{made['clients']} clients ({made['new_clients']} new; schemas in {made['schemas_seconds']}s)",
        flush=True,
    )
    extra = one_more_client(args.clients + 1)
    print(f"client {made['clients'] + 1}: created and live in {extra}s", flush=True)
    page_rows = pages()
    migration = {} if args.skip_migration else migration_rollout(args.jobs)
    if migration:
        print(f"a one-table migration across every schema: {migration}", flush=True)
    memory = web_memory(args.hosts)
    sizes = catalog()
    rows = [
        {"measure": "create client N+1 (create + provision)", "value": f"{extra} s", "target": "< 2 s"},
        *(
            {
                "measure": row["page"],
                "value": f"{row['median_ms']} ms, {row['queries']} queries",
                "target": "< 300 ms",
            }
            for row in page_rows
        ),
        *(
            {
                "measure": f"migration across {made['clients']} schemas: {label}",
                "value": f"{seconds} s",
                "target": "",
            }
            for label, seconds in migration.items()
        ),
        *(
            {
                "measure": f"web worker after {row['hosts served']} client hosts",
                "value": f"{row['worker RSS MB']} MB",
                "target": "flat",
            }
            for row in memory
        ),
        *({"measure": f"catalog: {key}", "value": str(value), "target": ""} for key, value in sizes.items()),
    ]
    print(f"load average before: {load_before:.2f}")
    report(
        "tenants_at_scale",
        rows,
        ["measure", "value", "target"],
        {
            "populate": made,
            "pages": page_rows,
            "migration_seconds": migration,
            "memory": memory,
            "catalog": sizes,
        },
    )


if __name__ == "__main__":
    main()
