"""Two-factor login (TOTP, django-otp) for platform operators and agency admins: operators reach every agency and
admins can offboard clients, change the brand and the team, so a stolen password alone must not be enough.

It is enforced where sessions are made: the login form (accounts.views.LoginView) and accepting an admin's
invitation hand the person to the second step instead of logging them in. An admin without an authenticator
yet sets one up there, from a QR code, before the first session is granted."""

import base64
import re
from urllib.parse import quote

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.db import transaction
from django.utils.crypto import salted_hmac
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import AgencyMembership, User
from .selectors import user_is_operator

DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"
RECOVERY_CODE_COUNT = 10


def user_requires_two_factor(user: User) -> bool:
    """Platform operators and agency admins: a password alone must not open every agency, or one."""
    return (
        user_is_operator(user)
        or AgencyMembership.objects.filter(user=user, role=AgencyMembership.Role.ADMIN).exists()
    )


def totp_device_confirmed(*, user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def totp_device_for_setup(*, user: User) -> TOTPDevice:
    """The unconfirmed device whose secret the person is about to scan; the same one until confirmed, so
    reloading the page does not invalidate a code already scanned."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def totp_verify(*, device: TOTPDevice, token: str) -> bool:
    """Check a six-digit code. django-otp slows repeated failures down per device (verify_is_allowed)."""
    token = "".join(ch for ch in token if ch.isdigit())
    allowed, _ = device.verify_is_allowed()
    if not allowed or len(token) != device.digits:
        return False
    if not device.verify_token(token):
        return False
    if not device.confirmed:
        device.confirmed = True
        device.save(update_fields=["confirmed"])
    return True


def totp_secret_base32(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def totp_qr_data_uri(*, device: TOTPDevice, issuer: str) -> str:
    """The otpauth:// URL as an SVG QR code in a data: URI (the CSP admits data: images, not inline markup
    from third parties)."""
    label = quote(f"{issuer}:{device.user.email}")
    url = (
        f"otpauth://totp/{label}?secret={totp_secret_base32(device)}&issuer={quote(issuer)}"
        f"&digits={device.digits}&period={device.step}"
    )
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return "data:image/svg+xml;base64," + base64.b64encode(image.to_string()).decode()


def second_factor_verify(*, user: User, code: str) -> Device | None:
    """The confirmed device this code proves (a TOTP code, or a recovery code, which is spent), or None."""
    device = totp_device_confirmed(user=user)
    if device is None:
        return None
    if looks_like_recovery_code(code):
        return recovery_code_use(user=user, code=code)
    return device if totp_verify(device=device, token=code) else None


# Recovery codes: for an admin whose phone is lost. Kept as django-otp static tokens, made when the authenticator
# is set up, each usable once, all replaced when new ones are made. A code is 8 base32 characters (shown as
# abcd-efgh); what is stored is its keyed hash (recovery_code_hashes), so the table alone gives no code away.

RECOVERY_HASH_SALT = "accounts.two_factor.recovery_code"
RECOVERY_HASH_LENGTH = 16  # django-otp's StaticToken.token column is 16 characters wide


def recovery_code_hashes(code: str) -> list[str]:
    """What is stored for a code: HMAC-SHA256 under SECRET_KEY (a database dump alone cannot be tried against
    all 2^40 codes), cut to the column's width. One per key in SECRET_KEY_FALLBACKS as well, so codes keep
    working while a rotated key is still a fallback; the first is the one to store."""
    return [
        salted_hmac(RECOVERY_HASH_SALT, code, secret=key, algorithm="sha256").hexdigest()[
            :RECOVERY_HASH_LENGTH
        ]
        for key in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    ]


def recovery_codes_create(*, user: User) -> list[str]:
    """New codes replacing any earlier ones. The caller shows them once; they cannot be read back."""
    with transaction.atomic():
        device, _ = StaticDevice.objects.get_or_create(
            user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
        )
        device.token_set.all().delete()
        tokens = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create(
            [StaticToken(device=device, token=recovery_code_hashes(token)[0]) for token in tokens]
        )
    return [f"{token[:4]}-{token[4:]}" for token in tokens]


def recovery_codes_left(*, user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__name=RECOVERY_DEVICE_NAME).count()


def looks_like_recovery_code(text: str) -> bool:
    return bool(re.search(r"[a-zA-Z]", text))  # TOTP codes are digits only; recovery codes are not


def recovery_code_use(*, user: User, code: str) -> StaticDevice | None:
    """Spend one recovery code: the device to log in with, or None. The code is deleted by the same statement
    that finds it, so two logins racing with one code cannot both succeed; failures are throttled like TOTP."""
    token = re.sub(r"[\s-]", "", code).lower()
    device = StaticDevice.objects.filter(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True).first()
    if device is None or len(token) != 8:
        return None
    allowed, _ = device.verify_is_allowed()
    if not allowed:
        return None
    deleted, _ = StaticToken.objects.filter(device=device, token__in=recovery_code_hashes(token)).delete()
    if not deleted:
        device.throttle_increment()
        return None
    device.throttle_reset()
    return device
