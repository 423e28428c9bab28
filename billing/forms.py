from django import forms

from .models import ClientPrice, StripeConnection


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
            "billing_email",
        ]
        widgets = {"over_limit": forms.RadioSelect}


class StripeSettingsForm(forms.ModelForm):
    """What the agency does with its connected Stripe account."""

    class Meta:
        model = StripeConnection
        fields = ["invoice_clients", "pause_on_failed_payment", "days_until_due"]
        labels = {
            "invoice_clients": "Send each client's monthly statement as a Stripe invoice",
            "pause_on_failed_payment": "Pause a client's text-backs when its card payment fails",
            "days_until_due": "Days to pay",
        }
