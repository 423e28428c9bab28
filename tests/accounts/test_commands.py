"""The setup commands: what they make from good input, and the message they stop with on bad input."""

import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import Agency, AgencyMembership, Client, ClientMembership, User

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


GOOD_CLIENT = [
    "create_client",
    "--agency",
    "northwind",
    "--slug",
    "dunn-dental",
    "--name",
    "Dunn Dental",
    "--timezone",
    "America/Denver",
    "--number",
    "+13035550100",
    "--forward-to",
    "+13035550142",
]


def test_create_agency_makes_the_agency_and_its_admin():
    out = run(
        "create_agency",
        "--slug",
        "eastgate",
        "--name",
        "Eastgate Media",
        "--admin-email",
        "Ed@Eastgate.test",
        "--admin-password",
        "s3cret-enough-pass",
    )
    assert "eastgate" in out
    membership = AgencyMembership.objects.get(agency__slug="eastgate")
    assert membership.role == "admin"
    assert membership.user.email == "ed@eastgate.test"
    assert membership.user.check_password("s3cret-enough-pass")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--slug", "northwind"], "--slug: an agency with slug “northwind” already exists."),
        (["--slug", "Bad Slug"], "--slug:"),
        (["--admin-email", "not-an-email"], "--admin-email:"),
        (["--admin-password", "123"], "This password is too short"),
    ],
)
def test_create_agency_refuses_bad_input_and_writes_nothing(personas, args, message):
    base = {
        "--slug": "westgate",
        "--name": "Westgate",
        "--admin-email": "w@westgate.test",
        "--admin-password": "s3cret-enough-pass",
    }
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    agencies, users = Agency.objects.count(), User.objects.count()
    with pytest.raises(CommandError, match=message):
        run("create_agency", *[item for pair in base.items() for item in pair])
    assert (Agency.objects.count(), User.objects.count()) == (agencies, users)


def test_create_client_prints_its_host_and_stores_every_setting(personas):
    out = run(
        *GOOD_CLIENT,
        "--mode",
        "carrier",
        "--text-delay",
        "30",
        "--hours",
        "mon-fri 08:00-12:00,13:00-17:00; sat 09:00-12:00",
        "--suppress-hours",
        "48",
        "--min-ring-seconds",
        "8",
        "--owner-email",
        "owner@dunn.test",
        "--owner-password",
        "s3cret-enough-pass",
    )
    assert out.strip() == "dunn-dental.localhost"
    client = Client.objects.get(slug="dunn-dental")
    assert client.status == Client.Status.LIVE
    assert (client.call_mode, client.text_delay_seconds, client.suppress_hours, client.min_ring_seconds) == (
        "carrier",
        30,
        48,
        8,
    )
    assert client.business_hours["mon"] == [["08:00", "12:00"], ["13:00", "17:00"]]
    assert client.business_hours["sat"] == [["09:00", "12:00"]]
    assert "sun" not in client.business_hours
    assert str(client.phone_number) == "+13035550100"
    assert ClientMembership.objects.get(client=client).user.email == "owner@dunn.test"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"--agency": "nope"}, "--agency: no agency with slug “nope”."),
        ({"--timezone": "Mars/Olympus"}, "--timezone: “Mars/Olympus” is not a time zone"),
        ({"--number": "+13125550100"}, "--number: Client with this Phone number already exists."),
        ({"--number": "+1999"}, "--number: The phone number entered is not valid."),
        ({"--hours": "mon-fri 9-5"}, "--hours: '9' is not a time"),
        ({"--hours": "mon 09:00-12:00,11:00-13:00"}, "--hours: the shifts on mon overlap"),
        ({"--slug": "acme"}, "--slug: a client with slug “acme” already exists."),
        ({"--slug": "www"}, "--slug: “www” is reserved"),
        (
            {"--forward-to": "+13035550100"},
            "--forward-to: The forward-to phone cannot be the text-back number",
        ),
    ],
)
def test_create_client_refuses_bad_input_and_writes_nothing(personas, change, message):
    args = list(GOOD_CLIENT)
    for flag, value in change.items():
        if flag in args:
            args[args.index(flag) + 1] = value
        else:
            args += [flag, value]
    before = Client.objects.count()
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert Client.objects.count() == before


def test_create_client_needs_a_forward_to_phone_in_forward_mode(personas):
    args = GOOD_CLIENT[: GOOD_CLIENT.index("--forward-to")]
    with pytest.raises(CommandError, match="--forward-to: Forward mode needs"):
        run(*args)


def test_create_client_refuses_a_number_that_is_not_e164(personas):
    with pytest.raises(CommandError, match="--number"):
        run(*[("3035550100" if arg == "+13035550100" else arg) for arg in GOOD_CLIENT])


def test_a_bad_command_exits_non_zero_with_its_message_on_stderr():
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "create_client",
            "--agency",
            "x",
            "--slug",
            "y",
            "--name",
            "z",
            "--timezone",
            "UTC",
            "--number",
            "12",
        ],
        capture_output=True,
        text=True,
        env={"DEBUG": "1", "PATH": "/usr/bin:/bin"},
        timeout=60,
        cwd=settings.BASE_DIR,
    )
    assert result.returncode != 0
    assert "--number" in result.stderr


def test_seed_demo_makes_a_demo_with_history_and_can_run_again(personas):
    from datetime import timedelta

    from django.db.models import Sum
    from django.utils.timezone import now
    from django_tenants.utils import schema_context

    from billing.models import AgencyBilling, ClientPrice, Statement
    from crm.models import Outcome
    from inbox.models import CannedReply
    from messaging.models import Conversation, Message
    from reports.models import DailyRollup, MonthlyRollup
    from telephony.models import Call

    out = run("seed_demo")
    assert "agency@demo.test" in out and "http://acme-plumbing.localhost:8000/" in out
    assert "staff@demo.test (staff)" in out  # the admin needs an authenticator app; staff do not
    demo = Agency.objects.get(slug="demo")
    assert set(demo.clients.values_list("slug", flat=True)) == {"acme-plumbing", "smile-dental"}
    acme = demo.clients.get(slug="acme-plumbing")
    assert acme.status == Client.Status.LIVE
    assert ClientMembership.objects.get(client=acme, role="owner").user.check_password("textback-demo")
    assert AgencyBilling.objects.get(agency=demo).plan is not None
    assert ClientPrice.objects.filter(client__agency=demo, owner_sees_statement=True).count() == 2
    assert Statement.objects.filter(agency=demo, kind="client", client=acme).exists()  # a month that is over

    counts = {}
    for client in demo.clients.all():
        with schema_context(client.schema_name):
            calls = Call.objects.all()
            # Ninety days of calls, at every hour a business is busy and on every weekday.
            assert calls.filter(started_at__lt=now() - timedelta(days=85)).exists()
            assert not calls.filter(started_at__lt=now() - timedelta(days=90)).exists()
            assert len({client.local_time(call.started_at).weekday() for call in calls}) == 7
            assert len({client.local_time(call.started_at).hour for call in calls}) >= 10
            won = Outcome.objects.filter(kind="won")
            assert won.count() >= 20 and Outcome.objects.filter(kind="lost").exists()
            assert Outcome.objects.filter(kind="booked").count() > won.count()
            assert not Conversation.objects.filter(messages__isnull=True).exists()  # no empty threads
            words = " ".join(Message.objects.filter(direction="in").values_list("body", flat=True)).lower()
            sent = Message.objects.filter(kind="textback", sent_at__isnull=False).count()
            table = {
                "calls": calls.count(),
                "missed_calls": calls.filter(outcome="missed").count(),
                "textbacks_sent": sent,
                "won": won.count(),
                "won_value": won.aggregate(total=Sum("value"))["total"],
            }
            counts[client.slug] = (calls.count(), Message.objects.count(), CannedReply.objects.count())
        # The callers talk about the business they called.
        if client.slug == "smile-dental":
            assert "tooth" in words and not {"sink", "leak", "pipe", "drain"} & set(words.split())
        else:
            assert "sink" in words and "tooth" not in words
        # The roll-ups the reports read are the rows' sums, by day and by month.
        daily = DailyRollup.objects.filter(client=client).aggregate(**{name: Sum(name) for name in table})
        monthly = MonthlyRollup.objects.filter(client=client).aggregate(**{name: Sum(name) for name in table})
        assert daily == table and monthly == table
        assert counts[client.slug][2] >= 4  # canned replies
        assert client.average_job_value is not None
        # Facts for suggested replies, and every caller's text read for its intent as a live one is.
        assert client.facts_services
        with schema_context(client.schema_name):
            assert not Message.objects.filter(direction="in", intent="").exists()
            assert Message.objects.filter(direction="in").exclude(intent="other").exists()

    run("seed_demo")
    assert Agency.objects.filter(slug="demo").count() == 1
    assert demo.clients.count() == 2
    for client in demo.clients.all():
        with schema_context(client.schema_name):
            now_counts = (Call.objects.count(), Message.objects.count(), CannedReply.objects.count())
            assert now_counts == counts[client.slug]
