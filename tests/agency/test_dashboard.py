"""The agency dashboard: each client's month in numbers from the public roll-ups, its health, and finding a
client among many (sort, filter, search) in a constant number of queries."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from accounts import services
from accounts.models import Client
from deliverability.models import DeliverabilityDay
from deliverability.selectors import window
from reports.models import DailyRollup
from reports.selectors import today_in
from tests.webhooks import call_params, post_signed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_rollups_from_other_tests():
    """Tests against the running stack commit real roll-ups for the persona clients; start from none (this
    test's transaction is rolled back, so they come back afterwards)."""
    DailyRollup.objects.all().delete()


def rollup(client, *, days_ago: int = 0, **counters):
    day = today_in(client.timezone) - timedelta(days=days_ago)
    return DailyRollup.objects.create(client=client, date=day, **counters)


def row_of(html: str, client) -> str:
    start = html.index(f'id="client-{client.pk}"')
    return html[start : html.index("</tr>", start)]


def test_it_shows_each_clients_month_from_the_rollups(web, personas):
    rollup(personas.acme, calls=9, missed_calls=6, textbacks_sent=4, replies=2, won_value=Decimal("350.00"))
    html = web("localhost", personas.nina).get("/").content.decode()
    acme = row_of(html, personas.acme)
    assert '<td data-label="Missed calls" class="num">6</td>' in acme
    assert '<td data-label="Texts sent" class="num">4</td>' in acme
    assert "50.0%" in acme and "$350.00" in acme
    bolt = row_of(html, personas.bolt)
    assert '<td data-label="Reply rate" class="num">—</td>' in bolt  # nothing sent: no rate, not 0 %


def test_a_previous_month_does_not_count(web, personas):
    first = today_in(personas.acme.timezone).replace(day=1)
    DailyRollup.objects.create(client=personas.acme, date=first - timedelta(days=1), missed_calls=40)
    acme = row_of(web("localhost", personas.nina).get("/").content.decode(), personas.acme)
    assert '<td data-label="Missed calls" class="num">0</td>' in acme


def test_a_signed_webhook_stamps_the_last_webhook_received(web, personas):
    cache.delete(f"webhook-seen:{personas.acme.pk}")
    Client.objects.filter(pk=personas.acme.pk).update(last_webhook_at=None)
    assert "never" in row_of(web("localhost", personas.nina).get("/").content.decode(), personas.acme)
    response = post_signed(
        web("localhost"), "/hooks/twilio/voice/incoming/", call_params(personas.acme, "+13125550177")
    )
    assert response.status_code == 200
    stamped = Client.objects.get(pk=personas.acme.pk).last_webhook_at
    assert stamped is not None and timezone.now() - stamped < timedelta(seconds=30)
    assert "0\xa0minutes ago" in row_of(
        web("localhost", personas.nina).get("/").content.decode(), personas.acme
    )
    # Once a minute at most: the next webhook does not write the row again.
    Client.objects.filter(pk=personas.acme.pk).update(last_webhook_at=stamped - timedelta(seconds=5))
    post_signed(web("localhost"), "/hooks/twilio/voice/incoming/", call_params(personas.acme, "+13125550177"))
    assert Client.objects.get(pk=personas.acme.pk).last_webhook_at == stamped - timedelta(seconds=5)


def test_a_process_asks_redis_about_a_clients_stamp_once_a_minute(personas, monkeypatch):
    """Redis decides which webhook stamps the row; a process that asked about this client within the minute does
    not ask again (a round trip saved on nearly every webhook)."""
    asked = []

    class Taken:
        def add(self, key, value, timeout):
            asked.append(key)
            return False  # another webhook stamped it

    monkeypatch.setattr(services, "cache", Taken())
    clock = [1000.0]
    monkeypatch.setattr(services.time, "monotonic", lambda: clock[0])
    for _ in range(3):
        services.client_webhook_seen(client=personas.acme)
    assert asked == [f"webhook-seen:{personas.acme.pk}"]
    services.client_webhook_seen(client=personas.bolt)
    clock[0] += services.WEBHOOK_STAMP_SECONDS
    services.client_webhook_seen(client=personas.acme)
    assert asked == [f"webhook-seen:{pk}" for pk in (personas.acme.pk, personas.bolt.pk, personas.acme.pk)]


def test_health_warnings(web, personas):
    month_ago = timezone.now() - timedelta(days=30)
    Client.objects.filter(pk=personas.acme.pk).update(created_at=month_ago, went_live_at=month_ago)
    Client.objects.filter(pk=personas.bolt.pk).update(created_at=month_ago, went_live_at=month_ago)
    rollup(personas.bolt, days_ago=1, calls=30, textbacks_sent=25)
    DeliverabilityDay.objects.filter(client__in=[personas.acme, personas.bolt]).delete()
    DeliverabilityDay.objects.create(
        client=personas.bolt, date=window()[1] - timedelta(days=1), attempted=25, opt_outs=3, failed=4
    )
    new = Client.objects.create(
        agency=personas.northwind,
        slug="newco",
        name="Newco",
        schema_name="c_newco",
        status=Client.Status.LIVE,
    )
    html = web("localhost", personas.nina).get("/").content.decode()
    assert "No calls in 7 days" in row_of(html, personas.acme)
    bolt = row_of(html, personas.bolt)
    assert "No calls" not in bolt
    # Texting health (deliverability): 3 of 25 = 12% opt-outs, 4 of 25 = 16% failed, both past the hard limit.
    assert "Opt-out rate 12.0% (3 of 25 texts in 7 days; the hard limit is 5.0%)" in bolt
    assert "Failed 16.0% (4 of 25 texts in 7 days; the hard limit is 15.0%)" in bolt
    newco = row_of(html, new)
    assert "Number not configured" in newco and "No calls" not in newco  # a day-old client has had no chance


def test_a_failed_setup_is_onboarding_with_its_reason(web, personas):
    failed = Client.objects.create(
        agency=personas.northwind,
        slug="broken",
        name="Broken Co",
        schema_name="c_broken",
        status=Client.Status.FAILED,
        provisioning_error="template schema missing",
    )
    row = row_of(web("localhost", personas.nina).get("/").content.decode(), failed)
    assert "Onboarding" in row and "Setup failed: template schema missing" in row
    assert "client-open" not in row and "Open" not in row  # nothing to open yet


def test_sort_filter_and_search(web, personas):
    rollup(personas.bolt, won_value=Decimal("900.00"))
    rollup(personas.acme, won_value=Decimal("100.00"))
    nina = web("localhost", personas.nina)
    html = nina.get("/?sort=revenue").content.decode()
    assert html.index("Bolt Electric") < html.index("Acme Plumbing")  # most recovered first
    html = nina.get("/?sort=revenue&dir=asc").content.decode()
    assert html.index("Acme Plumbing") < html.index("Bolt Electric")
    html = nina.get("/?q=bolt").content.decode()
    assert "Bolt Electric" in html and "Acme Plumbing" not in html
    html = nina.get("/?q=312-555-0100").content.decode()  # acme's number, typed as people type it
    assert "Acme Plumbing" in html and "Bolt Electric" not in html
    Client.objects.filter(pk=personas.bolt.pk).update(status=Client.Status.PAUSED)
    html = nina.get("/?status=paused").content.decode()
    assert "Bolt Electric" in html and "Acme Plumbing" not in html
    assert "No client matches." in nina.get("/?q=zzz").content.decode()


def test_nonsense_parameters_are_ignored_not_errors(web, personas):
    response = web("localhost", personas.nina).get("/?sort=drop%20table&dir=sideways&status=x&page=-3")
    assert response.status_code == 200 and "Acme Plumbing" in response.content.decode()


def test_a_thousand_clients_cost_a_constant_number_of_queries(web, personas, django_assert_max_num_queries):
    Client.objects.bulk_create(
        [
            Client(
                agency=personas.northwind,
                slug=f"bulk-{i:04d}",
                name=f"Bulk {i:04d}",
                schema_name=f"c_bulk_{i:04d}",
                status=Client.Status.LIVE,
                phone_number=f"+1773555{i:04d}",
            )
            for i in range(1000)
        ]
    )
    ids = list(Client.objects.filter(slug__startswith="bulk-").values_list("pk", flat=True)[:300])
    DailyRollup.objects.bulk_create(
        [DailyRollup(client_id=pk, date=today_in("UTC"), calls=3, missed_calls=2) for pk in ids]
    )
    nina = web("localhost", personas.nina)
    nina.get("/")  # session and the like, warmed
    # 13: the twelve of the dashboard, and one for clients whose Stripe invoice payment failed (billing.connect).
    with django_assert_max_num_queries(13):
        response = nina.get("/?sort=missed")
    assert response.status_code == 200
    assert "1002 clients" in response.content.decode()
    with django_assert_max_num_queries(13):
        assert nina.get("/?sort=revenue&page=7&q=bulk").status_code == 200


@pytest.mark.parametrize("who", ["alice", "bob", "charlie"])
def test_people_without_an_agency_get_no_dashboard(web, personas, who):
    response = web("localhost", getattr(personas, who)).get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_another_agencys_clients_never_appear_even_when_searched(web, personas):
    html = web("localhost", personas.sara).get("/?q=acme").content.decode()
    assert "Acme Plumbing" not in html


def test_offboarded_clients_are_hidden_unless_asked_for(web, personas):
    Client.objects.filter(pk=personas.bolt.pk).update(status=Client.Status.ARCHIVED)
    nina = web("localhost", personas.nina)
    assert "Bolt Electric" not in nina.get("/").content.decode()
    assert "Bolt Electric" in nina.get("/?status=offboarded").content.decode()


def test_a_webhook_is_answered_even_when_the_stamp_cannot_be_made(web, personas, monkeypatch):
    import redis
    from django.core.cache import cache as django_cache

    def down(*args, **kwargs):
        raise redis.exceptions.ConnectionError("Connection refused")

    Client.objects.filter(pk=personas.acme.pk).update(last_webhook_at=None)
    monkeypatch.setattr(django_cache, "add", down)
    params = call_params(personas.acme, "+13125550177")
    assert post_signed(web("localhost"), "/hooks/twilio/voice/incoming/", params).status_code == 200
    assert Client.objects.get(pk=personas.acme.pk).last_webhook_at is None
