"""The one door for HTTP requests to a URL someone outside the platform gave us (a logo's address, an outbound
webhook's endpoint). Agencies and clients choose those URLs, so a request must never become a way into our own
network (SSRF): the platform's database, Redis, the cloud's metadata service.

- The name is resolved once, here. Every address it resolves to must be public (not private, loopback,
  link-local, carrier-grade NAT, multicast, reserved or unspecified, and not a cloud metadata address; an IPv4
  address wrapped in IPv6 is judged as the IPv4 one), or the request is refused.
- The connection goes to an address that was checked, with the URL's name kept for the Host header and the TLS
  certificate. Resolving again at connect time would let a name answer public for the check and private for
  the request (DNS rebinding).
- Redirects are never followed: a 3xx comes back as the answer, for the caller to treat as a failure (a
  redirect could point anywhere, the metadata service included).
- Time and size are bounded: a connect and a read timeout and a deadline for the whole request, and at most
  `max_bytes` of the body are read.

`allow_private` lets development and the test suite's local receivers through (accounts' DEBUG, api's
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES); the address is still pinned. Like healthchecks' hc/lib/curl.py.
"""

import ipaddress
import os
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import certifi
import urllib3

# Addresses a cloud answers its metadata service on, refused even where private addresses are allowed.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)
# IPv6 ranges that carry an IPv4 address inside them: judged by that address.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class OutboundError(Exception):
    """Why a request could not be made or answered, in words the person who gave us the URL can act on."""


class OutboundRefused(OutboundError):
    """The URL leads somewhere we never send to (a private address, a scheme not allowed)."""


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes  # at most max_bytes + 1 bytes: more than max_bytes means the body was longer
    address: str  # the address connected to

    @property
    def is_redirect(self) -> bool:
        return 300 <= self.status < 400


def address_problem(address: str) -> str | None:
    """Why we never connect to this address, or None for a public one."""
    parsed = ipaddress.ip_address(address.split("%")[0])
    if isinstance(parsed, ipaddress.IPv6Address):
        embedded = (
            parsed.ipv4_mapped
            or parsed.sixtofour
            or (ipaddress.IPv4Address(int(parsed) & 0xFFFFFFFF) if parsed in _NAT64 else None)
        )
        if embedded is not None:
            return address_problem(str(embedded))
    if parsed in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if isinstance(parsed, ipaddress.IPv4Address) and parsed in _CGNAT:
        return "a carrier-grade NAT address"
    if parsed.is_multicast:
        return "a multicast address"
    if not parsed.is_global or parsed.is_loopback or parsed.is_link_local or parsed.is_private:
        return "a private or local address"
    return None


def resolve(host: str, port: int, *, allow_private: bool) -> list[str]:
    """The addresses to connect to: the name resolved once, every address checked."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise OutboundError(f"{host} does not resolve.") from None
    # The address is a str for the IP families (the types allow an int for others).
    addresses = list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))
    for address in addresses:
        problem = address_problem(address)
        if problem is None:
            continue
        if problem == "a cloud metadata address" or not allow_private:
            raise OutboundRefused(
                f"{host} is not a public address. {address} is {problem}; we send to the public "
                "internet only."
            )
    return addresses


def request(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    schemes: tuple[str, ...] = ("https",),
    allow_private: bool = False,
    connect_timeout: float = 3.05,
    read_timeout: float = 10.0,
    deadline: float = 15.0,
    max_bytes: int = 256 * 1024,
) -> Answer:
    """Send one request through the door (see the module's docstring); OutboundError says why it failed."""
    parts = urlsplit(url)
    if parts.scheme not in schemes or not parts.hostname:
        raise OutboundRefused(f"Use an {' or '.join(schemes)} URL.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise OutboundRefused(f"Use an {' or '.join(schemes)} URL.") from None
    host = parts.hostname
    started = time.monotonic()
    for address in resolve(host, port, allow_private=allow_private):
        remaining = deadline - (time.monotonic() - started)
        if remaining <= 0:
            break
        timeout = urllib3.Timeout(connect=min(connect_timeout, remaining), read=min(read_timeout, remaining))
        try:
            return _send(
                parts, address, port, method, body, headers or {}, timeout, max_bytes, started, deadline
            )
        except (urllib3.exceptions.ConnectTimeoutError, urllib3.exceptions.NewConnectionError):
            continue  # the next address, as a browser would
        except urllib3.exceptions.TimeoutError:
            raise OutboundError(f"{host} did not answer in time.") from None
        except urllib3.exceptions.SSLError:
            raise OutboundError(f"{host}'s certificate could not be verified.") from None
        except urllib3.exceptions.HTTPError as exc:
            raise OutboundError(f"{host} could not be reached ({type(exc).__name__}).") from None
    raise OutboundError(f"{host} did not answer; check the address.")


def _send(parts, address, port, method, body, headers, timeout, max_bytes, started, deadline) -> Answer:
    options = {"timeout": timeout, "retries": False, "maxsize": 1}
    pool: urllib3.HTTPConnectionPool
    if parts.scheme == "https":
        # The certificate is checked against the name in the URL, not the address connected to.
        pool = urllib3.HTTPSConnectionPool(
            address,
            port,
            server_hostname=parts.hostname,
            assert_hostname=parts.hostname,
            cert_reqs="CERT_REQUIRED",
            ca_certs=os.environ.get("REQUESTS_CA_BUNDLE") or certifi.where(),
            **options,
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, port, **options)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    with pool:
        response = pool.urlopen(
            method,
            target,
            body=body,
            redirect=False,
            preload_content=False,
            headers={"Host": parts.netloc.rpartition("@")[2], **headers},
        )
        data = b""
        for chunk in response.stream(16 * 1024):
            data += chunk
            if len(data) > max_bytes or time.monotonic() - started > deadline:
                break
        response.release_conn()
        return Answer(
            status=response.status,
            headers=dict(response.headers),
            body=data[: max_bytes + 1],
            address=address,
        )
