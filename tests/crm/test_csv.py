"""Contacts to and from CSV: export neutralises formulas; import is all or nothing, bad rows named by line."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from crm import csv_io
from crm.models import Contact

pytestmark = pytest.mark.django_db

HOST = "acme.localhost"


def _upload(client, text: str | bytes, name="contacts.csv"):
    data = text.encode() if isinstance(text, str) else text
    return client.post("/contacts/import/", {"file": SimpleUploadedFile(name, data, content_type="text/csv")})


def _contacts(personas) -> dict[str, Contact]:
    with schema_context(personas.acme.schema_name):
        return {c.phone_number: c for c in Contact.objects.all()}


def test_the_export_has_every_contact_and_neutralises_formulas(web, personas, acme):
    acme.contact(
        "+13125550177",
        name='=HYPERLINK("http://evil")',
        email="pat@example.com",
        tags=["vip", "-x"],
        opted_out=True,
    )
    acme.contact("+13125550178", name="@SUM(A1)", is_blocked=True)
    response = web(HOST, personas.bob).get("/contacts/export.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="contacts-acme-')
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["phone", "name", "email", "tags", "opted_out", "blocked", "created"]
    first, second = rows[1], rows[2]  # oldest first
    assert first[:6] == [
        "'+13125550177",
        '\'=HYPERLINK("http://evil")',
        "pat@example.com",
        "vip, -x",
        "yes",
        "no",
    ]
    assert second[:6] == ["'+13125550178", "'@SUM(A1)", "", "", "no", "yes"]


@pytest.mark.parametrize(
    "value, expected",
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_neutralise(value, expected):
    assert csv_io.neutralise(value) == expected


def test_an_export_imports_back_unchanged(web, personas, acme):
    acme.contact("+13125550177", name="-Pat", email="pat@example.com", tags=["vip", "repeat"])
    client = web(HOST, personas.alice)
    exported = b"".join(client.get("/contacts/export.csv").streaming_content)
    with schema_context(personas.acme.schema_name):
        Contact.objects.all().delete()
    assert _upload(client, exported).status_code == 302
    pat = _contacts(personas)["+13125550177"]
    assert (pat.name, pat.email, pat.tags, pat.opted_out) == (
        "-Pat",
        "pat@example.com",
        ["vip", "repeat"],
        False,
    )


def test_it_creates_new_numbers_and_updates_known_ones(web, personas, acme):
    acme.contact("+13125550177", name="Pat", email="old@example.com", tags=["vip"], notes="keep me")
    client = web(HOST, personas.alice)
    response = _upload(
        client,
        (
            "\ufeffPhone,Name,Email,Tags,Ignored\n"
            '(312) 555-0177,,new@example.com,"Repeat, vip",x\n'
            "773-555-0188,Sam,,,\n"
            "\n"
        ),
    )
    assert response.status_code == 302 and response["Location"] == "/contacts/"
    assert "Imported: 1 new, 1 updated." in client.get("/contacts/").content.decode()
    contacts = _contacts(personas)
    pat, sam = contacts["+13125550177"], contacts["+17735550188"]
    assert (pat.name, pat.email, pat.tags, pat.notes) == (
        "Pat",
        "new@example.com",
        ["vip", "repeat"],
        "keep me",
    )
    assert (sam.name, sam.email, sam.tags) == ("Sam", "", [])


def test_one_bad_row_imports_nothing_and_every_bad_row_is_named_by_line(web, personas, acme):
    acme.contact("+13125550177", name="Pat")
    response = _upload(
        web(HOST, personas.alice),
        (
            "phone,name,email,tags\n"
            "+13125550177,Pat Renamed,,\n"  # line 2: fine, but must not be applied
            "555,Short,,\n"  # 3
            ",No number,,\n"  # 4
            '+17735550188,"Two\nlines",bad-email,\n'  # 5-6: a quoted cell spanning lines
            "+17735550199,Ok,,\n"  # 7
            "773 555 0199,Again,,\n"  # 8: the same number as line 7
            f"+17735550111,{'x' * 121},,{'t' * 41}\n"  # 9
        ),
    )
    assert response.status_code == 400
    assert response.context["result"].errors == [
        (3, "“555” is not a valid phone number."),
        (4, "The phone number is missing."),
        (5, "“bad-email” is not a valid email address."),
        (8, "+17735550199 is already on line 7."),
        (9, "The name is longer than 120 characters; a tag is longer than 40 characters."),
    ]
    html = response.content.decode()
    assert "Nothing was imported" in html and "Line 8: +17735550199 is already on line 7." in html
    assert {n: c.name for n, c in _contacts(personas).items()} == {"+13125550177": "Pat"}


@pytest.mark.parametrize(
    "content, message",
    [
        (b"name,email\nPat,pat@example.com\n", "The header row has no “phone” column"),
        (b"", "The submitted file is empty."),
        ("phone,name\n+13125550177,Jos\xe9\n".encode("latin-1"), "The file is not UTF-8 text."),
    ],
)
def test_it_explains_a_file_it_cannot_use(web, personas, content, message):
    response = _upload(web(HOST, personas.alice), content)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _contacts(personas) == {}


def test_it_refuses_a_file_over_the_limit_with_a_clear_error(web, personas, monkeypatch):
    monkeypatch.setattr(csv_io, "MAX_UPLOAD_BYTES", 1024)
    monkeypatch.setattr("crm.forms.MAX_UPLOAD_BYTES", 1024)
    client = web(HOST, personas.alice)
    row = "+13125550177,Pat,,\n"
    response = _upload(client, "phone,name,email,tags\n" + row * 60)  # ~1.2 kB: caught by the form
    assert response.status_code == 400
    assert "The file is too large (1.1\xa0KB); the limit is 1.0\xa0KB." in response.content.decode()
    big = _upload(client, "phone\n" + "+13125550177\n" * 10_000)  # ~130 kB: refused from Content-Length
    assert big.status_code == 400
    assert "The file is too large; the limit is 1.0\xa0KB." in big.content.decode()
    assert _contacts(personas) == {}
