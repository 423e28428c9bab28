"""Templates refuse, when saved, what would break a send."""

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import schema_context

from messaging.models import Template

pytestmark = pytest.mark.django_db


def test_every_client_starts_with_the_three_default_templates(personas):
    for client in (personas.acme, personas.cedar):
        with schema_context(client.schema_name):
            assert set(Template.objects.values_list("kind", flat=True)) == {
                "business_hours",
                "after_hours",
                "returning_caller",
            }
            for template in Template.objects.all():
                template.full_clean()  # the defaults themselves are valid


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("Hi {first_name}, sorry we missed you", "{first_name} is not a placeholder"),
        ("Hi {caller_name, sorry we missed you", "{"),
        ("   ", "empty"),
    ],
)
def test_a_template_with_an_unknown_placeholder_or_no_text_is_refused(personas, body, words):
    with schema_context(personas.acme.schema_name):
        template = Template.objects.get(kind="business_hours")
        template.body = body
        with pytest.raises(ValidationError) as error:
            template.full_clean()
        assert words in " ".join(error.value.messages)
