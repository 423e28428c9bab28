"""gunicorn's access log, without the tokens some of our URLs carry (config.redact); gunicorn.conf.py names it."""

from gunicorn.glogging import Logger

from .redact import redact_tokens

# The atoms of an access-log line that hold the path: request line, path, query string, referer.
PATH_ATOMS = ("r", "U", "q", "f")


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for name in PATH_ATOMS:
            if isinstance(atoms.get(name), str):
                atoms[name] = redact_tokens(atoms[name])
        return atoms
