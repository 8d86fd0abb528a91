"""Errors of the workflow services; views and the API map them to 403 / 409 / 400."""


class WorkflowError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message, code=None):
        super().__init__(message)
        self.message = str(message)
        if code:
            self.code = code


class NotPermitted(WorkflowError):
    """Wrong role, wrong owner, or a staff member acting on their own merchant's claim."""

    status = 403
    code = "not_permitted"


class StateConflict(WorkflowError):
    """The claim's state does not allow the action (or another user changed it first)."""

    status = 409
    code = "state_conflict"


class InvalidInput(WorkflowError):
    """Outside the filing window, a missing reason, an amount out of range, a bad file..."""

    status = 400
    code = "invalid"
