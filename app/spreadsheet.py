"""One rule for every cell we export to CSV or Excel: text never starts a formula."""

# OWASP "CSV injection": a spreadsheet reads a cell starting with one of these as a formula
# (tab and carriage return can hide one after a separator).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """Text starting like a formula gets a leading ', so Excel and WPS show it as typed.

    Only text is touched: a number (a negative count included), a date or None comes back as it was.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + str(value)  # str(): a Markup value would escape the quote to &#39;
    return value
