"""What a carrier's refusal of a text means, by Twilio error code: the words stored on the message (the inbox shows
them) and the class the deliverability figures count it in. Twilio's status callbacks carry the code only."""

# Carriers block texts from US local (10DLC) numbers not registered to an approved A2P 10DLC campaign.
UNREGISTERED_10DLC = 30034
# Toll-free numbers not (yet) verified are blocked the same way.
UNVERIFIED_TOLL_FREE = 30032
# The carrier's spam filter took it: the signal carriers suspend numbers on.
FILTERED = 30007

UNREGISTERED = frozenset({UNREGISTERED_10DLC, UNVERIFIED_TOLL_FREE})

MEANINGS: dict[int, str] = {
    30003: "The phone is off or out of coverage",
    30004: "The caller has blocked texts from this number",
    30005: "The number does not exist or is no longer in service",
    30006: "A landline, or a carrier that cannot take texts",
    FILTERED: "Filtered as spam by the carrier (30007)",
    30008: "The carrier gave no reason",
    UNVERIFIED_TOLL_FREE: "Blocked: the toll-free number is not verified yet (30032)",
    UNREGISTERED_10DLC: "Blocked: the number is not registered for A2P 10DLC texting (30034)",
}


def error_meaning(code: int | None) -> str:
    """The words for a Twilio error code, or "" for a code we have none for (the inbox then shows the number)."""
    return MEANINGS.get(code, "") if code else ""
