"""Placeholders in the texts staff write, e.g. "Sorry we missed your call at {business_name}!".

The syntax is deliberately small: ``{name}`` for one of PLACEHOLDERS, ``{{`` and ``}}`` for literal braces.
Anything else in braces (spaces, capitals, ``!r``, ``:>10``, ``.attr``, ``[0]``, positional ``{0}``) is refused
with a message saying what to write instead, so a template that saves always renders.
"""

import difflib
import re
from collections.abc import Mapping

from django.core.exceptions import ValidationError

PLACEHOLDERS: dict[str, str] = {
    "business_name": "The business's name, as callers know it.",
    "caller_name": 'The caller\'s name if we know it, else "there" (so "Hi {caller_name}," reads "Hi there,").',
    "business_phone": "The business's phone number.",
    "booking_url": "The business's online booking link; left out when it has none.",
    "agency_name": "The name of the agency that looks after the business.",
    "sender_name": "The name of the person replying, if one is set.",
}
# What a placeholder becomes when the context has no value for it; absent names become "".
_FALLBACKS = {"caller_name": "there"}
_ALLOWED = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
_EXCERPT = 20


def _field_problem(field: str) -> str | None:
    if field in PLACEHOLDERS:
        return None
    shown = f"{{{field}}}"
    if not field.strip():
        return f"{shown} has no placeholder in it. Use one of: {_ALLOWED}. To show braces, write {{{{ and }}}}."
    # "{ Business Name }", "{business_name!r}", "{caller_name.title}" → the placeholder that was meant.
    name = re.sub(r"[\s-]+", "_", re.split(r"[.!:\[]", field, maxsplit=1)[0].strip()).lower()
    if name in PLACEHOLDERS:
        return f"Write {{{name}}} instead of {shown}: just the name in braces, with nothing else inside."
    close = difflib.get_close_matches(name, PLACEHOLDERS, n=1)
    hint = f" Did you mean {{{close[0]}}}?" if close else ""
    return f"{shown} is not a placeholder.{hint} Use one of: {_ALLOWED}."


def _parse(body: str) -> tuple[list[str | tuple[str]], list[str]]:
    """Split ``body`` into literal text and ``(name,)`` fields, with the problems found on the way."""
    parts: list[str | tuple[str]] = []
    problems: list[str] = []
    literal, i = [], 0
    while i < len(body):
        char = body[i]
        if body.startswith(("{{", "}}"), i):
            literal.append(char)
            i += 2
        elif char == "{":
            close, reopen = body.find("}", i + 1), body.find("{", i + 1)
            if close == -1 or -1 < reopen < close:
                excerpt = body[i:].partition("\n")[0][:_EXCERPT]
                problems.append(f'The {{ in "{excerpt}" is never closed. Close it with }}, or write {{{{ to show a brace.')
                literal.append(char)
                i += 1
                continue
            field = body[i + 1 : close]
            problem = _field_problem(field)
            if problem:
                problems.append(problem)
            parts.extend(["".join(literal), (field,)])
            literal, i = [], close + 1
        elif char == "}":
            excerpt = body[: i + 1].rpartition("\n")[2][-_EXCERPT:]
            problems.append(f'The }} in "{excerpt}" has no opening {{. Remove it, or write }}}} to show a brace.')
            literal.append(char)
            i += 1
        else:
            literal.append(char)
            i += 1
    parts.append("".join(literal))
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


def render(body: str, *, context: Mapping[str, str | None]) -> str:
    """The text to send. A value is put on one line; a missing or blank one falls back (caller_name → "there",
    others → ""). Raises ValueError for a template that would not pass validate_template()."""
    parts, problems = _parse(body)
    if problems:
        raise ValueError(" ".join(problems))
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        else:
            name = part[0]
            value = " ".join((context.get(name) or "").split())
            out.append(value or _FALLBACKS.get(name, ""))
    return _tidy("".join(out))
