"""The user types services and selectors accept.

``Actor`` is the person a write is recorded against (a signed-in ``User``); ``AnyUser`` is whoever
made a request, possibly anonymous, which reads scope by (an anonymous user sees nothing).
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User

Actor = User
AnyUser = User | AbstractBaseUser | AnonymousUser

__all__ = ["Actor", "AnyUser"]
