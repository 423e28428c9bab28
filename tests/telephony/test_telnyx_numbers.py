"""A Telnyx agency's numbers (issue 22): searched, bought (once, however often the answer is lost), adopted and
released through Telnyx's API, faked at HTTP, and pointed at our TeXML application and messaging profile."""

import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError

from accounts.models import Agency
from agency.onboarding import onboarding_number_search
from telephony.numbers import ConsoleNumbers, NumberError, TelnyxNumbers, numbers_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def carrier_telnyx(telnyx, settings, personas):
    settings.TELNYX_TEXML_APP_ID = "texml-app-1"
    settings.TELNYX_MESSAGING_PROFILE_ID = "profile-1"
    Agency.objects.filter(pk=personas.northwind.pk).update(carrier="telnyx")
    personas.northwind.refresh_from_db()
    yield telnyx
    personas.northwind.carrier = ""  # the session's persona; the row itself is rolled back


def test_each_agency_gets_its_carriers_numbers(personas, carrier_telnyx):
    assert isinstance(numbers_for(personas.northwind), TelnyxNumbers)
    assert isinstance(numbers_for(personas.southpeak), ConsoleNumbers)  # the platform's default in tests


def test_the_wizard_searches_the_agencys_carrier(personas, carrier_telnyx):
    offered = onboarding_number_search(agency=personas.northwind, area_code="312")
    assert [n.phone_number for n in offered][:2] == ["+13125550110", "+13125550111"]
    assert (offered[0].locality, offered[0].region) == ("CHICAGO", "IL")
    assert carrier_telnyx.requests[-1]["path"] == "/v2/available_phone_numbers"


def test_a_bought_number_is_pointed_at_us_and_a_lost_answer_buys_nothing_twice(carrier_telnyx):
    numbers = TelnyxNumbers()
    held = numbers.buy(phone_number="+13125550110")
    [number] = carrier_telnyx.numbers.values()
    assert (held.phone_number, held.sid) == ("+13125550110", number["id"])
    assert (number["connection_id"], number["messaging_profile_id"]) == ("texml-app-1", "profile-1")
    assert numbers.buy(phone_number="+13125550110") == held  # already ours: found, not ordered again
    assert [r["path"] for r in carrier_telnyx.requests].count("/v2/number_orders") == 1


def test_buying_points_the_texml_application_at_our_calls_and_their_status(carrier_telnyx):
    """Telnyx sets the voice and status-callback URLs on the TeXML application, not on a number: without the status
    URL a caller who hangs up while it rings would never be texted."""
    carrier_telnyx.texml_application.update(friendly_name="Northwind voice", status_callback="")
    TelnyxNumbers().buy(phone_number="+13125550110")
    application = carrier_telnyx.texml_application
    assert application["voice_url"] == "http://localhost:8000/hooks/telnyx/voice/incoming/"
    assert application["status_callback"] == "http://localhost:8000/hooks/telnyx/voice/status/"
    assert (application["friendly_name"], application["status_callback_method"]) == (
        "Northwind voice",
        "post",
    )
    TelnyxNumbers().adopt(phone_number="+13125550110")  # already right: read, not written again
    patches = [r for r in carrier_telnyx.requests if r["method"] == "PATCH" and "texml_app" in r["path"]]
    assert len(patches) == 1


def test_without_a_texml_application_nothing_is_bought(carrier_telnyx, settings):
    settings.TELNYX_TEXML_APP_ID = ""
    with pytest.raises(NumberError, match="TELNYX_TEXML_APP_ID"):
        TelnyxNumbers().buy(phone_number="+13125550110")
    assert carrier_telnyx.numbers == {} and carrier_telnyx.requests == []


def test_a_number_someone_else_took_is_said_so(carrier_telnyx):
    carrier_telnyx.taken.add("+13125550111")
    with pytest.raises(NumberError, match="would not sell .*: search again and choose another"):
        TelnyxNumbers().buy(phone_number="+13125550111")


def test_adopting_points_a_held_number_at_us_and_a_stranger_is_refused(carrier_telnyx):
    number_id = carrier_telnyx.add_number("+13125550199")
    held = TelnyxNumbers().adopt(phone_number="+13125550199")
    assert held.sid == number_id
    assert carrier_telnyx.numbers[number_id]["connection_id"] == "texml-app-1"
    assert carrier_telnyx.numbers[number_id]["messaging_profile_id"] == "profile-1"
    with pytest.raises(NumberError, match="not a number of your Telnyx account"):
        TelnyxNumbers().adopt(phone_number="+13125550198")


def test_release_gives_the_number_back_and_a_gone_one_is_fine(carrier_telnyx):
    number_id = carrier_telnyx.add_number("+13125550199")
    TelnyxNumbers().release(sid=number_id)
    assert carrier_telnyx.numbers == {}
    TelnyxNumbers().release(sid=number_id)  # already gone: not an error


def test_bad_credentials_are_said_plainly(carrier_telnyx, settings):
    settings.TELNYX_API_KEY = "wrong"
    with pytest.raises(NumberError, match="TELNYX_API_KEY"):
        TelnyxNumbers().search(area_code="312")


def test_an_agency_goes_on_telnyx_only_once_the_platform_has_it(personas, settings):
    agency = Agency(name="X", slug="x-agency", carrier="telnyx")
    settings.TELNYX_API_KEY = ""
    with pytest.raises(ValidationError, match="TELNYX_API_KEY"):
        agency.clean()
    settings.TELNYX_API_KEY = settings.TELNYX_PUBLIC_KEY = "k"
    settings.TELNYX_MESSAGING_PROFILE_ID = settings.TELNYX_TEXML_APP_ID = "id"
    agency.clean()


def test_the_platforms_default_carrier_cannot_be_telnyx_and_start_up_says_where_to_choose_it(
    personas, settings
):
    """Telnyx is chosen per agency only: TELEPHONY_PROVIDER=telnyx stops start-up naming the agency's Carrier, and
    an agency with no carrier of its own gets the platform's default numbers, not Telnyx's."""
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        env={"PATH": os.environ.get("PATH", ""), "DEBUG": "1", "TELEPHONY_PROVIDER": "telnyx"},
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "Telnyx is chosen per agency (admin: Agency → Carrier)" in result.stderr
    assert personas.southpeak.carrier == "" and isinstance(numbers_for(personas.southpeak), ConsoleNumbers)
