"""Brute force and floods: login lockout per user and per address, API throttles in Redis."""

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.authtoken.models import Token

from core.throttles import AnonThrottle, UserThrottle, WebhookThrottle

pytestmark = pytest.mark.django_db
PASSWORD = "pw-secret-123"


def login(client, username, password, ip="10.0.0.1", path="/login/"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_repeated_wrong_passwords_lock_the_user_out(client, make_user):
    make_user("support", "support")
    codes = [login(client, "support", "wrong").status_code for _ in range(settings.AXES_FAILURE_LIMIT)]
    assert codes == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]  # the form with its error, then locked
    # The right password no longer works, from any address, on the page or the admin.
    locked = login(client, "support", PASSWORD, ip="10.0.0.2")
    assert locked.status_code == 429 and "_auth_user_id" not in client.session
    assert "Too many failed logins" in locked.content.decode()
    assert login(client, "support", PASSWORD, ip="10.0.0.3", path="/admin/login/").status_code == 429


def test_repeated_failures_from_one_address_lock_that_address(client, make_user):
    make_user("alice", "support")
    for n in range(settings.AXES_FAILURE_LIMIT):
        login(client, f"guess{n}", "wrong", ip="10.0.0.9")
    assert login(client, "alice", PASSWORD, ip="10.0.0.9").status_code == 429
    # Alice herself is not locked: from her own address she logs in.
    response = login(client, "alice", PASSWORD, ip="10.0.0.10")
    assert response.status_code == 302 and client.session["_auth_user_id"]


def test_a_few_failures_then_success_is_fine(client, make_user):
    make_user("bob", "support")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, "bob", "wrong")
    assert login(client, "bob", PASSWORD).status_code == 302


@pytest.fixture
def low_rates(monkeypatch):
    rates = {"user": "3/min", "anon": "3/min", "webhook": "3/min"}
    for cls in (UserThrottle, AnonThrottle, WebhookThrottle):
        monkeypatch.setattr(cls, "THROTTLE_RATES", rates)


def test_throttle_counters_live_in_redis():
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    cache.set("probe", 1)
    assert cache.get("probe") == 1


def test_token_requests_are_throttled_per_user(api_client, make_user, low_rates):
    user = make_user("tok", "support")
    token = Token.objects.create(user=user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    codes = [api_client.get("/api/incidents/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    # Another address does not help: the count is the user's.
    assert api_client.get("/api/incidents/", REMOTE_ADDR="10.9.9.9").status_code == 429


def test_anonymous_requests_are_throttled_per_address(api_client, low_rates):
    codes = [api_client.get("/api/schema/", REMOTE_ADDR="10.1.1.1").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert api_client.get("/api/schema/", REMOTE_ADDR="10.1.1.2").status_code == 200


def test_the_webhook_is_throttled_per_source(api_client, low_rates):
    def post(source, ip="10.0.0.1"):
        return api_client.post(
            "/api/incidents/webhook/",
            data=b"{}",
            content_type="application/json",
            HTTP_X_INCIDENT_SOURCE=source,
            HTTP_X_INCIDENT_TIMESTAMP="0",
            HTTP_X_INCIDENT_SIGNATURE="sha256=00",
            REMOTE_ADDR=ip,
        ).status_code

    assert [post("flood") for _ in range(4)] == [401, 401, 401, 429]
    assert post("other") == 401
    # Someone else flooding with this source's name does not use up its budget.
    assert post("flood", ip="10.7.7.7") == 401
