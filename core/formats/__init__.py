"""The project's number and date formats per language (``FORMAT_MODULE_PATH``).

One date format per language on every page: English "30 Nov 2026 14:05", Chinese
"2026年11月30日 14:05". Amounts are grouped by threes with "," in both languages (as on the
PDFs); the grouping applies only where ``{{ value|money }}`` asks for it. What is not set here
(input formats) falls back to Django's own locale formats.
"""
