"""What a step at Twilio raises when it goes wrong, in words an agency can read (registration, addresses)."""

import re
from contextlib import contextmanager

import requests
from twilio.base.exceptions import TwilioRestException


class RegistrationError(Exception):
    """Twilio refused a step or could not be reached; the message says which, for the agency."""


@contextmanager
def twilio_step(doing: str):
    """Turns what twilio-python and requests raise into a RegistrationError the agency can read."""
    try:
        yield
    except TwilioRestException as exc:
        said = re.sub(r"^Unable to \w+ record: ", "", str(exc.msg))  # twilio-python's prefix
        raise RegistrationError(f"Twilio refused to {doing}: {said} (error {exc.code}).") from exc
    except requests.RequestException as exc:
        raise RegistrationError(f"Could not reach Twilio to {doing}; try again in a moment.") from exc
