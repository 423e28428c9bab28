"""What the API reads and writes. Serializers shape data and check input; the writes are the core's services."""

from rest_framework import serializers

from accounts.models import Client
from crm.models import Contact, Outcome
from crm.phone import e164_or_none
from messaging.models import Conversation, Message
from telephony.models import Call

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
    start = serializers.DateField()
    end = serializers.DateField()
    timezone = serializers.CharField()
    calls = serializers.IntegerField()
    missed_calls = serializers.IntegerField()
    answered_calls = serializers.IntegerField()
    textbacks_sent = serializers.IntegerField()
    textbacks_skipped = serializers.IntegerField()
    replies = serializers.IntegerField(help_text="Texts from callers.")
    conversations = serializers.IntegerField(help_text="Callers who texted back at least once.")
    booked = serializers.IntegerField()
    won = serializers.IntegerField()
    lost = serializers.IntegerField()
    won_value = serializers.DecimalField(max_digits=14, decimal_places=2)


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
            "host",
            "created_at",
        ]


class ClientCreateSerializer(serializers.Serializer):
    slug = serializers.CharField(max_length=40, help_text="Becomes the client's host: <slug>.<domain>.")
    name = serializers.CharField(max_length=120)
    timezone = serializers.CharField(max_length=64, help_text="IANA name, e.g. America/Chicago.")
    phone_number = phone_field(required=False, allow_null=True, help_text="The Textback number (E.164).")
    forward_to = phone_field(required=False, allow_null=True, help_text="Where calls ring in forward mode.")
    call_mode = serializers.ChoiceField(choices=Client.CallMode.choices, default=Client.CallMode.FORWARD)
    text_delay_seconds = serializers.IntegerField(min_value=0, max_value=3600, default=0)
    business_hours = serializers.CharField(
        required=False, max_length=500, help_text='e.g. "mon-fri 08:00-17:00; sat 09:00-12:00", "24/7".'
    )
    owner_email = serializers.EmailField(
        required=False, help_text="Made the client's owner (no password set)."
    )
