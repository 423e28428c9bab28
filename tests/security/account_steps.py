"""Steps the account-side attack tests share: reading the link out of an email, a second factor for a persona,
and the autouse clean-up of failed-login counts."""

import re

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.throttle import login_failures_clear

ATTACKER_ADDRESSES = ["127.0.0.1", *(f"203.0.113.{n}" for n in range(1, 40)), "198.51.100.7", "198.51.100.8"]


def link_in(message, path: str) -> str:
    """The first absolute link in the message to `path` (e.g. /accounts/invitation/)."""
    found = re.search(rf"https?://\S+?{re.escape(path)}\S*", message.body)
    assert found, f"no link to {path} in:\n{message.body}"
    return found.group(0)


def path_of(link: str) -> str:
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


def authenticator(user) -> TOTPDevice:
    TOTPDevice.objects.filter(user=user).delete()
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def code_for(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


def forget_failed_logins(*emails: str) -> None:
    for email in emails:
        for address in ATTACKER_ADDRESSES:
            login_failures_clear(email=email, address=address)
