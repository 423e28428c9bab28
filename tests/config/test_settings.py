"""Settings come from the environment, and a bad value stops start-up with a message naming it."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from config.settings.env import env, env_choice, env_url

PRODUCTION = {
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "DJANGO_SETTINGS_MODULE": "config.settings.base",
    "SECRET_KEY": "a-long-production-secret-key-that-is-only-for-this-test-0123456789",
    "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres:///textback"),
    "BASE_DOMAIN": "textback.example.com",
    "PUBLIC_BASE_URL": "https://textback.example.com",
}


def start(env_vars: dict, *command: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *(command or ("check",))],
        env=env_vars,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("DEBUG", "maybe", "DEBUG must be a boolean"),
        ("DATABASE_URL", "mysql://localhost/textback", "DATABASE_URL must be a PostgreSQL URL"),
        ("REDIS_URL", "localhost:6379", "REDIS_URL must be a redis or rediss or unix URL"),
        ("PUBLIC_BASE_URL", "textback.example.com", "PUBLIC_BASE_URL must be a http or https URL"),
        ("TELEPHONY_PROVIDER", "carrier-pigeon", "TELEPHONY_PROVIDER must be one of console, twilio"),
        ("TWILIO_API_BASE_URL", "ftp://127.0.0.1:9", "TWILIO_API_BASE_URL must be a http or https URL"),
        ("EMAIL_URL", "pigeon://loft", "EMAIL_URL has an unknown scheme"),
        ("DB_CONN_MAX_AGE", "forever", "DB_CONN_MAX_AGE must be a whole number"),
        ("BASE_DOMAIN", "https://example.com", "BASE_DOMAIN must be a bare host name"),
    ],
)
def test_a_bad_value_is_named_when_settings_load(monkeypatch, name, value, words):
    monkeypatch.setenv(name, value)
    readers = {
        "DEBUG": lambda: env.bool("DEBUG"),
        "DATABASE_URL": lambda: env.db_url("DATABASE_URL"),
        "REDIS_URL": lambda: env_url("REDIS_URL", default="", schemes=("redis", "rediss", "unix")),
        "PUBLIC_BASE_URL": lambda: env_url("PUBLIC_BASE_URL", default=""),
        "TELEPHONY_PROVIDER": lambda: env_choice(
            "TELEPHONY_PROVIDER", choices=("console", "twilio"), default=""
        ),
        "TWILIO_API_BASE_URL": lambda: env_url("TWILIO_API_BASE_URL", default=""),
        "EMAIL_URL": lambda: env.email_url("EMAIL_URL"),
        "DB_CONN_MAX_AGE": lambda: env.int("DB_CONN_MAX_AGE"),
    }
    if name in readers:
        with pytest.raises(ImproperlyConfigured, match=words):
            readers[name]()
    # ...and the real start-up stops with the same words.
    result = start({**PRODUCTION, name: value})
    assert result.returncode != 0
    assert words in result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = start({key: value for key, value in PRODUCTION.items() if key != "SECRET_KEY"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_twilio_sends_need_credentials():
    result = start({**PRODUCTION, "TELEPHONY_PROVIDER": "twilio"})
    assert result.returncode != 0
    assert "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN" in result.stderr


def test_production_settings_pass_the_deploy_check():
    result = start(PRODUCTION, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_development_has_a_default_secret_key_and_plain_http():
    result = start(
        {"PATH": PRODUCTION["PATH"], "DEBUG": "1"},
        "shell",
        "-c",
        "from django.conf import settings as s; print(bool(s.SECRET_KEY), s.SECURE_SSL_REDIRECT, "
        "s.BASE_DOMAIN, s.PUBLIC_BASE_URL, s.REDIS_URL, s.TELEPHONY_PROVIDER)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == [
        "True",
        "False",
        "localhost",
        "http://localhost:8000",
        "redis://127.0.0.1:6379/0",
        "console",
    ]


def test_twilio_api_base_url_is_unset_by_default_and_kept_as_an_origin_when_set(monkeypatch):
    monkeypatch.setenv("TWILIO_API_BASE_URL", "http://127.0.0.1:8999/")
    assert env_url("TWILIO_API_BASE_URL", default="") == "http://127.0.0.1:8999"
    monkeypatch.delenv("TWILIO_API_BASE_URL")
    assert env_url("TWILIO_API_BASE_URL", default="") == ""


def test_media_goes_to_an_s3_compatible_store_when_a_bucket_is_named():
    """Voicemails and callers' photos: the filesystem by default, django-storages' S3 backend (private objects,
    signed URLs only) once MEDIA_S3_BUCKET names a bucket, at the endpoint of any S3-compatible store."""
    show = "from django.conf import settings; import json; print(json.dumps(settings.STORAGES['default']))"
    default = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {show}"],
        env=PRODUCTION,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert json.loads(default.stdout)["BACKEND"] == "django.core.files.storage.FileSystemStorage", (
        default.stderr
    )
    s3 = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {show}"],
        env={
            **PRODUCTION,
            "MEDIA_S3_BUCKET": "acme-media",
            "MEDIA_S3_ENDPOINT_URL": "https://s3.example.com",
        },
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    storage = json.loads(s3.stdout)
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage", s3.stderr
    assert storage["OPTIONS"]["bucket_name"] == "acme-media"
    assert storage["OPTIONS"]["endpoint_url"] == "https://s3.example.com"
    assert (storage["OPTIONS"]["default_acl"], storage["OPTIONS"]["querystring_auth"]) == ("private", True)
