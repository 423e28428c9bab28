"""What a carrier's refusal of a text means, by error code: the words stored on the message (the inbox shows them)
and the class the deliverability figures count it in. Status callbacks carry the code only. Twilio's codes
(2xxxx, 3xxxx) and Telnyx's (1xxxx, 4xxxx: developers.telnyx.com, "Messaging Error Code Reference") never
overlap, so one table serves both carriers."""

# Carriers block texts from US local (10DLC) numbers not registered to an approved A2P 10DLC campaign.
UNREGISTERED_10DLC = 30034
TELNYX_UNREGISTERED_10DLC = 40010
# Toll-free numbers not (yet) verified are blocked the same way.
UNVERIFIED_TOLL_FREE = 30032
TELNYX_UNVERIFIED_TOLL_FREE = 40329
# The carrier's spam filter took it: the signal carriers suspend numbers on.
FILTERED = 30007
# Telnyx: blocked as spam for now (40002) or for good (40003), by Telnyx's own filter (40015), by AT&T (40017).
TELNYX_FILTERED = frozenset({40002, 40003, 40015, 40017})

FILTERED_CODES = frozenset({FILTERED, *TELNYX_FILTERED})
UNREGISTERED = frozenset(
    {UNREGISTERED_10DLC, UNVERIFIED_TOLL_FREE, TELNYX_UNREGISTERED_10DLC, TELNYX_UNVERIFIED_TOLL_FREE}
)

MEANINGS: dict[int, str] = {
    30003: "The phone is off or out of coverage",
    30004: "The caller has blocked texts from this number",
    30005: "The number does not exist or is no longer in service",
    30006: "A landline, or a carrier that cannot take texts",
    FILTERED: "Filtered as spam by the carrier (30007)",
    30008: "The carrier gave no reason",
    UNVERIFIED_TOLL_FREE: "Blocked: the toll-free number is not verified yet (30032)",
    UNREGISTERED_10DLC: "Blocked: the number is not registered for A2P 10DLC texting (30034)",
    # Telnyx
    40001: "A landline, or a number that cannot take texts (40001)",
    40002: "Filtered as spam by the carrier, for now (40002)",
    40003: "Filtered as spam by the carrier: this number is blocked (40003)",
    40008: "The carrier did not accept it (40008)",
    TELNYX_UNREGISTERED_10DLC: "Blocked: the number is not registered for A2P 10DLC texting (40010)",
    40015: "Filtered as spam by Telnyx (40015)",
    40017: "Filtered as spam by AT&T (40017)",
    40300: "The caller texted STOP to this number (40300)",
    TELNYX_UNVERIFIED_TOLL_FREE: "Blocked: the toll-free number is not verified yet (40329)",
}


def error_meaning(code: int | None) -> str:
    """The words for a carrier's error code, or "" for a code we have none for (the inbox then shows the number)."""
    return MEANINGS.get(code, "") if code else ""
