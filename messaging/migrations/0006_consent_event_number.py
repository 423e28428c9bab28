import django.db.models.deletion
from django.db import migrations, models


def name_the_numbers(apps, schema_editor):
    """Each existing consent event names its contact's number (a consent record outlives the contact row)."""
    ConsentEvent = apps.get_model("messaging", "ConsentEvent")
    Contact = apps.get_model("crm", "Contact")
    ConsentEvent.objects.update(phone_number=models.Subquery(
        Contact.objects.filter(pk=models.OuterRef("contact_id")).values("phone_number")[:1]
    ))


class Migration(migrations.Migration):

    dependencies = [
        ("crm", "0003_suppression"),
        ("messaging", "0005_conversation_unread"),
    ]

    operations = [
        migrations.AddField(
            model_name="consentevent",
            name="phone_number",
            field=models.CharField(db_index=True, default="", help_text="E.164: the number it concerns.",
                                   max_length=20),
            preserve_default=False,
        ),
        # The hint lets config.routers run this only where the table lives (client schemas).
        migrations.RunPython(name_the_numbers, migrations.RunPython.noop, hints={"model_name": "consentevent"}),
        migrations.AlterField(
            model_name="consentevent",
            name="contact",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                    related_name="consent_events", to="crm.contact"),
        ),
    ]
