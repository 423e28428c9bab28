import pytest
from django.db import connection
from django.test import Client as HttpClient

from . import personas as personas_module


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database (reused with --reuse-db), with the personas in it, committed."""
    with django_db_blocker.unblock():
        personas_module.build()


@pytest.fixture(scope="session")
def personas(django_db_setup, django_db_blocker) -> personas_module.Personas:
    with django_db_blocker.unblock():
        return personas_module.build()


@pytest.fixture(autouse=True)
def _public_schema_after_each_test():
    yield
    connection.set_schema_to_public()


@pytest.fixture
def web():
    """A browser-like client for any host: web(host) → django.test.Client that sends that Host."""

    def make(host: str, user=None) -> HttpClient:
        client = HttpClient(HTTP_HOST=host)
        if user is not None:
            client.force_login(user)
        return client

    return make
