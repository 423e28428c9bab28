"""The team page on a client's host (/team/, next to its settings): owners (and the client's agency) invite the business's own staff, give
them a role (staff, read-only staff) and remove them. Other staff see who is on the team.

Who may come in at all is settled by HostMembershipMiddleware and login_required, as for the inbox; a
membership of another client is simply not found here (404)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.forms import ClientInviteForm, form_add_service_errors
from accounts.models import ClientMembership, Invitation
from accounts.selectors import client_role, request_client
from accounts.services import ClientStateError, client_member_remove, invitation_create

MANAGERS = {"agency", ClientMembership.Role.OWNER}


def _client(request):
    client = request_client(request)
    if client is None:
        raise Http404("Not a client's host")
    return client


@login_required
@require_http_methods(["GET", "POST"])
def client_team(request):
    client = _client(request)
    role = client_role(request.user, client)
    may_manage = role in MANAGERS
    form = ClientInviteForm(request.POST or None, may_invite_owner=role == "agency")
    if request.method == "POST":
        if not may_manage:
            raise PermissionDenied("Only the business's owners may invite people.")
        if form.is_valid():
            try:
                invitation, _ = invitation_create(
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    invited_by=request.user,
                    client=client,
                )
            except ValidationError as exc:
                form_add_service_errors(form, exc)
            else:
                messages.success(request, f"Invitation sent to {invitation.email}.")
                return redirect("client-team")
    members = (
        ClientMembership.objects.filter(client=client).select_related("user").order_by("role", "user__email")
    )
    pending = Invitation.objects.filter(client=client, accepted_at__isnull=True).order_by("-created_at")
    return render(
        request,
        "client_settings/team.html",
        {
            "client": client,
            "members": members,
            "pending": pending,
            "form": form,
            "may_manage": may_manage,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def client_team_remove(request, pk: int):
    client = _client(request)
    if client_role(request.user, client) not in MANAGERS:
        raise PermissionDenied("Only the business's owners may remove people.")
    membership = get_object_or_404(
        ClientMembership.objects.select_related("user", "client__agency"), pk=pk, client=client
    )
    if membership.user_id == request.user.pk:
        messages.error(request, "You cannot remove yourself.")
        return redirect("client-team")
    try:
        client_member_remove(membership=membership, actor=request.user)
    except ClientStateError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{membership.user.email} no longer has access to {client.name}.")
    return redirect("client-team")


@login_required
@require_POST
def client_invitation_revoke(request, pk: int):
    client = _client(request)
    if client_role(request.user, client) not in MANAGERS:
        raise PermissionDenied("Only the business's owners may withdraw invitations.")
    get_object_or_404(Invitation, pk=pk, client=client, accepted_at__isnull=True).delete()
    messages.success(request, "Invitation withdrawn.")
    return redirect("client-team")
