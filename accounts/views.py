from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import render

from .models import Client
from .selectors import agencies_of_user, request_client
from .services import client_url


@login_required
def home(request):
    """The landing page after login: on a client's host, the client's home; elsewhere, the agency's
    list of its clients."""
    client = request_client(request)
    if client is not None:
        return render(request, "accounts/client_home.html", {"client": client})
    agencies = agencies_of_user(request.user)
    if request.agency is not None:
        agencies = agencies.filter(pk=request.agency.pk)
    clients = (
        Client.objects.filter(agency__in=agencies)
        .select_related("agency")
        .annotate(member_count=Count("memberships"))
        .order_by("agency__name", "name")
    )
    rows = [(client, client_url(client)) for client in clients]
    return render(request, "accounts/agency_home.html", {"agencies": agencies, "rows": rows})
