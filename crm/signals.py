"""What happens to contacts' business with the client, for reports and outbound webhooks (see
messaging/signals.py for the rules every signal here follows)."""

from django.dispatch import Signal

# An outcome (booked, won with a value, lost with a reason) was recorded. ``client``, ``outcome`` (crm.Outcome),
# ``conversation`` (messaging.Conversation, or None when recorded on the contact without one).
outcome_recorded = Signal()
