"""Middleware of our own: the page error net and the Content-Security-Policy header.

An ``ApplicationError`` that escapes a view is shown as an error page with its status. Form actions
catch their errors earlier (``core.actions.run_page_action``) to show the form again with what the
user typed; this is the net for everything else (a stale link, a foreign id).
"""

from django.conf import settings
from django.http import Http404
from django.shortcuts import render

from core.errors import ApplicationError, NotFound


class ApplicationErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, ApplicationError) or request.path.startswith("/api/"):
            return None
        if isinstance(exception, NotFound):
            raise Http404(exception.message)
        template = "403.html" if exception.status == 403 else "error.html"
        return render(request, template, {"error": exception}, status=exception.status)


class ContentSecurityPolicyMiddleware:
    """Adds ``settings.CONTENT_SECURITY_POLICY`` to every response that has none of its own.

    With no script from other origins and no inline script allowed, an injected ``<script>``
    in a merchant name or a claim statement does not run even if escaping were ever missed.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = getattr(settings, "CONTENT_SECURITY_POLICY", "")

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy
        return response
