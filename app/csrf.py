"""Flask-WTF's CSRF token check, with the browser's Fetch Metadata in place of its Referer check.

Pages send no Referer at all (Referrer-Policy: no-referrer, app/headers.py), so Flask-WTF's HTTPS
Referer test (WTF_CSRF_SSL_STRICT) would refuse every form. Instead a form that the browser says came
from another site (Sec-Fetch-Site) is refused before its token is even read; browsers too old to say
still need the token, as every browser does.
"""
from flask import current_app, request
from flask_wtf.csrf import CSRFProtect

FROM_THIS_SITE = {"same-origin", "none"}  # "none": the person typed or bookmarked it


class SiteCSRFProtect(CSRFProtect):
    def protect(self, apply_exemptions=False):
        if apply_exemptions and (not request.endpoint or self._is_exempt()):
            return  # the token-only JSON API, as before
        if (request.method in current_app.config["WTF_CSRF_METHODS"]
                and request.headers.get("Sec-Fetch-Site", "same-origin") not in FROM_THIS_SITE):
            self._error_response("The form was sent from another site.")
        super().protect(apply_exemptions)
