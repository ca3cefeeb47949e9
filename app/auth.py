"""Officer sessions through Flask-Login."""
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager

from models import User

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please log in to continue.")
login_manager.login_message_category = "warning"
login_manager.session_protection = "strong"


@login_manager.user_loader
def load_user(user_id):
    if not str(user_id).isdigit():
        return None
    user = User.get_or_none(User.id == int(user_id))
    return user if user is not None and user.active else None


def init_app(app):
    login_manager.init_app(app)
