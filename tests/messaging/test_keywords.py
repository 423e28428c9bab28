"""STOP, START and HELP: a reply is a keyword only when the whole of it is one, however it is typed."""

import string
import unicodedata

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from messaging.keywords import HELP_WORDS, OPT_IN_WORDS, OPT_OUT_WORDS, Keyword, classify

EVERY_WORD = (
    [(word, Keyword.OPT_OUT) for word in sorted(OPT_OUT_WORDS)]
    + [(word, Keyword.OPT_IN) for word in sorted(OPT_IN_WORDS)]
    + [(word, Keyword.HELP) for word in sorted(HELP_WORDS)]
)
# Every single word that is, or is part of, a keyword: "opt" and "out" included.
KEYWORD_PARTS = {part.casefold() for word, _ in EVERY_WORD for part in word.split()}


def test_the_lists_are_the_carrier_ones():
    opt_out = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "OPT OUT"}
    assert opt_out == OPT_OUT_WORDS
    assert {"START", "YES", "UNSTOP"} == OPT_IN_WORDS
    assert {"HELP", "INFO"} == HELP_WORDS
    assert not (OPT_OUT_WORDS & OPT_IN_WORDS or OPT_OUT_WORDS & HELP_WORDS or OPT_IN_WORDS & HELP_WORDS)


@pytest.mark.parametrize(("word", "keyword"), EVERY_WORD)
@pytest.mark.parametrize(
    "dress",
    ["{}", "{lower}", "{title}", " {} ", "{}.", "{}!!", "\n{lower}?\n", '"{}"', "{} 🛑", "👋 {title} 🙏"],
)
def test_every_word_however_dressed(word, keyword, dress):
    assert classify(dress.format(word, lower=word.lower(), title=word.title())) is keyword


@pytest.mark.parametrize(
    ("body", "keyword"),
    [
        ("stop", Keyword.OPT_OUT),
        ("Stop.", Keyword.OPT_OUT),
        (" STOP!! ", Keyword.OPT_OUT),
        ("opt-out", Keyword.OPT_OUT),
        ("Opt out", Keyword.OPT_OUT),
        ("OPT_OUT", Keyword.OPT_OUT),
        ("opt   \n out", Keyword.OPT_OUT),
        ("Opt-Out.", Keyword.OPT_OUT),
        ("Stop 🛑", Keyword.OPT_OUT),
        ("ＳＴＯＰ", Keyword.OPT_OUT),
        ("𝐒𝐓𝐎𝐏", Keyword.OPT_OUT),
        ("ⓈⓉⓄⓅ", Keyword.OPT_OUT),
        ("Unsubscribe!", Keyword.OPT_OUT),
        ("yes", Keyword.OPT_IN),
        ("Yes!", Keyword.OPT_IN),
        ("UNSTOP", Keyword.OPT_IN),
        ("Help?", Keyword.HELP),
        ("info", Keyword.HELP),
    ],
)
def test_keywords(body, keyword):
    assert classify(body) is keyword


@pytest.mark.parametrize(
    "body",
    [
        "",
        "   ",
        "?!",
        "🛑",
        "please stop calling me",
        "Stop by tomorrow",
        "stop stop",
        "don't stop",
        "stopp",
        "s.t.o.p",
        "opt",
        "out",
        "yes please",
        "help me",
        "I need info",
        "Start time?",
        "stop 1",
        "ending",
    ],
)
def test_not_keywords(body):
    assert classify(body) is None


def test_the_keyword_is_the_enum_value():
    assert classify("STOP") == "opt_out"
    assert [keyword.value for keyword in Keyword] == ["opt_out", "opt_in", "help"]


# Punctuation, symbols, emoji and whitespace, except the few that NFKC turns into letters or digits (™ → TM).
separator = st.characters(categories=["P", "S", "Z", "Cc"]).filter(
    lambda char: not any(folded.isalnum() for folded in unicodedata.normalize("NFKC", char))
)
padding = st.text(alphabet=separator)


@st.composite
def typed(draw, word: str) -> str:
    """``word`` as someone might type it: any case, any full-width letters, any separator between words."""
    letters = [
        chr(ord(char) + 0xFEE0) if char.isalpha() and draw(st.booleans()) else char  # full-width form
        for char in (draw(st.sampled_from([str.upper, str.lower]))(char) for char in word)
    ]
    return draw(st.text(alphabet=separator, min_size=1)).join("".join(letters).split(" "))


@given(st.data(), st.sampled_from(EVERY_WORD), padding, padding)
def test_a_keyword_wrapped_in_anything_still_counts(data, word_and_keyword, before, after):
    word, keyword = word_and_keyword
    assert classify(before + data.draw(typed(word)) + after) is keyword


letters = st.text(alphabet=string.ascii_letters + "äöüßéñłçøåæ", min_size=1)
keyword_or_not = st.sampled_from([word for word, _ in EVERY_WORD]) | letters


@given(st.lists(keyword_or_not, max_size=4), letters, st.data(), st.text(alphabet=separator, min_size=1))
def test_a_message_with_any_other_word_is_not_a_keyword(words, other, data, gap):
    assume(other.casefold() not in KEYWORD_PARTS)
    words.insert(data.draw(st.integers(min_value=0, max_value=len(words))), other)
    assert classify(gap.join(words)) is None
