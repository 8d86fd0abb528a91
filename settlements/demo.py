"""Finance demo data, built through the real services (deterministic, idempotent).

Runs after the claims demo and uses what it leaves: the merchant accepts the plain approved
claim (not the one approved after a dispute), and finance pays it in a settlement batch (add,
lock, export, import the exported CSV with ``status``/``payment_reference`` filled in), which
settles the claim. The claim that was already accepted waits in an open batch. A claim
settlement statement PDF is issued for the paid claim through the Celery task, run in-process.
"""

from django.contrib.auth.models import User

from claims import services as workflow
from claims.models import Claim, ClaimState

from . import exports
from .models import DocumentKind, IssuedDocument, SettlementBatch
from .services import settlements as st
from .tasks import issue_document

PAID_NOTE = "Demo: paid batch"
OPEN_NOTE = "Demo: open batch"


def _merchant_user(claim):
    return User.objects.filter(memberships__merchant=claim.merchant_id).order_by("username").first()


def _payment_file(batch) -> bytes:
    """The batch's export with every claim marked paid (the TOTAL rows are ignored on import)."""
    rows = []
    for row in exports.batch_rows(batch):
        row = list(row)
        if row[0] == batch.reference:
            row[7], row[8] = "paid", f"DEMO-PAY-C{row[1]:06d}"
        rows.append(row)
    return exports.csv_bytes(rows)


def seed(stdout):
    if SettlementBatch.objects.filter(note__in=[PAID_NOTE, OPEN_NOTE]).exists():
        stdout.write(f"  finance: {SettlementBatch.objects.count()} settlement batches kept as they are")
        return  # already seeded
    finance = User.objects.get(username="finance")
    waiting = list(st.eligible_claims().values_list("pk", flat=True))  # accepted by the claims demo
    approved = (
        Claim.objects.filter(state=ClaimState.APPROVED, dispute_count=0, pending_amount__isnull=True)
        .order_by("pk")
        .first()
    )
    if approved is None or not waiting:
        stdout.write("  finance: skipped (no approved and accepted demo claims)")
        return
    workflow.accept(claim=approved, by=_merchant_user(approved), message="Accepted, thank you.")

    paid = st.create_batch(by=finance, note=PAID_NOTE)
    st.add_claims(batch=paid, by=finance, claim_ids=[approved.pk], message="Demo payment run")
    st.lock(batch=paid, by=finance, message="Checked against the ledger.")
    csv = exports.csv_bytes(exports.batch_rows(paid))
    st.mark_exported(batch=paid, by=finance, sha256=exports.sha256(csv))
    result = st.import_payments(
        batch=paid, by=finance, data=_payment_file(paid), filename=f"{paid.reference}-result.csv"
    )
    if not result.ok:
        raise RuntimeError(f"demo payment import failed: {[str(e) for e in result.errors]}")

    open_batch = st.create_batch(by=finance, note=OPEN_NOTE)
    st.add_claims(batch=open_batch, by=finance, claim_ids=waiting, message="Next payment run")

    try:
        import weasyprint  # noqa: F401  (needs the system's Pango; fonts: Noto CJK for Chinese text)
    except OSError as exc:
        stdout.write(
            "  finance: no claim statement PDF: WeasyPrint needs Pango (Debian: libpango-1.0-0 "
            f"libpangoft2-1.0-0, fonts-noto-cjk for Chinese), see scripts/system_deps.sh ({exc})"
        )
    else:
        issue_document.apply(
            args=[DocumentKind.CLAIM_STATEMENT], kwargs={"claim_id": approved.pk, "user_id": finance.pk}, throw=True
        )
    statements = IssuedDocument.objects.filter(kind=DocumentKind.CLAIM_STATEMENT).count()
    stdout.write(
        f"  finance: batch {paid.reference} paid ({result.paid} claim), batch {open_batch.reference} open "
        f"({len(waiting)} claim), {statements} claim statement PDF"
    )
