"""What a caller's reply says about their consent: the carrier keywords (STOP and its kin, START, HELP), and a
revocation of consent in any reasonable words.

`classify` is the carriers' rule: a reply is a keyword only when the whole message is one, so "Stop." and
"OPT-OUT 🛑" opt out but "Stop by tomorrow" does not. Case, punctuation, symbols, emoji and spacing are ignored;
NFKC folds full-width and other look-alike letters (ＳＴＯＰ, 𝐒𝐓𝐎𝐏, ⓈⓉⓄⓅ) to plain ones first.

`revocation` is the law's (the FCC's 2024 order, in force since April 2025): a consumer may revoke consent by
any reasonable means, and a reply using stop, quit, end, revoke, opt out, cancel or unsubscribe is one even
inside a sentence ("please stop texting me"), as are common phrasings ("don't text me", "remove me"). It reads
the words around each of those, so "can you stop by tomorrow?" and "cancel my appointment" are not one; where
the words could go either way ("don't stop", "cancel, who is this") it answers *unsure* and a person decides
(messaging.services.inbound_receive flags the conversation) instead of guessing.
"""

import re
import unicodedata
from dataclasses import dataclass
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


# --- Revocation in any reasonable words -------------------------------------------------------------------


@dataclass(frozen=True)
class Revocation:
    """A reply that revokes consent (`certain`), or may (a person should look). `words`: the words that
    decided, as the caller wrote them once folded ("stop texting", "remove me")."""

    certain: bool
    words: str


# The law's words, as single tokens once "opt out" is joined.
_LAW_WORDS = {"stop", "stopall", "quit", "end", "revoke", "optout", "cancel", "unsubscribe", "unsub"}
# Always a revocation wherever they stand: nobody unsubscribes from a leak.
_ALWAYS = {"revoke", "optout", "unsubscribe", "unsub", "stopall"}
# What a revocation is about: a law word followed closely by one of these asks to stop the texts.
_CONTACT_WORDS = {
    "texting", "texts", "text", "txt", "txts", "txting", "texted", "messaging", "messages", "message",
    "msg", "msgs", "sms", "contacting", "calling", "calls", "spamming", "spam", "bothering", "harassing",
    "subscription", "notifications", "alerts", "reminders", "marketing", "list", "emails", "sending",
}  # fmt: skip
# Words that may stand beside a law word in a clause of its own and leave it a revocation: "please stop",
# "STOP IT NOW", "omg stop already", "i said stop".
_FILLERS = {
    "please", "pls", "plz", "plez", "plss", "just", "now", "it", "already", "all", "thanks", "thank", "you",
    "thx", "ty", "ok", "okay", "k", "omg", "seriously", "asap", "immediately", "right", "away", "i", "said",
    "u", "me", "man", "dude", "lol", "damn", "hey", "hi", "yo", "no", "nope", "and", "so", "sir", "maam",
    "guys", "forever", "permanently", "again", "the", "hell", "for", "real", "goodbye", "bye", "ffs", "wtf",
    "sorry", "but", "yes", "haha", "fucking", "freaking", "oh", "my", "god", "lord",
}  # fmt: skip
# A law word beside these speaks of something else: "stop by", "the leak won't stop", "end of the day".
_BENIGN_AFTER = {
    "stop": {
        "by", "in", "over", "at", "past", "round", "around", "through", "off", "leaking", "dripping",
        "running", "working", "flooding", "draining", "heating", "cooling", "beeping", "ringing", "the",
        "that", "this", "from", "a", "water", "leak", "drip", "bleeding", "pain", "there", "here", "on",
        "and", "to", "for", "when", "before", "after", "first", "soon", "today", "tomorrow", "tonight",
        "making",
    },
    "quit": {
        "working", "on", "running", "heating", "cooling", "blowing", "pumping", "draining", "flushing",
        "spinning", "charging", "responding", "starting", "again", "yesterday", "today", "last", "this",
        "after", "when",
    },
    "end": {
        "of", "up", "date", "dates", "time", "times", "unit", "cap", "caps", "table", "tables", "result", "user",
        "the", "in", "at", "to", "on", "with", "by", "when", "after", "before", "around", "about", "today",
        "tomorrow", "tonight", "early", "late", "soon", "there", "here", "so", "because", "piece", "pieces",
        "fitting", "fittings", "joint", "joints", "line", "lines", "wall", "walls", "pipe", "pipes", "point",
        "product", "zone", "game", "goal", "day", "week", "month", "year", "and", "or", "friday", "monday",
        "tuesday", "wednesday", "thursday", "saturday", "sunday", "a", "my", "our", "your",
    },
    "cancel": {
        "my", "the", "our", "his", "her", "their", "that", "this", "appointment", "appt", "appointments",
        "booking", "visit", "order", "job", "service", "estimate", "quote", "request", "reservation",
        "meeting", "consultation", "cleaning", "checkup", "inspection", "tomorrow", "today", "tuesday",
        "monday", "wednesday", "thursday", "friday", "saturday", "sunday", "for", "if", "or", "and", "a",
        "an", "it", "out",
    },
}  # fmt: skip
_BENIGN_BEFORE = {
    "stop": {
        "wont", "doesnt", "didnt", "cant", "cannot", "wouldnt", "isnt", "never", "to", "bus", "a", "the",
        "last", "first", "next", "one", "quick", "pit", "truck", "will", "does", "did", "would", "gonna",
        "could", "can", "should", "might", "may", "not", "wanna", "its", "water", "leak", "leaking", "noise",
        "dripping", "rain", "it", "bleeding", "pain", "alarm", "beeping", "ringing", "they", "he", "she",
    },
    "quit": {
        "it", "ac", "heater", "furnace", "pump", "unit", "thing", "compressor", "fan", "motor", "engine",
        "car", "toilet", "dryer", "washer", "fridge", "freezer", "dishwasher", "sink", "boiler", "battery",
        "system", "machine", "tank", "disposal", "thermostat", "has", "just", "finally", "totally",
    },
    "end": {
        "the", "an", "back", "front", "dead", "high", "low", "west", "east", "north", "south", "deep",
        "rear", "tail", "far", "other", "this", "that", "which", "weekend", "week", "loose", "each",
        "you", "u", "we", "they", "it", "will", "would", "should", "could", "might", "may", "to", "at", "by",
        "near", "toward", "towards", "till", "until", "top", "bottom", "either", "both", "one", "its", "year",
        "month", "day", "school", "season", "lease", "happy", "sharp", "blunt", "big", "small", "open", "shallow",
        "wont", "doesnt", "didnt", "never", "not",
    },
    # "I need to cancel" may mean the texts or the job: not harmless, so a person looks (the job's own words,
    # "cancel my appointment", are read after it).
    "cancel": {"not", "dont", "didnt", "wont", "may", "might"},
}  # fmt: skip
# The words people use that are not the law's, each a revocation (or a maybe).
_PHRASES: list[tuple[re.Pattern[str], bool]] = [
    (re.compile(r"\bopt(?:ing)?(?: me)? out\b"), True),
    (
        re.compile(
            r"\b(?:dont|do not|never|please dont|no need to|quit|stop)(?: ever)?(?: again)? "
            r"(?:text|txt|message|msg|sms|contact|spam|bother|harass|email)(?:ing)?"
            r" (?:me|us|this number|my number|again|anymore|any more|here)\b"
        ),
        True,
    ),
    (
        re.compile(r"\b(?:dont|do not) (?:want|need)(?: any)?(?: more)? (?:texts|messages|text messages)\b"),
        True,
    ),
    # "Take me off the schedule" is a booking, not consent: a person looks (the first pattern that matches
    # decides, so this one stands before the two that follow).
    (
        re.compile(
            r"\b(?:remove|take) (?:me|my number|this number|us)(?: off| from)?(?: the| your| my)?"
            r" (?:schedule|calendar|waitlist|wait list|appointment|job|route)\b"
        ),
        False,
    ),
    (re.compile(r"\bremove (?:me|my number|this number|us)\b"), True),
    (re.compile(r"\btake (?:me|my number|this number|us) off\b"), True),
    (re.compile(r"\boff (?:your|the|this|ur) (?:list|texts|text list|mailing list|contact list)\b"), True),
    (re.compile(r"\b(?:lose|delete|erase|forget) (?:my|this) number\b"), True),
    (re.compile(r"\bleave me alone\b"), True),
    (re.compile(r"\bno more (?:texts|text|txts|messages|msgs|contact|spam)\b"), True),
    (
        re.compile(
            r"\benough (?:with )?(?:the |these |your )?(?:texts|text messages|messages|msgs|txts|spam)\b"
        ),
        True,
    ),
    (re.compile(r"\btoo many (?:texts|text messages|messages|msgs|txts)\b"), False),
    (re.compile(r"\b(?:do not|dont|no longer) consent\b"), True),
    (re.compile(r"\bnot interested\b"), False),
    (re.compile(r"\b(?:f|fuck|piss|bugger) off\b"), False),
    (re.compile(r"\bgo away\b"), False),
]

_APOSTROPHES = re.compile(r"[’'`´ʼ]")
# Where one clause ends and another begins: "Wrong number, stop" is two clauses, the second a law word alone.
_CLAUSE_BREAKS = re.compile(r"[.!?,;:\n\r…()\[\]{}\"“”/|]+|\s[-–—]+\s*|[–—]")


def _words(text: str) -> list[str]:
    folded = _APOSTROPHES.sub("", unicodedata.normalize("NFKC", text).casefold())
    words = _SEPARATORS.sub(" ", folded).split()
    joined: list[str] = []
    for word in words:  # "opt out" is one word of the law's, as "optout" is
        if word == "out" and joined and joined[-1] == "opt":
            joined[-1] = "optout"
        else:
            joined.append(word)
    return joined


def _verdict_in_clause(words: list[str], index: int, *, alone: bool) -> Revocation | None:
    """What the law word at ``words[index]`` says, from the words of its own clause around it. `alone`: the
    clause is the whole message."""
    word = words[index]
    before = words[index - 1] if index else ""
    after = words[index + 1 : index + 5]
    nearby = [w for w in after if w in _CONTACT_WORDS]
    if word in _ALWAYS:
        return Revocation(True, " ".join(words[index : index + 2]) if after[:1] == ["me"] else word)
    if nearby:
        end = index + 1 + after.index(nearby[0])
        return Revocation(True, " ".join(words[index : end + 1]))
    benign_after = bool(after) and after[0] in _BENIGN_AFTER.get(word, ())
    if all(w in _FILLERS or w in _LAW_WORDS for w in words):
        # "Cancel, I found someone else" most likely cancels the job, not the texts: a person looks.
        certain = word != "cancel" or (alone and "it" not in words)
        return Revocation(certain, word)
    asked = words[max(0, index - 2) : index]
    # "I want you to stop": the one asked to stop is us.
    if word == "stop" and asked in (["you", "to"], ["u", "to"]) and not benign_after:
        return Revocation(True, " ".join(words[index - 2 : index + 1]))
    # "You can stop now", "you can quit": leave to stop, and nothing else in the clause ("you can stop by").
    if (
        word in ("stop", "quit", "end")
        and len(asked) == 2
        and asked[0] in ("you", "u", "yall", "guys")
        and asked[1] in ("can", "may", "should", "could")
        and not benign_after
    ):
        rest_is_filler = all(w in _FILLERS or w in _LAW_WORDS for w in words[index + 1 :])
        return Revocation(rest_is_filler, " ".join(words[index - 2 : index + 1]))
    # "Please end this", "end it now": what is to end is what we are doing.
    if (
        word in ("end", "stop", "quit")
        and after[:1] in (["this"], ["it"], ["these"], ["that"])
        and all(w in _FILLERS or w in _LAW_WORDS for w in [*words[:index], *words[index + 2 :]])
    ):
        return Revocation(True, " ".join(words[index : index + 2]))
    if benign_after or before in _BENIGN_BEFORE.get(word, ()):
        return None
    return Revocation(False, " ".join(words[max(0, index - 1) : index + 2]))


def revocation(body: str) -> Revocation | None:
    """Whether ``body`` revokes consent to be texted: a certain Revocation, an unsure one (a person decides),
    or None. A whole-message keyword (classify) is always certain."""
    if classify(body) == Keyword.OPT_OUT:
        return Revocation(True, _normalize(body))
    unsure: Revocation | None = None
    clauses = [words for words in map(_words, _CLAUSE_BREAKS.split(body)) if words]
    for words in clauses:
        for index, word in enumerate(words):
            if word not in _LAW_WORDS:
                continue
            found = _verdict_in_clause(words, index, alone=len(clauses) == 1)
            if found is not None and found.certain:
                return found
            unsure = unsure or found
    # The phrases read the words with "opt out" kept apart, as people type it.
    text = _SEPARATORS.sub(" ", _APOSTROPHES.sub("", unicodedata.normalize("NFKC", body).casefold())).strip()
    for pattern, certain in _PHRASES:
        match = pattern.search(text)
        if match:
            return (
                Revocation(True, match.group(0)) if certain else unsure or Revocation(False, match.group(0))
            )
    return unsure
