# Joins the two leaves left when reply intents (0012_message_intent) and the second wordings came back to main
# side by side; nothing to do but order them.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('messaging', '0012_message_intent'),
        ('messaging', '0013_merge_0011_twilioaccount_0012_template_second_wording'),
    ]

    operations = [
    ]
