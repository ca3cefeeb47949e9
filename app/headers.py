"""Security headers on every response: a script policy with no inline script, no framing, no caching of pages.

Every script comes from /static: our templates carry none inline (tests/test_headers.py scans them),
and the Flask-Admin templates that did are overridden (views/templates/admin/actions.html,
model/layout.html; views/static/admin.js binds their links). Styles may be inline: our templates,
Bootstrap's and select2's widgets write style attributes, and a style cannot run code.
"""
from flask import current_app, request

FIXED = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # A query code or a ticket number in a URL never leaves in a Referer, not even to this site;
    # forms are checked by token and Fetch Metadata instead (app/csrf.py).
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


# Browsers then refuse plain http to this host for a year. Sent only over TLS: the county's one-PC
# install serves plain http on its LAN, and a header there would lock its own browsers out.
HSTS = "max-age=31536000"


def over_tls():
    """Asked over HTTPS: directly, through a trusted proxy (X-Forwarded-Proto, believed per PROXY_HOPS),
    or PREFERRED_URL_SCHEME=https says the county serves only HTTPS."""
    return request.is_secure or current_app.config["PREFERRED_URL_SCHEME"] == "https"


def is_static():
    endpoint = request.endpoint or ""
    return endpoint == "static" or endpoint.endswith(".static")


def add_headers(response):
    response.headers.update(FIXED)
    if over_tls():
        response.headers["Strict-Transport-Security"] = HSTS
    # Pages hold complaints, names and CSRF tokens, and kiosks are shared: nothing but the
    # static files is kept by the browser or a proxy (the back button then reloads).
    if not is_static():
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app):
    app.after_request(add_headers)
