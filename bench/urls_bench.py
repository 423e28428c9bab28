"""The platform host's URLs (config.urls_public) plus two baselines for bench/webhook_throughput.py, both
CSRF-exempt like the webhooks (so a POST of the same form body reaches them):

  /bench/bare/    does nothing: the cost of Django, gunicorn and the middleware stack alone
  /bench/lookup/  finds the client by the form's To, as every webhook does first (one query), and nothing more
"""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from accounts.selectors import client_for_webhook
from config.urls_public import urlpatterns as public_urlpatterns


@csrf_exempt
def bare(request):
    return HttpResponse("ok", content_type="text/plain")


@csrf_exempt
def lookup(request):
    client = client_for_webhook(number=request.POST.get("To", ""))
    return HttpResponse("ok" if client else "none", content_type="text/plain")


urlpatterns = [path("bench/bare/", bare), path("bench/lookup/", lookup), *public_urlpatterns]
