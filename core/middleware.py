"""Pages: an ``ApplicationError`` that escapes a view is shown as an error page with its status.

Form actions catch their errors earlier (``core.actions.run_page_action``) to show the form again
with what the user typed; this is the net for everything else (a stale link, a foreign id).
"""

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
