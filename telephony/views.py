"""Twilio's voice webhooks (platform host). Each answers TwiML in milliseconds; the text-back itself is
queued by the services and sent by a worker."""

from twilio.twiml.voice_response import VoiceResponse

from messaging.webhooks import bad_parameter, callback_url, not_found, twilio_webhook, twiml

from .callbacks import callback_connect, callback_done, callback_for, callback_staff_leg
from .models import Call
from .services import call_accept, call_dial_complete, call_mark_missed, call_record, call_status
from .voicemail import voicemail_recorded, voicemail_transcribed, voicemail_twiml


def _int_param(params: dict, name: str) -> int | None | str:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        return f"{name} must be a whole number of seconds, not {raw!r}"
    return int(raw)


def _call_from(client, params, *, expect_new: bool = False) -> Call:
    return call_record(
        client=client,
        call_sid=params["CallSid"],
        from_number=params.get("From", ""),
        to_number=params.get("To", ""),
        caller_name=params.get("CallerName", ""),
        expect_new=expect_new,
    )


@twilio_webhook(required=("CallSid", "From", "To"), client_by="To")
def voice_incoming(request, client, params):
    call = _call_from(client, params, expect_new=True)
    if client.call_mode == client.CallMode.CARRIER:
        # The business's carrier only forwards calls nobody answered: this one is already missed.
        call_mark_missed(client=client, call=call, reason=Call.MissedReason.CARRIER)
        return twiml(voicemail_twiml(request, client))
    response = VoiceResponse()
    dial = response.dial(
        timeout=client.ring_timeout_seconds,
        action=callback_url(request, "voice/dial-complete/"),
        method="POST",
        answer_on_bridge=True,
    )
    # Call screening: whoever picks up hears "press 1"; a voicemail cannot press 1, so it is not an answer.
    dial.number(
        str(client.forward_to), url=callback_url(request, "voice/screen/", c=client.slug), method="POST"
    )
    return twiml(response)


@twilio_webhook(required=("CallSid",), client_by="slug")
def voice_screen(request, client, params):
    response = VoiceResponse()
    gather = response.gather(
        num_digits=1,
        timeout=6,
        method="POST",
        action=callback_url(request, "voice/screen-result/", c=client.slug),
    )
    gather.say(f"Call for {client.name}. Press 1 to take this call.")
    response.hangup()
    return twiml(response)


@twilio_webhook(required=("ParentCallSid",), client_by="slug")
def voice_screen_result(request, client, params):
    response = VoiceResponse()
    if params.get("Digits", "").strip() == "1" and call_accept(parent_call_sid=params["ParentCallSid"]):
        return twiml(response)  # an empty response connects the two legs
    response.hangup()
    return twiml(response)


@twilio_webhook(required=("CallSid", "DialCallStatus", "To"), client_by="To")
def voice_dial_complete(request, client, params):
    duration = _int_param(params, "DialCallDuration")
    if isinstance(duration, str):
        return bad_parameter(duration)
    call = call_dial_complete(
        client=client,
        call_sid=params["CallSid"],
        dial_status=params["DialCallStatus"].strip().lower(),
        dial_duration=duration,
        record=lambda: _call_from(client, params),
    )
    if call.outcome == Call.Outcome.ANSWERED:
        response = VoiceResponse()
        response.hangup()
        return twiml(response)
    return twiml(voicemail_twiml(request, client))


@twilio_webhook(required=("CallSid", "CallStatus", "To"), client_by="To")
def voice_status(request, client, params):
    duration = _int_param(params, "CallDuration")
    if isinstance(duration, str):
        return bad_parameter(duration)
    call_status(
        client=client,
        call_sid=params["CallSid"],
        call_status=params["CallStatus"].strip().lower(),
        duration=duration,
        record=lambda: _call_from(client, params),
    )
    return twiml(VoiceResponse())


@twilio_webhook(required=("CallSid",), client_by="slug")
def voicemail_done(request, client, params):
    """<Record>'s action: the message is taken (or the caller went quiet); the recording arrives on its own."""
    response = VoiceResponse()
    response.say("Thank you. Goodbye.")
    response.hangup()
    return twiml(response)


@twilio_webhook(required=("CallSid", "RecordingSid", "RecordingUrl"), client_by="slug")
def voicemail_recording(request, client, params):
    if params.get("RecordingStatus", "completed").strip() != "completed":
        return twiml(VoiceResponse())  # "absent" (nothing said) or "failed": no voicemail
    seconds = _int_param(params, "RecordingDuration")
    if isinstance(seconds, str):
        return bad_parameter(seconds)
    call = voicemail_recorded(
        client=client,
        call_sid=params["CallSid"],
        recording_sid=params["RecordingSid"],
        url=params["RecordingUrl"].strip(),
        seconds=seconds,
    )
    if call is None:
        return not_found(f"No call {params['CallSid']} at this client")
    return twiml(VoiceResponse())


@twilio_webhook(required=("CallSid", "RecordingSid", "TranscriptionStatus"), client_by="slug")
def voicemail_transcription(request, client, params):
    call = voicemail_transcribed(
        call_sid=params["CallSid"],
        recording_sid=params["RecordingSid"],
        text=params.get("TranscriptionText", "").strip(),
        status=params["TranscriptionStatus"].strip(),
    )
    if call is None:
        return not_found(f"No call {params['CallSid']} at this client")
    return twiml(VoiceResponse())


def _callback(request):
    """The Callback a call-back webhook is about (its id is in the signed URL we gave Twilio), or None."""
    return callback_for(request.GET.get("cb", ""))


@twilio_webhook(required=("CallSid",), client_by="slug")
def callback_connect_view(request, client, params):
    callback = _callback(request)
    if callback is None:
        return not_found("No such call back at this client")
    return twiml(callback_connect(client=client, callback=callback))


@twilio_webhook(required=("CallSid", "DialCallStatus"), client_by="slug")
def callback_done_view(request, client, params):
    callback = _callback(request)
    if callback is None:
        return not_found("No such call back at this client")
    duration = _int_param(params, "DialCallDuration")
    if isinstance(duration, str):
        return bad_parameter(duration)
    callback_done(callback=callback, dial_status=params["DialCallStatus"].strip().lower(), duration=duration)
    response = VoiceResponse()
    response.hangup()
    return twiml(response)


@twilio_webhook(required=("CallSid", "CallStatus"), client_by="slug")
def callback_status_view(request, client, params):
    callback = _callback(request)
    if callback is None:
        return not_found("No such call back at this client")
    callback_staff_leg(callback=callback, call_status=params["CallStatus"].strip().lower())
    return twiml(VoiceResponse())
