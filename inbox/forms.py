from decimal import Decimal

from django import forms

from crm.models import Outcome
from messaging.services import staff_number_problem

from .models import CannedReply, NotificationPreference
from .services import Snooze


class ReplyForm(forms.Form):
    body = forms.CharField(
        label="Reply",
        max_length=1600,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Write a text…", "data-segment-input": ""}),
    )
    photo = forms.FileField(
        label="Photo",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
        help_text="Sent as a picture message (MMS), resized.",
    )


class NoteForm(forms.Form):
    body = forms.CharField(
        label="Internal note",
        max_length=4000,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Only your team sees this"}),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "note_%s")  # the reply box on the same page is id_body
        super().__init__(*args, **kwargs)


class AssignForm(forms.Form):
    assignee = forms.TypedChoiceField(label="Assigned to", coerce=int, empty_value=None, required=False)

    def __init__(self, *args, people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [("", "Nobody")] + [(p.pk, p.name or p.email) for p in people]


class SnoozeForm(forms.Form):
    until = forms.ChoiceField(choices=Snooze.CHOICES)


class OutcomeForm(forms.Form):
    kind = forms.ChoiceField(choices=Outcome.Kind.choices)
    value = forms.DecimalField(
        label="Job value ($)", required=False, min_value=Decimal("0"), max_digits=10, decimal_places=2
    )
    lost_reason = forms.CharField(label="Why it was lost", required=False, max_length=200)

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind == Outcome.Kind.WON and data.get("value") is None and "value" not in self.errors:
            self.add_error("value", "Enter what the job was worth (0 or more).")
        if kind == Outcome.Kind.LOST and not (data.get("lost_reason") or "").strip():
            self.add_error("lost_reason", "Say why it was lost.")
        return data


class CannedReplyForm(forms.ModelForm):
    class Meta:
        model = CannedReply
        fields = ["title", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 3, "data-segment-input": ""})}


class NotificationPreferenceForm(forms.ModelForm):
    class Meta:
        model = NotificationPreference
        fields = [
            "missed_call_email",
            "reply_email",
            "escalation_email",
            "text_to",
            "missed_call_text",
            "reply_text",
            "escalation_text",
            "missed_call_push",
            "reply_push",
            "escalation_push",
        ]
        widgets = {
            "text_to": forms.TextInput(
                attrs={"type": "tel", "autocomplete": "tel", "placeholder": "+1 312 555 0100"}
            )
        }

    def clean_text_to(self):
        number = self.cleaned_data.get("text_to")
        problem = staff_number_problem(number=str(number)) if number else None
        if problem:
            raise forms.ValidationError(f"Alerts go to your own mobile only: {problem}.")
        return number

    def clean(self):
        data = super().clean()
        wants_texts = any(data.get(f"{event}_text") for event in NotificationPreference.EVENTS)
        if wants_texts and not data.get("text_to"):
            self.add_error("text_to", "Give the mobile number the texts should go to.")
        return data


class ConfirmCodeForm(forms.Form):
    code = forms.CharField(
        label="The code we texted you",
        max_length=6,
        min_length=6,
        strip=True,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9]*"}
        ),
    )
