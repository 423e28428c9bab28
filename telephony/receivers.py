"""Telephony's part of work another core app publishes (subscribed in config/subscribers.py)."""

from crm.events import ContactMerged

from .models import Call


def on_contact_merged(event: ContactMerged) -> None:
    """The duplicate's calls are the surviving contact's (atomic with the merge)."""
    Call.objects.filter(contact=event.other).update(contact=event.into)
