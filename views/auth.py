"""Login and logout for officers."""
from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length

from models import AuditLog, User, db, now

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[InputRequired(_l("Please enter your username.")),
                                                       Length(max=50)])
    password = PasswordField(_l("Password"), validators=[InputRequired(_l("Please enter your password.")),
                                                         Length(max=200)])


def safe_next(target):
    """Only a path on this site: never an absolute or scheme-relative URL."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("admin.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(request.args.get("next")))
    if form.validate_on_submit():
        username = form.username.data.strip()
        user = User.get_or_none(User.username == username)
        with db.atomic():
            if user is not None and user.active and user.check_password(form.password.data):
                lang = session.get("lang")
                session.clear()  # a fresh session at login
                if lang:
                    session["lang"] = lang
                login_user(user)
                user.last_login_at = now()
                user.save(only=[User.last_login_at])
                AuditLog.record("login", user, user, ip=request.remote_addr)
                return redirect(safe_next(request.args.get("next")))
            AuditLog.record("login_failed", None, None, detail=f"username={username[:50]}",
                            ip=request.remote_addr)
        # The same answer whether or not the username exists.
        flash(_("Wrong username or password."), "error")
    status = 401 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    AuditLog.record("logout", current_user, current_user, ip=request.remote_addr)
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/")
def root():
    return redirect(url_for("admin.index"))
