"""Every change to a claim goes through here.

Each action runs in one ``transaction.atomic()``: lock the claim row (``select_for_update``),
check role and ownership, check the state (``StateConflict`` -> HTTP 409), run the
django-fsm transition (django-fsm-log writes its StateLog then), save (optimistic locking
by ``ConcurrentTransitionMixin`` as a second guard), append a ``ClaimEvent`` and notify the
other side (notification rows now, email on commit).
"""

import signal
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, can_proceed

from accounts import roles
from accounts.types import Actor
from claims.models import (
    APPROVE_REASONS,
    DECISION_REASONS_BY_ACTION,
    DISPUTE_REASONS,
    INFO_REQUEST_REASONS,
    Claim,
    ClaimDocument,
    ClaimEvent,
    ClaimNotification,
    ClaimOrigin,
    ClaimState,
    ReasonCode,
    action_label,
)
from core.errors import InvalidInput, NotPermitted, StateConflict
from core.money import parse_amount
from incidents.models import Incident, IncidentState
from merchants.models import Merchant

from . import config, evidence, notify, permissions

SYSTEM = "system"

# --- Filing window -------------------------------------------------------------------------


def filing_deadline(*, incident: Incident) -> datetime | None:
    """The last moment a claim may be filed for ``incident`` (None while it is still open)."""
    if incident.resolved_at is None:
        return None
    return incident.resolved_at + config.days("FILING_WINDOW_DAYS")


def check_filing_window(*, incident: Incident, now: datetime | None = None) -> None:
    now = now or timezone.now()
    if incident.state == IncidentState.VOIDED:
        raise InvalidInput(_("This incident was voided: no claim can be filed."), code="incident_voided")
    deadline = filing_deadline(incident=incident)
    if deadline is not None and now > deadline:
        raise InvalidInput(
            _("The filing window closed on %(date)s.") % {"date": timezone.localtime(deadline).strftime("%Y-%m-%d")},
            code="outside_window",
        )


# --- The generic step ----------------------------------------------------------------------


def _reason(value, allowed, required=True):
    if not value:
        if required:
            raise InvalidInput(_("Choose a reason."), code="reason_required", field="reason")
        return ""
    if value not in {str(r) for r in allowed}:
        if value in ReasonCode.values:
            # A real reason of another step (a rejection's reason on a partial approval).
            raise InvalidInput(
                _("This reason does not apply to this step; choose one from its list."),
                code="bad_reason",
                field="reason",
            )
        raise InvalidInput(_("Unknown reason code."), code="bad_reason", field="reason")
    return value


def _message(value, required=True):
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(_("Write a message."), code="message_required")
    return value


def _event(
    claim,
    *,
    kind,
    actor,
    role,
    action="",
    from_state="",
    to_state="",
    reason="",
    message="",
    amount=None,
    text_code="",
    text_params=None,
):
    return ClaimEvent.objects.create(
        text_code=text_code,
        text_params=text_params or {},
        claim=claim,
        kind=kind,
        action=action,
        actor=actor,
        actor_role=role,
        from_state=from_state,
        to_state=to_state,
        reason_code=reason,
        note=message,
        amount=amount,
        computed_amount=claim.computed_amount,
        currency=claim.currency,
    )


def _load(pk, *, lock: bool) -> Claim:
    """The claim with its merchant and incident; ``lock`` takes the claim's row lock only.

    Lock order (the one global order, see the README "Locking"): incident row, merchant rows
    (sorted by id), settlement batch, claim rows (ascending id). An action holds one claim row
    and never waits for an incident or merchant row, so it cannot deadlock with a recompute,
    which holds the incident (and the merchants) before it locks the incident's claims.
    """
    qs = Claim.objects.select_related("merchant", "incident")
    if lock:
        qs = qs.select_for_update(of=("self",))
    try:
        return qs.get(pk=pk)
    except Claim.DoesNotExist:
        raise StateConflict(_("This claim no longer exists.")) from None


def _check_step(claim, by, action) -> str:
    """Role, ownership and state checks of an action; returns the actor's role."""
    role = SYSTEM if by is None else permissions.check(by, action, claim.merchant_id)
    if not can_proceed(getattr(claim, action)):
        raise StateConflict(
            _("A claim in state “%(state)s” cannot be %(action)s.")
            % {"state": claim.get_state_display(), "action": action_label(action)},
            code="state_conflict",
            extra={"state": claim.state},
        )
    return role


def _step(
    claim,
    by,
    action,
    *,
    apply=None,
    before=None,
    reason="",
    message="",
    amount=None,
    notify_side=None,
    text_code="",
    text_params=None,
):
    """Lock, check, transition, save, audit, notify. Returns the fresh claim."""
    pk = claim.pk if isinstance(claim, Claim) else claim
    # Refuse without a lock what the committed state already refuses: a 409 never waits behind
    # a recompute holding the claim (the check is repeated under the lock below).
    _check_step(_load(pk, lock=False), by, action)
    with transaction.atomic():
        locked = _load(pk, lock=True)
        role = _check_step(locked, by, action)
        method = getattr(locked, action)
        if before is not None:
            before(locked)
        from_state = locked.state
        now = timezone.now()
        method(by=by, description=f"{reason} {message}".strip()[:500] or None)
        if apply is not None:
            apply(locked, now)
        try:
            locked.save()
        except ConcurrentTransition:
            raise StateConflict(_("Someone else changed this claim first; reload it.")) from None
        event = _event(
            locked,
            kind=ClaimEvent.Kind.TRANSITION,
            actor=by,
            role=role,
            action=action,
            from_state=from_state,
            to_state=locked.state,
            reason=reason,
            message="" if text_code else message,
            amount=amount(locked) if callable(amount) else amount,
            text_code=text_code,
            text_params=text_params,
        )
        if text_code:
            message = ""  # the notification shows the event's sentence in its reader's language
        side = notify_side or ("staff" if role == roles.MERCHANT else "merchant")
        if side == "staff":
            notify.notify_staff(locked, action, event, body=message, exclude=by)
        elif side == "merchant":
            notify.notify_merchant(locked, action, event, body=message)
    return locked


# --- Creating claims -----------------------------------------------------------------------


def _store_documents(claim, by, uploads, role):
    for upload in uploads or ():
        add_evidence(claim=claim, by=by, upload=upload, _role=role)


def file_claim(
    *,
    merchant: Merchant,
    incident: Incident,
    by: Actor,
    claimed_amount: Decimal | str,
    statement: str,
    session_reference: str = "",
    documents: Iterable[UploadedFile] = (),
) -> Claim:
    """A merchant files a claim (state ``draft``) for a session the system did not detect."""
    role = permissions.check(by, "file", merchant.pk)
    check_filing_window(incident=incident)
    statement = _message(statement)
    amount = parse_amount(claimed_amount)
    if amount <= 0:
        raise InvalidInput(_("Enter the amount you claim."), field="claimed_amount", code="bad_amount")
    _check_claim_cap(amount, merchant.currency)
    if not documents:
        raise InvalidInput(_("Attach at least one document as evidence."), code="evidence_required")
    for upload in documents:
        _inspect(upload)
    try:
        with transaction.atomic():
            claim = Claim(
                incident=incident,
                merchant=merchant,
                origin=ClaimOrigin.MERCHANT,
                currency=merchant.currency,
                computed_amount=Decimal("0.00"),
                claimed_amount=amount,
                session_reference=session_reference.strip()[:200],
                statement=statement,
                state=ClaimState.DRAFT,  # a filed claim starts as a draft (protected field: set at creation)
            )
            claim.save()
            _event(
                claim,
                kind=ClaimEvent.Kind.CREATED,
                actor=by,
                role=role,
                action="file",
                to_state=claim.state,
                message=statement,
                amount=amount,
            )
            _store_documents(claim, by, documents, role)
    except IntegrityError:
        raise StateConflict(
            _("There is already a claim of this merchant for this incident."), code="duplicate_claim"
        ) from None
    return claim


def _check_claim_cap(amount: Decimal, currency: str) -> None:
    """A filed amount above the active loss policy's cap per claim could never be paid in full."""
    from core.templatetags.money import format_money
    from losses.policy import active_policy

    cap = active_policy().claim_cap
    if amount > cap:
        raise InvalidInput(
            _("A claim can be at most %(cap)s %(currency)s (the cap per claim); enter at most that amount.")
            % {"cap": format_money(cap), "currency": currency},
            field="claimed_amount",
            code="over_cap",
        )


def propose(*, incident: Incident, merchant: Merchant, amount: Decimal, currency: str) -> Claim:
    """The system proposes a claim for a hit merchant (state ``proposed``)."""
    now = timezone.now()
    expires = _proposal_expiry(incident, now)
    claim = Claim.objects.create(
        incident=incident,
        merchant=merchant,
        origin=ClaimOrigin.SYSTEM,
        currency=currency,
        computed_amount=parse_amount(amount),
        expires_at=expires,
    )
    event = _event(claim, kind=ClaimEvent.Kind.CREATED, actor=None, role=SYSTEM, action="propose", to_state=claim.state)
    notify.notify_merchant(claim, "propose", event)
    return claim


def _proposal_expiry(incident, now):
    expires = now + config.days("PROPOSAL_EXPIRY_DAYS")
    deadline = filing_deadline(incident=incident)
    if deadline is not None:
        expires = min(expires, max(deadline, now))
    return expires


def may_propose(*, incident: Incident, now: datetime) -> bool:
    """Proposals are made for a resolved incident inside its filing window."""
    deadline = filing_deadline(incident=incident)
    return incident.state == IncidentState.RESOLVED and (deadline is None or now <= deadline)


def _constant_columns(model, instance, per_row: dict[str, tuple[str, list]]) -> tuple[list[str], list[str], list]:
    """Columns, SQL expressions and parameters for an ``INSERT … SELECT`` of ``model`` rows that
    share every value of ``instance`` except the columns in ``per_row`` (column -> SQL expression
    and its parameters)."""
    from django.db import connection

    columns: list[str] = []
    expressions: list[str] = []
    params: list = []
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        columns.append(connection.ops.quote_name(f.column))
        if f.column in per_row:
            expression, expression_params = per_row[f.column]
            expressions.append(expression)
            params.extend(expression_params)
        else:
            expressions.append("%s")
            params.append(f.get_db_prep_save(f.pre_save(instance, add=True), connection))
    return columns, expressions, params


SUBJECT_ID, SUBJECT_MERCHANT = "\x01id\x01", "\x01merchant\x01"  # placeholders the statement fills in


def _insert_proposals(*, incident, merchant_ids: list[int], expires, subject: str) -> list[tuple[int, int, int | None]]:
    """One statement for a whole batch: a claim for each of ``merchant_ids`` with a current
    assessment with compensation and no claim yet (``ON CONFLICT … DO NOTHING``: a retried batch
    never proposes twice), its ``created`` event and a notification to each active member.
    Returns ``(claim id, merchant id, notification id)`` rows (notification id None: no member)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return _insert_proposals_one_by_one(
            incident=incident, merchant_ids=merchant_ids, expires=expires, subject=subject
        )
    template = Claim(incident=incident, origin=ClaimOrigin.SYSTEM, currency="", expires_at=expires)
    claim_cols, claim_exprs, claim_params = _constant_columns(
        Claim,
        template,
        {
            "merchant_id": ("a.merchant_id", []),
            "currency": ("a.currency", []),
            "computed_amount": ("round(a.compensation, 2)", []),  # half-up for positive amounts
        },
    )
    event = ClaimEvent(kind=ClaimEvent.Kind.CREATED, action="propose", actor_role=SYSTEM, to_state=template.state)
    event_cols, event_exprs, event_params = _constant_columns(
        ClaimEvent,
        event,
        {"claim_id": ("c.id", []), "computed_amount": ("c.computed_amount", []), "currency": ("c.currency", [])},
    )
    note_cols, note_exprs, note_params = _constant_columns(
        ClaimNotification,
        ClaimNotification(body=""),
        {
            "recipient_id": ("mb.user_id", []),
            "claim_id": ("e.claim_id", []),
            "event_id": ("e.id", []),
            "subject": (
                "replace(replace(%s, %s, e.claim_id::text), %s, m.name)",
                [subject % {"id": SUBJECT_ID, "merchant": SUBJECT_MERCHANT}, SUBJECT_ID, SUBJECT_MERCHANT],
            ),
        },
    )
    q = connection.ops.quote_name
    claims, events, notes = (q(m._meta.db_table) for m in (Claim, ClaimEvent, ClaimNotification))
    # Table and column names come from the models; every value is a parameter.
    sql = f"""
        WITH src AS (
            SELECT a.merchant_id, m.currency, a.compensation
            FROM losses_lossassessment a JOIN merchants_merchant m ON m.id = a.merchant_id
            WHERE a.incident_id = %s AND a.is_current AND a.compensation > 0 AND a.merchant_id = ANY(%s)
            ORDER BY a.merchant_id
        ), c AS (
            INSERT INTO {claims} ({", ".join(claim_cols)})
            SELECT {", ".join(claim_exprs)} FROM src a
            ON CONFLICT (incident_id, merchant_id) DO NOTHING
            RETURNING id, merchant_id, computed_amount, currency
        ), e AS (
            INSERT INTO {events} ({", ".join(event_cols)})
            SELECT {", ".join(event_exprs)} FROM c
            RETURNING id, claim_id
        ), n AS (
            INSERT INTO {notes} ({", ".join(note_cols)})
            SELECT {", ".join(note_exprs)}
            FROM e JOIN c ON c.id = e.claim_id
            JOIN merchants_merchant m ON m.id = c.merchant_id
            JOIN merchants_membership mb ON mb.merchant_id = c.merchant_id
            JOIN auth_user u ON u.id = mb.user_id AND u.is_active
            RETURNING id, claim_id
        )
        SELECT c.id, c.merchant_id, n.id FROM c LEFT JOIN n ON n.claim_id = c.id ORDER BY c.id, n.id
    """  # noqa: S608
    params = [incident.pk, list(merchant_ids), *claim_params, *event_params, *note_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _insert_proposals_one_by_one(*, incident, merchant_ids, expires, subject) -> list[tuple[int, int, int | None]]:
    """``_insert_proposals`` for the SQLite demo (no data-modifying ``WITH``): the same rows, by the ORM."""
    from losses.models import LossAssessment
    from merchants.models import Membership

    current = LossAssessment.objects.filter(
        incident_id=incident.pk, is_current=True, merchant_id__in=merchant_ids, compensation__gt=0
    ).select_related("merchant")
    have = set(
        Claim.objects.filter(incident=incident, merchant_id__in=merchant_ids).values_list("merchant_id", flat=True)
    )
    members: dict[int, list[int]] = {}
    for merchant_id, user_id in (
        Membership.objects.filter(merchant_id__in=merchant_ids, user__is_active=True)
        .order_by("merchant_id", "user_id")
        .values_list("merchant_id", "user_id")
    ):
        members.setdefault(merchant_id, []).append(user_id)
    rows: list[tuple[int, int, int | None]] = []
    for assessment in sorted(current, key=lambda a: a.merchant_id):
        if assessment.merchant_id in have:
            continue
        merchant = assessment.merchant
        claim = Claim.objects.create(
            incident=incident,
            merchant=merchant,
            origin=ClaimOrigin.SYSTEM,
            currency=merchant.currency,
            computed_amount=parse_amount(assessment.compensation),
            expires_at=expires,
        )
        event = ClaimEvent.objects.create(
            claim=claim,
            kind=ClaimEvent.Kind.CREATED,
            action="propose",
            actor_role=SYSTEM,
            to_state=claim.state,
            computed_amount=claim.computed_amount,
            currency=claim.currency,
        )
        notes = [
            ClaimNotification.objects.create(
                recipient_id=user_id,
                claim=claim,
                event=event,
                subject=subject % {"id": claim.pk, "merchant": merchant.name},
            )
            for user_id in members.get(merchant.pk, [])
        ]
        rows += [(claim.pk, merchant.pk, n.pk) for n in notes] or [(claim.pk, merchant.pk, None)]
    return rows


def _defer_soft_limit() -> bool:
    """Hold back the worker's soft time limit (SIGUSR1, raised in the main thread) from here to
    ``_resume_soft_limit``: raised during a COMMIT it would leave the outcome unknown (PostgreSQL
    may still commit the batch) and skip the batch's e-mails; raised after it, the task simply
    retries with the merchants still without a claim."""
    if threading.current_thread() is not threading.main_thread():
        return False
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    return True


def _resume_soft_limit(deferred: bool) -> None:
    if deferred:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR1})  # a pending limit is raised here


def propose_batch(*, incident: Incident, merchant_ids: list[int], now: datetime | None = None) -> list[int]:
    """Propose, in one transaction and one statement, a claim to each of ``merchant_ids`` that
    has a current assessment with compensation and no claim yet for ``incident``, with its
    ``created`` event and a notification to each active member; their e-mails are queued as one
    task once the batch commits.

    Amounts are read from the current assessments under the incident's row lock, so a batch
    never writes an amount an assessment committed meanwhile has replaced (that assessment's
    recompute then finds the claim and updates it). Merchants that already have a claim are
    skipped, which makes a batch safe to run again after a crash. Returns the merchant ids
    proposed to.
    """
    from django.conf import settings
    from django.utils import translation

    from claims.models import NOTIFICATION_SUBJECTS
    from incidents.models import Incident

    now = now or timezone.now()
    deferred = False
    try:
        with transaction.atomic():
            locked = Incident.objects.select_for_update(no_key=True).filter(pk=incident.pk).first()
            if locked is None or not may_propose(incident=locked, now=now):
                return []
            with translation.override(settings.LANGUAGE_CODE):  # the record; pages translate again
                subject = str(NOTIFICATION_SUBJECTS["propose"])
            rows = _insert_proposals(
                incident=locked, merchant_ids=merchant_ids, expires=_proposal_expiry(locked, now), subject=subject
            )
            notifications = [n for _, _, n in rows if n is not None]
            if notifications:
                notify.email_later(notifications, "propose")
            deferred = _defer_soft_limit()  # last: the commit and its e-mails are never cut apart
    finally:
        _resume_soft_limit(deferred)
    return sorted({merchant_id for _, merchant_id, _ in rows})


# --- Merchant actions ----------------------------------------------------------------------


def submit(*, claim: Claim, by: Actor, message: str = "") -> Claim:
    def before(c):
        check_filing_window(incident=c.incident)
        if c.state == ClaimState.DRAFT and not c.documents.exists():
            raise InvalidInput(_("Attach at least one document as evidence."), code="evidence_required")

    def apply(c, now):
        c.submitted_at = now
        c.first_response_due_at = now + config.hours("FIRST_RESPONSE_HOURS")
        c.decision_due_at = now + config.hours("DECISION_HOURS")
        c.due_at = c.first_response_due_at
        c.expires_at = None
        c.reminder_sent_at = None
        if c.claimed_amount is None:
            c.claimed_amount = c.computed_amount

    return _step(claim, by, "submit", before=before, apply=apply, message=_message(message, required=False))


def answer(*, claim: Claim, by: Actor, message: str, documents: Iterable[UploadedFile] = ()) -> Claim:
    message = _message(message)
    for upload in documents or ():
        _inspect(upload)

    def apply(c, now):
        waited = now - (c.info_requested_at or now)
        if c.decision_due_at:
            c.decision_due_at += waited  # the clock stops while the merchant is asked
        if c.first_decided_at is None:
            c.merchant_wait += waited  # left out of the time to (first) decision as well
        c.due_at = c.decision_due_at
        c.expires_at = None
        c.reminder_sent_at = None

    claim = _step(claim, by, "answer", apply=apply, message=message)
    _store_documents(claim, by, documents, roles.MERCHANT)
    return claim


def accept(*, claim: Claim, by: Actor, message: str = "") -> Claim:
    def apply(c, now):
        c.accepted_at = now

    return _step(claim, by, "accept", apply=apply, message=_message(message, required=False), amount=_approved)


def _approved(c):
    return c.approved_amount


def dispute(*, claim: Claim, by: Actor, reason: str, statement: str, documents: Iterable[UploadedFile] = ()) -> Claim:
    reason = _reason(reason, DISPUTE_REASONS)
    statement = _message(statement)
    for upload in documents or ():
        _inspect(upload)

    def before(c):
        if c.dispute_count:
            raise StateConflict(_("A decision can be disputed only once; this one is final."), code="final")

    def apply(c, now):
        c.dispute_count += 1
        c.dispute_reason = reason
        c.dispute_statement = statement
        c.disputed_at = now
        c.assignee = None  # goes to a different staff member
        c.first_responded_at = None
        c.first_response_due_at = now + config.hours("FIRST_RESPONSE_HOURS")
        c.decision_due_at = now + config.hours("DECISION_HOURS")
        c.due_at = c.first_response_due_at

    claim = _step(claim, by, "dispute", before=before, apply=apply, reason=reason, message=statement)
    _store_documents(claim, by, documents, roles.MERCHANT)
    return claim


def withdraw(*, claim: Claim, by: Actor, message: str = "") -> Claim:
    def apply(c, now):
        c.due_at = None
        c.expires_at = None

    return _step(
        claim, by, "withdraw", apply=apply, reason=ReasonCode.MERCHANT_REQUEST, message=_message(message, False)
    )


# --- Staff actions -------------------------------------------------------------------------


def _not_first_decider(c, by):
    if c.is_final_round and c.first_decided_by_id == by.pk:
        raise NotPermitted(_("A disputed claim must be reviewed by someone other than the first decider."))


def start_review(*, claim: Claim, by: Actor) -> Claim:
    def before(c):
        _not_first_decider(c, by)

    def apply(c, now):
        c.assignee = by
        if c.first_responded_at is None:
            c.first_responded_at = now
        c.due_at = c.decision_due_at

    return _step(claim, by, "start_review", before=before, apply=apply)


def request_info(*, claim: Claim, by: Actor, reason: str, message: str) -> Claim:
    reason = _reason(reason, INFO_REQUEST_REASONS)
    message = _message(message)

    def before(c):
        _not_first_decider(c, by)

    def apply(c, now):
        c.info_requested_at = now
        c.expires_at = now + config.days("INFO_REQUEST_EXPIRY_DAYS")
        c.reminder_sent_at = None
        c.due_at = None
        if c.assignee_id is None:
            c.assignee = by

    return _step(claim, by, "request_info", before=before, apply=apply, reason=reason, message=message)


def _record_decision(c, now, *, amount, reason, message, decider):
    """Write a decision on the locked claim: amount, reason, who and when (the first decision
    is kept for the dispute rules); the review deadline and any pending approval are cleared."""
    c.approved_amount = amount
    c.decision_reason = reason
    c.decision_message = message
    c.decided_by = decider
    c.decided_at = now
    if c.first_decided_at is None:
        c.first_decided_at = now
        c.first_decided_by = decider
    c.due_at = None
    c.pending_amount = None
    c.pending_by = None
    c.pending_reason = ""
    c.pending_message = ""


def _decide(claim, by, action, reason, message, amount_for, reasons_of=None):
    # A partial approval that turns out to give all that was asked is recorded as an approval,
    # with the reason chosen from the partial approval's list (``reasons_of``).
    reason = _reason(reason, DECISION_REASONS_BY_ACTION[reasons_of or action])
    message = _message(message)

    def before(c):
        _not_first_decider(c, by)

    def apply(c, now):
        _record_decision(c, now, amount=amount_for(c), reason=reason, message=message, decider=by)

    return _step(claim, by, action, before=before, apply=apply, reason=reason, message=message, amount=_approved)


def approve(*, claim: Claim, by: Actor, reason: str, message: str) -> Claim:
    """Approve the computed amount (or, for a claim the system did not compute, nothing above it)."""
    return _decide(claim, by, "approve", reason, message, lambda c: c.computed_amount)


def reject(*, claim: Claim, by: Actor, reason: str, message: str) -> Claim:
    return _decide(claim, by, "reject", reason, message, lambda c: Decimal("0.00"))


def partially_approve(*, claim: Claim, by: Actor, amount: Decimal | str, reason: str, message: str) -> Claim:
    """Approve an adjusted amount. Above the computed maximum it waits for a second staff member."""
    amount = parse_amount(amount)
    reason = _reason(reason, DECISION_REASONS_BY_ACTION["partially_approve"])
    message = _message(message)
    current = _load(claim.pk, lock=False)
    permissions.check(by, "partially_approve", current.merchant_id)
    if current.state != ClaimState.UNDER_REVIEW:
        return _decide(current, by, "partially_approve", reason, message, lambda c: amount)  # 409 without a lock
    with transaction.atomic():
        locked = Claim.objects.select_for_update().get(pk=claim.pk)
        role = permissions.check(by, "partially_approve", locked.merchant_id)
        if locked.state != ClaimState.UNDER_REVIEW:
            return _decide(locked, by, "partially_approve", reason, message, lambda c: amount)  # raises 409
        _not_first_decider(locked, by)
        if amount > locked.computed_amount:
            locked.pending_amount = amount
            locked.pending_reason = reason
            locked.pending_message = message
            locked.pending_by = by
            locked.save()
            event = _event(
                locked,
                kind=ClaimEvent.Kind.APPROVAL_REQUESTED,
                actor=by,
                role=role,
                action="partially_approve",
                from_state=locked.state,
                to_state=locked.state,
                reason=reason,
                message=message,
                amount=amount,
            )
            notify.notify_staff(locked, "approval_requested", event, body=message, exclude=by)
            return locked
        action = _decision_action(locked, amount)
        return _decide(locked, by, action, reason, message, lambda c: amount, reasons_of="partially_approve")


def _decision_action(claim, amount) -> str:
    """``approve`` when the amount gives the merchant all that was asked (the claimed amount, or
    the computed one for a proposal), else ``partially_approve``: an approval above the computed
    amount is not "partial"."""
    asked = claim.claimed_amount if claim.claimed_amount is not None else claim.computed_amount
    return "approve" if amount >= asked else "partially_approve"


def confirm_approval(*, claim: Claim, by: Actor) -> Claim:
    """A second staff member confirms a pending partial approval above the computed maximum."""

    def check(c):
        permissions.check(by, "confirm_approval", c.merchant_id)
        if c.pending_amount is None or c.state != ClaimState.UNDER_REVIEW:
            raise StateConflict(_("There is no approval waiting for confirmation."), code="nothing_pending")

    check(_load(claim.pk, lock=False))  # a refusal takes no lock
    with transaction.atomic():
        locked = Claim.objects.select_for_update().get(pk=claim.pk)
        check(locked)
        if locked.pending_by_id == by.pk:
            raise NotPermitted(_("The second approval must come from another staff member."))
        amount, reason, message = locked.pending_amount, locked.pending_reason, locked.pending_message
        first = locked.pending_by

        def before(c):
            _not_first_decider(c, by)

        def apply(c, now):
            _record_decision(c, now, amount=amount, reason=reason, message=message, decider=first)
            c.second_approver = by

        return _step(
            locked,
            by,
            _decision_action(locked, amount),
            before=before,
            apply=apply,
            reason=reason,
            message=message,
            text_code="second_approval",
            text_params={"message": message, "amount": str(amount), "currency": locked.currency},
            amount=amount,
        )


def settle(*, claim: Claim | int, by: Actor, payment_reference: str) -> Claim:
    """Record the payment of an accepted claim.

    A claim waiting in a settlement batch is paid by that batch's payment file (which marks
    its item paid before settling); settling it directly as well would pay it twice.
    """
    reference = _message(payment_reference)

    def before(c):
        # Reverse relation of settlements.SettlementItem (claims does not import settlements).
        pending = c.settlement_items.filter(is_active=True, status="pending").select_related("batch").first()
        if pending is not None:
            raise StateConflict(
                _("Claim #%(id)s waits in settlement batch %(batch)s; it is paid through that batch.")
                % {"id": c.pk, "batch": pending.batch.reference},
                code="in_batch",
            )

    def apply(c, now):
        c.payment_reference = reference[:120]
        c.settled_at = now

    # The reference is labelled in the reader's language ("Payment reference: …"); the note keeps it bare.
    return _step(
        claim,
        by,
        "settle",
        before=before,
        apply=apply,
        reason=ReasonCode.PAYMENT,
        message=reference,
        amount=_approved,
        text_code="paid" if reference else "",
        text_params={"reference": reference} if reference else {},
    )


def bulk_approve(
    *,
    incident: Incident,
    by: Actor,
    threshold: Decimal | str,
    reason: str = ReasonCode.LOSS_CONFIRMED,
    message: str = "",
) -> list[Claim]:
    """Approve, in one action, every proposed claim of ``incident`` whose computed amount is below ``threshold``.

    Each claim goes ``proposed -> approved`` (transition ``approve_proposal``) at its computed
    amount, with one audit record per claim; the merchant then accepts or disputes as usual.
    Returns the approved claims.
    """
    threshold = parse_amount(threshold)
    reason = _reason(reason, APPROVE_REASONS)
    message = _message(message, required=False)
    # Without a typed message the timeline says why in its reader's language.
    text = {} if message else {"text_code": "bulk_approval", "text_params": {"threshold_amount": str(threshold)}}
    permissions.check(by, "bulk_approve", None)
    approved = []
    with transaction.atomic():
        candidates = list(
            Claim.objects.select_for_update()
            .filter(incident=incident, state=ClaimState.PROPOSED, computed_amount__lt=threshold, computed_amount__gt=0)
            .order_by("pk")
        )
        for c in candidates:
            if permissions.is_member(by, c.merchant_id):
                continue  # never on a claim of the staff member's own merchant

            def apply(c, now):
                c.approved_amount = c.computed_amount
                c.claimed_amount = c.claimed_amount or c.computed_amount
                c.first_responded_at = now
                c.assignee = by
                c.decision_reason = reason
                c.decision_message = message
                c.decided_by = c.first_decided_by = by
                c.decided_at = c.first_decided_at = now
                c.due_at = None
                c.expires_at = None

            approved.append(
                _step(c, by, "approve_proposal", apply=apply, reason=reason, message=message, amount=_approved, **text)
            )
    return approved


# --- System actions ------------------------------------------------------------------------


EXPIRING_STATES = (ClaimState.PROPOSED, ClaimState.INFO_REQUESTED)


def is_due_to_expire(*, claim: Claim, now: datetime) -> bool:
    """The merchant side's deadline has passed and the claim still waits on the merchant."""
    return claim.state in EXPIRING_STATES and claim.expires_at is not None and claim.expires_at <= now


def expire(*, claim: Claim | int, force: bool = False) -> Claim:
    """The system expires an unanswered proposal or information request (``claim``: a Claim or its pk).

    The task selects due claims a moment before expiring them, and the merchant may submit
    or answer in between; so the deadline is checked again under the row lock, and a claim
    that is no longer due is returned as it is now (unchanged, no event, no notification).
    ``force=True`` skips that deadline check, for staff tools and the demo data that expire
    a claim on purpose; the state must still be proposed or info_requested (else
    ``StateConflict``).
    """
    return _expire(claim, force=force)[0]


def expire_if_due(*, claim: Claim | int) -> bool:
    """Expire ``claim`` (or pk) if still due under the row lock; False if the merchant acted meanwhile."""
    return _expire(claim, force=False)[1]


def _expire(claim, *, force):
    pk = claim.pk if isinstance(claim, Claim) else claim
    with transaction.atomic():
        try:
            locked = Claim.objects.select_for_update().get(pk=pk)
        except Claim.DoesNotExist:
            raise StateConflict(_("This claim no longer exists.")) from None
        if not force and not is_due_to_expire(claim=locked, now=timezone.now()):
            return locked, False

        def apply(c, now):
            c.expires_at = None
            c.due_at = None

        expired = _step(locked, None, "expire", apply=apply, reason=ReasonCode.NO_RESPONSE, notify_side="merchant")
        return expired, True


def record_reminder(*, claim: Claim) -> bool:
    """Remind the merchant once before the claim expires; False if already reminded or no longer expiring."""
    with transaction.atomic():
        locked = Claim.objects.select_for_update().get(pk=claim.pk)
        # The task selected the claim a moment ago; the merchant may have acted since.
        if locked.reminder_sent_at is not None or locked.expires_at is None or locked.state not in EXPIRING_STATES:
            return False
        locked.reminder_sent_at = timezone.now()
        locked.save(update_fields=["reminder_sent_at", "updated_at"])
        event = _event(
            locked,
            kind=ClaimEvent.Kind.REMINDER,
            actor=None,
            role=SYSTEM,
            text_code="reminder",
            text_params={"id": locked.pk, "expires_at": locked.expires_at.isoformat()},
        )
        notify.notify_merchant(locked, "reminder", event)
    return True


def record_payment_failure(*, claim_id: int, by: Actor, amount: Decimal, reason: str, batch: str) -> ClaimEvent:
    """A failed payment leaves the claim ``accepted`` (it waits for the next batch), so no
    transition would tell the merchant: record it on the timeline and ask them to check
    their payout details, which is what usually failed."""
    with transaction.atomic():
        locked = Claim.objects.select_for_update().select_related("merchant").get(pk=claim_id)
        role = permissions.check(by, "settle", locked.merchant_id)
        event = _event(
            locked,
            kind=ClaimEvent.Kind.PAYMENT_FAILED,
            actor=by,
            role=role,
            action="payment_failed",
            reason=ReasonCode.PAYMENT,
            text_code="payment_failed",
            text_params={
                "amount": str(amount),
                "currency": locked.currency,
                "id": locked.pk,
                "reason": reason,
                "batch": batch,
            },
            amount=amount,
        )
        notify.notify_merchant(locked, "payment_failed", event)
    return event


# --- Evidence ------------------------------------------------------------------------------


def _check_evidence_caps(claim, size: int) -> None:
    stored = ClaimDocument.objects.filter(claim=claim).aggregate(n=Count("id"), total=Sum("size"))
    limit = config.get("MAX_DOCUMENTS_PER_CLAIM")
    if stored["n"] >= limit:
        raise InvalidInput(_("A claim holds at most %(n)s documents.") % {"n": limit}, code="too_many_documents")
    limit_mb = config.get("MAX_EVIDENCE_MB_PER_CLAIM")
    if (stored["total"] or 0) + size > limit_mb * 1024 * 1024:
        raise InvalidInput(
            _("The documents of a claim may be at most %(mb)s MB together.") % {"mb": limit_mb},
            code="too_much_evidence",
        )


def _upload_name(upload) -> str:
    return (getattr(upload, "name", "") or "document").rsplit("/", 1)[-1][:200]


def _inspect(upload) -> dict:
    """``evidence.inspect``, whose error already names the file: with several files chosen,
    "only PDF…" alone does not say which one to replace."""
    return evidence.inspect(upload)


def add_evidence(*, claim: Claim, by: Actor, upload: UploadedFile, _role: str | None = None) -> ClaimDocument:
    role = _role or permissions.check(by, "upload", claim.merchant_id)
    if claim.state in (ClaimState.SETTLED, ClaimState.WITHDRAWN, ClaimState.EXPIRED):
        raise StateConflict(_("No documents can be added to a closed claim."))
    info = _inspect(upload)
    upload.seek(0)
    name = _upload_name(upload)
    with transaction.atomic():
        # The claim row lock makes concurrent uploads count one after the other against the caps.
        Claim.objects.select_for_update().filter(pk=claim.pk).values_list("pk", flat=True).first()
        _check_evidence_caps(claim, info["size"])
        doc = ClaimDocument(
            claim=claim,
            original_name=name,
            kind=info["kind"],
            content_type=info["content_type"],
            size=info["size"],
            sha256=info["sha256"],
            uploaded_by=by,
        )
        doc.file.save(f"evidence{info['extension']}", ContentFile(upload.read()), save=False)
        doc.save()
        _event(
            claim,
            kind=ClaimEvent.Kind.EVIDENCE,
            actor=by,
            role=role,
            action="upload",
            from_state=claim.state,
            to_state=claim.state,
            message=name,
        )
    return doc


def drop_expired_metrics(*, now: datetime | None = None) -> list[str]:
    """Drop the metric day partitions older than ``METRICS_RETENTION_DAYS`` that no open claim
    window may still read (``selectors.earliest_metric_minute_in_use``); returns their names.

    A partition is dropped whole (detach, drop) rather than deleted row by row, so retention
    writes no WAL for the rows and leaves no dead tuples; a day one open claim window still
    needs keeps it and every later day until that window closes.
    """
    from claims.selectors import earliest_metric_minute_in_use
    from merchants.services import drop_metric_partitions

    now = now or timezone.now()
    before = now - timedelta(days=settings.METRICS_RETENTION_DAYS)
    in_use = earliest_metric_minute_in_use(now=now)
    if in_use is not None:
        before = min(before, in_use)
    return drop_metric_partitions(before=before)
