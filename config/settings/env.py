"""Reading settings from the environment, strictly.

django-environ parses; these helpers add the part it leaves out: a value that does not parse stops start-up
with ImproperlyConfigured naming the variable, instead of quietly becoming False, 0 or a broken URL.
"""

import os
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on", "y", "t"}
_FALSE = {"0", "false", "no", "off", "n", "f", ""}


class StrictEnv(environ.Env):
    def bool(self, var, default=environ.Env.NOTSET):
        raw = os.environ.get(var)
        if raw is None:
            return super().bool(var, default=default)
        value = raw.strip().lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise ImproperlyConfigured(f"{var} must be a boolean (1/0, true/false, yes/no, on/off), not {raw!r}.")

    def int(self, var, default=environ.Env.NOTSET):
        try:
            return super().int(var, default=default)
        except ValueError:
            raise ImproperlyConfigured(
                f"{var} must be a whole number, not {os.environ.get(var)!r}."
            ) from None

    def float(self, var, default=environ.Env.NOTSET):
        try:
            return super().float(var, default=default)
        except ValueError:
            raise ImproperlyConfigured(f"{var} must be a number, not {os.environ.get(var)!r}.") from None

    def db_url(self, var="DATABASE_URL", default=environ.Env.NOTSET, engine=None):
        raw = os.environ.get(var, default)
        scheme = urlsplit(str(raw)).scheme
        if scheme not in {"postgres", "postgresql", "pgsql"}:
            raise ImproperlyConfigured(
                f"{var} must be a PostgreSQL URL such as postgres://user:password@host:5432/name, not {raw!r}."
            )
        return super().db_url(var, default=default, engine=engine)

    def email_url(self, var="EMAIL_URL", default=environ.Env.NOTSET, backend=None):
        raw = os.environ.get(var, default)
        scheme = urlsplit(str(raw)).scheme
        if scheme not in self.EMAIL_SCHEMES:
            known = ", ".join(sorted(self.EMAIL_SCHEMES))
            raise ImproperlyConfigured(f"{var} has an unknown scheme {scheme!r} (one of: {known}).")
        return super().email_url(var, default=default, backend=backend)


env = StrictEnv()


def env_url(var: str, *, default: str, schemes: tuple[str, ...] = ("http", "https")) -> str:
    """A URL with one of `schemes` and a host; "" when unset and the default is ""."""
    raw = os.environ.get(var, default).strip()
    if not raw:
        return ""
    parts = urlsplit(raw)
    if parts.scheme not in schemes or (parts.scheme != "unix" and not parts.hostname):
        raise ImproperlyConfigured(f"{var} must be a {' or '.join(schemes)} URL with a host, not {raw!r}.")
    try:
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        raise ImproperlyConfigured(f"{var} has a port that is not a number: {raw!r}.") from None
    return raw.rstrip("/")


def env_choice(var: str, *, choices: tuple[str, ...], default: str) -> str:
    raw = os.environ.get(var, default).strip().lower()
    if raw not in choices:
        raise ImproperlyConfigured(f"{var} must be one of {', '.join(choices)}, not {raw!r}.")
    return raw
