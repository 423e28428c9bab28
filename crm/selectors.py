"""Reads about a client's contacts. Every function runs in the schema of the request's client: a contact id
from another client's schema is simply not there, and answers 404 like any missing one."""

import re

import phonenumbers
from django.conf import settings
from django.db import connection
from django.db.models import Q, QuerySet
from django.http import Http404

from .models import Contact


def phone_display(number: str) -> str:
    """How staff read a number: national format for the client's own country, international otherwise."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    local = phonenumbers.region_code_for_number(parsed) == settings.PHONENUMBER_DEFAULT_REGION
    return phonenumbers.format_number(
        parsed,
        phonenumbers.PhoneNumberFormat.NATIONAL if local else phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    )


def with_phone_display(contacts):
    for contact in contacts:
        contact.phone_display = phone_display(contact.phone_number)
    return contacts


def contact_get(*, contact_id: int) -> Contact:
    """The one way a view fetches a contact someone named in a URL."""
    contact = Contact.objects.filter(pk=contact_id).first()
    if contact is None:
        raise Http404("No such contact")
    contact.phone_display = phone_display(contact.phone_number)
    return contact


class Status:
    BLOCKED = "blocked"
    OPTED_OUT = "opted_out"
    CHOICES = [("", "Everyone"), (BLOCKED, "Blocked"), (OPTED_OUT, "Opted out")]


def contact_list(*, query: str = "", status: str = "", tag: str = "") -> QuerySet[Contact]:
    """Contacts matching a search (name, number, email or tag) and filters, newest first. One query however many
    rows. (The contacts page adds each one's last call: inbox.contact_selectors.)"""
    contacts = Contact.objects.all()
    query = query.strip()
    if query:
        match = Q(name__icontains=query) | Q(email__icontains=query) | Q(tags__contains=[query.lower()])
        digits = re.sub(r"\D", "", query)
        if len(digits) >= 3:  # "(312) 555-01" finds +1312555017x
            match |= Q(phone_number__contains=digits)
        contacts = contacts.filter(match)
    if status == Status.BLOCKED:
        contacts = contacts.filter(is_blocked=True)
    elif status == Status.OPTED_OUT:
        contacts = contacts.filter(opted_out=True)
    if tag:
        contacts = contacts.filter(tags__contains=[tag])
    return contacts.order_by("-created_at", "-id")


def tags_in_use() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT unnest(tags) AS tag FROM crm_contact ORDER BY tag LIMIT 200")
        return [row[0] for row in cursor.fetchall()]


def merge_candidates(*, contact: Contact, query: str, limit: int = 20) -> list[Contact]:
    if not query.strip():
        return []
    return with_phone_display(list(contact_list(query=query).exclude(pk=contact.pk)[:limit]))
