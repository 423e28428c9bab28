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


@pytest.fixture(scope="session")
def _fake_twilio_server():
    from django.conf import settings

    from tests.twilio_fake.server import FakeTwilio

    with FakeTwilio(account_sid=settings.TWILIO_ACCOUNT_SID, auth_token=settings.TWILIO_AUTH_TOKEN) as fake:
        yield fake


@pytest.fixture
def twilio(_fake_twilio_server, settings):
    """The app sends through the real twilio library to a local fake Twilio; the fake is clean for each test
    and every request the app made is checked against Twilio's OpenAPI spec at the end."""
    from messaging.providers import get_provider

    fake = _fake_twilio_server
    fake.reset()
    settings.TELEPHONY_PROVIDER = "twilio"
    settings.TWILIO_API_BASE_URL = fake.base_url
    settings.TWILIO_TIMEOUT_SECONDS = 1.0
    get_provider.cache_clear()
    yield fake
    get_provider.cache_clear()
    fake.assert_no_violations()


@pytest.fixture(scope="session", autouse=True)
def _empty_test_broker():
    """Tasks queued by in-process tests (retries) go to the test broker's own Redis database, where no worker
    listens; start each session with it empty."""
    import redis
    from django.conf import settings

    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
