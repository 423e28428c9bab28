from django.urls import path

from . import views

urlpatterns = [
    path("sms/incoming/", views.sms_incoming, name="sms-incoming"),
    path("sms/status/", views.sms_status, name="sms-status"),
]
