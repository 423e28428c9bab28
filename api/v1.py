"""The REST API, version 1. Thin: input is checked by serializers, reads go through selectors, writes through
the core's services (crm, inbox, messaging, accounts). Everything on a client's host runs in its schema, so
an id from another client is simply not found."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import JsonResponse
from django.utils.timezone import localdate, now
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from drf_spectacular.views import SpectacularAPIView
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from accounts.models import Client, ClientMembership
from accounts.services import (
    ClientStateError,
    client_create,
    client_provision,
    hours_from_text,
    invitation_create,
)
from crm.models import Contact
from crm.selectors import contact_list
from crm.services import contact_set_blocked, contact_update, contact_upsert, tags_from_text
from events.bus import public_events
from inbox import services as inbox
from inbox.selectors import Filter, conversation_list
from messaging.models import Conversation, Message
from messaging.services import conversation_for
from telephony.models import Call
from telephony.services import ReportedCallConflict, call_report_missed

from . import serializers as s
from .models import WebhookEndpoint
from .payloads import openapi_webhooks, payload_for, sample_client, sample_event
from .rest import AgencyKeyOnly, ApiViewSet, Conflict, Cursor, KeyScope, idempotent
from .selectors import report_numbers
from .services import client_set_paused, hook_subscribe, webhook_endpoint_delete, webhook_envelope


class ByActivity(Cursor):
    ordering = ("-last_activity_at", "-id")


class ByStart(Cursor):
    ordering = ("-started_at", "-id")


IDEMPOTENCY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="Any unique string (a UUID): a retry with the same key and body gets the first answer and "
    "makes nothing new; the same key with another body is refused with 422.",
)


def _tags(values: list[str]) -> list[str]:
    return tags_from_text(",".join(values))


# --- Contacts ----------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List and search contacts",
        parameters=[
            OpenApiParameter("q", str, description="Name, number (any format), email or tag."),
            OpenApiParameter("status", str, enum=["blocked", "opted_out"]),
            OpenApiParameter("tag", str),
        ],
    ),
    retrieve=extend_schema(summary="One contact"),
)
class ContactViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = s.ContactSerializer
    queryset = Contact.objects.none()

    def get_queryset(self):
        params = self.request.query_params
        if self.action == "list":
            return contact_list(
                query=params.get("q", ""),
                status=params.get("status", ""),
                tag=params.get("tag", "").strip().lower(),
            )
        return Contact.objects.all()

    @extend_schema(
        summary="Add a contact",
        parameters=[IDEMPOTENCY],
        request=s.ContactCreateSerializer,
        responses={201: s.ContactSerializer},
    )
    @idempotent
    def create(self, request):
        data = self._valid(s.ContactCreateSerializer, request.data)
        with transaction.atomic():
            contact = contact_upsert(phone_number=data["phone_number"], name=data["name"])
            contact = contact_update(
                contact=contact,
                name=data["name"],
                email=data["email"],
                tags=_tags(data["tags"]),
                notes=data["notes"],
            )
        return Response(s.ContactSerializer(contact).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a contact", request=s.ContactUpdateSerializer, responses=s.ContactSerializer
    )
    def partial_update(self, request, pk=None):
        contact = self.get_object()
        data = self._valid(s.ContactUpdateSerializer, request.data)
        with transaction.atomic():
            contact = contact_update(
                contact=contact,
                name=data.get("name", contact.name),
                email=data.get("email", contact.email),
                tags=_tags(data["tags"]) if "tags" in data else contact.tags,
                notes=data.get("notes", contact.notes),
            )
            if "is_blocked" in data and data["is_blocked"] != contact.is_blocked:
                contact = contact_set_blocked(contact=contact, blocked=data["is_blocked"])
        return Response(s.ContactSerializer(contact).data)

    @staticmethod
    def _valid(serializer_class, data) -> dict:
        serializer = serializer_class(data=data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


# --- Conversations -----------------------------------------------------------------------------------------

CONVERSATION_FILTERS = [
    Filter.OPEN,
    Filter.UNREAD,
    Filter.UNASSIGNED,
    Filter.SNOOZED,
    Filter.CLOSED,
    Filter.OPTED_OUT,
    Filter.ALL,
]


@extend_schema_view(
    list=extend_schema(
        summary="List conversations",
        parameters=[
            OpenApiParameter(
                "filter",
                str,
                enum=CONVERSATION_FILTERS,
                description="As the inbox's tabs; default all (snoozed ones hidden but under snoozed).",
            ),
            OpenApiParameter("q", str, description="Caller's name, number or the text of any message."),
            OpenApiParameter("assigned_to", int, description="Only those assigned to this user id."),
            OpenApiParameter("contact", int),
        ],
    ),
    retrieve=extend_schema(summary="One conversation"),
)
class ConversationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = s.ConversationSerializer
    queryset = Conversation.objects.none()

    def get_queryset(self):
        if self.action != "list":
            return Conversation.objects.select_related("contact")
        params = self.request.query_params
        tab = params.get("filter", Filter.ALL)
        if tab not in CONVERSATION_FILTERS:
            raise serializers.ValidationError({"filter": [f"Use one of: {', '.join(CONVERSATION_FILTERS)}."]})
        conversations = conversation_list(user=self.request.user, tab=tab, query=params.get("q", ""))
        for name, field in (("assigned_to", "assigned_to_id"), ("contact", "contact_id")):
            if params.get(name):
                try:
                    conversations = conversations.filter(**{field: int(params[name])})
                except ValueError:
                    raise serializers.ValidationError({name: ["Give a whole number."]}) from None
        return conversations

    pagination_class = ByActivity

    @extend_schema(
        summary="Assign it to a person (or unassign)",
        request=s.AssignSerializer,
        responses=s.ConversationSerializer,
    )
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        conversation = self.get_object()
        serializer = s.AssignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            inbox.conversation_assign(
                client=self.client,
                conversation=conversation,
                assignee_id=serializer.validated_data["assignee_id"],
            )
        except inbox.InboxError as exc:
            raise serializers.ValidationError({"assignee_id": [str(exc)]}) from None
        return Response(s.ConversationSerializer(conversation).data)

    @extend_schema(
        summary="Mark it read (as opening it in the inbox does)",
        request=None,
        responses=s.ConversationSerializer,
    )
    @action(detail=True, methods=["post"], url_path="read")
    def mark_read(self, request, pk=None):
        conversation = self.get_object()
        inbox.conversation_mark_read(conversation=conversation)
        return Response(s.ConversationSerializer(conversation).data)

    @extend_schema(summary="Close it", request=None, responses=s.ConversationSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        conversation = self.get_object()
        inbox.conversation_close(conversation=conversation)
        conversation.refresh_from_db()
        return Response(s.ConversationSerializer(conversation).data)

    @extend_schema(
        summary="Record an outcome: booked, won (with its value) or lost (with why)",
        request=s.OutcomeCreateSerializer,
        responses={201: s.OutcomeSerializer},
        parameters=[IDEMPOTENCY],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def outcome(self, request, pk=None):
        conversation = self.get_object()
        serializer = s.OutcomeCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            recorded = inbox.outcome_record(
                client=self.client,
                conversation=conversation,
                kind=data["kind"],
                user=request.user,
                value=data.get("value"),
                lost_reason=data.get("lost_reason", ""),
            )
        except inbox.InboxError as exc:
            raise serializers.ValidationError(str(exc)) from None
        return Response(s.OutcomeSerializer(recorded).data, status=status.HTTP_201_CREATED)


# --- Messages ----------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List messages, newest first",
        parameters=[
            OpenApiParameter("conversation", int),
            OpenApiParameter("contact", int),
            OpenApiParameter("direction", str, enum=["in", "out"]),
        ],
    ),
    retrieve=extend_schema(summary="One message (its delivery status)"),
)
class MessageViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = s.MessageSerializer
    queryset = Message.objects.none()

    def get_queryset(self):
        messages = Message.objects.all()
        params = self.request.query_params
        for name, field in (("conversation", "conversation_id"), ("contact", "conversation__contact_id")):
            if params.get(name):
                try:
                    messages = messages.filter(**{field: int(params[name])})
                except ValueError:
                    raise serializers.ValidationError({name: ["Give a whole number."]}) from None
        direction = params.get("direction")
        if direction:
            if direction not in Message.Direction.values:
                raise serializers.ValidationError({"direction": ["Use in or out."]})
            messages = messages.filter(direction=direction)
        return messages

    @extend_schema(
        summary="Text a contact",
        description="Queued through the same send path as a staff reply; it goes out in a moment. Refused with "
        "409: `opted_out` for a number that opted out (they can text START to opt back in), `no_consent` for "
        "a contact who never called or texted the business and whose consent is not recorded (no cold "
        "outreach).",
        request=s.MessageSendSerializer,
        responses={202: s.MessageSerializer},
        parameters=[IDEMPOTENCY],
    )
    @idempotent
    def create(self, request):
        serializer = s.MessageSendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with transaction.atomic():
            conversation = conversation_for(contact=data["contact"])
            try:
                message = inbox.conversation_reply(
                    client=self.client, conversation=conversation, body=data["body"], user=request.user
                )
            except inbox.ReplyRefused as exc:
                raise Conflict(str(exc), code=exc.code) from None
        return Response(s.MessageSerializer(message).data, status=status.HTTP_202_ACCEPTED)


# --- Calls -------------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List calls, newest first",
        parameters=[
            OpenApiParameter("outcome", str, enum=Call.Outcome.values),
            OpenApiParameter("contact", int),
            OpenApiParameter("since", OpenApiTypes.DATETIME),
            OpenApiParameter("until", OpenApiTypes.DATETIME),
        ],
    ),
    retrieve=extend_schema(summary="One call"),
)
class CallViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = s.CallSerializer
    queryset = Call.objects.none()

    def get_queryset(self):
        calls = Call.objects.all()
        if self.action != "list":
            return calls
        params = self.request.query_params
        filters = inline_serializer(
            "CallFilters",
            {
                "outcome": serializers.ChoiceField(choices=Call.Outcome.choices, required=False),
                "contact": serializers.IntegerField(required=False),
                "since": serializers.DateTimeField(required=False),
                "until": serializers.DateTimeField(required=False),
            },
            data=params,
        )
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        if "outcome" in data:
            calls = calls.filter(outcome=data["outcome"])
        if "contact" in data:
            calls = calls.filter(contact_id=data["contact"])
        if "since" in data:
            calls = calls.filter(started_at__gte=data["since"])
        if "until" in data:
            calls = calls.filter(started_at__lt=data["until"])
        return calls

    pagination_class = ByStart

    @extend_schema(
        summary="Report a call your phone system missed",
        description="For a business whose calls do not ring through Textback (a VoIP system's missed-call "
        "webhook, a call-tracking tool's post-call webhook, a forwarding app): the call is recorded as missed "
        "and the caller is texted back through the same path as any missed call (business hours at "
        "`called_at`, the suppression window, opt-outs and blocks, the landline check). Idempotent on "
        "`call_id`: 201 the first time, 200 with the same call after that (the same id for another caller is "
        "409 `call_id_reused`). 409 `client_paused` while the client's text-backs are paused.",
        request=s.MissedCallReportSerializer,
        responses={201: s.CallSerializer, 200: s.CallSerializer},
    )
    @action(detail=False, methods=["post"])
    def missed(self, request):
        serializer = s.MissedCallReportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        client = self.client
        if client.status == Client.Status.PAUSED:
            raise Conflict("Text-backs are paused for this client; resume it first.", code="client_paused")
        try:
            call, first = call_report_missed(
                client=client,
                call_id=data["call_id"],
                from_number=data["from_number"],
                called_at=data["called_at"],
                caller_name=data["caller_name"],
            )
        except ReportedCallConflict as exc:
            raise Conflict(str(exc), code="call_id_reused") from None
        return Response(
            s.CallSerializer(call).data, status=status.HTTP_201_CREATED if first else status.HTTP_200_OK
        )


# --- Outcomes (by contact, for Zapier and Make) --------------------------------------------------------------


class OutcomeViewSet(ApiViewSet):
    pagination_class = None

    @extend_schema(
        summary="Record an outcome for a contact: booked, won (with its value) or lost (with why)",
        description="As `conversations/{id}/outcome/`, for a tool that knows the caller's number or contact "
        "id rather than the conversation (a CRM, a booking system).",
        request=s.ContactOutcomeSerializer,
        responses={201: s.OutcomeSerializer},
        parameters=[IDEMPOTENCY],
    )
    @idempotent
    def create(self, request):
        serializer = s.ContactOutcomeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with transaction.atomic():
            try:
                recorded = inbox.outcome_record(
                    client=self.client,
                    conversation=conversation_for(contact=data["contact"]),
                    kind=data["kind"],
                    user=request.user,
                    value=data.get("value"),
                    lost_reason=data.get("lost_reason", ""),
                )
            except inbox.InboxError as exc:
                raise serializers.ValidationError(str(exc)) from None
        return Response(s.OutcomeSerializer(recorded).data, status=status.HTTP_201_CREATED)


# --- REST hooks (Zapier, Make) -----------------------------------------------------------------------------

SAMPLE_EVENT_ID = "00000000-0000-4000-8000-000000000000"


@extend_schema_view(
    list=extend_schema(summary="The REST hooks subscribed on this client"),
    retrieve=extend_schema(summary="One REST hook"),
    destroy=extend_schema(summary="Unsubscribe a REST hook", responses={204: None}),
)
class HookViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, ApiViewSet):
    """Subscriptions in the REST Hooks style of Zapier and Make. Each is a webhook endpoint for one event of
    this client (on its host) or of every client of the agency (on the agency's host, with an agency key):
    delivered, signed and retried like those of the webhooks page, and listed there."""

    serializer_class = s.HookSerializer
    queryset = WebhookEndpoint.objects.none()

    def get_queryset(self):
        hooks = WebhookEndpoint.objects.filter(api_key__isnull=False)
        if self.client is not None:
            return hooks.filter(client=self.client)
        # The agency's host admits only the agency's own keys (rest.key_fits_host).
        return hooks.filter(agency_id=self.request.auth.agency_id, client__isnull=True)

    @extend_schema(
        summary="Subscribe a URL to an event",
        description="Each event is POSTed to `target_url` as the webhooks are (signed with the `secret` this "
        "answers). The same URL and event again answers 200 with the first subscription. A target that "
        "answers 410 Gone, or fails for a day, is turned off (`is_active` false, `disabled_reason` says why); "
        "subscribing again turns it back on.",
        request=s.HookSubscribeSerializer,
        responses={201: s.HookSerializer, 200: s.HookSerializer},
    )
    def create(self, request):
        serializer = s.HookSubscribeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            hook, new = hook_subscribe(
                api_key=request.auth,
                target_url=data["target_url"],
                event=data["event"],
                client=self.client,
                agency=request.auth.agency,
            )
        except DjangoValidationError as exc:
            fields = {"url": "target_url", "events": "event"}
            raise serializers.ValidationError(
                {fields.get(name, name): errors for name, errors in exc.message_dict.items()}
            ) from None
        return Response(
            s.HookSerializer(hook).data, status=status.HTTP_201_CREATED if new else status.HTTP_200_OK
        )

    def perform_destroy(self, instance):
        webhook_endpoint_delete(endpoint=instance)

    @extend_schema(
        operation_id="hooks_unsubscribe",  # not hooks_destroy: that is DELETE /hooks/{id}/
        summary="Unsubscribe a URL",
        description="For a tool that remembers the URL rather than the hook's id: every hook of this client "
        "with this `target_url` (and `event`, when given) is removed. 404 when there is none. `target_url` and "
        "`event` come in the query string, or in a JSON body as Zapier sends them.",
        parameters=[
            OpenApiParameter("target_url", str, description="Or in the JSON body."),
            OpenApiParameter("event", str, description="Only the hook for this event (or in the JSON body)."),
        ],
        request=inline_serializer(
            "HookUnsubscribe",
            {"target_url": serializers.CharField(), "event": serializers.CharField(required=False)},
        ),
        responses={204: None},
    )
    def unsubscribe(self, request):
        # Zapier's REST Hook unsubscribe sends the subscription it made as a JSON body; others use the query.
        body = request.data if request.body else {}
        if not hasattr(body, "get"):
            raise serializers.ValidationError("Send target_url in the query string or in a JSON object.")
        params = {
            name: request.query_params.get(name) or body.get(name) or "" for name in ("target_url", "event")
        }
        bad = [name for name, value in params.items() if not isinstance(value, str)]
        if bad:
            raise serializers.ValidationError({name: ["Must be a string."] for name in bad})
        target_url = params["target_url"].strip()
        if not target_url:
            raise serializers.ValidationError({"target_url": ["Give the URL to unsubscribe."]})
        hooks = self.get_queryset().filter(url=target_url)
        if params["event"].strip():
            hooks = hooks.filter(events=[params["event"].strip()])
        found = list(hooks)
        if not found:
            raise NotFound("No hook of this client has that target_url.")
        for hook in found:
            webhook_endpoint_delete(endpoint=hook)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="The events a hook can subscribe to", responses=s.HookEventSerializer(many=True))
    @action(detail=False, methods=["get"], pagination_class=None)
    def events(self, request):
        return Response([{"name": public.name, "label": public.label} for public in public_events()])

    @extend_schema(
        summary="A sample of an event, as a hook receives it",
        description="A list holding one made-up delivery body (for the set-up screens of Zapier and Make), "
        "with every field a real one has.",
        responses={200: OpenApiTypes.OBJECT},
    )
    @action(detail=False, methods=["get"], url_path=r"samples/(?P<event>[a-z_.]+)", pagination_class=None)
    def samples(self, request, event: str):
        event_type = next((public for public in public_events() if public.name == event), None)
        if event_type is None:
            raise NotFound(f"No public event {event!r}; GET /api/v1/hooks/events/ lists them.")
        client = self.client or sample_client(agency=self.request.auth.agency)
        return Response([sample_body(client=client, event_type=event_type)])


def sample_body(*, client: Client, event_type) -> dict:
    """A delivery's body for a made-up event of this type (api.payloads.sample_event)."""
    data = payload_for(sample_event(event_type, client))
    return {
        "id": SAMPLE_EVENT_ID,
        **webhook_envelope(client=client, event=event_type.name, data=data, moment=now()),
    }


# --- Reports -----------------------------------------------------------------------------------------------


class ReportViewSet(ApiViewSet):
    pagination_class = None

    @extend_schema(
        summary="Numbers for a period",
        description="The numbers of the client's report (/reports/), with the same definitions, between two "
        "days (both included) in the client's time zone; the last 30 days when no period is given.",
        parameters=[OpenApiParameter("start", OpenApiTypes.DATE), OpenApiParameter("end", OpenApiTypes.DATE)],
        responses=s.ReportSerializer,
    )
    def list(self, request):
        period = s.PeriodSerializer(data=request.query_params)
        period.is_valid(raise_exception=True)
        today = localdate(timezone=_zone(self.client))
        end = period.validated_data.get("end") or today
        start = period.validated_data.get("start") or min(end, today) - timedelta(days=29)
        if start > end:
            raise serializers.ValidationError({"start": ["The start must not be after the end."]})
        if (end - start).days > 366:
            raise serializers.ValidationError({"start": ["Ask for at most a year at a time."]})
        numbers = report_numbers(client=self.client, start=start, end=end)
        return Response(s.ReportSerializer(numbers).data)


def _zone(client: Client) -> ZoneInfo:
    return ZoneInfo(client.timezone)


# --- Clients (agency keys, on the agency's host) -----------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="The agency's clients"),
    retrieve=extend_schema(summary="One client"),
)
class ClientViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = s.ClientSerializer
    permission_classes = [KeyScope, AgencyKeyOnly]
    queryset = Client.objects.none()
    lookup_field = "slug"
    lookup_value_regex = "[a-z0-9-]+"

    def get_queryset(self):
        return Client.objects.filter(agency_id=self.request.auth.agency_id)

    @extend_schema(
        summary="Add a client (its schema is made at once; status is live when it worked)",
        request=s.ClientCreateSerializer,
        responses={201: s.ClientSerializer},
        parameters=[IDEMPOTENCY],
    )
    @idempotent
    def create(self, request):
        serializer = s.ClientCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        hours = hours_from_text(data["business_hours"]) if data.get("business_hours") else None
        client = client_create(
            agency=request.auth.agency,
            slug=data["slug"],
            name=data["name"],
            timezone_name=data["timezone"],
            phone_number=data.get("phone_number"),
            forward_to=data.get("forward_to"),
            call_mode=data["call_mode"],
            text_delay_seconds=data["text_delay_seconds"],
            business_hours=hours,
            booking_url=data.get("booking_url", ""),
            followup_after_hours=data["followup_after_hours"],
        )
        client = client_provision(client=client)
        if data.get("owner_email"):
            # Invited, never made owner outright: an agency must not be able to attach someone's existing
            # account (another agency's admin, an operator) to a business it controls without their say.
            invitation_create(
                email=data["owner_email"],
                role=ClientMembership.Role.OWNER,
                invited_by=request.user,
                client=client,
            )
        return Response(s.ClientSerializer(client).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a client's booking link or follow-up delay",
        request=s.ClientUpdateSerializer,
        responses=s.ClientSerializer,
    )
    def partial_update(self, request, slug=None):
        client = self.get_object()
        serializer = s.ClientUpdateSerializer(client, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response(s.ClientSerializer(client).data)

    @extend_schema(summary="Pause text-backs for a client", request=None, responses=s.ClientSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request, slug=None):
        return self._set_paused(True)

    @extend_schema(
        summary="Resume text-backs for a paused client", request=None, responses=s.ClientSerializer
    )
    @action(detail=True, methods=["post"])
    def resume(self, request, slug=None):
        return self._set_paused(False)

    def _set_paused(self, paused: bool) -> Response:
        client = self.get_object()
        try:
            client = client_set_paused(client=client, paused=paused, actor=self.request.user)
        except ClientStateError as exc:
            raise Conflict(str(exc)) from None
        return Response(s.ClientSerializer(client).data)


def unknown_endpoint(request, *args, **kwargs) -> JsonResponse:
    """Anything else under /api/v1/: the API's own 404, not the site's HTML page."""
    return JsonResponse(
        {"error": {"code": "not_found", "message": "No such endpoint.", "fields": {}}}, status=404
    )


# --- The schema --------------------------------------------------------------------------------------------

SCHEMA_SETTINGS = {
    "TITLE": "Textback API",
    "VERSION": "1",
    "DESCRIPTION": (
        'Send the API key as `Authorization: Bearer <key>`. Errors are `{"error": {"code", "message", '
        '"fields"}}`. Lists are paged by cursor (`next`/`previous` links). Every create honours an '
        "`Idempotency-Key` header. Rate limits are per key: 429 with Retry-After."
    ),
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "MessageKindEnum": Message.Kind.choices,
        "OutcomeKindEnum": "crm.models.Outcome.Kind",
    },
    # 3.1 for its `webhooks` section: one entry per public domain event, from the catalogue (api/payloads.py).
    "OAS_VERSION": "3.1.0",
    "WEBHOOKS": openapi_webhooks(),
}


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema, open to anyone (it holds no data); not itself part of the API it describes."""

    schema = None
    authentication_classes = []
    permission_classes = [AllowAny]
    custom_settings = SCHEMA_SETTINGS
