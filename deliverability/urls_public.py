"""The deliverability page on the agency's host, mounted by config/urls_public.py."""

from django.urls import path

from . import views

app_name = "deliverability"
urlpatterns = [
    path("<slug:agency>/", views.agency_page, name="agency"),
    path("<slug:agency>/clients/<int:pk>/registration/", views.registration_page, name="registration"),
    path("<slug:agency>/clients/<int:pk>/hosted-number/", views.hosting_agency_page, name="hosting"),
]
