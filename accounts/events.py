"""The tenancy core's hooks (events.bus): what accounts asks of the apps above it without importing them. Who
answers is in config/subscribers.py, next to the events' subscribers."""

from .models import Client


class ClientNumberClaim:
    """The veto hook asked when a new client is given a phone number (accounts.services.client_create),
    inside the transaction that saves it (events.bus.ask). Telephony answers it: a number another agency
    holds, or the platform's own, is refused with the reason, which the number's field shows; any other is
    recorded as held by the client's agency (telephony.NumberHolder), in the same transaction. Not an event:
    nothing happened yet."""

    __slots__ = ("client", "phone_number")

    def __init__(self, *, client: Client, phone_number: str):
        self.client = client
        self.phone_number = phone_number
