"""Claim pages: the staff console (``console``) and the merchant portal (``portal``)."""
