"""Settings for bench/webhook_throughput.py: the production settings, plus a bare view on the platform host
(bench.urls_bench) so it goes through exactly the same middleware stack as the Twilio webhooks."""

from config.settings.base import *  # noqa: F403

PUBLIC_SCHEMA_URLCONF = "bench.urls_bench"
