"""Every client starts with these texts (the template schema is cloned with its rows)."""

from django.db import migrations

DEFAULTS = {
    "business_hours": "Hi {caller_name}, sorry we missed your call at {business_name}! "
    "How can we help? Reply here and we'll get right back to you.",
    "after_hours": "Hi {caller_name}, thanks for calling {business_name}. We're closed right now, but reply "
    "here with what you need and we'll get back to you first thing.",
    "returning_caller": "Hi {caller_name}, sorry we missed you again at {business_name}! "
    "Reply here and we'll get right back to you.",
}


def add_defaults(apps, schema_editor):
    Template = apps.get_model("messaging", "Template")
    for kind, body in DEFAULTS.items():
        Template.objects.get_or_create(kind=kind, defaults={"body": body})


class Migration(migrations.Migration):
    dependencies = [("messaging", "0001_initial")]

    operations = [
        # The hint lets config.routers run this only where the Template table lives (client schemas).
        migrations.RunPython(add_defaults, migrations.RunPython.noop, hints={"model_name": "template"}),
    ]
