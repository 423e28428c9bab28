"""The compose files keep their promises: every process is restarted when it dies and says when it is sick,
production keeps its data and trusts forwarded headers from its proxy only. `docker compose config` needs a
Docker with the compose plugin, which CI does not have; these read the YAML as compose would (merge keys too)."""

import re
from pathlib import Path

import pytest
import yaml
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
LONG_RUNNING = {"web", "worker", "sender", "beat", "db", "redis"}


def compose(name: str) -> dict:
    return yaml.safe_load((ROOT / name).read_text())


@pytest.fixture(scope="module")
def prod() -> dict:
    return compose("docker-compose.prod.yml")["services"]


@pytest.fixture(scope="module")
def demo() -> dict:
    return compose("docker-compose.yml")["services"]


@pytest.mark.parametrize("name", ["docker-compose.yml", "docker-compose.prod.yml"])
def test_every_long_running_service_restarts_and_has_a_healthcheck(name):
    services = compose(name)["services"]
    for service in LONG_RUNNING | ({"caddy"} if "prod" in name else set()):
        assert services[service]["restart"] == "unless-stopped", service
        assert services[service]["healthcheck"]["test"], service


@pytest.mark.parametrize("name", ["docker-compose.yml", "docker-compose.prod.yml"])
def test_worker_and_beat_healthchecks_read_the_heartbeat_file_they_are_told_to_write(name):
    services = compose(name)["services"]
    for service in ("worker", "sender", "beat"):
        heartbeat = services[service]["environment"]["HEARTBEAT_FILE"]
        assert heartbeat in services[service]["healthcheck"]["test"][1], service


@pytest.mark.parametrize("name", ["docker-compose.yml", "docker-compose.prod.yml"])
def test_the_sender_alone_works_the_sends_queue_on_threads_and_the_worker_everything_else(name, settings):
    services = compose(name)["services"]

    def option(service: str, flag: str) -> str:
        words = services[service]["command"].split()
        return words[words.index(flag) + 1]

    assert option("sender", "--queues") == settings.SENDS_QUEUE
    assert option("sender", "--pool") == "threads"
    assert int(option("sender", "--concurrency").split(":-")[-1].rstrip("}")) >= 16
    assert option("worker", "--queues") == settings.CELERY_TASK_DEFAULT_QUEUE
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    assert routed == {settings.SENDS_QUEUE}, "a task routed to a queue no service works would never run"


@pytest.mark.parametrize("name", ["docker-compose.yml", "docker-compose.prod.yml"])
def test_the_web_healthcheck_does_not_wait_for_the_worker_that_waits_for_it(name):
    web = compose(name)["services"]["web"]
    assert "/healthz/web" in " ".join(web["healthcheck"]["test"])


def test_production_runs_without_debug_and_without_default_secrets(prod):
    for service in ("web", "worker", "sender", "beat", "migrate"):
        env = prod[service]["environment"]
        assert env["DEBUG"] == "0"
        assert env["TELEPHONY_PROVIDER"] == "twilio"
        for secret in ("SECRET_KEY", "TWILIO_AUTH_TOKEN", "CREDENTIALS_KEYS"):
            assert re.fullmatch(r"\$\{\w+:\?[^}]+\}", env[secret]), f"{service} {secret} must be required"


def test_production_keeps_its_data_and_redis_its_queue(prod):
    assert prod["db"]["volumes"] == ["pgdata:/var/lib/postgresql/data"]
    assert prod["redis"]["volumes"] == ["redisdata:/data"]
    command = prod["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"


def test_only_caddy_is_reachable_and_gunicorn_trusts_only_caddy(prod):
    published = {name for name, service in prod.items() if service.get("ports")}
    assert published == {"caddy"}
    caddy_ip = prod["caddy"]["networks"]["backend"]["ipv4_address"]
    assert "--forwarded-allow-ips=" + caddy_ip in prod["web"]["command"]
    # Django believes X-Forwarded-For/-Proto from Caddy too (and the container's own healthcheck), or every
    # request would look like plain http and be redirected to https forever.
    assert prod["web"]["environment"]["FORWARDED_ALLOW_IPS"].split(",") == [caddy_ip, "127.0.0.1"]


def test_caddy_proxies_to_web_and_asks_the_app_before_getting_a_certificate(prod):
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    assert "reverse_proxy web:8000" in caddyfile
    assert f"ask http://127.0.0.1:8081{reverse('tls-allowed', urlconf='config.urls_public')}" in caddyfile
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in prod["caddy"]["volumes"]
