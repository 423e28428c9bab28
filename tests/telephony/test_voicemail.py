"""Voicemail: a caller nobody answered hears the greeting and may leave a message; the recording (copied from the
fake Twilio with the credentials of the account the number lives in) and its transcript land in the thread, only the client's people can
play it, the text-back still goes out, the report counts it, and a client may choose to hang up instead. Every
callback signed as Twilio signs it."""

import xml.etree.ElementTree as ET
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import Agency, Client
from config.celery_app import app as celery_app
from messaging import twilio_accounts
from messaging.models import OutboundSend
from messaging.services import send_deliver
from telephony.models import Call
from telephony.tasks import copies_sweep
from tests.webhooks import call_params, post_signed, sid

pytestmark = pytest.mark.django_db

CALLER = "+13125550144"
AUDIO = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" * 500  # an mp3's header and frames
PERIOD = {"preset": "custom", "start": "2020-01-01", "end": "2030-12-31"}


@pytest.fixture
def platform(web):
    return web("localhost")


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


@pytest.fixture
def eager_tasks():
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def _missed(platform, client, caller=CALLER, account=None):
    """A call nobody answered (to a number in `account`, the fake's account resource, or the platform's): the
    TwiML the caller hears next, and the call's params."""
    params = call_params(client, caller)
    token = None
    if account is not None:
        params["AccountSid"], token = account["sid"], account["auth_token"]
    post_signed(platform, "/hooks/twilio/voice/incoming/", params, token=token)
    response = post_signed(
        platform,
        "/hooks/twilio/voice/dial-complete/",
        {**params, "CallStatus": "in-progress", "DialCallStatus": "no-answer"},
        token=token,
    )
    assert response.status_code == 200
    return ET.fromstring(response.content), params


def _recording(twilio, params, client, *, seconds="42"):
    recording_sid = sid("RE")
    path = f"/2010-04-01/Accounts/{params['AccountSid']}/Recordings/{recording_sid}"
    url = twilio.add_media(f"{path}.mp3", AUDIO, "audio/mpeg").removesuffix(".mp3")
    return {
        "AccountSid": params["AccountSid"],
        "CallSid": params["CallSid"],
        "RecordingSid": recording_sid,
        "RecordingUrl": url,
        "RecordingStatus": "completed",
        "RecordingDuration": seconds,
        "RecordingChannels": "1",
        "RecordingSource": "RecordVerb",
    }


def _call(client, params) -> Call:
    with schema_context(client.schema_name):
        return Call.objects.select_related("contact__conversation").get(call_sid=params["CallSid"])


def test_a_caller_nobody_answered_may_leave_a_voicemail_and_is_texted_back_too(platform, personas, twilio):
    root, params = _missed(platform, personas.acme)
    record = root.find("Record")
    assert "leave a message after the tone" in root.find("Say").text
    assert (record.get("maxLength"), record.get("transcribe"), record.get("playBeep")) == (
        "120",
        "true",
        "true",
    )
    assert (
        record.get("recordingStatusCallback") == "http://localhost:8000/hooks/twilio/voice/recording/?c=acme"
    )
    assert (
        record.get("transcribeCallback") == "http://localhost:8000/hooks/twilio/voice/transcription/?c=acme"
    )
    assert record.get("action") == "http://localhost:8000/hooks/twilio/voice/voicemail-done/?c=acme"
    send = OutboundSend.objects.get(client=personas.acme, key=f"call:{params['CallSid']}")
    assert send_deliver(send_id=send.pk) == "sent" and len(twilio.messages_to(CALLER)) == 1

    done = post_signed(
        platform, "/hooks/twilio/voice/voicemail-done/?c=acme", {**params, "RecordingSid": "RE1"}
    )
    assert ET.fromstring(done.content).find("Hangup") is not None


def test_the_client_chooses_the_length_or_to_hang_up_instead(platform, personas, twilio):
    Client.objects.filter(pk=personas.acme.pk).update(voicemail_max_seconds=30)
    root, _ = _missed(platform, personas.acme)
    assert root.find("Record").get("maxLength") == "30"
    Client.objects.filter(pk=personas.acme.pk).update(voicemail=False)
    root, params = _missed(platform, personas.acme, "+13125550145")
    assert root.find("Record") is None and root.find("Hangup") is not None
    assert OutboundSend.objects.filter(client=personas.acme, key=f"call:{params['CallSid']}").exists()


def test_carrier_forwarded_calls_get_the_voicemail_too(platform, personas):
    Client.objects.filter(pk=personas.acme.pk).update(call_mode=Client.CallMode.CARRIER)
    response = post_signed(platform, "/hooks/twilio/voice/incoming/", call_params(personas.acme, CALLER))
    assert ET.fromstring(response.content).find("Record") is not None


def test_the_recording_and_its_transcript_land_in_the_thread_for_the_clients_people_only(
    web, platform, personas, twilio, eager_tasks, django_capture_on_commit_callbacks
):
    acme = personas.acme
    _, params = _missed(platform, acme)
    recording = _recording(twilio, params, acme)
    with django_capture_on_commit_callbacks(execute=True):
        assert post_signed(platform, "/hooks/twilio/voice/recording/?c=acme", recording).status_code == 200
        # Twilio retries a callback it thinks failed: one voicemail, one copy.
        assert post_signed(platform, "/hooks/twilio/voice/recording/?c=acme", recording).status_code == 200
    fetches = [r for r in twilio.requests if r["path"].endswith(".mp3")]
    assert len(fetches) == 1 and fetches[0]["headers"]["Authorization"].startswith("Basic ")
    transcription = {
        "AccountSid": settings.TWILIO_ACCOUNT_SID,
        "CallSid": params["CallSid"],
        "RecordingSid": recording["RecordingSid"],
        "RecordingUrl": recording["RecordingUrl"],
        "TranscriptionSid": sid("TR"),
        "TranscriptionStatus": "completed",
        "TranscriptionText": "Hi, the water heater is leaking in the basement, please call me back.",
    }
    assert (
        post_signed(platform, "/hooks/twilio/voice/transcription/?c=acme", transcription).status_code == 200
    )

    call = _call(acme, params)
    assert (call.recording_seconds, call.transcript_status) == (42, "completed")
    owner = web("acme.localhost", personas.alice)
    page = owner.get(f"/inbox/{call.contact.conversation.pk}/").content.decode()
    assert "Left a voicemail" in page and "42 s" in page and "water heater is leaking" in page
    assert f'src="/inbox/calls/{call.pk}/voicemail/"' in page
    audio = owner.get(f"/inbox/calls/{call.pk}/voicemail/")
    assert (audio.status_code, audio["Content-Type"], b"".join(audio.streaming_content)) == (
        200,
        "audio/mpeg",
        AUDIO,
    )
    # Bolt's owner: sent to log in on acme's host; on bolt's, no such call.
    assert web("acme.localhost", personas.dave).get(f"/inbox/calls/{call.pk}/voicemail/").status_code == 302
    assert web("bolt.localhost", personas.dave).get(f"/inbox/calls/{call.pk}/voicemail/").status_code == 404
    assert web("acme.localhost").get(f"/inbox/calls/{call.pk}/voicemail/").status_code == 302

    report = owner.get("/reports/", PERIOD).content.decode()
    assert "1 caller left a voicemail" in report
    assert (
        "left a voicemail"
        not in web("bolt.localhost", personas.dave).get("/reports/", PERIOD).content.decode()
    )


def test_an_agency_with_its_own_twilio_account_gets_its_voicemails(
    web,
    platform,
    personas,
    twilio,
    twilio_accounts_forgotten,
    eager_tasks,
    django_capture_on_commit_callbacks,
):
    """acme's number is in its agency's own Twilio account: the recording lives there and is fetched with that
    account's credentials (the platform's get a 404 from Twilio)."""
    own = twilio.add_account(friendly_name="Northwind's own")
    twilio_accounts.own_account_connect(
        agency=personas.northwind, account_sid=own["sid"], auth_token=own["auth_token"]
    )
    _, params = _missed(platform, personas.acme, account=own)
    recording = _recording(twilio, params, personas.acme)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_signed(
            platform, "/hooks/twilio/voice/recording/?c=acme", recording, token=own["auth_token"]
        )
        assert response.status_code == 200
    [fetch] = [r for r in twilio.requests if r["path"].endswith(".mp3")]
    assert (fetch["status"], fetch["authenticated_as"]) == (200, own["sid"])
    call = _call(personas.acme, params)
    audio = web("acme.localhost", personas.alice).get(f"/inbox/calls/{call.pk}/voicemail/")
    assert b"".join(audio.streaming_content) == AUDIO


def test_callbacks_must_be_signed_complete_and_about_a_call_of_that_client(platform, personas, twilio):
    _, params = _missed(platform, personas.acme)
    recording = _recording(twilio, params, personas.acme)
    assert platform.post("/hooks/twilio/voice/recording/?c=acme", recording).status_code == 403
    missing = {k: v for k, v in recording.items() if k != "RecordingSid"}
    response = post_signed(platform, "/hooks/twilio/voice/recording/?c=acme", missing)
    assert response.status_code == 400 and b"RecordingSid" in response.content
    # The same call, named as bolt's: bolt has no such call.
    assert post_signed(platform, "/hooks/twilio/voice/recording/?c=bolt", recording).status_code == 404
    bad = post_signed(
        platform, "/hooks/twilio/voice/recording/?c=acme", {**recording, "RecordingDuration": "x"}
    )
    assert bad.status_code == 400
    assert _call(personas.acme, params).recording_sid == ""


def test_a_recording_url_that_is_not_twilios_is_never_fetched(
    platform, personas, twilio, eager_tasks, django_capture_on_commit_callbacks
):
    _, params = _missed(platform, personas.acme)
    recording = {**_recording(twilio, params, personas.acme), "RecordingUrl": "https://example.com/RE1"}
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(platform, "/hooks/twilio/voice/recording/?c=acme", recording)
    call = _call(personas.acme, params)
    assert call.recording_sid and call.recording_file == ""


def test_nothing_said_is_no_voicemail(platform, personas, twilio):
    _, params = _missed(platform, personas.acme)
    recording = {**_recording(twilio, params, personas.acme), "RecordingStatus": "absent"}
    assert post_signed(platform, "/hooks/twilio/voice/recording/?c=acme", recording).status_code == 200
    assert _call(personas.acme, params).recording_sid == ""


# --- On Telnyx (TeXML): the same voicemail behind Telnyx's door and signature -------------------------------------


def _telnyx_post(platform, telnyx, path: str, params: dict):
    """POST `params` to Telnyx's door, form-encoded and signed with Ed25519 as Telnyx signs TeXML callbacks."""
    body = urlencode(params).encode()
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in telnyx.sign(body).items()}
    return platform.generic(
        "POST", f"/hooks/telnyx/{path}", body, content_type="application/x-www-form-urlencoded", **extra
    )


def _telnyx_missed_call(platform, personas, telnyx, call_sid: str):
    """northwind on Telnyx (rolled back with the test) and a call to acme nobody answered, through Telnyx's door:
    the call's parameters, and the dial-complete's answer (the voicemail's TwiML)."""
    Agency.objects.filter(pk=personas.northwind.pk).update(carrier="telnyx")
    params = call_params(personas.acme, CALLER, AccountSid=telnyx.account_sid, CallSid=call_sid)
    assert _telnyx_post(platform, telnyx, "voice/incoming/", params).status_code == 200
    answer = _telnyx_post(
        platform,
        telnyx,
        "voice/dial-complete/",
        {**params, "CallStatus": "in-progress", "DialCallStatus": "no-answer"},
    )
    return params, answer


def test_on_telnyx_the_voicemail_lands_in_the_thread_through_telnyxs_door(
    web, platform, personas, telnyx, eager_tasks, django_capture_on_commit_callbacks
):
    params, answer = _telnyx_missed_call(platform, personas, telnyx, "v3:telnyx-vm-1")
    record = ET.fromstring(answer.content).find("Record")
    # Every callback on Telnyx's door (Twilio's would refuse Telnyx's signature), transcription as TeXML names it.
    assert (
        record.get("recordingStatusCallback") == "http://localhost:8000/hooks/telnyx/voice/recording/?c=acme"
    )
    assert record.get("action") == "http://localhost:8000/hooks/telnyx/voice/voicemail-done/?c=acme"
    assert (record.get("transcription"), record.get("transcriptionCallback")) == (
        "true",
        "http://localhost:8000/hooks/telnyx/voice/transcription/?c=acme",
    )

    recording_sid = "35094891-3290-4142-b2c2-b2eda57534cf"
    recording = {
        "AccountSid": telnyx.account_sid,
        "CallSid": params["CallSid"],
        "RecordingSid": recording_sid,
        "RecordingUrl": telnyx.add_media(f"{recording_sid}.mp3", AUDIO, "audio/mpeg"),
        "RecordingStatus": "completed",
        "RecordingDuration": "42",
        "RecordingChannels": "1",
        "RecordingSource": "RecordVerb",
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert _telnyx_post(platform, telnyx, "voice/recording/?c=acme", recording).status_code == 200
    # Telnyx's link is pre-signed: fetched as it is, with no key of ours (S3 would refuse a second one).
    [fetch] = [r for r in telnyx.requests if r["path"].endswith(".mp3")]
    assert "authorization" not in fetch["headers"]
    transcription = {
        "AccountSid": telnyx.account_sid,
        "CallSid": params["CallSid"],
        "RecordingSid": recording_sid,
        "TranscriptionSid": "b08f0fa1-a32c-4218-b3b5-9cf78941ccac",
        "TranscriptionStatus": "completed",
        "TranscriptionText": "The boiler is making a banging noise, call me back please.",
    }
    assert _telnyx_post(platform, telnyx, "voice/transcription/?c=acme", transcription).status_code == 200

    call = _call(personas.acme, params)
    assert (call.recording_seconds, call.transcript_status) == (42, "completed")
    owner = web("acme.localhost", personas.alice)
    page = owner.get(f"/inbox/{call.contact.conversation.pk}/").content.decode()
    assert "Left a voicemail" in page and "boiler is making a banging noise" in page
    audio = owner.get(f"/inbox/calls/{call.pk}/voicemail/")
    assert (audio.status_code, b"".join(audio.streaming_content)) == (200, AUDIO)
    assert web("bolt.localhost", personas.dave).get(f"/inbox/calls/{call.pk}/voicemail/").status_code == 404


def test_on_telnyx_a_recording_link_that_is_not_telnyxs_is_never_fetched(
    platform, personas, telnyx, eager_tasks, django_capture_on_commit_callbacks
):
    params, _ = _telnyx_missed_call(platform, personas, telnyx, "v3:telnyx-vm-2")
    recording = {
        "AccountSid": telnyx.account_sid,
        "CallSid": params["CallSid"],
        "RecordingSid": "rec-2",
        "RecordingUrl": "https://evil.example/rec-2.mp3?X-Amz-Signature=x",
        "RecordingStatus": "completed",
        "RecordingDuration": "5",
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert _telnyx_post(platform, telnyx, "voice/recording/?c=acme", recording).status_code == 200
    call = _call(personas.acme, params)
    assert call.recording_sid == "rec-2" and call.recording_file == ""
    # Twilio's door refuses Telnyx's signature: nothing is recorded through it.
    body = urlencode(recording).encode()
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in telnyx.sign(body).items()}
    answer = platform.generic(
        "POST",
        "/hooks/twilio/voice/recording/?c=acme",
        body,
        content_type="application/x-www-form-urlencoded",
        **extra,
    )
    assert answer.status_code == 403


def test_on_telnyx_a_wav_recording_on_telnyxs_host_is_fetched_with_the_key_and_played_as_wav(
    web, platform, personas, telnyx, eager_tasks, django_capture_on_commit_callbacks
):
    """Telnyx's transcription example names a recording on api.telnyx.com as a .wav: fetched with the API key,
    kept and played as what it is."""
    params, _ = _telnyx_missed_call(platform, personas, telnyx, "v3:telnyx-vm-3")
    wav = b"RIFF\x24\x08\x00\x00WAVEfmt " + b"\x00" * 2000
    recording = {
        "AccountSid": telnyx.account_sid,
        "CallSid": params["CallSid"],
        "RecordingSid": "rec-3",
        "RecordingUrl": telnyx.add_media("rec-3.wav", wav, "audio/wav", presigned=False),
        "RecordingStatus": "completed",
        "RecordingDuration": "7",
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert _telnyx_post(platform, telnyx, "voice/recording/?c=acme", recording).status_code == 200
    [fetch] = [r for r in telnyx.requests if r["path"].endswith(".wav")]
    assert fetch["headers"]["authorization"] == f"Bearer {telnyx.api_key}"
    call = _call(personas.acme, params)
    audio = web("acme.localhost", personas.alice).get(f"/inbox/calls/{call.pk}/voicemail/")
    assert (audio["Content-Type"], b"".join(audio.streaming_content)) == ("audio/wav", wav)


def test_a_voicemail_whose_copy_the_broker_lost_is_copied_by_the_hourly_sweep(
    platform, personas, twilio, eager_tasks
):
    _, params = _missed(platform, personas.acme)
    recording = _recording(twilio, params, personas.acme)
    # The callback commits but its copy is never queued (the broker was down).
    assert post_signed(platform, "/hooks/twilio/voice/recording/?c=acme", recording).status_code == 200
    assert _call(personas.acme, params).recording_file == ""
    with schema_context(personas.acme.schema_name):
        Call.objects.filter(call_sid=params["CallSid"]).update(
            started_at=timezone.now() - timedelta(minutes=20)
        )
    assert copies_sweep() == 1
    assert _call(personas.acme, params).recording_file.endswith(".mp3")
    assert copies_sweep() == 0  # copied: nothing left to sweep


def test_on_telnyx_a_voicemail_whose_link_died_is_copied_through_a_fresh_one(
    platform, personas, telnyx, eager_tasks
):
    """Telnyx's recording link is dead 10 minutes after the call: the sweep's late copy asks Telnyx's Recordings
    API for a fresh one (with the key) and fetches that (without)."""
    params, _ = _telnyx_missed_call(platform, personas, telnyx, "v3:telnyx-vm-4")
    recording_id = "5f0c7d8e-1111-4a2b-9c3d-0123456789ab"
    recording = {
        "AccountSid": telnyx.account_sid,
        "CallSid": params["CallSid"],
        "RecordingSid": recording_id,
        "RecordingUrl": telnyx.add_recording(recording_id, AUDIO),
        "RecordingStatus": "completed",
        "RecordingDuration": "12",
    }
    # The callback commits but its copy is never queued (the broker was down); 20 minutes on, the link is dead.
    assert _telnyx_post(platform, telnyx, "voice/recording/?c=acme", recording).status_code == 200
    telnyx.expire_links()
    with schema_context(personas.acme.schema_name):
        Call.objects.filter(call_sid=params["CallSid"]).update(
            started_at=timezone.now() - timedelta(minutes=20)
        )
    assert copies_sweep() == 1
    assert _call(personas.acme, params).recording_file.endswith(".mp3")
    gets = [(r["path"], r["headers"].get("authorization")) for r in telnyx.requests if r["method"] == "GET"]
    path = f"/telephony-recorder-prod/{recording_id}.mp3"
    assert gets == [
        (path, None),  # the dead link: 403
        (f"/v2/recordings/{recording_id}", f"Bearer {telnyx.api_key}"),
        (path, None),  # the fresh one
    ]
