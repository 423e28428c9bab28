"""Template placeholders: what staff may write, the messages when they get it wrong, and what gets sent."""

import re

import pytest
from django.core.exceptions import ValidationError
from hypothesis import assume, given
from hypothesis import strategies as st

from messaging.placeholders import PLACEHOLDERS, render, template_errors, validate_template

ALLOWED = "{business_name}, {caller_name}, {business_phone}, {booking_url}, {intake_url}, {agency_name}, {sender_name}"
FULL = {
    "business_name": "Acme Plumbing",
    "caller_name": "Dana",
    "business_phone": "+1 555 010 0199",
    "booking_url": "https://book.example.com/acme",
    "intake_url": "https://textback.example/i/abcdefghijkmnp",
    "agency_name": "Northside Marketing",
    "sender_name": "Sam",
}


def tidy(text: str) -> str:
    """The normalisation render() promises, written independently: LF line breaks, one space between words,
    none at the ends of lines or of the text."""
    text = re.sub(r"[^\S\n]+", " ", text.replace("\r\n", "\n").replace("\r", "\n"))
    return re.sub(r" ?\n ?", "\n", text).strip()


def test_the_placeholders_are_the_agreed_ones():
    assert list(PLACEHOLDERS) == [
        "business_name",
        "caller_name",
        "business_phone",
        "booking_url",
        "intake_url",
        "agency_name",
        "sender_name",
    ]
    assert all(description and "\n" not in description for description in PLACEHOLDERS.values())


@pytest.mark.parametrize("name", PLACEHOLDERS)
def test_every_placeholder_renders(name):
    assert template_errors(f"<{{{name}}}>") == []
    assert render(f"<{{{name}}}>", context=FULL) == f"<{FULL[name]}>"


def test_the_usual_template():
    body = "Sorry we missed your call at {business_name}! How can we help? Reply STOP to opt out."
    validate_template(body)
    assert render(body, context=FULL) == (
        "Sorry we missed your call at Acme Plumbing! How can we help? Reply STOP to opt out."
    )


@pytest.mark.parametrize("value", [None, "", "   "])
def test_an_unknown_caller_is_there(value):
    assert render("Hi {caller_name}, thanks for calling.", context={"caller_name": value}) == (
        "Hi there, thanks for calling."
    )
    assert render("Hi {caller_name}!", context={}) == "Hi there!"


def test_a_missing_booking_url_leaves_no_gap():
    body = "Thanks for calling {business_name}. Book at {booking_url} or reply.\nBook: {booking_url}\nBye"
    assert render(body, context={"business_name": "Acme"}) == (
        "Thanks for calling Acme. Book at or reply.\nBook:\nBye"
    )


@pytest.mark.parametrize("name", [name for name in PLACEHOLDERS if name != "caller_name"])
def test_other_missing_values_are_left_out(name):
    assert render(f"A {{{name}}} B", context={}) == "A B"
    assert render(f"{{{name}}} B", context={name: None}) == "B"


def test_values_stay_on_one_line_and_are_not_templates_themselves():
    context = {"business_name": "  Acme\n\tPlumbing  ", "sender_name": "{caller_name} }{"}
    assert render("{business_name} / {sender_name}", context=context) == "Acme Plumbing / {caller_name} }{"


def test_unknown_context_keys_are_ignored():
    assert render("Hi", context={"nonsense": "x"}) == "Hi"


def test_spacing_is_tidied_but_line_breaks_kept():
    body = "  Hi  {caller_name} ,\r\n\r\n  We\tmissed\u00a0you.  \n"
    assert render(body, context={"caller_name": "Dana"}) == "Hi Dana ,\n\nWe missed you."


def test_literal_braces():
    body = "Use code {{SAVE10}} at {business_name} }} {{"
    assert template_errors(body) == []
    assert render(body, context=FULL) == "Use code {SAVE10} at Acme Plumbing } {"
    assert render("{{{business_name}}}", context=FULL) == "{Acme Plumbing}"


@pytest.mark.parametrize("body", ["", "   ", "\n\t "])
def test_an_empty_text_is_refused(body):
    assert template_errors(body) == ["The text is empty."]


def test_an_unknown_placeholder_is_named_with_the_allowed_ones():
    assert template_errors("Hi {first}") == [f"{{first}} is not a placeholder. Use one of: {ALLOWED}."]


def test_a_near_miss_is_suggested():
    assert template_errors("Book: {booking_link}") == [
        f"{{booking_link}} is not a placeholder. Did you mean {{booking_url}}? Use one of: {ALLOWED}."
    ]


@pytest.mark.parametrize(
    "field",
    [
        "{ business_name }",
        "{Business_Name}",
        "{business name}",
        "{BUSINESS-NAME}",
        "{business_name!r}",
        "{business_name:>20}",
        "{business_name.upper}",
        "{business_name[0]}",
    ],
)
def test_a_mangled_placeholder_gets_the_right_spelling(field):
    assert template_errors(f"At {field}.") == [
        f"Write {{business_name}} instead of {field}: just the name in braces, with nothing else inside."
    ]


@pytest.mark.parametrize("field", ["{0}", "{x.y}", "{x[0]}", "{!r}", "{:>3}"])
def test_python_format_fields_are_refused(field):
    assert template_errors(f"Hi {field}") == [f"{field} is not a placeholder. Use one of: {ALLOWED}."]


def test_empty_braces():
    assert template_errors("Hi {}") == [
        f"{{}} has no placeholder in it. Use one of: {ALLOWED}. To show braces, write {{{{}}}}."
    ]


def test_an_unclosed_brace():
    assert template_errors("Thanks for calling {business_name") == [
        'The { in "{business_name" is never closed. Close it, or write {{ to show a {.'
    ]
    assert template_errors("Call {business_name {caller_name}") == [
        'The { in "{business_name {caller_name}" is never closed. Close it, or write {{ to show a {.'
    ]


def test_a_stray_closing_brace():
    assert template_errors("Thanks for calling\nbusiness_name}!") == [
        'The } in "business_name}" is never opened. Remove it, or write }} to show a }.'
    ]


def test_every_problem_is_reported_once():
    assert template_errors("{nope} {nope} {business_name} }") == [
        f"{{nope}} is not a placeholder. Use one of: {ALLOWED}.",
        'The } in "{business_name} }" is never opened. Remove it, or write }} to show a }.',
    ]


def test_validate_template_raises_every_message():
    validate_template("Hi {caller_name}")
    with pytest.raises(ValidationError) as raised:
        validate_template("Hi {first} from {business_name")
    assert raised.value.messages == template_errors("Hi {first} from {business_name")
    assert len(raised.value.messages) == 2


def test_render_refuses_an_invalid_template():
    with pytest.raises(ValueError, match="is not a placeholder"):
        render("Hi {first}", context={})


brace_free = st.text(
    alphabet=st.one_of(st.characters(exclude_characters="{}"), st.sampled_from(" \t\n\r\u00a0")),
)
# Pieces that make templates of every sort, good and bad: names right and wrong, braces single and doubled.
template = st.lists(
    st.one_of(
        brace_free,
        st.sampled_from([f"{{{name}}}" for name in PLACEHOLDERS]),
        st.sampled_from(["{", "}", "{{", "}}", "{ caller_name }", "{0}", "{x!r}", "{booking_url:}", "{}"]),
    ),
).map("".join)
context = st.dictionaries(
    st.sampled_from(list(PLACEHOLDERS)),
    st.none() | brace_free | st.sampled_from(["{", "}}", "{caller_name}"]),
)


@given(brace_free)
def test_text_without_braces_renders_as_itself_tidied(text):
    assert render(text, context={}) == tidy(text)


@given(template)
def test_validation_only_ever_raises_validation_error(body):
    try:
        validate_template(body)
    except ValidationError as error:
        assert error.messages == template_errors(body)
    else:
        assert template_errors(body) == []


@given(template, context)
def test_a_template_that_validates_always_renders(body, values):
    assume(not template_errors(body))
    rendered = render(body, context=values)
    assert rendered == tidy(rendered)


@given(template)
def test_render_refuses_what_validation_refuses(body):
    assume(body.strip() and template_errors(body))
    with pytest.raises(ValueError):
        render(body, context={})
