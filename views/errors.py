"""Error pages in Chinese, with no traceback and nothing of the request echoed back."""
from flask import jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from peewee import InterfaceError, OperationalError

from app.db import connection_lost

MESSAGES = {
    400: _l("The request could not be understood. Go back, reload the page and try again."),
    403: _l("You do not have permission to open this page or do this."),
    404: _l("The page or record was not found."),
    405: _l("This action cannot be done this way."),
    413: _l("The upload is too large."),
    500: _l("Something went wrong on the server. Nothing was half-saved; please try again."),
}


def render_error(status, message=None):
    if request.path.startswith("/api/"):  # machines get JSON, with the same Chinese message
        codes = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
                 413: "too_large", 429: "too_many", 500: "server_error", 503: "unavailable"}
        return jsonify({"error": {"code": codes.get(status, "error"),
                                  "message": str(message or MESSAGES.get(status, ""))}}), status
    return render_template("error.html", status=status, message=message or MESSAGES[status]), status


def not_allowed(exc):
    """405 names the methods the address does take (RFC 9110 asks for Allow)."""
    body, status = render_error(405)
    methods = getattr(exc, "valid_methods", None)
    return body, status, {"Allow": ", ".join(sorted(methods))} if methods else {}


def refused(exc):
    """A 403 is answered and put in the audit trail: who was turned away from what."""
    from flask_login import current_user
    from models import AuditLog
    user = current_user if current_user.is_authenticated else None
    AuditLog.record("refused", user, detail=f"{request.method} {request.path[:200]}", ip=request.remote_addr)
    return render_error(403)


def init_app(app):
    for status in MESSAGES:
        app.register_error_handler(status, lambda exc, status=status: render_error(status))
    app.register_error_handler(403, refused)
    app.register_error_handler(405, not_allowed)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def database_gone(exc):
        """PostgreSQL restarted under this request's transaction: 503, and sending again is safe.

        Any other database error is a fault of ours, and stays a logged 500.
        """
        if not connection_lost(exc):
            raise exc
        app.logger.warning("database connection lost, answered 503: %s", exc)
        body, status = render_error(503, _l("The database could not be reached just now. Nothing was saved; "
                                            "please send it again in a moment."))
        return body, status, {"Retry-After": "5"}

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return render_error(400, _l("The form has expired or did not come from this site. "
                                    "Reload the page and submit it again."))
