import django.db.models.functions.math
import django.db.models.lookups
from django.db import migrations, models

# Public only, like the table (config.routers.SplitAppsRouter reads the model name).
PUBLIC = {"model_name": "firststaffreply"}


class Migration(migrations.Migration):
    """FirstStaffReply.wait (an interval) becomes wait_seconds (whole seconds), and the covering index the
    percentiles read carries it instead; in_sample marks one wait in eight, with an index of its own, for the
    percentiles of periods too long to sort every wait of."""

    dependencies = [("reports", "0004_monthlyrollup")]

    operations = [
        migrations.AddField(
            model_name="firststaffreply",
            name="wait_seconds",
            field=models.IntegerField(
                default=0, help_text="From the caller's first reply to the first staff reply, rounded."
            ),
            preserve_default=False,
        ),
        migrations.RunSQL(
            "UPDATE reports_firststaffreply SET wait_seconds = round(extract(epoch FROM wait))",
            hints=PUBLIC,  # no way back: the rebuild (reports.tasks.rebuild_rollups) makes these rows anew
        ),
        migrations.RemoveIndex(model_name="firststaffreply", name="first_staff_reply_day"),
        migrations.RemoveField(model_name="firststaffreply", name="wait"),
        migrations.AddIndex(
            model_name="firststaffreply",
            index=models.Index(fields=["client", "date"], include=["wait_seconds"], name="first_staff_reply_wait"),
        ),
        migrations.AddField(
            model_name="firststaffreply",
            name="in_sample",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.lookups.Exact(
                    django.db.models.functions.math.Mod(
                        models.Func(
                            models.F("textback_id"),
                            models.F("client_id"),
                            function="hashint8extended",
                            output_field=models.BigIntegerField(),
                        ),
                        8,
                        output_field=models.BigIntegerField(),
                    ),
                    0,
                ),
                output_field=models.BooleanField(),
            ),
        ),
        migrations.AddIndex(
            model_name="firststaffreply",
            index=models.Index(
                condition=models.Q(("in_sample", True)),
                fields=["client", "date"],
                include=("wait_seconds",),
                name="first_staff_reply_sample",
            ),
        ),
    ]
