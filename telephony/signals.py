"""What happens to calls, announced for the apps that keep count or tell others (reports, billing, the API's
outbound webhooks). telephony never imports those apps; they connect receivers to these signals.

Every signal is sent once per event (a repeated Twilio webhook sends nothing the second time), from inside the
transaction that records the event and in the client's schema. A receiver that must be exact with the event
(a counter) writes in that transaction; one that does anything slow or outside the database (HTTP, a task)
defers it with ``transaction.on_commit``. Keyword arguments: ``client`` (accounts.Client), ``call``
(telephony.Call), and the extras named below.
"""

from django.dispatch import Signal

# A CallSid seen for the first time.
call_received = Signal()
# Nobody took it: a text-back is owed. call.missed_reason says why.
call_missed = Signal()
# A person accepted it.
call_answered = Signal()
# The caller hung up before the client's minimum ring time: neither missed nor texted.
call_abandoned = Signal()
# Twilio's final status callback for the call; extra: ``duration`` (whole seconds, or None if Twilio sent none).
call_completed = Signal()
