from django import forms
from django.template.defaultfilters import filesizeformat

from .csv_io import MAX_UPLOAD_BYTES
from .models import Contact
from .selectors import Status
from .services import tags_from_text


class ContactSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label="Search")
    status = forms.ChoiceField(required=False, choices=Status.CHOICES, label="Show")
    tag = forms.CharField(required=False, max_length=40, label="Tag")


class ContactForm(forms.ModelForm):
    tags = forms.CharField(required=False, max_length=1000, help_text="Separate tags with commas.")

    class Meta:
        model = Contact
        fields = ["name", "email", "tags", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["tags"] = ", ".join(self.instance.tags)

    def clean_tags(self) -> list[str]:
        tags = tags_from_text(self.cleaned_data["tags"])
        if too_long := [tag for tag in tags if len(tag) > 40]:
            raise forms.ValidationError(f"Tags can be 40 characters at most: “{too_long[0][:40]}…”.")
        return tags


class OptInForm(forms.Form):
    caller_asked = forms.BooleanField(
        label="The caller asked us to text them again",
        error_messages={"required": "Tick the box to confirm the caller asked to be texted again."},
    )


class ImportForm(forms.Form):
    file = forms.FileField(label="CSV file")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"The file is too large ({filesizeformat(upload.size)}); the limit is "
                f"{filesizeformat(MAX_UPLOAD_BYTES)}. Split it into smaller files."
            )
        return upload
