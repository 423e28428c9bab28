"""How many SMS segments a text costs, as carriers and Twilio count them: for billing and the live counter.

A text goes as GSM-7 when every character is in the GSM 03.38 alphabet (3GPP TS 23.038), else as UCS-2. One
segment holds 160 septets or 70 UTF-16 code units; a longer text is split into parts that each lose room to
the concatenation header, 153 septets or 67 code units. A part never ends in the middle of a GSM-7 escape pair
(an extension character, two septets) or a UTF-16 surrogate pair (a character outside the BMP, e.g. most
emoji), so parts are packed greedily rather than counted as ceil(units / 153).
"""

from dataclasses import dataclass

# The basic table in code order, 0x00-0x7F, 16 to a row.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"  # the escape, 0x1B, sits between Ξ and Æ
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
# Reached through the escape, so each costs two septets.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
_GSM7 = GSM7_BASIC | GSM7_EXTENSION

GSM7 = "GSM-7"
UCS2 = "UCS-2"
_SINGLE = {GSM7: 160, UCS2: 70}
_CONCATENATED = {GSM7: 153, UCS2: 67}


@dataclass(frozen=True)
class SegmentInfo:
    """What a text costs: ``units`` are septets (GSM-7) or UTF-16 code units (UCS-2), ``per_segment`` is the
    room in one segment at this length, and ``remaining`` is the room left in the last segment."""

    encoding: str
    units: int
    segments: int
    per_segment: int
    remaining: int


def _costs(text: str) -> tuple[str, list[int]]:
    if all(char in _GSM7 for char in text):
        return GSM7, [2 if char in GSM7_EXTENSION else 1 for char in text]
    return UCS2, [2 if ord(char) > 0xFFFF else 1 for char in text]


def segment_info(text: str) -> SegmentInfo:
    """The encoding, length and segment count of ``text``; an empty text is 0 segments (we never send one)."""
    encoding, costs = _costs(text)
    units = sum(costs)
    single = _SINGLE[encoding]
    if units <= single:
        return SegmentInfo(encoding, units, 1 if text else 0, single, single - units)
    per_segment = _CONCATENATED[encoding]
    segments, used = 1, 0
    for cost in costs:
        if used + cost > per_segment:
            segments, used = segments + 1, 0
        used += cost
    return SegmentInfo(encoding, units, segments, per_segment, per_segment - used)


def segment_count(text: str) -> int:
    """How many segments ``text`` is billed as."""
    return segment_info(text).segments
