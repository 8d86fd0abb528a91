"""What the portal and console views share: the scoped claim lookup, running an action, evidence and
notifications. Each side keeps its own decorator (merchant or staff) and URL names."""

from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext

from claims import notify, selectors
from claims.models import Claim, ClaimDocument


def claim_or_404(request, pk):
    """The claim with what its page shows, if the user may see it (another merchant's claim: 404)."""
    try:
        return selectors.claim_detail(user=request.user, pk=pk)
    except Claim.DoesNotExist:
        raise Http404 from None


def form_errors(form) -> str:
    return "; ".join(
        f"{form.fields[f].label}{gettext(':')} {' '.join(e)}" if f in form.fields else " ".join(e)
        for f, e in form.errors.items()
    )


def document_response(doc):
    response = FileResponse(
        doc.file.open("rb"), content_type=doc.content_type, as_attachment=True, filename=doc.original_name
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def download_document(request, pk, doc_pk):
    claim = claim_or_404(request, pk)
    return document_response(get_object_or_404(ClaimDocument, pk=doc_pk, claim=claim))


def notifications_page(request, url_name, claim_url):
    """The user's notifications (POST marks them all as read)."""
    if request.method == "POST":
        notify.mark_read(request.user)
        return redirect(url_name)
    page = Paginator(selectors.notifications_for(user=request.user), 30).get_page(request.GET.get("page"))
    open_url = claim_url.split(":")[0] + ":notification"
    return render(request, "claims/notifications.html", {"page": page, "claim_url": claim_url, "open_url": open_url})


def open_notification(request, pk, claim_url):
    """Follow a notification to its claim, marking it read: opening it is reading it."""
    from claims.models import ClaimNotification

    notification = get_object_or_404(ClaimNotification, pk=pk, recipient=request.user)
    notify.mark_read(request.user, ids=[notification.pk])
    return redirect(claim_url, pk=notification.claim_id)
