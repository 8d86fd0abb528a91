"""Filing a claim: the amount is refused above the active policy's cap per claim (on the page, in
the service and so in the API), each field's error sits under that field's own label, the page
has the error summary other refused forms have, and a not-computed draft shows no breakdown."""

from html import unescape as html_unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from claims import services
from claims.models import Claim
from claims.recompute import sync_incident_claims
from core.errors import InvalidInput
from losses.models import LossAssessment
from tests.factories import PNG, IncidentFactory, hit_session
from tests.layout import LANGUAGES, WIDTHS, assert_readable, open_as

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def form_data(merchant, amount, **extra):
    data = {
        "merchant": merchant.pk,
        "claimed_amount": amount,
        "session_reference": "LS-X",
        "statement": "Froze.",
        "documents": [SimpleUploadedFile("a.png", PNG)],
    }
    data.update(extra)
    return data


def field_paragraph(html, name):
    """The <p> that holds the input ``name``."""
    at = html.index(f'name="{name}"')
    return html[html.rindex("<p", 0, at) : html.index("</p>", at)]


def test_the_service_refuses_an_amount_above_the_cap_on_its_field(merchant, merchant_user):
    incident = IncidentFactory(external_id="CAP-1")
    with pytest.raises(InvalidInput) as refused:
        services.file_claim(
            merchant=merchant,
            incident=incident,
            by=merchant_user,
            claimed_amount="99999999.00",
            statement="Froze.",
            documents=[SimpleUploadedFile("a.png", PNG)],
        )
    assert refused.value.field == "claimed_amount" and "50,000.00" in refused.value.message
    assert not Claim.objects.filter(incident=incident).exists()
    claim = services.file_claim(
        merchant=merchant,
        incident=incident,
        by=merchant_user,
        claimed_amount="50000.00",
        statement="Froze.",
        documents=[SimpleUploadedFile("a.png", PNG)],
    )
    assert claim.claimed_amount == 50000


def test_the_page_puts_the_cap_error_under_the_amount_and_sums_it_up(client, merchant, merchant_user):
    incident = IncidentFactory(external_id="CAP-2")
    client.force_login(merchant_user)
    url = f"/portal/incidents/{incident.pk}/file/"
    r = client.post(url, form_data(merchant, "99999999.00", statement=""))
    html = r.content.decode()
    assert r.status_code == 400 and not Claim.objects.filter(incident=incident).exists()
    summary = html.split('id="error-summary"', 1)[1].split("</div>", 1)[0]
    assert 'id="error-summary" role="alert"' in html
    assert 'href="#id_statement"' in summary
    # The required statement is refused by the form; the cap by the service, on the next try.
    assert "This field is required." in field_paragraph(html, "statement")
    assert "This field is required." not in field_paragraph(html, "documents")
    html = client.post(url, form_data(merchant, "99999999.00")).content.decode()
    amount = field_paragraph(html, "claimed_amount")
    assert "at most 50,000.00" in amount and amount.index("<label") < amount.index("at most 50,000.00")
    assert "at most 50,000.00" not in field_paragraph(html, "session_reference")
    assert 'href="#id_claimed_amount"' in html.split('id="error-summary"', 1)[1].split("</div>", 1)[0]


def test_the_payout_form_error_is_under_the_account_number(client, merchant, merchant_user):
    from merchants.models import Membership

    Membership.objects.filter(user=merchant_user).update(is_admin=True)
    client.force_login(merchant_user)
    data = {"merchant": merchant.pk, f"m{merchant.pk}-account_name": "", f"m{merchant.pk}-bank": "ICBC"}
    html = client.post("/portal/payout/", data).content.decode()
    assert "This field is required." in field_paragraph(html, f"m{merchant.pk}-account_name")
    assert "This field is required." not in field_paragraph(html, f"m{merchant.pk}-bank")


def test_a_not_computed_draft_shows_no_breakdown_at_zero(client, merchant, merchant_user):
    incident = IncidentFactory(external_id="CAP-3")
    hit_session(incident, merchant, sid="LS-ZERO", before="100", during="100")
    sync_incident_claims(incident)
    assert LossAssessment.objects.filter(incident=incident, merchant=merchant, is_current=True, compensation=0).exists()
    claim = services.file_claim(
        merchant=merchant,
        incident=incident,
        by=merchant_user,
        claimed_amount="300",
        statement="Froze.",
        documents=[SimpleUploadedFile("a.png", PNG)],
    )
    client.force_login(merchant_user)
    html = client.get(f"/portal/claims/{claim.pk}/").content.decode()
    assert "LS-ZERO" not in html and "The system found no loss for this merchant" in html


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_refused_file_claim_form_in_both_languages_and_widths(browser, live_server, screenshot, merchant, make_user):
    user = make_user("m-filer", "merchant", merchants=[merchant])
    incident = IncidentFactory(external_id="CAP-4")
    cap = {"en": "at most 50,000.00", "zh-hans": "50,000.00"}
    for lang in LANGUAGES:
        for width in WIDTHS:
            context, page = open_as(browser, live_server, user.username, width=width, lang=lang)
            page.goto(f"{live_server.url}/portal/incidents/{incident.pk}/file/")
            page.fill("#id_claimed_amount", "99999999.00")
            page.fill("#id_session_reference", "LS-X")
            page.fill("#id_statement", "Froze.")
            page.set_input_files("#id_documents", files=[{"name": "a.png", "mimeType": "image/png", "buffer": PNG}])
            page.locator("main button[type=submit]").click()
            page.wait_for_load_state()
            summary = page.locator("#error-summary")
            assert summary.is_visible() and cap[lang] in summary.inner_text()
            assert page.evaluate("document.activeElement.id") == "error-summary"
            error = page.locator("#id_claimed_amount_error")
            label = page.locator("label[for=id_claimed_amount]").bounding_box()
            field = page.locator("#id_claimed_amount").bounding_box()
            box = error.bounding_box()
            assert label["y"] < box["y"] < field["y"]
            assert_readable(page)
            screenshot(page, f"file-claim-refused-{lang}-{width}")
            context.close()


def test_a_renamed_file_is_named_with_what_it_seems_to_be_even_on_the_second_refusal(client, merchant, merchant_user):
    incident = IncidentFactory(external_id="EVIL-1")
    client.force_login(merchant_user)
    url = f"/portal/incidents/{incident.pk}/file/"
    evil = SimpleUploadedFile("evil.pdf", b"Hello there.\nThis is not a PDF.\n", content_type="application/pdf")
    html = client.post(url, form_data(merchant, "300", documents=[evil])).content.decode()
    said = "“evil.pdf”: its content is not a PDF file: it looks like plain text."
    assert said in field_paragraph(html, "documents")
    refused = html.split('name="refused_file" value="', 1)[1].split('"', 1)[0]
    zipped = SimpleUploadedFile("scan.png", b"PK\x03\x04" + b"\x00" * 40)
    html = client.post(url, form_data(merchant, "300", documents=[zipped])).content.decode()
    assert "“scan.png”: its content is not a PNG file: it looks like a ZIP file." in html
    # The browser does not send the refused file again: the next refusal still names it.
    again = form_data(merchant, "300")
    del again["documents"]
    html = client.post(url, {**again, "refused_file": html_unescape(refused)}).content.decode()
    assert "Choose the evidence again" in field_paragraph(html, "documents") and "evil.pdf" in html
    assert not Claim.objects.filter(incident=incident).exists()
