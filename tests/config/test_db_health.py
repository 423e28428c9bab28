"""A kept database connection is checked before a request uses it without a round trip (config/db_backend): one
the server hung up on is replaced, a live one is not asked `SELECT 1`."""

import psycopg
import pytest
from django.db import connections

from config.db import connection_hung_up
from tests.stack import wait_until

# Not transaction=True: that flushes every table afterwards, the session's personas with them. The connection
# these tests use is one of their own, outside the test's transaction anyway.
pytestmark = pytest.mark.django_db


def _terminate(pid: int) -> None:
    settings = connections["default"].settings_dict
    options = {k: v for k, v in {"host": settings["HOST"], "port": settings["PORT"]}.items() if v}
    with psycopg.connect(dbname=settings["NAME"], autocommit=True, **options) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.fixture
def kept():
    """A connection of its own, kept between requests as CONN_MAX_AGE keeps one, with health checks on."""
    wrapper = connections.create_connection("default")
    wrapper.settings_dict["CONN_MAX_AGE"] = 60
    wrapper.settings_dict["CONN_HEALTH_CHECKS"] = True
    wrapper.ensure_connection()
    yield wrapper
    wrapper.close()


def _backend_pid(wrapper) -> int:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_a_live_kept_connection_is_used_without_a_select_1(kept, monkeypatch):
    pid = _backend_pid(kept)
    kept.health_check_done = False  # a new request
    monkeypatch.setattr(kept, "is_usable", lambda: pytest.fail("asked the server whether it is alive"))
    assert _backend_pid(kept) == pid
    assert not connection_hung_up(kept.connection)


def test_a_connection_the_server_hung_up_on_is_replaced_before_the_request_uses_it(kept):
    pid = _backend_pid(kept)
    _terminate(pid)  # as a PostgreSQL restart does to every client
    wait_until(lambda: connection_hung_up(kept.connection), timeout=5, what="the server's hang-up to arrive")
    kept.health_check_done = False  # the next request
    assert _backend_pid(kept) != pid  # no error: a fresh connection answered
