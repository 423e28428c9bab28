"""bench/tenants_at_scale.py's migration roll-out: its settings plus a throwaway tenant app with one migration
(bench.scale_app), so that `migrate_schemas` has a new migration to apply to every client schema."""

from bench.settings_scale import *  # noqa: F403

TENANT_APPS = [*TENANT_APPS, "bench.scale_app"]  # noqa: F405
INSTALLED_APPS = [*INSTALLED_APPS, "bench.scale_app"]  # noqa: F405
