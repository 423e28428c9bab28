"""manage.py simulate_call: a call walked through the real signed webhooks of a running server."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_tenants.utils import schema_context

from telephony.models import Call
from tests.stack import wait_until


def simulate(stack, *args) -> str:
    out = StringIO()
    call_command("simulate_call", *args, "--base-url", stack.base_url, stdout=out)
    return out.getvalue()


def test_an_unanswered_call_ends_in_a_text(live, personas):
    out = simulate(live, "--client", "acme", "--from", "+13125550131")
    assert "POST /hooks/twilio/voice/dial-complete/ → 200" in out
    [text] = live.fake.wait_for_messages(1, timeout=15)
    assert text["to"] == "+13125550131"
    # It waited for the worker and shows what the caller got.
    assert f"Text-back sent to +13125550131:\n  {text['body']}" in out


def test_a_text_back_that_is_not_sent_says_why(live, personas):
    out = simulate(live, "--client", "acme", "--from", "anonymous")
    assert "No text-back: the caller hid their number." in out
    assert live.fake.messages == []


def test_an_answered_call_is_not_texted(live, personas):
    out = simulate(live, "--client", "acme", "--from", "+13125550132", "--answered")
    assert "No text-back: the call was answered." in out
    with schema_context(personas.acme.schema_name):
        assert Call.objects.get(from_number="+13125550132").outcome == "answered"
    assert live.fake.messages == []


def test_an_early_hang_up_is_not_texted_but_a_long_ring_is(live, personas):
    out = simulate(live, "--client", "acme", "--from", "+13125550133", "--hangup-after", "2")
    assert "No text-back: the call was hung up early." in out
    simulate(live, "--client", "acme", "--from", "+13125550134", "--hangup-after", "15")
    [text] = live.fake.wait_for_messages(1, timeout=15)
    assert text["to"] == "+13125550134"
    with schema_context(personas.acme.schema_name):
        wait_until(lambda: Call.objects.get(from_number="+13125550133").outcome == "abandoned", timeout=5)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--client", "nobody", "--from", "+13125550131"], "--client: no client with slug “nobody”"),
        (["--client", "acme", "--from", "555"], "--from: '555' is not an E.164 number"),
        (["--client", "acme", "--from", "+13125550131", "--hangup-after", "-1"], "--hangup-after"),
    ],
)
def test_bad_input_stops_with_a_message(committed_db, args, words):
    with pytest.raises(CommandError, match=words):
        call_command("simulate_call", *args, stdout=StringIO())


def test_a_server_that_is_not_running_is_named(committed_db, personas):
    with pytest.raises(CommandError, match="is the server running"):
        call_command(
            "simulate_call",
            "--client",
            "acme",
            "--from",
            "+13125550131",
            "--base-url",
            "http://127.0.0.1:9",
            stdout=StringIO(),
        )


def test_the_readmes_simulate_call_lines_run_as_written():
    """The README's lines are pasted into a shell as they are: `./run manage` turns DEBUG on as `./run demo` does
    (manage.py alone is production, which stops without a SECRET_KEY), and every flag they use exists."""
    import os
    import shlex
    import subprocess

    from django.conf import settings

    from telephony.management.commands.simulate_call import Command

    readme = (settings.BASE_DIR / "README.md").read_text()
    lines = [
        line.split("#")[0] for line in readme.splitlines() if line.startswith("./run manage simulate_call")
    ]
    assert len(lines) == 3
    parser = Command().create_parser("manage.py", "simulate_call")
    for line in lines:
        parser.parse_args(shlex.split(line)[3:])  # exits (SystemExit) on a flag that does not exist
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE")}
    result = subprocess.run(
        ["./run", "manage", "simulate_call", "--help"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "--hangup-after" in result.stdout
