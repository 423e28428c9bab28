import hypothesis
import pytest
from django.db import connection
from django.test import Client as HttpClient

from . import personas as personas_module

# Hypothesis' default deadline (200 ms an example) is a timing asserted in a test: a loaded machine fails it for
# nothing. What the property tests check is behaviour; speed is the benchmarks' business.
hypothesis.settings.register_profile("textback", deadline=None)
hypothesis.settings.load_profile("textback")


@pytest.fixture(scope="session")
def django_db_setup(
    request,
    django_test_environment,
    django_db_blocker,
    django_db_keepdb,
    django_db_createdb,
    django_db_modify_db_settings,
):
    """The test database (kept between runs; --create-db rebuilds it), with the personas in it, committed.

    Replaces pytest-django's own, which only sets the database up when some collected test is marked for it;
    the tests against the running stack use it without a mark (their data must be committed)."""
    from django.test.utils import setup_databases

    with django_db_blocker.unblock():
        setup_databases(
            verbosity=request.config.option.verbose,
            interactive=False,
            aliases={"default"},
            keepdb=django_db_keepdb and not django_db_createdb,
        )
        personas_module.build()
    yield


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
            if user.is_staff or user.is_superuser:
                _verified_second_factor(client, user)
        return client

    return make


def _verified_second_factor(client: HttpClient, user) -> None:
    """An operator's session counts only once a second factor was verified (accounts.middleware): mark it so,
    as the two-factor step does, with a device kept for the purpose."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name="Test authenticator", defaults={"confirmed": True}
    )
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


@pytest.fixture(scope="session")
def _fake_dns_server():
    from tests.dns_fake import FakeDNS

    with FakeDNS() as server:
        yield server


@pytest.fixture
def live_dns(_fake_dns_server) -> dict[str, list[str]]:
    """TXT records the running stack's worker finds (tests/dns_fake.py), by name; clean for each test."""
    _fake_dns_server.records.clear()
    yield _fake_dns_server.records
    _fake_dns_server.records.clear()


@pytest.fixture
def fake_dns(monkeypatch) -> dict[str, list[str]]:
    """DNS TXT records by name, for accounts.domains (there is no DNS where the tests run): put a record in the
    dict and domain_verify finds it; a name missing from it has no TXT record."""
    from accounts import domains

    records: dict[str, list[str]] = {}
    monkeypatch.setattr(domains, "dns_txt_records", lambda name: list(records.get(name, [])))
    return records


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


@pytest.fixture(scope="session")
def _fake_telnyx_server():
    from tests.telnyx_fake import FakeTelnyx

    with FakeTelnyx() as fake:
        yield fake


@pytest.fixture
def telnyx(_fake_telnyx_server, settings):
    """The app's Telnyx requests go to a local fake Telnyx, clean for each test; its webhooks are signed with the
    fake's key pair (fake.sign)."""
    from messaging.carriers import telnyx_provider

    fake = _fake_telnyx_server
    fake.reset()
    settings.TELNYX_API_KEY = fake.api_key
    settings.TELNYX_API_BASE_URL = fake.base_url
    settings.TELNYX_PUBLIC_KEY = fake.public_key
    settings.TELNYX_TEXML_APP_ID = fake.texml_app_id  # calls are placed through it
    settings.TELNYX_TIMEOUT_SECONDS = 1.0
    telnyx_provider.cache_clear()
    yield fake
    telnyx_provider.cache_clear()


@pytest.fixture(scope="session")
def _fake_stripe_server():
    from tests.stripe_fake import FakeStripe

    with FakeStripe() as fake:
        yield fake


def stripe_settings(fake) -> dict[str, str]:
    """The settings (and the stack's environment) that point Stripe and Stripe Connect at the fake."""
    return {
        "STRIPE_SECRET_KEY": fake.api_key,
        "STRIPE_CONNECT_CLIENT_ID": fake.client_id,
        "STRIPE_WEBHOOK_SECRET": fake.webhook_secret,
        "STRIPE_API_BASE": fake.base_url,
        "STRIPE_CONNECT_BASE": fake.base_url,
    }


@pytest.fixture
def stripe_fake(_fake_stripe_server, settings):
    """Stripe Connect on, the real stripe library talking to a local fake Stripe (tests/stripe_fake.py), clean
    for each test; its webhooks are signed with the fake's endpoint secret (fake.sign)."""
    _fake_stripe_server.reset()
    for name, value in stripe_settings(_fake_stripe_server).items():
        setattr(settings, name, value)
    yield _fake_stripe_server


@pytest.fixture(scope="session", autouse=True)
def _empty_test_broker():
    """Tasks queued by in-process tests (retries) go to the test broker's own Redis database, where no worker
    listens; start each session with it empty."""
    import redis
    from django.conf import settings

    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()


@pytest.fixture(autouse=True)
def _no_cached_endpoint_owners():
    """api.services caches which clients have outbound webhook endpoints; tests make and roll back endpoints
    without going through its services."""
    from api.services import endpoint_owners_forget

    endpoint_owners_forget()


@pytest.fixture(autouse=True)
def _no_cached_clients():
    """Webhooks find their client in Redis (accounts.client_cache). A test's client changes roll back without a
    write the cache would notice, so no test meets a client cached by another, nor one whose webhook stamp this
    process remembers asking about (accounts.services.client_webhook_seen)."""
    from accounts import client_cache, services

    client_cache.forget()
    services._stamp_asked_until.clear()
    yield
    client_cache.forget()
    services._stamp_asked_until.clear()


@pytest.fixture
def twilio_accounts_forgotten(personas):
    """Which Twilio account (platform, subaccount, own) an agency uses is cached in Redis across tests: forget it
    before and after the test (the rows themselves roll back with it). Returns the forgetting, to call again."""
    from django.core.cache import caches

    from messaging import twilio_accounts
    from messaging.models import TwilioAccount

    def forget():
        for agency_id in {personas.northwind.pk, personas.southpeak.pk} | set(
            TwilioAccount.objects.values_list("agency_id", flat=True)
        ):
            caches["platform"].delete(twilio_accounts._cache_key(agency_id))
        twilio_accounts.provider_cache_clear()

    forget()
    yield forget
    forget()


@pytest.fixture(scope="session")
def _fake_llm_server():
    """An OpenAI-compatible chat API for the stack's suggested replies (tests/llm_fake)."""
    from tests.llm_fake.server import FakeLLM

    fake = FakeLLM().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def stack(
    _fake_twilio_server,
    _fake_telnyx_server,
    _fake_dns_server,
    _fake_llm_server,
    _fake_stripe_server,
    personas,
    django_db_blocker,
):
    """Redis, gunicorn, a Celery worker and beat on the test database (see tests/stack.py)."""
    from tests.stack import Stack

    with django_db_blocker.unblock():
        running = Stack(
            _fake_twilio_server,
            TELNYX_API_BASE_URL=_fake_telnyx_server.base_url,
            TELNYX_API_KEY=_fake_telnyx_server.api_key,
            TELNYX_PUBLIC_KEY=_fake_telnyx_server.public_key,
            TELNYX_TIMEOUT_SECONDS="1",
        )
        running.env["DOMAIN_DNS_SERVERS"] = (
            _fake_dns_server.address
        )  # the worker checks agencies' domains there
        running.env.update(LLM_BASE_URL=_fake_llm_server.base_url, LLM_MODEL="stack-model", LLM_API_KEY="k")
        running.env.update(stripe_settings(_fake_stripe_server))  # Stripe Connect against the fake
        running.start()
    yield running
    running.close()


@pytest.fixture
def committed_db(django_db_blocker, personas):
    """Database access outside a rolled-back transaction, for tests whose data other processes must see;
    the callers' data of every persona client is wiped afterwards."""
    from tests.stack import reset_committed_data

    schemas = [personas.acme.schema_name, personas.bolt.schema_name, personas.cedar.schema_name]
    with django_db_blocker.unblock():
        reset_committed_data(schemas)
        yield
        connection.set_schema_to_public()
        reset_committed_data(schemas)


@pytest.fixture
def live(stack, committed_db, _fake_twilio_server):
    """The running stack with a clean fake Twilio and clean committed data."""
    _fake_twilio_server.reset()
    yield stack
    _fake_twilio_server.assert_no_violations()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def heard():
    """Every domain event published during the test (events.bus), as (name, fields) in order, the name being
    the event's class in snake case: heard.named("call_missed") → the fields of each CallMissed published."""
    import dataclasses
    import re

    from events import bus

    class Heard(list):
        def named(self, name: str) -> list[dict]:
            return [fields for heard_name, fields in self if heard_name == name]

    log = Heard()

    def recorder(event_type):
        name = re.sub(r"(?<!^)(?=[A-Z])", "_", event_type.__name__).lower()

        def record(event):
            log.append(
                (name, {field.name: getattr(event, field.name) for field in dataclasses.fields(event)})
            )

        record.__qualname__ = f"heard.{name}"
        return bus.Subscription(event_type, record, bus.Policy.IN_TRANSACTION)

    bus.install(
        bus.subscriptions() + [recorder(event_type) for event_type in bus.EVENTS.values()], bus.vetoes()
    )
    yield log
    bus.load()


@pytest.fixture
def reader(personas):
    """rita: read-only staff of acme, who may look at everything there and change nothing."""
    from accounts.models import ClientMembership
    from accounts.services import user_get_or_create

    rita = user_get_or_create(email="rita@acme.test", password=personas_module.PASSWORD, name="Rita")
    ClientMembership.objects.create(user=rita, client=personas.acme, role=ClientMembership.Role.READONLY)
    return rita
