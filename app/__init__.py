"""The application factory: `flask` finds `create_app` here from the repository root."""
import sys
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # models.py and views/ live beside this package
    sys.path.insert(0, str(ROOT))

from app.csrf import SiteCSRFProtect  # noqa: E402 (after the path is set)

csrf = SiteCSRFProtect()


def create_app(config=None):
    from app import (audit, auth, backup_schedule, cli, config as app_config, db, headers, i18n, migrations,
                     outbox, tickets)
    import views

    settings = app_config.load(config)
    app = Flask(__name__, instance_path=settings["INSTANCE_PATH"],
                template_folder=str(ROOT / "views" / "templates"),
                static_folder=str(ROOT / "views" / "static"))
    app.config.update(settings)
    if hops := app.config["PROXY_HOPS"]:  # behind nginx: the client's address and scheme as the proxy saw them
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    db.init_app(app)
    outbox.configure(app.config)
    backup_schedule.configure(app.config)
    audit.configure(app.config)
    if app.config.get("AUTO_UPGRADE", True):
        migrations.upgrade()
        audit.note_key()
        tickets.init_app(app)
    i18n.init_app(app)
    csrf.init_app(app)
    headers.init_app(app)
    auth.init_app(app)
    views.init_app(app)
    cli.init_app(app)
    return app
