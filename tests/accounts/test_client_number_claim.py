"""A new client's number is claimed through the hook accounts asks (accounts.events.ClientNumberClaim) and
telephony answers (config/subscribers.py): accounts imports no telephony, and the number still cannot be another
agency's or the platform's."""

import pytest
from django.core.exceptions import ValidationError

from accounts.events import ClientNumberClaim
from accounts.models import Client
from accounts.services import client_create
from events import bus
from telephony import receivers
from telephony.models import NumberHolder

pytestmark = pytest.mark.django_db

NUMBER = "+13125550188"


def _create(agency, slug="claimed"):
    return client_create(
        agency=agency,
        slug=slug,
        name="Claimed Co",
        timezone_name="UTC",
        phone_number=NUMBER,
        call_mode=Client.CallMode.CARRIER,
    )


def test_the_table_names_telephony_as_the_claims_veto():
    assert [veto.check for veto in bus.vetoes() if veto.hook is ClientNumberClaim] == [receivers.number_claim]


def test_a_new_clients_number_is_recorded_as_its_agencys(personas):
    client = _create(personas.northwind)
    holder = NumberHolder.objects.get(phone_number=NUMBER)
    assert (holder.agency, holder.client) == (personas.northwind, client)


def test_a_number_another_agency_holds_is_refused_and_nothing_is_written(personas):
    NumberHolder.objects.create(phone_number=NUMBER, agency=personas.southpeak)
    with pytest.raises(ValidationError) as refused:
        _create(personas.northwind)
    assert refused.value.message_dict == {"phone_number": ["That number belongs to another agency."]}
    assert not Client.objects.filter(slug="claimed").exists()
    assert NumberHolder.objects.get(phone_number=NUMBER).agency == personas.southpeak


def test_the_platforms_own_number_is_refused(personas):
    NumberHolder.objects.create(phone_number=NUMBER, agency=None)
    with pytest.raises(ValidationError) as refused:
        _create(personas.northwind)
    assert "the platform's own" in refused.value.message_dict["phone_number"][0]
    assert not Client.objects.filter(slug="claimed").exists()
