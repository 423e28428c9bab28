"""Recovery codes were stored as they are typed; from now on only their keyed hash is (accounts.two_factor)."""

from django.db import migrations

# Frozen here rather than imported: a migration must keep doing what it did when it was written.
RECOVERY_DEVICE_NAME = "Recovery codes"
PLAIN_LENGTH = 8  # a code as typed; its hash is 16 hex digits, so a row already hashed is left alone


def hash_recovery_codes(apps, schema_editor):
    from django.conf import settings
    from django.utils.crypto import salted_hmac

    StaticToken = apps.get_model("otp_static", "StaticToken")
    for token in StaticToken.objects.filter(device__name=RECOVERY_DEVICE_NAME).iterator():
        if len(token.token) == PLAIN_LENGTH:
            token.token = salted_hmac(
                "accounts.two_factor.recovery_code", token.token, secret=settings.SECRET_KEY, algorithm="sha256"
            ).hexdigest()[:16]
            token.save(update_fields=["token"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0010_agency_custom_domain_verification"),
        ("otp_static", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(hash_recovery_codes, migrations.RunPython.noop)]
