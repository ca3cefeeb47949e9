"""Chinese first: flask-babel with our catalogue beside Flask-Admin's zh_Hans_CN one."""
from contextlib import nullcontext

from flask import current_app, has_app_context, has_request_context, request, session
from flask_babel import Babel, force_locale, get_locale

babel = Babel()


def select_locale():
    """?lang= switches and is remembered in the session; the default is Chinese."""
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    if not has_request_context():  # command line, start-up banner
        return default
    wanted = request.args.get("lang")
    if wanted in current_app.config["LANGUAGES"]:
        session["lang"] = wanted
    return session.get("lang") or default


def in_chinese():
    """For documents sent out (the ledger, the report): Chinese whatever the screen's language."""
    return force_locale("zh_Hans_CN") if has_app_context() else nullcontext()


def init_app(app):
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals["get_locale"] = get_locale
