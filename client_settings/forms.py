"""The forms of a client's settings page: the client's call and texting settings (on its public row) and one
form per text-back template (in its schema). Each is a ModelForm, so the model's own validators decide what
may be saved (Client.full_clean for its fields, validate_template for a template's body)."""

from django import forms
from django.core.exceptions import ValidationError

from accounts.hours import HoursError, format_closures, format_hours, parse_closures, parse_hours
from accounts.models import Client
from accounts.widgets import ClosuresWidget, HoursWidget, TimezoneField
from messaging.models import Template


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
            "response_target_minutes",
            "average_job_value",
            "messaging_registration",
        ]
        labels = {
            "sender_name": "Sender name",
            "timezone": "Time zone",
            "text_delay_seconds": "Text-back delay (seconds)",
            "suppress_hours": "Text a caller at most once every (hours)",
            "min_ring_seconds": "Minimum ring (seconds)",
            "ring_timeout_seconds": "Ring timeout (seconds)",
            "response_target_minutes": "Answer replies within (minutes)",
            # Reports show money in US dollars (reports.presenters.money), as the onboarding wizard asks for it.
            "average_job_value": "Average job value (US $)",
        }
        help_texts = {
            "text_delay_seconds": "How long to wait after a missed call before texting, 0–3600.",
            "suppress_hours": "Up to 720 (30 days).",
            "min_ring_seconds": "A caller who hangs up sooner is not texted; 0–60.",
            "ring_timeout_seconds": "How long the business's phone rings before the call counts as missed, 5–60.",
            "response_target_minutes": "Counted in business hours; a reply left longer is escalated to whoever "
            "asked for it (Inbox → Notifications).",
            "average_job_value": "What a typical job is worth, in US dollars. Reports multiply the booked jobs that "
            "have no outcome yet by it to estimate what they are worth; leave empty for no "
            "estimate.",
        }
        widgets = {
            "average_job_value": forms.NumberInput(
                attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}
            ),
        }


class TemplateForm(forms.ModelForm):
    """One text-back template; its prefix is its kind, so the three live side by side in one form."""

    class Meta:
        model = Template
        fields = ["body", "is_active"]
        labels = {"body": "Text", "is_active": "Active"}
        widgets = {"body": forms.Textarea(attrs={"rows": 4})}
        error_messages = {"body": {"required": "The text is empty."}}
