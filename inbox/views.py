"""The staff inbox on a client's host: the conversation list and one thread, and what staff do in it.

Who may come in is settled before a view runs: HostMembershipMiddleware logs out anyone who does not belong
on this client's host (its people, its agency's staff, operators), and login_required sends them to log in.
A conversation is looked up in this client's schema only, so another client's conversation is a 404 here."""

import json
from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.decorators.http import require_GET, require_POST

from accounts.context_processors import brand_version
from accounts.models import ClientMembership
from accounts.readonly import personal
from accounts.selectors import request_client
from accounts.views import APP_ICON_SIZES
from crm.models import Outcome
from messaging.intents import Intent
from messaging.models import Conversation, MessageMedia
from messaging.segments import segment_info
from telephony.callbacks import CallbackRefused, callback_start
from telephony.models import Call

from . import notifications, push, selectors, services, suggestions
from .forms import (
    AssignForm,
    CannedReplyForm,
    ConfirmCodeForm,
    NoteForm,
    NotificationPreferenceForm,
    OutcomeForm,
    ReplyForm,
    SnoozeForm,
)
from .models import CannedReply, NotificationPreference, PushSubscription

POLL_HEADER = "X-Inbox-Poll"  # inbox.js asks for just the part of the page that changes


def inbox_view(view):
    """Logged in, on a client's host, with times shown in the client's time zone."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        client = request_client(request)
        if client is None:
            raise Http404("The inbox lives on a client's host.")
        with timezone.override(client.timezone):
            return view(request, client, *args, **kwargs)

    return wrapper


def _conversation(pk: int) -> Conversation:
    """The one way a view finds a conversation: in this client's schema, or 404."""
    return get_object_or_404(Conversation.objects.select_related("contact"), pk=pk)


def _title(unread: int, *parts: str) -> str:
    return (f"({unread}) " if unread else "") + " · ".join(parts)


def _polling(request) -> bool:
    return request.headers.get(POLL_HEADER) == "1"


# --- The list ----------------------------------------------------------------------------------------------


class InboxPaginator(Paginator):
    """Counts at most COUNT_CAP conversations: a big client's exact total costs a scan of every conversation
    on every page view and every poll, and "page 3 of 400+" says all anyone needs."""

    COUNT_CAP = 10_000

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by().values("pk")[: self.COUNT_CAP + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.COUNT_CAP


def _list_params(request) -> tuple[str, str]:
    """The list's tab and search, from the query string (the list pane keeps them while a thread is open)."""
    tab = request.GET.get("tab", selectors.Filter.DEFAULT)
    if tab not in dict(selectors.Filter.CHOICES):
        tab = selectors.Filter.DEFAULT
    return tab, request.GET.get("q", "").strip()[:100]


def _intent_param(request) -> str:
    """The intent the list is filtered by (messaging.intents), or "" for any; an unknown one is ignored."""
    intent = request.GET.get("intent", "")
    return intent if intent in Intent.values else ""


def _list_context(
    request,
    client,
    *,
    tab: str,
    query: str,
    rows,
    intent: str = "",
    open_pk: int | None = None,
    people: list | None = None,
) -> dict:
    """What the list pane shows: the tabs with their counts (one query, which also gives the title's unread
    count), the rows, and the tab and search carried into each row's link."""
    counts = selectors.tab_counts(user=request.user)
    carried = {
        key: value
        for key, value in (("tab", tab), ("q", query), ("intent", intent))
        if value and not (key == "tab" and value == selectors.Filter.DEFAULT)
    }
    return {
        # "To check" is shown only while something waits for a person's reading (or while it is open).
        "tabs": [
            (value, label, counts.get(value))
            for value, label in selectors.Filter.CHOICES
            if value != selectors.Filter.TO_CHECK or counts["to_check"] or tab == value
        ],
        "tab": tab,
        "query": query,
        "intent": intent,
        "intents": Intent.choices,
        "rows": selectors.conversation_rows(rows, client=client, people={p.pk: p for p in people or []}),
        "open_pk": open_pk,
        "list_query": f"?{urlencode(carried)}" if carried else "",
        "unread_total": counts["unread"],
    }


@inbox_view
def conversation_list(request, client):
    tab, query = _list_params(request)
    intent = _intent_param(request)
    paginator = InboxPaginator(
        selectors.conversation_list(user=request.user, tab=tab, query=query, intent=intent),
        selectors.PAGE_SIZE,
    )
    page = paginator.get_page(request.GET.get("page"))
    # The list pane beside an open thread polls this view: it says which row to mark as the one open.
    open_pk = int(request.GET["open"]) if request.GET.get("open", "").isdigit() else None
    context = _list_context(
        request, client, tab=tab, query=query, intent=intent, rows=page.object_list, open_pk=open_pk
    )
    context.update(
        {
            "client": client,
            "page": page,
            "page_title": _title(context["unread_total"], "Inbox", client.name),
        }
    )
    template = "inbox/_list_rows.html" if _polling(request) else "inbox/list.html"
    return render(request, template, context)


# --- The thread --------------------------------------------------------------------------------------------


def _thread_context(request, client, conversation: Conversation, **forms) -> dict:
    """The three panes: the list (its first page, for the tab the person came from), the thread, and the
    caller's details with what staff do about them."""
    people = selectors.client_assignable_users(client=client)
    assignee = next((p for p in people if p.pk == conversation.assigned_to_id), None)
    tab, query = _list_params(request)
    intent = _intent_param(request)
    context = _list_context(
        request,
        client,
        tab=tab,
        query=query,
        intent=intent,
        open_pk=conversation.pk,
        people=people,
        rows=selectors.conversation_list(user=request.user, tab=tab, query=query, intent=intent)[
            : selectors.PAGE_SIZE
        ],
    )
    unread = context["unread_total"]
    caller = selectors.contact_label(conversation.contact)
    latest_outcome = Outcome.objects.filter(contact_id=conversation.contact_id).first()
    return context | {
        "client": client,
        "conversation": conversation,
        "contact": conversation.contact,
        "caller": caller,
        "avatar": selectors.avatar(conversation.contact),
        "phone": selectors.phone_display(conversation.contact.phone_number),
        "sending_number": selectors.phone_display(client.texts_from) if client.texts_from else "",
        **_timeline_context(client, conversation),
        "canned_replies": selectors.canned_replies(),
        "assignee": assignee,
        "assignee_label": selectors.user_label(assignee) if assignee else "",
        "outcome": latest_outcome,
        "is_snoozed": bool(conversation.snoozed_until and conversation.snoozed_until > timezone.now()),
        "reply_form": forms.get("reply_form") or ReplyForm(),
        "suggestion": forms.get("suggestion"),
        "note_form": forms.get("note_form") or NoteForm(),
        "outcome_form": forms.get("outcome_form") or OutcomeForm(),
        "assign_form": AssignForm(people=people, initial={"assignee": conversation.assigned_to_id}),
        "snooze_choices": services.Snooze.CHOICES,
        "unread_total": unread,
        "page_title": _title(unread, caller, client.name),
    }


def _render_thread(request, client, conversation, *, status: int = 200, **forms):
    context = _thread_context(request, client, conversation, **forms)
    return render(request, "inbox/thread.html", context, status=status)


@inbox_view
def thread(request, client, pk: int):
    conversation = _conversation(pk)
    if not request.read_only:  # an observer reading it must not hide it from the people who answer
        services.conversation_mark_read(conversation=conversation)  # seeing it is reading it, polls included
    if _polling(request):
        context = {
            "conversation": conversation,
            "contact": conversation.contact,
            **_timeline_context(client, conversation),
            "page_title": _title(
                selectors.unread_conversation_count(),
                selectors.contact_label(conversation.contact),
                client.name,
            ),
        }
        return render(request, "inbox/_timeline.html", context)
    return _render_thread(request, client, conversation)


def _timeline_context(client, conversation: Conversation) -> dict:
    """The thread's items, and how long is left to answer the caller (read off the same messages)."""
    timeline = selectors.conversation_timeline(client=client, conversation=conversation)
    conversation.waiting_since = selectors.waiting_since([i.obj for i in timeline if i.kind == "message"])
    return {"timeline": timeline, "due": selectors.reply_due(client=client, conversation=conversation)}


def _back(conversation: Conversation):
    return redirect(reverse("inbox:thread", args=[conversation.pk]))


@require_POST
@inbox_view
def reply(request, client, pk: int):
    conversation = _conversation(pk)
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.conversation_reply(
                client=client,
                conversation=conversation,
                body=form.cleaned_data["body"],
                user=request.user,
                photo=form.cleaned_data.get("photo"),
            )
        except services.ReplyRefused as exc:
            form.add_error(None, str(exc))
        else:
            return _back(conversation)
    return _render_thread(request, client, conversation, status=400, reply_form=form)


@require_POST
@inbox_view
def suggest(request, client, pk: int):
    """The thread again, its reply box holding a draft (inbox.suggestions) for the person to edit and send."""
    conversation = _conversation(pk)
    if conversation.contact.opted_out:
        return _back(conversation)  # nothing may be sent to them; the reply box says so
    suggestion = suggestions.reply_suggest(client=client, conversation=conversation)
    return _render_thread(
        request,
        client,
        conversation,
        reply_form=ReplyForm(initial={"body": suggestion.body}),
        suggestion=suggestion,
    )


@require_POST
@inbox_view
def note(request, client, pk: int):
    conversation = _conversation(pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        services.note_add(conversation=conversation, author=request.user, body=form.cleaned_data["body"])
        return _back(conversation)
    return _render_thread(request, client, conversation, status=400, note_form=form)


@require_POST
@inbox_view
def outcome(request, client, pk: int):
    conversation = _conversation(pk)
    form = OutcomeForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        recorded = services.outcome_record(
            client=client,
            conversation=conversation,
            kind=data["kind"],
            user=request.user,
            value=data["value"],
            lost_reason=data["lost_reason"],
        )
        messages.success(request, f"Marked {recorded.get_kind_display().lower()}.")
        return _back(conversation)
    return _render_thread(request, client, conversation, status=400, outcome_form=form)


@require_POST
@inbox_view
def assign(request, client, pk: int):
    conversation = _conversation(pk)
    form = AssignForm(request.POST, people=selectors.client_assignable_users(client=client))
    if not form.is_valid():
        messages.error(request, "That person can't be assigned here.")
        return _back(conversation)
    services.conversation_assign(
        client=client, conversation=conversation, assignee_id=form.cleaned_data["assignee"]
    )
    return _back(conversation)


@require_POST
@inbox_view
def flag(request, client, pk: int):
    """Settle a reply the rules could not read for sure: "opt_out" (they asked to stop) or "keep"."""
    conversation = _conversation(pk)
    action = request.POST.get("action")
    if action not in ("opt_out", "keep"):
        messages.error(request, "Choose whether they asked to stop the texts.")
        return _back(conversation)
    services.conversation_flag_settle(client=client, conversation=conversation, opt_out=action == "opt_out")
    messages.success(
        request,
        "Opted out: they get one confirmation and no more texts."
        if action == "opt_out"
        else "Kept: they can still be texted.",
    )
    return _back(conversation)


@require_POST
@inbox_view
def close(request, client, pk: int):
    conversation = _conversation(pk)
    services.conversation_close(conversation=conversation)
    messages.success(request, "Conversation closed.")
    return redirect(reverse("inbox:list"))


@require_POST
@inbox_view
def reopen(request, client, pk: int):
    conversation = _conversation(pk)
    services.conversation_reopen(conversation=conversation)
    return _back(conversation)


@require_POST
@inbox_view
def snooze(request, client, pk: int):
    conversation = _conversation(pk)
    form = SnoozeForm(request.POST)
    if not form.is_valid():
        return _back(conversation)
    until = services.conversation_snooze(
        client=client, conversation=conversation, choice=form.cleaned_data["until"]
    )
    if until is None:
        return _back(conversation)
    local = timezone.localtime(until)
    messages.success(
        request, f"Snoozed until {local:%a} {local:%-I:%M %p}; it comes back sooner if they reply."
    )
    return redirect(reverse("inbox:list"))


# --- Canned replies ----------------------------------------------------------------------------------------


@inbox_view
def canned_list(request, client):
    form = CannedReplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.canned_reply_create(title=form.cleaned_data["title"], body=form.cleaned_data["body"])
        messages.success(request, "Canned reply saved.")
        return redirect(reverse("inbox:canned"))
    replies = [(reply, segment_info(reply.body)) for reply in selectors.canned_replies()]
    return render(
        request,
        "inbox/canned.html",
        {
            "client": client,
            "form": form,
            "replies": replies,
            "page_title": _title(selectors.unread_conversation_count(), "Canned replies", client.name),
        },
        status=400 if form.errors else 200,
    )


@require_POST
@inbox_view
def canned_delete(request, client, pk: int):
    services.canned_reply_delete(canned_reply=get_object_or_404(CannedReply, pk=pk))
    messages.success(request, "Canned reply deleted.")
    return redirect(reverse("inbox:canned"))


# --- Notifications -----------------------------------------------------------------------------------------


def _notifications_page(request, client, form, *, code_form=None, code_error="", status=200):
    preference = form.instance if form is not None else None
    return render(
        request,
        "inbox/notifications.html",
        {
            "client": client,
            "form": form,
            "target": client.response_target_minutes,
            "preference": preference,
            "code_form": code_form or ConfirmCodeForm(),
            "code_error": code_error,
            "push_enabled": push.enabled(),
            "push_public_key": push.public_key() if push.enabled() else "",
            "devices": PushSubscription.objects.filter(user_id=request.user.pk) if form is not None else [],
            "page_title": f"Notifications · {client.name}",
        },
        status=status,
    )


@personal
@inbox_view
def notification_settings(request, client):
    """Each person's own choice of alerts at this client. Only the client's people are alerted; agency staff
    are told so."""
    membership = ClientMembership.objects.filter(user=request.user, client=client).first()
    if membership is None:
        return _notifications_page(request, client, None)
    preference = notifications.preference_for(user=request.user, role=membership.role)
    form = NotificationPreferenceForm(request.POST or None, instance=preference)
    if request.method == "POST" and form.is_valid():
        saved = services.notification_preference_save(preference=form.save(commit=False))
        if saved.text_to and not saved.text_to_is_confirmed:
            messages.success(
                request, "Saved. Texts start once you confirm your mobile: ask for a code below."
            )
        else:
            messages.success(request, "Your notification choices are saved.")
        return redirect("inbox:notifications")
    return _notifications_page(request, client, form, status=400 if form.errors else 200)


@personal
@require_POST
@inbox_view
def notification_number(request, client):
    """Text a code to the person's saved mobile (action=send), or take the code back (action=confirm)."""
    membership = ClientMembership.objects.filter(user=request.user, client=client).first()
    if membership is None:
        raise Http404("Only the business's own people get alerts.")
    preference = notifications.preference_for(user=request.user, role=membership.role)
    form = NotificationPreferenceForm(instance=preference)
    code_form = ConfirmCodeForm(request.POST if request.POST.get("action") == "confirm" else None)
    try:
        if preference.pk is None:
            raise services.InboxError("Save your mobile number first.")
        if request.POST.get("action") == "send":
            services.notification_number_send_code(client=client, preference=preference)
            messages.success(request, f"We texted a code to {preference.text_to.as_national}. Type it below.")
        elif code_form.is_valid():
            services.notification_number_confirm(preference=preference, code=code_form.cleaned_data["code"])
            messages.success(
                request, f"Confirmed: alerts will be texted to {preference.text_to.as_national}."
            )
        else:
            return _notifications_page(request, client, form, code_form=code_form, status=400)
    except services.InboxError as exc:
        return _notifications_page(request, client, form, code_error=str(exc), status=400)
    return redirect("inbox:notifications")


# --- The inbox as an app on a phone: its manifest, its service worker, and the devices that get pushes ------


@require_GET
def web_manifest(request):
    """What a phone installs: the client's inbox, in its agency's colours and icon. Public, as browsers fetch it
    without the session (the client's name is on its login page anyway)."""
    client = request_client(request)
    if client is None:
        raise Http404("The inbox lives on a client's host.")
    color = client.agency.brand_color
    version = brand_version(client.agency)
    icons = [
        {
            "src": f"{reverse('brand-app-icon', args=[size])}?v={version}",
            "sizes": f"{size}x{size}",
            "type": "image/png",
            "purpose": purpose,
        }
        for size in APP_ICON_SIZES
        for purpose in ("any", "maskable")
    ]
    manifest = {
        "id": "/inbox/",
        "name": f"{client.name} · {client.agency.display_name}",
        "short_name": client.name[:24],
        "start_url": "/inbox/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": color,
        "icons": icons,
    }
    response = JsonResponse(manifest, content_type="application/manifest+json")
    response["Cache-Control"] = "public, max-age=3600"
    return response


@require_GET
def service_worker(request):
    """The service worker, served from the host's root so its scope is the whole client host: it shows pushes and
    opens their thread when tapped. Never cached for long: browsers look for a new one at most a day apart."""
    if request_client(request) is None:
        raise Http404("The inbox lives on a client's host.")
    response = render(request, "inbox/sw.js", content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


def _json_error(reason: str, status: int) -> JsonResponse:
    return JsonResponse({"error": reason}, status=status)


@personal
@require_POST
@inbox_view
def push_devices(request, client):
    """This browser turning notifications on (a PushSubscription's JSON: 201) or off ({"forget": endpoint}: 204),
    for the person logged in. static/js/push.js posts here."""
    if not push.enabled():
        return _json_error("Notifications on devices are not set up on this server.", 409)
    if not ClientMembership.objects.filter(user=request.user, client=client).exists():
        return _json_error("Only the business's own people get alerts.", 403)
    try:
        data = json.loads(request.body or b"null")
    except ValueError:
        return _json_error("Send the browser's subscription as JSON.", 400)
    if isinstance(data, dict) and "forget" in data:
        PushSubscription.objects.filter(user_id=request.user.pk, endpoint=str(data["forget"])).delete()
        return HttpResponse(status=204)
    try:
        device = push.subscription_save(
            user_id=request.user.pk, data=data, user_agent=request.headers.get("User-Agent", "")
        )
    except push.PushError as exc:
        return _json_error(str(exc), 400)
    return JsonResponse({"id": device.pk, "device": device.device}, status=201)


@personal
@require_POST
@inbox_view
def push_device_delete(request, client, pk: int):
    """Stop pushes to one of the person's devices (a lost phone, an old browser), from the notifications page."""
    device = get_object_or_404(PushSubscription, pk=pk, user_id=request.user.pk)
    device.delete()
    messages.success(request, f"Notifications to {device.device or 'that device'} are off.")
    return redirect("inbox:notifications")


@inbox_view
def voicemail(request, client, pk: int):
    """A voicemail's audio, our copy (telephony.voicemail), to the client's people only: the call is looked up in
    this client's schema, so another client's call is a 404 like a missing one."""
    call = get_object_or_404(Call.objects.exclude(recording_file=""), pk=pk)
    try:
        audio = default_storage.open(call.recording_file, "rb")
    except FileNotFoundError:
        raise Http404("The recording is not stored.") from None
    kind = (
        "audio/wav" if call.recording_file.endswith(".wav") else "audio/mpeg"
    )  # a Telnyx WAV (voicemail_fetch)
    response = FileResponse(audio, content_type=kind)
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@inbox_view
def call_back(request, client, pk: int):
    """Ring the requester's own mobile, then connect them to the caller from the business's number."""
    conversation = _conversation(pk)
    preference = NotificationPreference.objects.filter(user_id=request.user.pk).first()
    mobile = str(preference.text_to) if preference and preference.text_to_is_confirmed else ""
    try:
        callback_start(
            client=client, contact=conversation.contact, user_id=request.user.pk, staff_number=mobile
        )
    except CallbackRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Ringing your phone ({mobile}); pick up to be connected.")
    return _back(conversation)


@inbox_view
def media(request, client, pk: int):
    """A file a caller sent (messaging.media), our copy, to the client's people only: looked up in this client's
    schema, so another client's is a 404 like a missing one. Never sniffed into something else by the browser."""
    item = get_object_or_404(MessageMedia.objects.exclude(file=""), pk=pk)
    try:
        content = default_storage.open(item.file, "rb")
    except FileNotFoundError:
        raise Http404("The file is not stored.") from None
    response = FileResponse(
        content, content_type=item.content_type if item.is_image else "application/octet-stream"
    )
    response["Content-Disposition"] = "inline" if item.is_image else "attachment"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response
