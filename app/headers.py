"""Security headers on every response: a script policy with no inline script, no framing, no caching of pages.

Only Flask-Admin's own inline scripts run, by a nonce drawn afresh for each request; our templates
load every script from /static (tests/test_headers.py scans them). Styles may be inline: our
templates, Bootstrap's and select2's widgets write style attributes, which a nonce cannot cover,
and a style cannot run code.
"""
import secrets

from flask import g, request

POLICY = ("default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
          "img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
FIXED = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # A query code or a ticket number in a URL never leaves for another site; our own forms keep the
    # Referer, which Flask-WTF demands on HTTPS (behind PROXY_HOPS) — no-referrer would refuse every POST.
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


def csp_nonce():
    """This request's script nonce (Flask-Admin's csp_nonce_generator)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def is_static():
    endpoint = request.endpoint or ""
    return endpoint == "static" or endpoint.endswith(".static")


# A page that asked for no nonce (JSON, our own templates) runs no inline script at all.
NO_INLINE = POLICY.replace(" 'nonce-{nonce}'", "")


def add_headers(response):
    nonce = g.get("csp_nonce")  # drawn only if a template asked: a rating's answer needs none
    response.headers["Content-Security-Policy"] = POLICY.format(nonce=nonce) if nonce else NO_INLINE
    response.headers.update(FIXED)
    # Pages hold complaints, names and CSRF tokens, and kiosks are shared: nothing but the
    # static files is kept by the browser or a proxy (the back button then reloads).
    if not is_static():
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app):
    app.after_request(add_headers)
