from django.db import IntegrityError, transaction

from .models import Contact
from .phone import e164_or_none


def contact_upsert(*, phone_number: str, name: str = "") -> Contact | None:
    """The contact for this number, created on first sight; None when the number is not a real E.164 number
    (anonymous, restricted, garbage). Safe under concurrent webhooks for the same caller."""
    number = e164_or_none(phone_number)
    if number is None:
        return None
    contact = Contact.objects.filter(phone_number=number).first()
    if contact is None:
        try:
            with transaction.atomic():
                contact = Contact.objects.create(phone_number=number, name=name[:120])
        except IntegrityError:  # another request created it a moment ago
            contact = Contact.objects.get(phone_number=number)
    elif name and not contact.name:
        contact.name = name[:120]
        contact.save(update_fields=["name", "updated_at"])
    return contact
