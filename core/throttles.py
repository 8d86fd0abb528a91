"""API throttles counted in the shared cache (Redis in production), so all web processes agree."""

from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle


class UserThrottle(UserRateThrottle):
    """Per signed-in user, session or token alike; anonymous requests count per address."""


class AnonThrottle(AnonRateThrottle):
    """Per client address, for requests without a user (login-free endpoints)."""


class WebhookThrottle(SimpleRateThrottle):
    """Per webhook source named in the request, and per address for requests naming none.

    The webhook has no user; its senders are monitoring systems, each with its own budget.
    """

    scope = "webhook"

    def get_cache_key(self, request, view):
        source = request.headers.get("X-Incident-Source", "")[:100]
        ident = f"source:{source}" if source else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
