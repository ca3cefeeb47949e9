"""Officer sessions through Flask-Login, with the limits of 等保 2.0.

A session ends after 15 minutes without a request and 8 hours after login, whatever the browser
says: both times are read from the signed session on the server. The login id carries the
account's session token, so a new token (logout, password change) refuses every older cookie.
"""
import datetime

from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_user, logout_user

from models import LoginThrottle, User, db, now

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please log in to continue.")
login_manager.login_message_category = "warning"
login_manager.session_protection = "strong"

# Pages a user who must change the password may still open.
OPEN_WHILE_CHANGING = frozenset({"auth.password", "auth.logout", "auth.login", "static", "admin.static"})


def clock():
    """Now; tests pass time by replacing this."""
    return now()


@login_manager.user_loader
def load_user(login_id):
    user_id, _sep, token = str(login_id).partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = User.get_or_none(User.id == int(user_id))
    if user is None or not user.active or user.session_token != token:
        return None
    return user


def start_session(user):
    """A fresh session for `user`: nothing of the anonymous one carried over but the language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    login_user(user)
    session["login_at"] = session["seen_at"] = clock().timestamp()


def end_session():
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def _expired():
    at = clock().timestamp()
    idle = current_app.config["SESSION_IDLE_MINUTES"] * 60
    limit = current_app.config["SESSION_MAX_HOURS"] * 3600
    login_at, seen_at = session.get("login_at"), session.get("seen_at")
    if login_at is None or seen_at is None:
        return True
    return at - seen_at > idle or at - login_at > limit


def check_session():
    """Before each request: end a timed-out session; send a must-change user to the password page."""
    if request.endpoint == "static" or request.path.startswith("/api/") or not current_user.is_authenticated:
        return None
    if _expired():
        end_session()
        flash(_l("Your session has timed out. Please log in again."), "warning")
        return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
    session["seen_at"] = clock().timestamp()
    if current_user.must_change_password and request.endpoint not in OPEN_WHILE_CHANGING:
        return redirect(url_for("auth.password"))
    return None


# --- lockout -----------------------------------------------------------------------------------
def _throttle_key(username):
    return username.strip().lower()[:50]


def locked(username):
    """Whether logins for `username` (an account or not) are refused for now."""
    row = LoginThrottle.get_or_none(LoginThrottle.username == _throttle_key(username))
    return row is not None and row.locked_until is not None and row.locked_until > clock()


def record_failure(username):
    """Count a failed login; the fifth in a row locks the name for 15 minutes."""
    key = _throttle_key(username)
    at = clock()
    lock_until = at + datetime.timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
    this = LoginThrottle.username == key
    # Each step one statement: two wrong passwords at the same moment both count, neither fails.
    with db.atomic():
        LoginThrottle.insert(username=key, failures=0).on_conflict_ignore().execute()
        LoginThrottle.update(failures=0, locked_until=None).where(this, LoginThrottle.locked_until <= at).execute()
        LoginThrottle.update(failures=LoginThrottle.failures + 1).where(this).execute()
        LoginThrottle.update(locked_until=lock_until).where(
            this, LoginThrottle.failures >= current_app.config["LOGIN_LOCK_FAILURES"],
            LoginThrottle.locked_until.is_null()).execute()
        return LoginThrottle.get(this).locked_until is not None


def clear_failures(username):
    LoginThrottle.delete().where(LoginThrottle.username == _throttle_key(username)).execute()


def init_app(app):
    login_manager.init_app(app)
    app.before_request(check_session)
