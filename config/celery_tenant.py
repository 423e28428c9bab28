"""The class of every Celery task (config.celery_app names it): tenant-schemas-celery's, finding a task's client
its own way."""

import functools

from django.db import connections
from tenant_schemas_celery.task import TenantTask

from accounts.models import Agency, Client
from config.db import columns_of, model_from_row


@functools.cache
def _tenant_sql() -> str:
    """The client whose schema a task runs in, with its agency (written out once, schema-qualified)."""
    columns = [*columns_of(Client, "c"), *columns_of(Agency, "a")]
    return (
        f"SELECT {', '.join(columns)} FROM public.{Client._meta.db_table} c "
        f"JOIN public.{Agency._meta.db_table} a ON a.id = c.agency_id WHERE c.schema_name = %s"
    )


class ClientTask(TenantTask):
    """tenant-schemas-celery's task, finding the client of a task's schema in one statement written out once,
    its agency with it. Its own look-up compiled an ORM query (about a millisecond of CPU) each time the
    client's cached copy (CELERY_TASK_TENANT_CACHE_SECONDS) had expired, which for a client called a few times
    an hour is every missed call's first task; and the tasks that need the agency (the carrier to ask, a link to
    the client's pages) then read it with a second one."""

    abstract = True

    @classmethod
    def get_tenant_for_schema(cls, schema_name):
        cache, missing = cls.tenant_cache(), object()
        client = cache.get(schema_name, default=missing)
        if client is missing:
            with connections["default"].cursor() as cursor:
                cursor.execute(_tenant_sql(), [schema_name])
                row = cursor.fetchone()
            if row is None:
                raise Client.DoesNotExist(f"no client has the schema {schema_name}")
            width = len(Client._meta.concrete_fields)
            client = model_from_row(Client, row[:width])
            client.agency = model_from_row(Agency, row[width:])
            cache.set(schema_name, client, expire_seconds=cls._get_app().conf.task_tenant_cache_seconds)
        return client
