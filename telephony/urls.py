from django.urls import path

from . import views

urlpatterns = [
    path("voice/incoming/", views.voice_incoming, name="voice-incoming"),
    path("voice/screen/", views.voice_screen, name="voice-screen"),
    path("voice/screen-result/", views.voice_screen_result, name="voice-screen-result"),
    path("voice/dial-complete/", views.voice_dial_complete, name="voice-dial-complete"),
    path("voice/status/", views.voice_status, name="voice-status"),
    path("voice/voicemail-done/", views.voicemail_done, name="voice-voicemail-done"),
    path("voice/recording/", views.voicemail_recording, name="voice-recording"),
    path("voice/transcription/", views.voicemail_transcription, name="voice-transcription"),
    path("voice/callback/connect/", views.callback_connect_view, name="voice-callback-connect"),
    path("voice/callback/done/", views.callback_done_view, name="voice-callback-done"),
    path("voice/callback/status/", views.callback_status_view, name="voice-callback-status"),
]
