"""The dispute evidence pack has its own title on page 1 and says what happened in words
(states and actions), not audit codes."""

import io

import pytest
from pypdf import PdfReader

from claims import services as wf
from settlements.models import DocumentKind
from settlements.services import documents as ds

pytestmark = pytest.mark.django_db


def test_evidence_pack_title_and_words(claims, finance, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    claim = claims.proposed("300.00")
    user = claims.user_of(claim.merchant)
    claim = wf.start_review(claim=wf.submit(claim=claim, by=user), by=claims.support)
    claim = wf.request_info(
        claim=claim, by=claims.support, reason="missing_information", message="Send the order export."
    )
    claim = wf.answer(claim=claim, by=user, message="Attached.")
    claim = wf.approve(claim=claim, by=claims.support, reason="loss_confirmed", message="OK")
    claim = wf.dispute(claim=claim, by=user, reason="amount_disagreement", statement="More was lost.")
    pack = ds.issue(kind=DocumentKind.EVIDENCE_PACK, claim_id=claim.pk, by=finance)
    reader = PdfReader(io.BytesIO(pack.file.read()))
    first = reader.pages[0].extract_text()
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "Dispute evidence pack" in first and "Claim settlement statement" not in first
    for code in ("start_review", "info_requested", "request_info", "under_review", "partially_approved"):
        assert code not in text, code
    words = " ".join(text.split())  # table cells wrap
    assert "taken into review" in words and "Information requested" in words, words
