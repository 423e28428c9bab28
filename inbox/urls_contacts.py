from django.urls import path

from . import contact_views as views

# The contacts pages, named crm:… after what they show (templates and links name them so).
app_name = "crm"
urlpatterns = [
    path("", views.contact_index, name="index"),
    path("export.csv", views.contact_export, name="export"),
    path("import/", views.contact_import, name="import"),
    path("<int:contact_id>/", views.contact_detail, name="detail"),
    path("<int:contact_id>/edit/", views.contact_edit, name="edit"),
    path("<int:contact_id>/block/", views.contact_block, name="block"),
    path("<int:contact_id>/consent/", views.contact_consent, name="consent"),
    path("<int:contact_id>/merge/", views.contact_merge_pick, name="merge"),
    path("<int:contact_id>/merge/<int:other_id>/", views.contact_merge_confirm, name="merge_confirm"),
]
