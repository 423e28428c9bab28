"""Make a VAPID key pair for web push: the private key goes into WEB_PUSH_VAPID_PRIVATE_KEY."""

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management.base import BaseCommand
from py_vapid import b64urlencode


class Command(BaseCommand):
    help = "Print a new VAPID key pair for web push (set WEB_PUSH_VAPID_PRIVATE_KEY to the private key)."

    def handle(self, *args, **options):
        key = ec.generate_private_key(ec.SECP256R1())
        private = b64urlencode(key.private_numbers().private_value.to_bytes(32, "big"))
        public = b64urlencode(
            key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )
        self.stdout.write(f"WEB_PUSH_VAPID_PRIVATE_KEY={private}\n")
        self.stdout.write(
            f"# public key (browsers get it from the app; kept for reference): {public}\n"
            "# Changing the key pair ends every device's subscription: people turn notifications on again.\n"
        )
