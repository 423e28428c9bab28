"""What happens to texts, announced for the apps that keep count or tell others (reports, billing, the API's
outbound webhooks). messaging never imports those apps; they connect receivers to these signals.

Every signal is sent once per event (a repeated webhook or a retried task sends nothing the second time), from
inside the transaction that records the event and in the client's schema. A receiver that must be exact with
the event (a counter) writes in that transaction; one that does anything slow or outside the database (HTTP, a
task) defers it with ``transaction.on_commit``. Keyword arguments: ``client`` (accounts.Client) and those named.
"""

from django.dispatch import Signal

# A text from a caller, recorded (keywords included). ``message``; ``keyword``: "opt_out", "opt_in", "help" or None.
message_received = Signal()
# The provider accepted an outbound text of any kind. ``message`` (message.segments is our own count).
message_sent = Signal()
# An outbound text failed for good (provider refusal, or a send-time check stopped a written reply).
# ``message``, ``reason`` (a SkipReason value or "provider_error").
message_failed = Signal()
# A status callback moved a message forward. ``message``, ``status`` (the new Message.Status), ``params`` (the
# callback's raw form fields: NumSegments, Price, PriceUnit, ErrorCode when Twilio sends them).
message_status_changed = Signal()
# A missed call's text-back went out. ``send`` (messaging.OutboundSend), ``message``.
textback_sent = Signal()
# A missed call's text-back will not go out. ``send``, ``reason`` (a SkipReason value, or "provider_error" and
# the like for a permanent provider failure).
textback_skipped = Signal()
# A caller opted out or back in. ``contact`` (crm.Contact), ``source`` (ConsentEvent.Source).
contact_opted_out = Signal()
contact_opted_in = Signal()
# Asked before a text-back is written, after the business's own pause: a receiver returning a reason (a
# SkipReason value such as "usage_limit") stops the text-back. ``send`` (messaging.OutboundSend).
textback_check = Signal()
# A line-type look-up was paid for. ``number`` (E.164), ``line_type`` (Contact.LineType value).
line_type_looked_up = Signal()
