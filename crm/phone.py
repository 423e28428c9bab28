"""What counts as a textable caller ID."""

import phonenumbers
from django.conf import settings

# What carriers put in From when the caller hides their number, plus Twilio's placeholders for it.
ANONYMOUS_CALLER_IDS = frozenset(
    {
        "",
        "anonymous",
        "restricted",
        "unavailable",
        "unknown",
        "private",
        "blocked",
        "+266696687",
        "266696687",
        "+7378742833",
        "+2562533",
        "+8656696",
    }
)


def is_anonymous(raw: str | None) -> bool:
    return (raw or "").strip().lower() in ANONYMOUS_CALLER_IDS


def e164_or_none(raw: str | None) -> str | None:
    """The number in E.164 if it is a valid phone number, else None."""
    if raw is None or is_anonymous(raw):
        return None
    try:
        number = phonenumbers.parse(raw.strip(), settings.PHONENUMBER_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
