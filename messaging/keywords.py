"""The reply keywords US carriers and the TCPA require us to honour: STOP and its kin, START, HELP.

A reply is a keyword only when the whole message is one, so "Stop." and "OPT-OUT 🛑" opt out but "Stop by
tomorrow" does not. Case, punctuation, symbols, emoji and spacing are ignored; NFKC folds full-width and other
look-alike letters (ＳＴＯＰ, 𝐒𝐓𝐎𝐏, ⓈⓉⓄⓅ) to plain ones first.
"""

import re
import unicodedata
from enum import StrEnum


class Keyword(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


OPT_OUT_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "OPT OUT"}
)
OPT_IN_WORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})

# Anything that is not a letter or digit separates words; "_" counts as a separator too, for "OPT_OUT".
_SEPARATORS = re.compile(r"[\W_]+")


def _normalize(text: str) -> str:
    """The words of ``text``, folded and joined by single spaces: " Opt-Out!! " → "opt out"."""
    return _SEPARATORS.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


_KEYWORDS: dict[str, Keyword] = {
    **{_normalize(word): Keyword.OPT_OUT for word in OPT_OUT_WORDS},
    **{_normalize(word): Keyword.OPT_IN for word in OPT_IN_WORDS},
    **{_normalize(word): Keyword.HELP for word in HELP_WORDS},
}


def classify(body: str) -> Keyword | None:
    """The keyword the whole of ``body`` is, or None for an ordinary message."""
    return _KEYWORDS.get(_normalize(body))
