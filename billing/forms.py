from django import forms

from .models import ClientPrice


class ClientPriceForm(forms.ModelForm):
    """What the agency charges a client and what happens above the included segments."""

    class Meta:
        model = ClientPrice
        fields = [
            "monthly_price",
            "included_segments",
            "price_per_segment",
            "price_per_voice_minute",
            "over_limit",
            "owner_sees_statement",
            "warn_owner",
        ]
        widgets = {"over_limit": forms.RadioSelect}
