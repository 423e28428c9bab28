from django.contrib.auth.backends import ModelBackend

from .selectors import user_may_use_host


class HostMembershipBackend(ModelBackend):
    """Email and password, and the host must be one the person belongs on.

    Someone who is not a member of this client (or of its agency) gets exactly the answer a wrong password
    gets, so a login form never tells a stranger which addresses exist on which client."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username:
            username = username.strip().lower()
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None or request is None or not user_may_use_host(user, request):
            return None
        return user
