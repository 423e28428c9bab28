from django import forms

from .selectors import BUCKETS, MAX_PERIOD_DAYS, PRESETS, Period, period_from_preset


class PeriodForm(forms.Form):
    """The period picker (a GET form). Anything it cannot use falls back to this month, with the reason shown."""

    preset = forms.ChoiceField(choices=PRESETS, required=False, label="Period")
    start = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    bucket = forms.ChoiceField(choices=BUCKETS, required=False, label="Trend")

    def clean(self):
        data = super().clean()
        if data.get("preset") == "custom":
            start, end = data.get("start"), data.get("end")
            if not start or not end:
                raise forms.ValidationError("A custom period needs a start and an end date.")
            if end < start:
                raise forms.ValidationError("The period ends before it starts.")
            if (end - start).days + 1 > MAX_PERIOD_DAYS:
                raise forms.ValidationError(f"Choose at most {MAX_PERIOD_DAYS} days.")
        return data

    def period(self, tz: str) -> Period:
        data = self.cleaned_data if self.is_valid() else {}
        preset = data.get("preset") or "this_month"
        if preset == "custom":
            return Period(start=data["start"], end=data["end"], tz=tz)
        return period_from_preset(preset=preset, tz=tz)

    def chosen_bucket(self, period: Period) -> str:
        data = self.cleaned_data if self.is_valid() else {}
        if data.get("bucket"):
            return data["bucket"]
        return "day" if period.days <= 45 else "week" if period.days <= 200 else "month"
