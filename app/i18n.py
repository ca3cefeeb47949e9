"""Chinese first: flask-babel with our catalogue beside Flask-Admin's zh_Hans_CN one."""
from flask import request, session
from flask_babel import Babel, get_locale

babel = Babel()


def select_locale():
    from flask import current_app
    wanted = request.args.get("lang") if request else None
    if wanted in current_app.config["LANGUAGES"]:
        session["lang"] = wanted
    return session.get("lang") or current_app.config["BABEL_DEFAULT_LOCALE"]


def init_app(app):
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals["get_locale"] = get_locale
