"""Turning a model ValidationError into one CommandError that names the command's own flags."""

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError


def command_error(exc: ValidationError, flags: dict[str, str]) -> CommandError:
    if hasattr(exc, "error_dict"):
        lines = [
            f"{flags.get(field, field)}: {' '.join(messages)}" for field, messages in exc.message_dict.items()
        ]
    else:
        lines = exc.messages
    return CommandError("\n".join(lines))
