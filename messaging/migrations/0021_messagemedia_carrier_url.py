from django.db import migrations


class Migration(migrations.Migration):
    """twilio_url holds Telnyx's links too since Telnyx carries texts: one name for what it is."""

    dependencies = [
        ("messaging", "0020_carrier_media_urls"),
    ]

    operations = [
        migrations.RenameField(model_name="messagemedia", old_name="twilio_url", new_name="carrier_url"),
    ]
