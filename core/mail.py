"""E-mail with a subject that reads right in every mail reader.

Django sets a non-ASCII subject as one pre-encoded string; when it is longer than the first line
the e-mail package folds it as ``Subject: \\n =?utf-8?b?…?=``, which readers unfold with a leading
space (" Claim #19 submitted by …"). Setting it as a ``Header`` that knows its name folds it after
the first encoded word instead.
"""

import email.message
from collections.abc import Iterable
from email.header import Header

from django.core.mail import EmailMessage, get_connection


class FoldedSubjectEmail(EmailMessage):
    def message(self, *args, **kwargs):
        msg = super().message(*args, **kwargs)
        if not self.subject.isascii():
            del msg["Subject"]
            # Past SafeMIMEText's own __setitem__, which would turn the Header back into a string.
            email.message.Message.__setitem__(msg, "Subject", Header(self.subject, "utf-8", header_name="Subject"))
        return msg


def send_mass_mail(datatuple: Iterable[tuple[str, str, str, list[str]]], fail_silently: bool = False) -> int:
    """``django.core.mail.send_mass_mail`` with ``FoldedSubjectEmail``: one connection for all the messages."""
    connection = get_connection(fail_silently=fail_silently)
    messages = [
        FoldedSubjectEmail(subject, body, sender, recipients, connection=connection)
        for subject, body, sender, recipients in datatuple
    ]
    return connection.send_messages(messages) or 0
