"""What the API reads and writes. Serializers shape data and check input; the writes are the core's services."""

from datetime import datetime, timedelta

from django.utils.timezone import now
from rest_framework import serializers

from accounts.models import Client
from crm.models import Contact, Outcome
from crm.phone import e164_or_none
from events.bus import public_events
from messaging.intents import Intent
from messaging.models import Conversation, Message
from telephony.models import Call
from telephony.services import REPORTED_CALL_ID_MAX, REPORTED_CALL_MAX_AGE

from .models import WebhookEndpoint

PHONE_HELP = "E.164, e.g. +13125550123."


def phone_field(**kwargs) -> serializers.CharField:
    kwargs.setdefault("help_text", PHONE_HELP)
    return serializers.CharField(max_length=32, **kwargs)


def valid_phone(value: str) -> str:
    number = e164_or_none(value)
    if number is None:
        raise serializers.ValidationError(
            "Not a phone number that can get texts; use E.164, e.g. +13125550123."
        )
    return number


class ContactSerializer(serializers.ModelSerializer):
    tags = serializers.ListField(child=serializers.CharField(max_length=40), max_length=50, required=False)

    class Meta:
        model = Contact
        fields = [
            "id",
            "phone_number",
            "name",
            "email",
            "tags",
            "notes",
            "opted_out",
            "is_blocked",
            "line_type",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "phone_number", "opted_out", "line_type", "created_at", "updated_at"]


class ContactCreateSerializer(serializers.Serializer):
    phone_number = phone_field()
    name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    tags = serializers.ListField(
        child=serializers.CharField(max_length=40), max_length=50, required=False, default=list
    )
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=10000)

    def validate_phone_number(self, value: str) -> str:
        number = valid_phone(value)
        existing = Contact.objects.filter(phone_number=number).values_list("pk", flat=True).first()
        if existing is not None:
            raise serializers.ValidationError(f"A contact with this number already exists (id {existing}).")
        return number


class ContactUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    tags = serializers.ListField(child=serializers.CharField(max_length=40), max_length=50, required=False)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=10000)
    is_blocked = serializers.BooleanField(required=False, help_text="Blocked callers never get a text-back.")


class ContactBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "phone_number", "name", "opted_out", "is_blocked"]


class OutcomeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Outcome
        fields = ["id", "contact_id", "kind", "value", "lost_reason", "created_at"]


class ConversationSerializer(serializers.ModelSerializer):
    contact = ContactBriefSerializer(read_only=True)
    assigned_to_id = serializers.IntegerField(
        allow_null=True, read_only=True, help_text="The person it is assigned to (a user id)."
    )

    class Meta:
        model = Conversation
        fields = [
            "id",
            "contact",
            "status",
            "unread_count",
            "assigned_to_id",
            "snoozed_until",
            "closed_at",
            "last_activity_at",
            "last_inbound_at",
            "created_at",
        ]


class AssignSerializer(serializers.Serializer):
    assignee_id = serializers.IntegerField(allow_null=True, help_text="A user id, or null to unassign.")


class OutcomeCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Outcome.Kind.choices)
    value = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=0,
        required=False,
        allow_null=True,
        help_text="What the job was worth; needed for won.",
    )
    lost_reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if attrs["kind"] == Outcome.Kind.WON and attrs.get("value") is None:
            raise serializers.ValidationError({"value": "A won job needs its value (0 or more)."})
        if attrs["kind"] == Outcome.Kind.LOST and not attrs.get("lost_reason", "").strip():
            raise serializers.ValidationError({"lost_reason": "Say why it was lost."})
        return attrs


class MessageSerializer(serializers.ModelSerializer):
    # A plain string in the schema: as an enum it would be named "KindEnum" like the outcome's, and collide.
    kind = serializers.CharField(read_only=True, help_text="One of: " + ", ".join(Message.Kind.values) + ".")
    intent = serializers.CharField(
        read_only=True,
        help_text="A caller's text only, read by rules: one of "
        + ", ".join(Intent.values)
        + "; blank otherwise.",
    )
    intent_confidence = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="How sure the reading is, in percent."
    )
    intent_words = serializers.CharField(read_only=True, help_text="The words that decided the intent.")

    class Meta:
        model = Message
        fields = [
            "id",
            "conversation_id",
            "direction",
            "kind",
            "body",
            "status",
            "from_number",
            "to_number",
            "segments",
            "error_code",
            "error_message",
            "intent",
            "intent_confidence",
            "intent_words",
            "created_at",
            "sent_at",
        ]


class MessageSendSerializer(serializers.Serializer):
    contact_id = serializers.IntegerField(required=False, help_text="The contact to text; or give `to`.")
    to = phone_field(required=False, help_text="The number of an existing contact; or give `contact_id`.")
    body = serializers.CharField(max_length=1600, trim_whitespace=True)

    def validate_to(self, value: str) -> str:
        return valid_phone(value)

    def validate(self, attrs):
        if ("contact_id" in attrs) == ("to" in attrs):
            raise serializers.ValidationError("Give either contact_id or to.")
        if "to" in attrs:
            contact = Contact.objects.filter(phone_number=attrs["to"]).first()
            if contact is None:
                # Texting a number that never called or texted the business is cold outreach: not ours to send.
                raise serializers.ValidationError(
                    {"to": "No contact has this number; texts go only to people who called or texted you."}
                )
        else:
            contact = Contact.objects.filter(pk=attrs["contact_id"]).first()
            if contact is None:
                raise serializers.ValidationError({"contact_id": "No such contact."})
        attrs["contact"] = contact
        return attrs


class CallSerializer(serializers.ModelSerializer):
    class Meta:
        model = Call
        fields = [
            "id",
            "call_sid",
            "from_number",
            "to_number",
            "caller_name",
            "contact_id",
            "outcome",
            "missed_reason",
            "duration_seconds",
            "in_business_hours",
            "started_at",
            "ended_at",
        ]


class MissedCallReportSerializer(serializers.Serializer):
    call_id = serializers.CharField(
        max_length=REPORTED_CALL_ID_MAX,
        help_text="Your phone system's id for the call. Reporting the same id again changes nothing.",
    )
    from_number = phone_field(help_text="The caller's number. " + PHONE_HELP)
    called_at = serializers.DateTimeField(
        help_text="When the call came in (ISO 8601 with a time zone offset), at most 24 hours ago."
    )
    caller_name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")

    def validate_from_number(self, value: str) -> str:
        return valid_phone(value)

    def validate_called_at(self, value: datetime) -> datetime:
        if value > now() + timedelta(minutes=5):
            raise serializers.ValidationError("This is in the future; send when the call came in.")
        if value < now() - REPORTED_CALL_MAX_AGE:
            raise serializers.ValidationError(
                "Older than 24 hours: a text-back this late would puzzle the caller."
            )
        return value


class HookSerializer(serializers.ModelSerializer):
    target_url = serializers.URLField(source="url")
    event = serializers.SerializerMethodField()

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "target_url", "event", "secret", "is_active", "disabled_reason", "created_at"]

    def get_event(self, endpoint) -> str:
        return endpoint.events[0]


class HookSubscribeSerializer(serializers.Serializer):
    target_url = serializers.URLField(
        max_length=500, help_text="Where to POST each event (Zapier's hook URL)."
    )
    event = serializers.CharField(max_length=40, help_text="A public event's name, e.g. call.missed.")

    def validate_event(self, value: str) -> str:
        names = [public.name for public in public_events()]
        if value not in names:
            raise serializers.ValidationError(f"Use one of: {', '.join(names)}.")
        return value


class HookEventSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()


class ContactOutcomeSerializer(OutcomeCreateSerializer):
    contact_id = serializers.IntegerField(required=False, help_text="The contact; or give `phone_number`.")
    phone_number = phone_field(
        required=False, help_text="The number of an existing contact; or `contact_id`."
    )

    def validate_phone_number(self, value: str) -> str:
        return valid_phone(value)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if ("contact_id" in attrs) == ("phone_number" in attrs):
            raise serializers.ValidationError("Give either contact_id or phone_number.")
        if "phone_number" in attrs:
            contact = Contact.objects.filter(phone_number=attrs["phone_number"]).first()
            if contact is None:
                raise serializers.ValidationError({"phone_number": "No contact has this number."})
        else:
            contact = Contact.objects.filter(pk=attrs["contact_id"]).first()
            if contact is None:
                raise serializers.ValidationError({"contact_id": "No such contact."})
        attrs["contact"] = contact
        return attrs


class PeriodSerializer(serializers.Serializer):
    start = serializers.DateField(required=False, help_text="First day, in the client's time zone.")
    end = serializers.DateField(required=False, help_text="Last day (included).")

    def validate(self, attrs):
        start, end = attrs.get("start"), attrs.get("end")
        if start and end and start > end:
            raise serializers.ValidationError({"end": "The end must not be before the start."})
        if start and end and (end - start).days > 366:
            raise serializers.ValidationError({"end": "Ask for at most a year at a time."})
        return attrs


class ReportSerializer(serializers.Serializer):
    """The numbers of the client's report at /reports/, for whole days in the client's time zone."""

    start = serializers.DateField()
    end = serializers.DateField()
    timezone = serializers.CharField()
    calls = serializers.IntegerField(source="funnel.calls", help_text="Calls that started in the period.")
    missed_calls = serializers.IntegerField(source="funnel.missed_calls")
    missed_after_hours = serializers.IntegerField(
        source="funnel.missed_after_hours", help_text="Missed calls outside business hours."
    )
    missed_by_hour = serializers.ListField(
        child=serializers.IntegerField(),
        source="funnel.missed_by_hour",
        help_text="Missed calls by the hour they started at, 00:00–00:59 first, on the client's clock.",
    )
    answered_calls = serializers.IntegerField(source="funnel.answered_calls")
    textbacks_sent = serializers.IntegerField(
        source="funnel.textbacks_sent",
        help_text="Text-backs handed to the carrier, on the day they were sent.",
    )
    textbacks_skipped = serializers.IntegerField(
        source="funnel.textbacks_skipped",
        help_text="Missed calls whose text-back did not go out (skipped, or failed for good).",
    )
    skipped_reasons = serializers.DictField(
        child=serializers.IntegerField(), source="funnel.skipped_reasons", help_text='e.g. {"landline": 2}'
    )
    replies = serializers.IntegerField(
        source="funnel.replies",
        help_text="Text-backs the caller answered before the next text-back to them, counted on the "
        "text-back's day. STOP, START and the other opt-out and opt-in keywords are not replies.",
    )
    reply_rate = serializers.DecimalField(
        source="funnel.reply_rate",
        max_digits=4,
        decimal_places=1,
        allow_null=True,
        help_text="Replies per text-back sent, in percent; null when none was sent.",
    )
    answered_by_staff = serializers.IntegerField(
        source="funnel.answered_by_staff",
        help_text="Replies that got a staff reply before the next text-back.",
    )
    first_reply_median_seconds = serializers.IntegerField(
        source="funnel.first_reply_median_seconds",
        allow_null=True,
        help_text="Median time from the caller's reply to the first staff reply.",
    )
    first_reply_p90_seconds = serializers.IntegerField(
        source="funnel.first_reply_p90_seconds", allow_null=True, help_text="The same, 90th percentile."
    )
    booked = serializers.IntegerField(source="funnel.booked", help_text="Outcomes recorded as booked.")
    won = serializers.IntegerField(source="funnel.won")
    recovered_revenue = serializers.DecimalField(
        source="funnel.recovered_revenue", max_digits=14, decimal_places=2, help_text="The value of won jobs."
    )
    booked_pending = serializers.IntegerField(
        source="funnel.booked_pending", help_text="Booked jobs with no outcome after them yet."
    )
    estimated_revenue = serializers.DecimalField(
        source="funnel.estimated_revenue",
        max_digits=14,
        decimal_places=2,
        allow_null=True,
        help_text="booked_pending × the client's average job value: an estimate, not in recovered_revenue; "
        "null without an average job value.",
    )
    opt_outs = serializers.IntegerField(source="funnel.opt_outs")
    delivery_failures = serializers.IntegerField(
        source="funnel.delivery_failures", help_text="Texts the carrier failed with an error code."
    )
    # After the text-back: what callers did next (reports.selectors.AfterTextback), as the report says it.
    links_sent = serializers.IntegerField(
        source="after.steps.links_sent", help_text="Texts sent in the period that carried the booking link."
    )
    links_opened = serializers.IntegerField(
        source="after.steps.links_opened",
        help_text="Of those, links the caller opened (link-preview fetchers are not counted).",
    )
    booked_after_opening = serializers.IntegerField(
        source="after.steps.booked_after_opening",
        help_text="Of those, links whose caller was marked booked after opening it.",
    )
    intake_forms_sent = serializers.IntegerField(
        source="after.steps.forms_sent", help_text="Intake form links made in the period (one per caller)."
    )
    intake_forms_opened = serializers.IntegerField(
        source="after.steps.forms_opened", help_text="Of those, forms the caller opened."
    )
    intake_forms_answered = serializers.IntegerField(
        source="after.steps.forms_answered", help_text="Of those, forms the caller sent answers from."
    )
    followups_sent = serializers.IntegerField(
        source="after.followups.sent", help_text="Follow-ups written in the period, not failed."
    )
    followups_recovered = serializers.IntegerField(
        source="after.followups.recovered",
        help_text="Of those, follow-ups the caller texted after: recovered by the follow-up.",
    )
    voicemails = serializers.IntegerField(
        source="after.voicemails", help_text="Calls in the period on which the caller left a voicemail."
    )
    reply_intents = serializers.DictField(
        child=serializers.IntegerField(),
        source="after.reply_intents",
        help_text='The caller\'s texts in the period by what they were about, e.g. {"booking": 3, "price": 1}.',
    )


class ClientSerializer(serializers.ModelSerializer):
    phone_number = serializers.CharField(read_only=True, allow_null=True)
    forward_to = serializers.CharField(read_only=True, allow_null=True)
    host = serializers.CharField(read_only=True)

    class Meta:
        model = Client
        fields = [
            "id",
            "slug",
            "name",
            "status",
            "timezone",
            "phone_number",
            "forward_to",
            "call_mode",
            "text_delay_seconds",
            "booking_url",
            "followup_after_hours",
            "facts_services",
            "facts_area",
            "facts_prices",
            "receptionist_on",
            "receptionist_max_replies",
            "receptionist_prices",
            "host",
            "created_at",
        ]


class ClientUpdateSerializer(serializers.ModelSerializer):
    """What an agency key may change on a client after it is made: what happens after the first text, and the
    facts suggested replies may tell callers (inbox.suggestions), and the AI receptionist's switch and limits."""

    class Meta:
        model = Client
        fields = [
            "booking_url",
            "followup_after_hours",
            "facts_services",
            "facts_area",
            "facts_prices",
            "receptionist_on",
            "receptionist_max_replies",
            "receptionist_prices",
        ]


class ClientCreateSerializer(serializers.Serializer):
    slug = serializers.CharField(max_length=40, help_text="Becomes the client's host: <slug>.<domain>.")
    name = serializers.CharField(max_length=120)
    timezone = serializers.CharField(max_length=64, help_text="IANA name, e.g. America/Chicago.")
    phone_number = phone_field(required=False, allow_null=True, help_text="The Textback number (E.164).")
    forward_to = phone_field(required=False, allow_null=True, help_text="Where calls ring in forward mode.")
    call_mode = serializers.ChoiceField(choices=Client.CallMode.choices, default=Client.CallMode.FORWARD)
    text_delay_seconds = serializers.IntegerField(min_value=0, max_value=3600, default=0)
    booking_url = serializers.URLField(
        required=False,
        allow_blank=True,
        max_length=500,
        help_text="The business's online booking page ({booking_url} in texts, the BOOK keyword's answer).",
    )
    followup_after_hours = serializers.IntegerField(
        min_value=0,
        max_value=72,
        default=3,
        help_text="One follow-up text when the caller has not replied after this many hours; 0 for none.",
    )
    business_hours = serializers.CharField(
        required=False, max_length=500, help_text='e.g. "mon-fri 08:00-17:00; sat 09:00-12:00", "24/7".'
    )
    owner_email = serializers.EmailField(
        required=False,
        help_text="Invited to be the client's owner: they get an email and become owner when they accept.",
    )
