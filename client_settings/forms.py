"""The forms of a client's settings page: the client's call and texting settings (on its public row) and one
form per text-back template (in its schema). Each is a ModelForm, so the model's own validators decide what
may be saved (Client.full_clean for its fields, validate_template for a template's body)."""

from django import forms
from django.core.exceptions import ValidationError

from accounts.hours import HoursError, format_closures, format_hours, parse_closures, parse_hours
from accounts.models import Client, ClientMembership, User
from accounts.widgets import ClosuresWidget, HoursWidget, TimezoneField
from inbox.selectors import on_call_candidates
from messaging.models import Template
from telephony.voicemail import default_greeting


class HoursField(forms.CharField):
    """Business hours in the text form ("mon-fri 08:00-17:00; sat 09:00-12:00", "24/7", "none"), as the seven
    day rows post it (accounts.widgets.HoursWidget) or as typed, handed on in the stored form, a dict of
    weekday → shifts."""

    widget = HoursWidget

    def prepare_value(self, value):
        return format_hours(value) if isinstance(value, dict) else value

    def to_python(self, value):
        text = super().to_python(value)
        if text is None or text in self.empty_values:
            return text
        try:
            return parse_hours(text)
        except HoursError as exc:
            raise ValidationError(str(exc)[:1].upper() + str(exc)[1:] + ".", code="invalid") from None

    def validate(self, value):
        # "none" parses to {}, which is a value (always closed), not a missing one.
        if not isinstance(value, dict):
            super().validate(value)


class ClosuresField(forms.CharField):
    """Holidays and closures, one a line ("2026-12-25 Christmas", "2026-12-24..2026-12-26 Christmas break"),
    handed on in the stored form, a list of {start, end, label}."""

    widget = ClosuresWidget

    def prepare_value(self, value):
        return format_closures(value) if isinstance(value, list) else value

    def to_python(self, value):
        try:
            return parse_closures(super().to_python(value) or "")
        except HoursError as exc:
            raise ValidationError(str(exc)[:1].upper() + str(exc)[1:] + ".", code="invalid") from None

    def validate(self, value):
        pass  # no closures is a value, not a missing one


class ClientSettingsForm(forms.ModelForm):
    business_hours = HoursField(
        max_length=500,
        error_messages={
            "required": "Switch on the days the business is open, or leave them all off for always closed."
        },
        help_text="Switch a day on and set its hours; “+ Break” splits a day in two (a lunch break).",
    )
    closures = ClosuresField(
        label="Holidays and closures",
        required=False,
        max_length=10_000,
        help_text="In the business's time zone. Closed days get the after-hours text-back; fill an empty row to "
        "add one, empty a row to remove it.",
    )
    timezone = TimezoneField(help_text="Business hours and reports are in this zone.")

    class Meta:
        model = Client
        fields = [
            "sender_name",
            "business_hours",
            "closures",
            "timezone",
            "text_delay_seconds",
            "suppress_hours",
            "min_ring_seconds",
            "ring_timeout_seconds",
            "voicemail",
            "voicemail_max_seconds",
            "voicemail_greeting",
            "response_target_minutes",
            "average_job_value",
            "reply_conversion_rate",
            "messaging_registration",
        ]
        labels = {
            "sender_name": "Sender name",
            "timezone": "Time zone",
            "text_delay_seconds": "Text-back delay (seconds)",
            "suppress_hours": "Text a caller at most once every (hours)",
            "min_ring_seconds": "Minimum ring (seconds)",
            "ring_timeout_seconds": "Ring timeout (seconds)",
            "voicemail": "Take voicemail",
            "voicemail_max_seconds": "Longest voicemail (seconds)",
            "voicemail_greeting": "Voicemail greeting",
            "response_target_minutes": "Answer replies within (minutes)",
            # Reports show money in US dollars (reports.presenters.money), as the onboarding wizard asks for it.
            "average_job_value": "Average job value (US $)",
            "reply_conversion_rate": "Replies that become a job (%)",
        }
        help_texts = {
            "text_delay_seconds": "How long to wait after a missed call before texting, 0–3600.",
            "suppress_hours": "Up to 720 (30 days).",
            "min_ring_seconds": "A caller who hangs up sooner is not texted; 0–60.",
            "ring_timeout_seconds": "How long the business's phone rings before the call counts as missed, 5–60.",
            "voicemail": "A caller nobody answered may leave a message; it appears in the conversation with its "
            "transcript, and the text-back still goes out. Off: they hear the greeting and the call ends.",
            "voicemail_max_seconds": "10–600.",
            "voicemail_greeting": "What a caller nobody answered hears, read out by the phone system, before the "
            "tone (or before goodbye, with voicemail off). Up to 300 characters; leave it empty for the default "
            "shown, which names the business.",
            "response_target_minutes": "Counted in business hours; a reply left longer is escalated to whoever "
            "asked for it (Inbox → Notifications).",
            "average_job_value": "What a typical job is worth, in US dollars. Reports multiply the booked jobs that "
            "have no outcome yet by it to estimate what they are worth; leave empty for no "
            "estimate.",
            "reply_conversion_rate": "Of the callers who reply, how many become a job, 0–100. Reports multiply the "
            "replies not booked or won by it (and by the average job value) for an estimate shown apart from "
            "recovered revenue; leave empty for none.",
        }
        widgets = {
            "voicemail_greeting": forms.Textarea(attrs={"rows": 2}),
            "average_job_value": forms.NumberInput(
                attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}
            ),
            "reply_conversion_rate": forms.NumberInput(
                attrs={"step": "0.01", "min": "0", "max": "100", "inputmode": "decimal"}
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The default a client who writes nothing gets, with its own name, shown where the greeting is typed.
        self.fields["voicemail_greeting"].widget.attrs["placeholder"] = default_greeting(self.instance)


class TemplateForm(forms.ModelForm):
    """One text-back template; its prefix is its kind, so the three live side by side in one form."""

    class Meta:
        model = Template
        fields = ["body", "body_b", "is_active"]
        labels = {"body": "Text", "body_b": "Second wording to test (optional)", "is_active": "Active"}
        help_texts = {
            "body_b": "Texts alternate between the two wordings; Reports → What works in the texts shows which "
            "is answered more, and says when the difference is more than chance. Empty it to stop the test."
        }
        widgets = {"body": forms.Textarea(attrs={"rows": 4}), "body_b": forms.Textarea(attrs={"rows": 3})}
        error_messages = {"body": {"required": "The text is empty."}}


class CallerStepsForm(forms.ModelForm):
    """What happens after the first text: the booking link, the one follow-up and its allowed hours, and the
    keywords that act (URGENT / EMERGENCY alert the on-call person, BOOK / SCHEDULE get the booking link), and
    what a reply's intent does (messaging.intents: an emergency alerts, a wrong number closes, spam is filed)."""

    booking_url = forms.URLField(
        max_length=500,
        required=False,
        assume_scheme="https",
        label="Booking link",
        help_text="Your online booking page, e.g. https://book.example.com/acme. Texts carry it as a short link "
        "that counts who opens it.",
        widget=forms.URLInput(attrs={"placeholder": "https://", "inputmode": "url"}),
    )

    class Meta:
        model = Client
        fields = [
            "booking_url",
            "followup_after_hours",
            "followup_window_start",
            "followup_window_end",
            "followup_state_rules",
            "urgent_keywords",
            "oncall_user",
            "oncall_call",
            "book_keywords",
            "emergency_alerts",
            "wrong_number_closes",
            "spam_hidden",
        ]
        labels = {
            "followup_after_hours": "Follow up after (hours)",
            "followup_window_start": "Texts allowed from (hour)",
            "followup_window_end": "Texts allowed until (hour)",
            "followup_state_rules": "Keep to stricter state hours",
            "urgent_keywords": "URGENT and EMERGENCY alert the on-call person",
            "oncall_user": "On-call person",
            "oncall_call": "Also ring them",
            "book_keywords": "BOOK and SCHEDULE answer with the booking link",
            "emergency_alerts": "A reply that reads as an emergency alerts the on-call person",
            "wrong_number_closes": "A wrong number closes the conversation and tags the contact",
            "spam_hidden": "Spam is filed away (closed, nobody alerted)",
        }
        help_texts = {
            "followup_after_hours": "One polite follow-up when a caller has not replied, called back or booked "
            "by then; 0 for none. Up to 72.",
            "followup_window_start": "On the caller's own clock (from their area code); 0–23.",
            "followup_window_end": "A follow-up due later waits for the next morning; 1–24.",
            "followup_state_rules": "Florida, Oklahoma, Maryland, Washington and Texas allow fewer hours.",
            "oncall_user": "Texted from the business's number on the mobile they confirmed in Inbox → "
            "Notifications.",
            "oncall_call": "A phone call too, whatever the business hours.",
        }

    def __init__(self, *args, client: Client, **kwargs):
        super().__init__(*args, **kwargs)
        people = User.objects.filter(
            client_memberships__client=client,
            client_memberships__role__in=[ClientMembership.Role.OWNER, ClientMembership.Role.STAFF],
            is_active=True,
        ).order_by("email")
        confirmed = on_call_candidates(user_ids=[user.pk for user in people])
        field = self.fields["oncall_user"]
        field.queryset = people  # type: ignore[attr-defined]
        field.label_from_instance = lambda user: (  # type: ignore[attr-defined]
            f"{user.name or user.email}" + ("" if user.pk in confirmed else " (no confirmed mobile yet)")
        )
        field.empty_label = "Nobody"  # type: ignore[attr-defined]

    def clean(self):
        data = super().clean() or {}
        start, end = data.get("followup_window_start"), data.get("followup_window_end")
        if start is not None and end is not None and start >= end:
            self.add_error("followup_window_end", "The end of the allowed hours must come after their start.")
        if data.get("oncall_call") and not data.get("oncall_user"):
            self.add_error("oncall_user", "Choose who is rung, or switch ringing off.")
        return data


class FactsForm(forms.ModelForm):
    """What suggested replies may tell callers (inbox.suggestions), besides the hours and the booking link."""

    class Meta:
        model = Client
        fields = [
            "facts_services",
            "facts_area",
            "facts_prices",
            "receptionist_on",
            "receptionist_max_replies",
            "receptionist_prices",
        ]
        labels = {
            "facts_services": "Services",
            "facts_area": "Area served",
            "facts_prices": "Prices you share",
            "receptionist_on": "AI receptionist answers callers",
            "receptionist_max_replies": "AI replies per conversation, at most",
            "receptionist_prices": "The AI receptionist may quote the prices you share",
        }
        widgets = {
            "facts_services": forms.Textarea(attrs={"rows": 2}),
            "facts_prices": forms.Textarea(attrs={"rows": 2}),
        }
