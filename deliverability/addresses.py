"""The business's address at Twilio: an Address resource (api v2010 CreateAddress) in the agency's account, which a
Hosted SMS order's letter of authorisation names and a TrustHub customer profile points at. One per client, kept
in BusinessAddress and made again only when the address (or the account it lives in) changes."""

from django.db import transaction

from accounts.models import Client

from .errors import twilio_step
from .models import BusinessAddress


def address_ensure(
    *, client: Client, api, customer_name: str, street: str, city: str, region: str, postal_code: str
) -> str:
    """The SID of an Address at Twilio holding these details, in the account `api` acts in. RegistrationError if
    Twilio refuses (its words: e.g. an address it cannot find)."""
    wanted = {
        "customer_name": customer_name.strip()[:120],
        "street": street.strip()[:120],
        "city": city.strip()[:60],
        "region": region.strip().upper()[:2],
        "postal_code": postal_code.strip()[:10],
    }
    account_sid = api.account_sid
    kept = BusinessAddress.objects.filter(client=client).first()
    if (
        kept is not None
        and kept.address_sid
        and kept.account_sid == account_sid
        and all(getattr(kept, name) == value for name, value in wanted.items())
    ):
        return kept.address_sid
    with twilio_step("record the business's address"):
        made = api.api.v2010.accounts(account_sid).addresses.create(
            customer_name=wanted["customer_name"],
            street=wanted["street"],
            city=wanted["city"],
            region=wanted["region"],
            postal_code=wanted["postal_code"],
            iso_country="US",
            friendly_name=f"{client.name} (Textback)"[:64],
        )
    with transaction.atomic():
        BusinessAddress.objects.update_or_create(
            client=client, defaults={**wanted, "address_sid": made.sid, "account_sid": account_sid}
        )
    return made.sid
