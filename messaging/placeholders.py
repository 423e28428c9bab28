"""Placeholders in the texts staff write, e.g. "Sorry we missed your call at {business_name}!".

The syntax is deliberately small: ``{name}`` for one of PLACEHOLDERS, ``{{`` and ``}}`` for literal braces.
Anything else in braces (spaces, capitals, ``!r``, ``:>10``, ``.attr``, ``[0]``, positional ``{0}``) is
refused with a message saying what to write instead, so a template that saves always renders.
"""

import difflib
import re
from collections.abc import Mapping

from django.core.exceptions import ValidationError

PLACEHOLDERS: dict[str, str] = {
    "business_name": "The business's name, as callers know it.",
    "caller_name": 'The caller\'s name if we know it, else "there", so "Hi {caller_name}," still reads well.',
    "business_phone": "The business's phone number.",
    "booking_url": "The business's online booking page, as a short link that counts who opens it; left out "
    "when it has none.",
    "intake_url": "A short link to a page in the agency's brand where the caller describes the job and adds "
    "photos; it lands in the conversation.",
    "agency_name": "The name of the agency that looks after the business.",
    "sender_name": "The name the business signs its texts with (its business name unless one is set).",
}
# What a placeholder becomes when the context has no value for it; absent names become "".
_FALLBACKS = {"caller_name": "there"}
_ALLOWED = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
# A stray brace is quoted with its word and the word after ({) or before (}), so staff can find it.
_OPEN_EXCERPT = re.compile(r"\{\S*(?:[^\S\n]+\S+)?")
_CLOSE_EXCERPT = re.compile(r"(?:\S+[^\S\n]+)?\S*\}$")


def _field_problem(field: str) -> str | None:
    if field in PLACEHOLDERS:
        return None
    shown = f"{{{field}}}"
    if not field.strip():
        return f"{shown} has no placeholder in it. Use one of: {_ALLOWED}. To show braces, write {{{{}}}}."
    # "{ Business Name }", "{business_name!r}", "{caller_name.title}" → the placeholder that was meant.
    name = re.sub(r"[\s-]+", "_", re.split(r"[.!:\[]", field, maxsplit=1)[0].strip()).lower()
    if name in PLACEHOLDERS:
        return f"Write {{{name}}} instead of {shown}: just the name in braces, with nothing else inside."
    close = difflib.get_close_matches(name, PLACEHOLDERS, n=1)
    hint = f" Did you mean {{{close[0]}}}?" if close else ""
    return f"{shown} is not a placeholder.{hint} Use one of: {_ALLOWED}."


def _parse(body: str) -> tuple[list[tuple[str, str | None]], list[str]]:
    """``body`` as (literal text, placeholder name or None) pairs, and the problems found on the way."""
    parts: list[tuple[str, str | None]] = []
    problems: list[str] = []
    literal: list[str] = []
    i = 0
    while i < len(body):
        char = body[i]
        if body.startswith(("{{", "}}"), i):
            literal.append(char)
            i += 2
            continue
        if char == "{":
            close, reopen = body.find("}", i + 1), body.find("{", i + 1)
            if close != -1 and not -1 < reopen < close:
                field = body[i + 1 : close]
                if problem := _field_problem(field):
                    problems.append(problem)
                parts.append(("".join(literal), field))
                literal, i = [], close + 1
                continue
            opened = _OPEN_EXCERPT.match(body, i)  # always matches: body[i] is "{"
            excerpt = opened[0] if opened else char
            problems.append(f'The {{ in "{excerpt}" is never closed. Close it, or write {{{{ to show a {{.')
        elif char == "}":
            closed = _CLOSE_EXCERPT.search(body, 0, i + 1)  # always matches: body[i] is "}"
            excerpt = closed[0] if closed else char
            problems.append(f'The }} in "{excerpt}" is never opened. Remove it, or write }}}} to show a }}.')
        literal.append(char)
        i += 1
    parts.append(("".join(literal), None))
    return parts, list(dict.fromkeys(problems))


def template_errors(body: str) -> list[str]:
    """What is wrong with a template, in words staff can act on; empty when it is fine."""
    if not body.strip():
        return ["The text is empty."]
    return _parse(body)[1]


def validate_template(body: str) -> None:
    """Raise ValidationError listing every problem, for form and model ``clean()``."""
    errors = template_errors(body)
    if errors:
        raise ValidationError(errors)


def _tidy(text: str) -> str:
    """Runs of spaces become one and line ends lose theirs, so a left-out value leaves no gap; CRLF (as
    browsers submit textareas) becomes LF, which costs one septet less."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(" ".join(line.split()) for line in lines).strip()


def placeholders_in(body: str) -> set[str]:
    """The placeholder names ``body`` uses (a body that does not validate uses none)."""
    parts, problems = _parse(body)
    return set() if problems else {name for _, name in parts if name is not None}


def render(body: str, *, context: Mapping[str, str | None]) -> str:
    """The text to send. A value is put on one line; a missing or blank one falls back (caller_name → "there",
    others → ""). Raises ValueError for a template that would not pass validate_template()."""
    parts, problems = _parse(body)
    if problems:
        raise ValueError(" ".join(problems))
    out = []
    for literal, name in parts:
        out.append(literal)
        if name is not None:
            value = " ".join((context.get(name) or "").split())
            out.append(value or _FALLBACKS.get(name, ""))
    return _tidy("".join(out))
