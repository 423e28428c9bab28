"""Twilio's SMS webhooks (platform host)."""

from django import forms
from django.core.files.storage import default_storage
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import FileResponse, Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_safe
from twilio.twiml.messaging_response import MessagingResponse

from accounts.context_processors import brand_version

from .intake import (
    INTAKE_MAX_REQUEST_BYTES,
    MAX_PHOTOS,
    URGENCY,
    IntakeAnswers,
    intake_allowed,
    intake_expired,
    intake_open,
    intake_opened,
    intake_submit,
)
from .links import link_open
from .media import (
    STAFF_UPLOAD_MAX_BYTES,
    PhotoRefused,
    media_in_params,
    media_public_open,
    media_receive,
    staff_photo_prepare,
)
from .services import inbound_receive, message_status_update
from .webhooks import bad_parameter, twilio_webhook, twiml


@twilio_webhook(required=("MessageSid", "From", "To"), client_by="To")
def sms_incoming(request, client, params):
    media = media_in_params(params)
    if isinstance(media, str):
        return bad_parameter(media)
    message = inbound_receive(
        client=client,
        sid=params["MessageSid"],
        from_number=params["From"],
        body=params.get("Body", ""),
        opt_out_type=params.get("OptOutType", ""),
    )
    if message is not None and media:
        media_receive(client=client, message=message, media=media)
    return twiml(MessagingResponse())  # answers go through the send path, never inline TwiML


@twilio_webhook(required=("MessageSid", "MessageStatus", "From"), client_by="From")
def sms_status(request, client, params):
    raw_code = params.get("ErrorCode", "").strip()
    if raw_code and not raw_code.isdigit():
        return bad_parameter(f"ErrorCode must be a number, not {raw_code!r}")
    message_status_update(
        client=client,
        sid=params["MessageSid"],
        status=params["MessageStatus"].strip().lower(),
        error_code=int(raw_code) if raw_code and raw_code != "0" else None,
        params=params,
    )
    return twiml(MessagingResponse())


@require_safe
def link_redirect(request, code: str):
    """A link in one of our texts (messaging.links): to the business's page, counting the click. A HEAD (a
    preview fetcher's habit) is answered but not counted."""
    target = link_open(
        code=code, user_agent=request.headers.get("User-Agent", ""), count=request.method == "GET"
    )
    if target is None:
        raise Http404("This link leads nowhere any more.")
    response = HttpResponseRedirect(target)
    response["Cache-Control"] = "no-store"  # every open is ours to count
    response["Referrer-Policy"] = "no-referrer"  # the code is the caller's, not the booking site's
    response["X-Robots-Tag"] = "noindex"
    return response


@require_safe
def media_public(request, token: str):
    """A photo staff attached to a reply, for Twilio to fetch and send as an MMS (messaging.media): a signed,
    expiring link on the platform host. Anything else, a caller's photos included, is a 404."""
    item = media_public_open(token)
    if item is None:
        raise Http404("This link leads nowhere.")
    try:
        content = default_storage.open(item.file, "rb")
    except FileNotFoundError:
        raise Http404("The file is not stored.") from None
    response = FileResponse(content, content_type=item.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["X-Robots-Tag"] = "noindex"
    return response


class IntakeForm(forms.Form):
    job = forms.CharField(
        label="What do you need done?", max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )
    address = forms.CharField(label="Address or ZIP code", max_length=200)
    urgency = forms.ChoiceField(label="How urgent is it?", choices=URGENCY, widget=forms.RadioSelect)
    good_time = forms.CharField(label="A good time to reach you", max_length=100, required=False)
    name = forms.CharField(label="Your name", max_length=120, required=False)


def _intake_page(request, link, *, status=200, **context):
    agency = link.client.agency
    return render(
        request,
        "messaging/intake.html",
        {
            "link": link,
            "client": link.client,
            "agency": agency,
            "brand_query": f"&agency={agency.slug}",
            "brand_version": brand_version(agency),
            "max_photos": MAX_PHOTOS,
            **context,
        },
        status=status,
    )


def _intake_form_shown(request, link):
    """The GET: the empty form, and the caller counted as having opened it (not a HEAD or a preview fetcher)."""
    intake_opened(link=link, user_agent=request.headers.get("User-Agent", ""), count=request.method == "GET")
    response = _intake_page(request, link, form=IntakeForm())
    response["Cache-Control"] = "no-store"  # every open is ours to count
    return response


class _PhotoSizeLimit(FileUploadHandler):
    """Stops reading an intake photo once it passes the upload limit, as it arrives: the rest of that file is
    skipped, never kept, and its name is remembered for the form's error."""

    def __init__(self, request=None):
        super().__init__(request)
        self.too_large: list[str] = []

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > STAFF_UPLOAD_MAX_BYTES:
            self.too_large.append(self.file_name or "A photo")
            raise SkipFile()
        return raw_data  # the next handler keeps it

    def file_complete(self, file_size):
        return None


@csrf_exempt  # checked by _intake_post, once the limits are set: the CSRF check reads the body
def intake(request, code: str):
    """The intake page a text links to (messaging.intake): on a phone, in the agency's brand. GET shows the form;
    POST files the answers in the conversation. Unknown codes are 404, expired ones 410, too many answers 429 (every
    submission counts, before its body is read), a body over INTAKE_MAX_REQUEST_BYTES 413."""
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    link = intake_open(code)
    if link is None:
        raise Http404("This link leads nowhere.")
    if intake_expired(link):
        return _intake_page(request, link, status=410, expired=True)
    if request.method != "POST":
        return _intake_form_shown(request, link)
    if not intake_allowed(link=link, address=request.META.get("REMOTE_ADDR", "")):
        return _intake_page(request, link, status=429, form=IntakeForm(), too_many=True)
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > INTAKE_MAX_REQUEST_BYTES:
        return _intake_page(request, link, status=413, form=IntakeForm(), too_large=True)
    limit = _PhotoSizeLimit(request)
    request.upload_handlers.insert(0, limit)
    return _intake_post(request, link, limit)


@csrf_protect
def _intake_post(request, link, limit: _PhotoSizeLimit):
    form = IntakeForm(request.POST)
    uploads = request.FILES.getlist("photos")
    photos = []
    for name in limit.too_large:
        form.add_error(None, f"{name}: That photo is over 15 MB; choose a smaller one.")
    if len(uploads) + len(limit.too_large) > MAX_PHOTOS:
        form.add_error(None, f"Up to {MAX_PHOTOS} photos, please.")
    else:
        for upload in uploads:
            try:
                photos.append(staff_photo_prepare(upload))
            except PhotoRefused as exc:
                form.add_error(None, f"{upload.name}: {exc}")
    if not form.is_valid():
        return _intake_page(request, link, status=400, form=form)
    intake_submit(link=link, answers=IntakeAnswers(**form.cleaned_data), photos=photos)
    return _intake_page(request, link, sent=True)
