"""django-tenants' PostgreSQL backend (one schema per client, search_path per connection), with a health check
that costs no round trip.

Django's CONN_HEALTH_CHECKS runs `SELECT 1` before the first query of every request on a kept connection: one
more round trip, and one more statement for PostgreSQL, on every webhook. A connection the server hung up on
(a restart, an idle timeout, a terminated backend) is one whose socket has become readable: PostgreSQL sends its
FATAL message and closes. Asking the kernel whether it is readable (config.db.connection_hung_up) finds the same
thing for the price of one system call. A connection that already had an error in a request is still checked
Django's way at the request's end (is_usable, unchanged)."""

from django_tenants.postgresql_backend.base import DatabaseWrapper as TenantDatabaseWrapper

from config.db import connection_hung_up


class DatabaseWrapper(TenantDatabaseWrapper):
    # Django's (BaseDatabaseWrapper sets it), declared for the type checker: django-tenants' class has no types.
    health_check_done: bool

    def close_if_health_check_failed(self):
        if self.pool or self.connection is None or not self.health_check_enabled or self.health_check_done:
            return
        if connection_hung_up(self.connection):
            self.close()
        self.health_check_done = True
