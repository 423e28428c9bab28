"""An agency's own domain, and how it proves it is the agency's: a DNS TXT record holding a token we made.

Whoever controls a domain decides where it points, so a domain an agency merely typed in could be anyone's, the
platform's victims' included. It stays pending, serving nothing and appearing in no link, until
domain_verify finds the record; a beat task checks pending domains, and the brand page asks for a check at once.

    _textback-verification.app.youragency.com.  TXT  "textback-verification=<token>"
"""

import logging
import secrets

import dns.exception
import dns.resolver
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import Agency

log = logging.getLogger(__name__)

RECORD_PREFIX = "_textback-verification"
VALUE_PREFIX = "textback-verification="
DNS_TIMEOUT_SECONDS = 5.0


class DomainCheckError(Exception):
    """The domain's TXT records could not be read; the message says why, in words for the agency."""


def dns_txt_records(name: str) -> list[str]:
    """The TXT strings published at `name`, [] if there are none. The only place we ask DNS: tests replace it with
    a fake resolver (there is no DNS where the test suite runs)."""
    try:
        resolver = _resolver()
        resolver.lifetime = DNS_TIMEOUT_SECONDS
        answer = resolver.resolve(name, "TXT")
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except dns.exception.DNSException as exc:
        raise DomainCheckError(
            f"DNS did not answer for {name} ({type(exc).__name__}); we will try again."
        ) from None
    # A TXT record is one or more strings of up to 255 bytes each, meant to be read joined.
    return [b"".join(rdata.strings).decode(errors="replace") for rdata in answer]


def _resolver() -> dns.resolver.Resolver:
    """The machine's resolvers (/etc/resolv.conf), or those DOMAIN_DNS_SERVERS names (address or address:port)."""
    if not settings.DOMAIN_DNS_SERVERS:
        return dns.resolver.Resolver()
    resolver = dns.resolver.Resolver(configure=False)
    servers = [
        server.rpartition(":") if ":" in server else (server, "", "53")
        for server in settings.DOMAIN_DNS_SERVERS
    ]
    resolver.nameservers = [address for address, _, _ in servers]
    resolver.nameserver_ports = {address: int(port) for address, _, port in servers}
    return resolver


def domain_record_name(agency: Agency) -> str:
    return f"{RECORD_PREFIX}.{agency.custom_domain}"


def domain_record_value(agency: Agency) -> str:
    return f"{VALUE_PREFIX}{agency.custom_domain_token}"


def domain_token_new() -> str:
    return secrets.token_hex(16)


def domain_verify(*, agency_id: int) -> bool:
    """Check one agency's pending domain; True once it is verified. The DNS question is asked outside any
    transaction (it may take seconds); the answer is recorded only if the domain and token are still the ones
    that were checked. A domain another agency already holds verified stays pending here."""
    agency = Agency.objects.filter(pk=agency_id).first()
    if agency is None or not agency.custom_domain:
        return False
    if agency.custom_domain_verified_at:
        return True
    domain, token = agency.custom_domain, agency.custom_domain_token
    error = ""
    try:
        found = domain_record_value(agency) in dns_txt_records(domain_record_name(agency))
    except DomainCheckError as exc:
        found, error = False, str(exc)
    if not found and not error:
        error = f"No TXT record {domain_record_value(agency)} at {domain_record_name(agency)} yet."
    now = timezone.now()
    with transaction.atomic():
        agency = Agency.objects.select_for_update().get(pk=agency_id)
        if (agency.custom_domain, agency.custom_domain_token) != (domain, token):
            return False  # changed while we were asking; the next check is for the new one
        agency.custom_domain_checked_at = now
        agency.custom_domain_check_error = error[:255]
        if found:
            taken = Agency.objects.filter(
                custom_domain=domain, custom_domain_verified_at__isnull=False
            ).exclude(pk=agency.pk)
            if taken.exists():
                agency.custom_domain_check_error = f"{domain} is already in use by another agency."
            else:
                agency.custom_domain_verified_at = now
        try:
            with transaction.atomic():
                agency.save(
                    update_fields=[
                        "custom_domain_checked_at",
                        "custom_domain_check_error",
                        "custom_domain_verified_at",
                    ]
                )
        except IntegrityError:  # another agency verified the same domain in the meantime
            return False
    if agency.custom_domain_verified_at:
        log.info("Agency %s verified its domain %s", agency.slug, domain)
    return bool(agency.custom_domain_verified_at)


def domains_pending() -> list[int]:
    """The agencies whose domain still waits for its record."""
    return list(
        Agency.objects.filter(
            custom_domain__isnull=False, custom_domain_verified_at__isnull=True
        ).values_list("pk", flat=True)
    )
