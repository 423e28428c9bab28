"""Segment counting: what a text is billed as, checked against known cases and a reference splitter."""

import math
import string
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from messaging.segments import GSM7_BASIC, GSM7_EXTENSION, SegmentInfo, segment_count, segment_info

GSM7 = sorted(GSM7_BASIC | GSM7_EXTENSION)
gsm_text = st.text(alphabet=GSM7)
# Lone surrogates are left out: no encoder sends them, and str from JSON or a form never holds them.
character = st.characters(exclude_categories=["Cs"])
non_gsm_char = st.characters(exclude_categories=["Cs"], exclude_characters=GSM7)
emoji = st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF)
# Mixed text that exercises both encodings, escapes and surrogate pairs; the long ones reach past the
# single-segment limits, where packing matters.
short_text = st.text(
    alphabet=st.one_of(st.sampled_from(GSM7), st.sampled_from(sorted(GSM7_EXTENSION)), emoji, character)
)
long_text = st.builds(
    lambda filler, count, tail: filler * count + tail,
    st.sampled_from(["a", "€", "ł", "😀"]),
    st.integers(min_value=60, max_value=340),
    short_text,
)
any_text = st.one_of(short_text, long_text)


def reference_segments(text: str) -> int:
    """Split the way an encoder does, on the encoded units: GSM-7 septets with ESC before each extension
    character, or UTF-16 code units; a part that would end on ESC or a high surrogate gives it to the next."""
    if all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text):
        units = [unit for char in text for unit in (("ESC", char) if char in GSM7_EXTENSION else (char,))]
        single, size, splits_pair = 160, 153, lambda unit: unit == "ESC"
    else:
        encoded = text.encode("utf-16-be")
        units = [int.from_bytes(encoded[i : i + 2], "big") for i in range(0, len(encoded), 2)]
        single, size, splits_pair = 70, 67, lambda unit: 0xD800 <= unit <= 0xDBFF
    if len(units) <= single:
        return 1 if units else 0
    parts = 0
    while units:
        part, units = units[:size], units[size:]
        if units and splits_pair(part[-1]):
            units.insert(0, part.pop())
        parts += 1
    return parts


def test_the_tables_are_the_3gpp_ones():
    assert len(GSM7_BASIC) == 127  # 128 codes less the escape
    assert len(GSM7_EXTENSION) == 10
    assert not GSM7_BASIC & GSM7_EXTENSION
    # The Greek capitals, not look-alikes such as U+2126 OHM SIGN or U+2206 INCREMENT.
    greek = {char for char in GSM7_BASIC if unicodedata.name(char, "").startswith("GREEK")}
    assert greek == set(map(chr, (0x394, 0x3A6, 0x393, 0x39B, 0x3A9, 0x3A0, 0x3A8, 0x3A3, 0x398, 0x39E)))
    assert set("\f^{}\\[]~|€") == GSM7_EXTENSION
    assert set(string.ascii_letters + string.digits) < GSM7_BASIC
    assert not {"\t", "`", "ç", "’", "“", "\u00a0"} & (GSM7_BASIC | GSM7_EXTENSION)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", SegmentInfo("GSM-7", 0, 0, 160, 160)),
        ("a", SegmentInfo("GSM-7", 1, 1, 160, 159)),
        ("a" * 160, SegmentInfo("GSM-7", 160, 1, 160, 0)),
        ("a" * 161, SegmentInfo("GSM-7", 161, 2, 153, 145)),
        ("a" * 306, SegmentInfo("GSM-7", 306, 2, 153, 0)),
        ("a" * 307, SegmentInfo("GSM-7", 307, 3, 153, 152)),
        ("€" * 80, SegmentInfo("GSM-7", 160, 1, 160, 0)),
        ("é" * 160, SegmentInfo("GSM-7", 160, 1, 160, 0)),
        ("ł" * 70, SegmentInfo("UCS-2", 70, 1, 70, 0)),
        ("ł" * 71, SegmentInfo("UCS-2", 71, 2, 67, 63)),
        ("你" * 134, SegmentInfo("UCS-2", 134, 2, 67, 0)),
        ("你" * 135, SegmentInfo("UCS-2", 135, 3, 67, 66)),
        ("😀", SegmentInfo("UCS-2", 2, 1, 70, 68)),
        ("😀" * 35, SegmentInfo("UCS-2", 70, 1, 70, 0)),
        ("😀" * 36, SegmentInfo("UCS-2", 72, 2, 67, 61)),  # 33 emoji fill 66 units, 3 more take 6
    ],
)
def test_known_texts(text, expected):
    assert segment_info(text) == expected
    assert segment_count(text) == expected.segments


def test_an_escape_pair_is_not_split_at_a_segment_boundary():
    # 152 + 2 + 152 = 306 septets would fit two parts of 153, but the € cannot straddle them.
    text = "a" * 152 + "€" + "a" * 152
    assert math.ceil(segment_info(text).units / 153) == 2
    assert segment_info(text) == SegmentInfo("GSM-7", 306, 3, 153, 152)


def test_a_surrogate_pair_is_not_split_at_a_segment_boundary():
    text = "ł" * 66 + "😀" + "ł" * 66
    assert segment_info(text) == SegmentInfo("UCS-2", 134, 3, 67, 66)


def test_a_typographic_apostrophe_forces_ucs2():
    """The usual surprise: a pasted ’ makes a 100-character text two segments."""
    assert segment_info("a" * 99 + "'").segments == 1
    assert segment_info("a" * 99 + "’") == SegmentInfo("UCS-2", 100, 2, 67, 34)


@given(any_text)
def test_the_count_is_the_reference_splitters(text):
    assert segment_count(text) == reference_segments(text)


@given(any_text)
def test_the_units_and_room_add_up(text):
    info = segment_info(text)
    if info.encoding == "GSM-7":
        assert info.units == len(text) + sum(char in GSM7_EXTENSION for char in text)
    else:
        assert info.units == len(text.encode("utf-16-le")) // 2
    assert 0 <= info.remaining <= info.per_segment
    assert (info.remaining == info.per_segment) == (text == "")


@given(any_text, any_text)
def test_appending_never_lowers_the_count(text, more):
    assert segment_count(text) <= segment_count(text + more)


@given(st.text(alphabet=sorted(GSM7_BASIC), min_size=1, max_size=160))
def test_gsm_text_up_to_160_characters_is_one_segment(text):
    assert segment_info(text).encoding == "GSM-7"
    assert segment_count(text) == 1


@given(gsm_text, non_gsm_char, gsm_text)
def test_one_non_gsm_character_switches_to_ucs2(before, char, after):
    assert segment_info(before + char + after).encoding == "UCS-2"
