"""QR codes for windows and badges, drawn by segno (no internet, no image service)."""
import io

import segno


def rating_url(base_url, token):
    return f"{base_url.rstrip('/')}/e/{token}"


def track_url(base_url, code):
    """The progress page with the query code filled in: what the citizen takes away on her phone."""
    return f"{base_url.rstrip('/')}/track?code={code}"


def svg(url, scale=4, fluid=False):
    """`fluid`: no width and height but a viewBox, so the page's CSS sizes it (a kiosk draws it large)."""
    out = io.BytesIO()
    # Error correction M survives a scuffed sticker; the quiet zone is kept for cheap phones.
    segno.make(url, error="m").save(out, kind="svg", scale=scale, xmldecl=False, svgns=True, omitsize=fluid)
    return out.getvalue().decode("utf-8")


def png(url, scale=8):
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=scale)
    return out.getvalue()
