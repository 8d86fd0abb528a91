"""API throttles counted in the shared cache (Redis in production), so all web processes agree."""

from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle


class UserThrottle(UserRateThrottle):
    """Per signed-in user, session or token alike; anonymous requests count per address."""


class AnonThrottle(AnonRateThrottle):
    """Per client address, for requests without a user (login-free endpoints)."""


class WebhookThrottle(SimpleRateThrottle):
    """Per webhook source named in the request and sending address.

    The webhook has no user; its senders are monitoring systems, each with its own budget.
    The source header is counted before the signature is checked, so the address is part of
    the key: a flood naming someone else's source does not use up that source's budget.
    """

    scope = "webhook"

    def get_cache_key(self, request, view):
        source = request.headers.get("X-Incident-Source", "")[:100]
        return self.cache_format % {"scope": self.scope, "ident": f"{source}@{self.get_ident(request)}"}
