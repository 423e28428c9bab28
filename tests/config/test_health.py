"""/healthz says whether a missed call will be texted back, and names what is down when not."""

import time
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.utils.timezone import now

from config.health import HEARTBEAT_KEY
from messaging.models import OutboundSend

pytestmark = pytest.mark.django_db


@pytest.fixture
def beats():
    """Set heartbeats in Redis as the worker, the sender and beat would: beats(worker=age_seconds, …)."""
    client = redis.Redis.from_url(settings.REDIS_URL)

    def set_beats(**ages):
        for kind in ("worker", "sender", "beat"):
            client.delete(HEARTBEAT_KEY.format(kind=kind))
        for kind, age in ages.items():
            client.hset(HEARTBEAT_KEY.format(kind=kind), f"{kind}@test", time.time() - age)

    yield set_beats
    set_beats()


def health(web) -> tuple[int, dict]:
    response = web("localhost").get("/healthz")
    return response.status_code, response.json()


def test_it_is_ok_when_every_part_of_the_text_back_path_is(web, personas, beats):
    beats(worker=3, sender=2, beat=1)
    status, body = health(web)
    assert status == 200
    assert body["status"] == "ok"
    parts = ("database", "broker", "worker", "sender", "beat", "sends")
    assert {key: body[key] for key in parts} == dict.fromkeys(parts, "ok")
    assert body["oldest_due_send_seconds"] == 0
    assert 2 < body["worker_heartbeat_age_seconds"] < 30


def test_it_names_a_worker_that_stopped_beating_and_one_that_never_did(web, personas, beats):
    beats(worker=600, sender=1, beat=1)
    status, body = health(web)
    assert status == 503
    assert body["worker"].startswith("error: last heartbeat 6")
    beats(sender=1, beat=1)
    assert health(web)[1]["worker"] == "error: no heartbeat ever"


def test_it_names_a_sender_that_stopped_beating(web, personas, beats):
    """The other worker still beating does not hide that nothing sends the texts."""
    beats(worker=1, sender=600, beat=1)
    status, body = health(web)
    assert status == 503
    assert body["sender"].startswith("error: last heartbeat 6")
    assert body["worker"] == "ok"


def test_it_says_how_late_the_oldest_due_send_is(web, personas, beats):
    beats(worker=1, sender=1, beat=1)
    OutboundSend.objects.create(
        client=personas.acme,
        kind="textback",
        key="call:CAlate",
        to_number="+13125550188",
        due_at=now() - timedelta(minutes=5),
    )
    status, body = health(web)
    assert status == 503
    assert body["sends"].startswith("error: a send is 30")
    assert 299 < body["oldest_due_send_seconds"] < 320


def test_a_send_due_later_or_already_sent_is_not_late(web, personas, beats):
    beats(worker=1, sender=1, beat=1)
    OutboundSend.objects.create(
        client=personas.acme,
        kind="textback",
        key="call:CAsoon",
        to_number="+13125550188",
        due_at=now() + timedelta(minutes=5),
    )
    OutboundSend.objects.create(
        client=personas.acme,
        kind="textback",
        key="call:CAdone",
        to_number="+13125550189",
        due_at=now() - timedelta(minutes=5),
        state="sent",
    )
    status, body = health(web)
    assert (status, body["sends"], body["oldest_due_send_seconds"]) == (200, "ok", 0)


def test_it_names_a_broker_that_is_down(web, personas, beats, settings):
    beats(worker=1, sender=1, beat=1)
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    status, body = health(web)
    assert status == 503
    assert body["database"] == "ok"
    assert body["broker"].startswith("error")


def test_the_web_check_is_only_this_process_and_its_database(web, personas, beats):
    beats()  # no worker, no beat: the web server itself is fine
    response = web("acme.localhost").get("/healthz/web")
    assert (response.status_code, response.json()) == (200, {"status": "ok", "database": "ok"})
