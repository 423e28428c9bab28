from django.urls import path

from . import views

app_name = "inbox"
urlpatterns = [
    path("", views.conversation_list, name="list"),
    path("<int:pk>/", views.thread, name="thread"),
    path("<int:pk>/reply/", views.reply, name="reply"),
    path("<int:pk>/suggest/", views.suggest, name="suggest"),
    path("<int:pk>/notes/", views.note, name="note"),
    path("<int:pk>/outcome/", views.outcome, name="outcome"),
    path("<int:pk>/assign/", views.assign, name="assign"),
    path("<int:pk>/flag/", views.flag, name="flag"),
    path("<int:pk>/close/", views.close, name="close"),
    path("<int:pk>/reopen/", views.reopen, name="reopen"),
    path("<int:pk>/snooze/", views.snooze, name="snooze"),
    path("calls/<int:pk>/voicemail/", views.voicemail, name="voicemail"),
    path("media/<int:pk>/", views.media, name="media"),
    path("<int:pk>/call/", views.call_back, name="call_back"),
    path("canned/", views.canned_list, name="canned"),
    path("notifications/", views.notification_settings, name="notifications"),
    path("notifications/number/", views.notification_number, name="notification_number"),
    path("notifications/devices/", views.push_devices, name="push_devices"),
    path("notifications/devices/<int:pk>/delete/", views.push_device_delete, name="push_device_delete"),
    path("canned/<int:pk>/delete/", views.canned_delete, name="canned_delete"),
]
