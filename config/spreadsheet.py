"""What every CSV or XLSX we write does to a cell of text, so that opening it in a spreadsheet runs nothing.

OWASP's list: a cell starting with one of FORMULA_STARTS is a formula (or becomes one once the tab or carriage
return is eaten as a separator) to Excel, LibreOffice and Google Sheets. Callers' names, message bodies, tags
and plan names all reach our exports, and all of them are typed by someone we do not trust."""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """The text with a leading apostrophe when a spreadsheet would run it: shown as written, never run."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value
