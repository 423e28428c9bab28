"""accounts.domains.dns_txt_records, the one place DNS is asked: what it makes of the resolver's answers (there is
no DNS where the tests run, so the resolver's own question is replaced, not the function)."""

import dns.exception
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.resolver
import pytest

from accounts.domains import DomainCheckError, dns_txt_records


def answer(*texts: str):
    return [dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, text) for text in texts]


def test_a_record_split_into_strings_is_read_joined(monkeypatch):
    monkeypatch.setattr(
        dns.resolver.Resolver,
        "resolve",
        lambda self, name, kind: answer('"textback-verification=" "0123abcd"', '"v=spf1 -all"'),
    )
    assert dns_txt_records("_textback-verification.app.example.test") == [
        "textback-verification=0123abcd",
        "v=spf1 -all",
    ]


@pytest.mark.parametrize("missing", [dns.resolver.NXDOMAIN, dns.resolver.NoAnswer])
def test_no_record_is_no_record(monkeypatch, missing):
    def resolve(self, name, kind):
        raise missing()

    monkeypatch.setattr(dns.resolver.Resolver, "resolve", resolve)
    assert dns_txt_records("_textback-verification.app.example.test") == []


def test_dns_that_does_not_answer_is_said_so_in_words(monkeypatch):
    def resolve(self, name, kind):
        raise dns.exception.Timeout()

    monkeypatch.setattr(dns.resolver.Resolver, "resolve", resolve)
    with pytest.raises(
        DomainCheckError, match="DNS did not answer for _textback-verification.app.example.test"
    ):
        dns_txt_records("_textback-verification.app.example.test")
