"""Why a text did not go out: each reason once, with the words a business owner reads.

A reason is its stored value (on `OutboundSend.reason`, in the skipped-reason counts of the roll-ups), the clause
the inbox puts after "Text-back not sent: ", and the label of a report's or an export's row. The core's reasons
are `SkipReason`'s members; an app at the edge that can stop a text-back (billing's allowance) registers its own
with `register()`, next to the veto that gives it. Adding a reason is one member (or one `register`) plus the
check that returns it: the wording cannot be forgotten, and a value nobody declared is refused on write.

`Reason` is the type of every declared reason (a SkipReason member is one, and so is what `register()`
returns): the events that carry one (messaging.events) are typed with it, making one from a value nobody
declared raises, and `OutboundSend.reason` refuses such a value on every write (messaging.models.ReasonField)."""

import enum
from dataclasses import dataclass

from django.core.exceptions import ValidationError


@dataclass(frozen=True)
class Wording:
    text: str  # a clause: "Text-back not sent: <text>."
    label: str  # a row label in reports and exports


class Reason(str):
    """A declared reason, as stored: `Reason("blocked")` is SkipReason.BLOCKED, `Reason("usage_limit")` billing's
    registered one, and `Reason("felt_like_it")` a ValueError."""

    __slots__ = ()

    def __new__(cls, value: str) -> "Reason":
        if isinstance(value, Reason):
            return value
        member = SkipReason._value2member_map_.get(value)
        if member is not None:
            return member  # type: ignore[return-value]  # a SkipReason member is a Reason
        if value not in _registered:
            raise ValueError(f"{value!r} is not a declared reason (messaging.reasons)")
        return str.__new__(cls, value)


class SkipReason(Reason, enum.ReprEnum):
    """The core's reasons. Each member is its stored value (str() and format() give it, as a StrEnum's do) and
    carries its wording."""

    wording: Wording  # set by __new__ (an annotation alone makes no member)

    def __new__(cls, value: str, text: str, label: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.wording = Wording(text, label)
        return member

    CLIENT_PAUSED = "client_paused", "text-backs are paused for this business", "Text-backs paused"
    NOT_LIVE = (
        "not_live",
        "the business isn't live yet (only its test phones get text-backs)",
        "Not live yet",
    )
    ANONYMOUS = "anonymous_caller", "the caller hid their number", "Caller hid their number"
    INVALID_NUMBER = "invalid_number", "the caller's number can't get texts", "Number cannot receive texts"
    BLOCKED = "blocked", "the caller is on the block list", "On the block list"
    OPTED_OUT = "opted_out", "the caller has opted out of texts", "Opted out"
    UNREACHABLE = "unreachable", "the carrier says texts can't reach this number", "Carrier says unreachable"
    LANDLINE = "landline", "the number is a landline", "Landline"
    RECENTLY_TEXTED = "recently_texted", "this caller was already texted recently", "Texted recently"
    ACTIVE_CONVERSATION = (
        "active_conversation",
        "you're already in a conversation with this caller",
        "Already in a conversation",
    )
    NO_TEMPLATE = "no_template", "there is no active text-back template", "No active template"
    CALL_AUDIT = (
        "call_audit",
        "the business is on a missed-call audit: calls are recorded, nobody is texted",
        "Audit: would have been texted",
    )
    PROVIDER_ERROR = "provider_error", "the text provider refused it", "Refused by the carrier"
    # The follow-up's own (messaging.followups): the conversation moved on, or it may not go at all.
    FOLLOWUP_OFF = "followup_off", "follow-ups are switched off for this business", "Follow-ups off"
    ANSWERED_SINCE = (
        "answered_since",
        "the caller replied, or someone texted them, after the text-back",
        "Replied or texted since",
    )
    CALLED_SINCE = "called_since", "there was a call with the caller after the text-back", "Called since"
    OUTCOME_SINCE = "outcome_since", "the caller was marked booked, won or lost", "Outcome recorded"
    TEXTBACK_NOT_DELIVERED = (
        "textback_not_delivered",
        "the text-back itself never reached the caller",
        "Text-back not delivered",
    )
    CONTACT_DELETED = "contact_deleted", "the caller's contact was deleted", "Contact deleted"
    NO_ALLOWED_HOURS = (
        "no_allowed_hours",
        "no hour of the coming week is inside the caller's allowed hours",
        "No allowed hours",
    )


_registered: dict[str, Wording] = {member.value: member.wording for member in SkipReason}


def register(value: str, *, text: str, label: str) -> Reason:
    """An edge app's own reason (a veto's answer), with its wording. Returns the Reason to give and store."""
    wording = Wording(text, label)
    if _registered.get(value, wording) != wording:
        raise ValueError(f"the reason {value!r} is registered twice with different wording")
    _registered[value] = wording
    return Reason(value)


def validate_reason(value: str) -> None:
    """The model field's validator (full_clean, forms): blank, or a declared reason."""
    if value and not is_known(value):
        raise ValidationError(
            f"{value!r} is not a declared reason (messaging.reasons)", code="undeclared_reason"
        )


def is_known(value: str) -> bool:
    return value in _registered


def known() -> dict[str, Wording]:
    return dict(_registered)


def reason_text(value: str) -> str:
    """The inbox's clause. A value stored before its reason was retired still reads as words."""
    wording = _registered.get(value)
    return wording.text if wording else (value.replace("_", " ") or "no reason recorded")


def reason_label(value: str) -> str:
    wording = _registered.get(value)
    return wording.label if wording else (value.replace("_", " ").capitalize() or "No reason recorded")
