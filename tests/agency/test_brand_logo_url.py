"""A logo given by its web address: fetched once and served from our own host like an upload (the CSP admits
images from 'self' only), with the same checks; outside development only https to public addresses."""

import ipaddress
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from accounts.models import Agency, ClientMembership
from tests.agency.test_brand import PNG, set_brand

pytestmark = pytest.mark.django_db


class _Images(BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, dict, bytes]] = {}
    hits: list[str] = []
    hosts: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's name
        self.hits.append(self.path)
        self.hosts.append(self.headers["Host"])
        status, headers, body = self.routes.get(self.path, (404, {}, b"not here"))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def images(settings):
    """An image host on this machine; development settings, which may fetch from it over http."""
    settings.DEBUG = True
    _Images.routes, _Images.hits = (
        {
            "/logo.png": (200, {"Content-Type": "image/png"}, PNG),
            "/page.html": (200, {"Content-Type": "text/html"}, b"<html>not an image</html>"),
            "/huge.png": (200, {"Content-Type": "image/png"}, PNG + b"\x00" * 300_000),
            "/moved.png": (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""),
        },
        [],
    )
    _Images.hosts = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Images)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def logo_of(personas) -> tuple[bytes | None, str]:
    agency = Agency.objects.get(pk=personas.northwind.pk)
    return (bytes(agency.logo) if agency.logo else None), agency.logo_url


def test_a_logo_url_is_fetched_once_and_served_from_our_host(web, personas, images):
    url = f"{images}/logo.png"
    assert set_brand(web, personas, logo_url=url).status_code == 302
    assert logo_of(personas) == (PNG, url)
    served = web("acme.localhost").get("/brand/logo")
    assert served.status_code == 200 and served.content == PNG and served["Content-Type"] == "image/png"
    login = web("acme.localhost").get("/accounts/login/").content.decode()
    assert 'class="brand-logo" src="/brand/logo?v=' in login and images not in login
    assert set_brand(web, personas, logo_url=url).status_code == 302  # saving again does not fetch again
    assert _Images.hits == ["/logo.png"]


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/page.html", "Upload a PNG, JPEG or WebP image."),
        ("/huge.png", "The logo must be at most 256 KB."),
        ("/moved.png", "That address redirects; use the image&#x27;s own address."),
        ("/gone.png", "The image could not be fetched (HTTP 404)."),
    ],
)
def test_what_is_not_a_small_image_is_a_form_error(web, personas, images, path, reason):
    response = set_brand(web, personas, logo_url=f"{images}{path}")
    assert response.status_code == 400 and reason in response.content.decode()
    assert logo_of(personas) == (None, "")
    assert _Images.hits == [path]  # the redirect was not followed


def test_an_image_host_that_does_not_answer_is_a_form_error(web, personas, settings):
    settings.DEBUG = True
    response = set_brand(web, personas, logo_url="http://127.0.0.1:9/logo.png")  # nothing listens on 9
    assert (
        response.status_code == 400
        and "127.0.0.1 did not answer; check the address." in response.content.decode()
    )


def test_the_logo_is_fetched_from_the_address_that_was_checked(web, personas, images, monkeypatch):
    """The name is resolved once and the image fetched from that address, with the image host still asked for
    its own name (the next test shows why: DNS rebinding)."""
    port = int(images.rsplit(":", 1)[1])
    answers = iter(["127.0.0.1", "10.9.9.9"])  # the second answer would be the attacker's
    asked = []

    def getaddrinfo(host, *args, **kwargs):
        try:
            address = str(ipaddress.ip_address(host))  # an address "resolves" to itself, as with DNS
        except ValueError:
            asked.append(host)
            address = next(answers)
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    url = f"http://logos.example.test:{port}/logo.png"
    assert set_brand(web, personas, logo_url=url).status_code == 302
    assert logo_of(personas) == (PNG, url)
    assert asked == ["logos.example.test"] and _Images.hits == ["/logo.png"]
    assert _Images.hosts == [f"logos.example.test:{port}"]  # the image host is still asked for its own name


def test_an_address_that_refuses_is_passed_over_for_the_next(web, personas, images, monkeypatch):
    """As a browser does when a name has two addresses (localhost as ::1 and 127.0.0.1, say) and one refuses."""
    port = int(images.rsplit(":", 1)[1])
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if host == "logos.example.test":
            return [
                (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))
                for address in ("127.0.0.2", "127.0.0.1")  # the image host listens on the second only
            ]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    url = f"http://logos.example.test:{port}/logo.png"
    assert set_brand(web, personas, logo_url=url).status_code == 302
    assert logo_of(personas) == (PNG, url) and _Images.hits == ["/logo.png"]


def test_outside_development_the_checked_public_address_is_the_one_connected_to(
    web, personas, settings, monkeypatch
):
    settings.DEBUG = False
    names, connected = [], []
    answers = iter(["93.184.215.14", "127.0.0.1"])  # public when checked, ours if asked again

    def getaddrinfo(host, port, *args, **kwargs):
        try:
            ipaddress.ip_address(host)
        except ValueError:
            names.append(host)
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (next(answers), port))]
        connected.append(host)  # urllib3 connecting: keep the test off the network (nothing listens on 9)
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("127.0.0.1", 9))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    response = set_brand(web, personas, logo_url="https://logos.example.test/logo.png")
    assert response.status_code == 400 and "logos.example.test did not answer" in response.content.decode()
    assert names == ["logos.example.test"] and connected == ["93.184.215.14"]


def test_outside_development_only_https_to_public_addresses(web, personas, images, settings):
    settings.DEBUG = False
    plain = set_brand(web, personas, logo_url=f"{images}/logo.png")
    assert plain.status_code == 400 and "Use an https:// address of the image." in plain.content.decode()
    private = set_brand(web, personas, logo_url="https://127.0.0.1/logo.png")
    assert private.status_code == 400 and "127.0.0.1 is not a public address." in private.content.decode()
    garbage = set_brand(web, personas, logo_url="not a url")
    assert garbage.status_code == 400 and "Enter a valid URL." in garbage.content.decode()
    assert logo_of(personas) == (None, "") and _Images.hits == []


def test_an_upload_wins_over_a_url_and_removing_clears_both(web, personas, images):
    from django.core.files.uploadedfile import SimpleUploadedFile

    jpeg = b"\xff\xd8\xff" + b"\x00" * 32
    upload = SimpleUploadedFile("logo.jpg", jpeg, "image/jpeg")
    assert set_brand(web, personas, logo=upload, logo_url=f"{images}/logo.png").status_code == 302
    assert logo_of(personas) == (jpeg, "") and _Images.hits == []
    assert set_brand(web, personas, logo_url=f"{images}/logo.png").status_code == 302
    assert logo_of(personas) == (PNG, f"{images}/logo.png")
    assert set_brand(web, personas, remove_logo="on", logo_url=f"{images}/logo.png").status_code == 302
    assert logo_of(personas) == (None, "")


def test_only_the_agencys_admins_set_it(web, personas, images):
    url = f"{images}/logo.png"
    data = {"brand_color": "#000000", "logo_url": url}
    assert web("localhost", personas.nate).post("/agency/northwind/brand/", data).status_code == 403
    assert web("localhost", personas.sara).post("/agency/northwind/brand/", data).status_code == 404
    readonly = personas.charlie
    ClientMembership.objects.create(user=readonly, client=personas.acme, role=ClientMembership.Role.READONLY)
    for user in (personas.alice, personas.bob, readonly):
        response = web("localhost", user).post("/agency/northwind/brand/", data)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
        assert web("acme.localhost", user).post("/agency/northwind/brand/", data).status_code == 404
    assert logo_of(personas) == (None, "") and _Images.hits == []
