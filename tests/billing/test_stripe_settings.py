"""Stripe Connect's settings stop start-up with a message naming what is missing or wrong (as every setting
does), rather than failing at the first agency that presses "Connect with Stripe"."""

import pytest

from tests.config.test_settings import PRODUCTION, start


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"STRIPE_CONNECT_CLIENT_ID": "ca_platform"}, "STRIPE_CONNECT_CLIENT_ID needs STRIPE_SECRET_KEY"),
        (
            {"STRIPE_CONNECT_CLIENT_ID": "ca_platform", "STRIPE_SECRET_KEY": "sk_live_x"},
            "needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET",
        ),
        ({"STRIPE_API_BASE": "api.stripe.com"}, "STRIPE_API_BASE must be a http or https URL"),
        (
            {"STRIPE_CONNECT_BASE": "ftp://connect.stripe.com"},
            "STRIPE_CONNECT_BASE must be a http or https URL",
        ),
    ],
)
def test_stripe_connect_settings_are_checked_at_start_up(extra, words):
    result = start({**PRODUCTION, **extra})
    assert result.returncode != 0
    assert words in result.stderr


def test_stripe_connect_with_its_three_settings_starts():
    result = start(
        {
            **PRODUCTION,
            "STRIPE_CONNECT_CLIENT_ID": "ca_platform",
            "STRIPE_SECRET_KEY": "sk_live_x",
            "STRIPE_WEBHOOK_SECRET": "whsec_x",
        }
    )
    assert result.returncode == 0, result.stderr
