"""Names of downloaded files made of what people typed: a window's number, an uploaded file's name."""
import re

# A line break would end the Content-Disposition header (the response would fail with a 500); no
# file name needs any control character.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def plain(text, fallback):
    """`text` without control characters, or `fallback` if nothing is left. Chinese stays: Flask's
    send_file writes it as RFC 5987 filename*=UTF-8''…, beside an ASCII filename for old browsers."""
    return CONTROL.sub("", text or "").strip() or fallback
