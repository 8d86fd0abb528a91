import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_role_groups_exist():
    # Created by accounts/migrations/0001_role_groups.py (this test runs before any flush).
    assert set(Group.objects.values_list("name", flat=True)) >= {"merchant", "support", "finance"}


def test_login_and_logout_pages(client, support_user):
    assert client.get(reverse("login")).status_code == 200
    response = client.post(reverse("login"), {"username": "sam-support", "password": "pw-secret-123"})
    assert response.status_code == 302
    assert client.get(reverse("incidents:list")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("incidents:list")).status_code == 302


def test_failed_login_keeps_the_username_and_says_why(client, support_user):
    response = client.post(reverse("login"), {"username": "sam-support", "password": "wrong"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="username" value="sam-support"' in html
    assert "didn&#x27;t match" in html or "didn't match" in html
    assert 'name="password" required' in html  # the password is never echoed back


def test_language_switch_to_chinese(client, support_user):
    client.force_login(support_user)
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/console/incidents/"})
    response = client.get(reverse("incidents:list"))
    assert response.status_code == 200
    assert 'lang="zh-hans"' in response.content.decode()
    assert "事件" in response.content.decode()


def test_merchant_user_cannot_open_staff_console(client, make_user):
    client.force_login(make_user("mo", "merchant"))
    assert client.get(reverse("incidents:list")).status_code == 403
