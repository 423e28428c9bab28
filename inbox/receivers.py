"""The inbox hears of missed calls and callers' replies through the core's signals, and queues the alerts
once the event has committed (a rolled-back webhook alerts nobody)."""

import logging

from django.db import transaction

from messaging import signals as messaging_signals
from telephony import signals as telephony_signals

log = logging.getLogger(__name__)


def _queue(task, *args, **options) -> None:
    def publish():
        try:
            task.apply_async(args, retry=False, **options)
        except Exception as exc:  # a broker that is down costs an alert, never the webhook
            log.warning("could not queue %s: %s", task.name, exc)

    transaction.on_commit(publish)


def on_call_missed(sender, client, call, **kwargs) -> None:
    from .tasks import notify_missed_call

    _queue(notify_missed_call, client.pk, call.pk)


def on_message_received(sender, client, message, keyword, **kwargs) -> None:
    if keyword is not None:
        return  # STOP / START / HELP are answered automatically; nobody needs to act
    from .notifications import reply_due_at
    from .tasks import LONGEST_WAIT, escalate_reply, notify_reply

    _queue(notify_reply, client.pk, message.pk)
    wait = reply_due_at(client=client, message=message) - message.created_at
    _queue(escalate_reply, client.pk, message.pk, countdown=min(wait, LONGEST_WAIT).total_seconds())


def connect() -> None:
    telephony_signals.call_missed.connect(on_call_missed, dispatch_uid="inbox.call_missed")
    messaging_signals.message_received.connect(on_message_received, dispatch_uid="inbox.message_received")
