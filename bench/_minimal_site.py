"""A one-view Django site for the webhook benchmark's calibration: the project's settings and
middleware, and a view that only reads the body and answers 200. Its accepted/s under the same
load is what a request costs on this host before any of our code runs."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402


@csrf_exempt
def accept(request):
    return JsonResponse({"outcome": "accepted", "bytes": len(request.body)})


urlpatterns = [path("api/incidents/webhook/", accept), path("login/", accept)]
application = get_wsgi_application()
settings.ROOT_URLCONF = __name__
