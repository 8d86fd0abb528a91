"""Text cells of CSV files that a spreadsheet program opens."""

# A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """Prefix a formula-looking text with an apostrophe so that it is shown, never evaluated.

    Merchant names, payment references and bank failure reasons come from outside; the
    payment import (``unneutralise``) strips the apostrophe again, so an exported file
    filled in and sent back reads the original values.
    """
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def unneutralise(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_PREFIXES) else text
