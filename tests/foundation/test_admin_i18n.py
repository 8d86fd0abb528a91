"""The admin speaks zh-hans too: model names come from translated verbose names."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_session(client):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw-secret-123")
    client.force_login(user)
    return client


def _switch_language(client, code):
    response = client.post(reverse("set_language"), {"language": code, "next": reverse("admin:index")})
    assert response.status_code == 302 and response.url == reverse("admin:index")


def test_admin_index_shows_chinese_model_names_after_switching_language(admin_session):
    english = admin_session.get(reverse("admin:index")).content.decode()
    assert "Live sessions" in english and "Compensation policies" in english and "Loss assessments" in english

    _switch_language(admin_session, "zh-hans")
    html = admin_session.get(reverse("admin:index")).content.decode()

    assert 'lang="zh-hans"' in html
    # merchants
    assert ">商家<" in html
    assert ">直播场次<" in html
    # claims (loss engine)
    assert ">赔付政策<" in html
    assert ">损失评估<" in html
    # incidents
    assert ">故障事件<" in html
    assert ">服务商<" in html
    # app headings
    assert "商家理赔" in html and "结算与单据" in html
    for english_name in ("Live sessions", "Compensation policies", "Loss assessments", "Providers", "Claims finance"):
        assert english_name not in html


def test_admin_change_form_shows_chinese_field_labels(admin_session):
    _switch_language(admin_session, "zh-hans")
    html = admin_session.get(reverse("admin:merchants_livesession_add")).content.decode()
    assert "增加 直播场次" in html  # Django's own "Add %s" around our verbose name
    assert ">商家：<" in html and ">开始时间：<" in html  # field labels (the merchant foreign key, started at)
    assert "Merchant:" not in html


def test_claims_and_settlements_are_read_only_in_the_admin(admin_session):
    for name in ("claims_claim", "settlements_settlementbatch", "settlements_issueddocument"):
        assert admin_session.get(reverse(f"admin:{name}_changelist")).status_code == 200
        assert admin_session.get(reverse(f"admin:{name}_add")).status_code == 403
