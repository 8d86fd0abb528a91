"""Page answers shared by the server-rendered apps."""

from django.shortcuts import render


def bad_request(request, form):
    """A 400 page naming what was wrong with the request's filters or fields."""
    errors = [
        (form.fields[name].label or name if name in form.fields else "", msgs) for name, msgs in form.errors.items()
    ]
    return render(request, "400.html", {"errors": errors}, status=400)
