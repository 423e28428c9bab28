"""Secrets we must be able to read back (an agency's Twilio auth token), encrypted at rest with Fernet
(pyca/cryptography: AES-128-CBC with an HMAC-SHA256, so a changed ciphertext is refused, not misread).

Keys come from CREDENTIALS_KEYS, newest first: MultiFernet encrypts with the first and decrypts with any, so a key is
rotated by putting a new one in front, running `manage.py credentials_rotate` (every stored secret re-encrypted with
the new key), then dropping the old one. With DEBUG on and no key set, the settings derive one from SECRET_KEY so
development and tests need no setup; production refuses to encrypt or decrypt without a key."""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class SecretUnreadable(Exception):
    """A stored secret that none of the keys opens (a key removed too early, or the row was tampered with)."""


def _fernet() -> MultiFernet:
    keys = list(settings.CREDENTIALS_KEYS)
    if not keys:
        raise ImproperlyConfigured("CREDENTIALS_KEYS must be set to store Twilio credentials (see README).")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "CREDENTIALS_KEYS: each key must be 32 url-safe base64-encoded bytes "
            "(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')."
        ) from exc


def encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable("no key in CREDENTIALS_KEYS opens this secret") from exc


def reencrypt(token: str) -> str:
    """The same secret encrypted with the newest key (for key rotation)."""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable("no key in CREDENTIALS_KEYS opens this secret") from exc
