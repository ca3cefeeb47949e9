"""Login and logout for officers."""
from urllib.parse import unquote

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length, ValidationError

from app import auth, passwords, qrcodes, totp
from app.roles import HANDLER
from models import AuditLog, User, db, now

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[InputRequired(_l("Please enter your username.")),
                                                       Length(max=50)])
    password = PasswordField(_l("Password"), validators=[InputRequired(_l("Please enter your password.")),
                                                         Length(max=200)])


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[InputRequired(_l("Please enter your password.")),
                                                                 Length(max=200)])
    new = PasswordField(_l("New password"), validators=[InputRequired(_l("Please enter a new password.")),
                                                         Length(max=200)])
    again = PasswordField(_l("New password again"), validators=[
        InputRequired(_l("Please enter the new password again.")),
        EqualTo("new", _l("The two new passwords differ."))])

    def validate_current(self, field):
        if not current_user.check_password(field.data):
            raise ValidationError(_("The current password is wrong."))

    def validate_new(self, field):
        found = passwords.problems(field.data, current_user.username)
        if field.data and current_user.check_password(field.data):
            found.append(_("The new password must differ from the current one."))
        if found:
            raise ValidationError(" ".join(found))


# Checked against a wrong username too, so that a name that exists answers no faster than one that does not.
_NOBODY_HASH = generate_password_hash("no account has this password")


# What a browser drops before it reads a URL (WHATWG URL parsing): tabs and newlines anywhere,
# control characters and spaces at either end; and it reads a backslash as a slash.
_DROPPED = str.maketrans("", "", "\t\n\r")
_TRIMMED = "".join(chr(c) for c in range(0x21))


def local_path(target):
    """`target` as the browser will read it, if that is a path on this site; else None.

    "/%09/evil.example" reaches the browser as "//evil.example", another site: the check is made on
    what the browser makes of the text, and encoded slashes at the start are refused as well.
    """
    seen = (target or "").translate(_DROPPED).strip(_TRIMMED)
    decoded = seen
    for _round in range(3):  # "%252F" is "%2F" after one decoding, "/" after two
        decoded = unquote(decoded)
    head = decoded.translate(_DROPPED).strip(_TRIMMED).replace("\\", "/")
    if not seen.startswith("/") or head.startswith("//"):
        return None
    return seen


def safe_next(target):
    """Only a path on this site: never another site, however its address is disguised. Without one,
    the officer's home: a handler's is 我的待办, everyone else's the dashboard."""
    path = local_path(target)
    if path:
        return path
    if current_user.is_authenticated and current_user.role == HANDLER:
        return url_for("todo.index")
    return url_for("admin.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(request.args.get("next")))
    if form.validate_on_submit():
        username = form.username.data.strip()
        user = User.get_or_none(User.username == username)
        if auth.locked(username):
            AuditLog.record("login_locked", None, None, detail=f"username={username[:50]}", ip=request.remote_addr)
            return _paused(form)
        right = user.check_password(form.password.data) if user else \
            check_password_hash(_NOBODY_HASH, form.password.data)
        if user is not None and user.active and right:
            if user.totp_secret or totp.required(user, current_app.config):
                return _ask_second_factor(user)
            return _finish_login(user)
        with db.atomic():
            now_locked = auth.record_failure(username)
            AuditLog.record("login_failed", None, None, detail=f"username={username[:50]}",
                            ip=request.remote_addr)
        if now_locked:
            return _paused(form)
        # The same answer whether or not the username exists.
        flash(_("Wrong username or password."), "error")
    status = 401 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


def _finish_login(user, how="password", next_url=None):
    with db.atomic():
        auth.clear_failures(user.username)
        auth.start_session(user)
        user.last_login_at = now()
        user.save(only=[User.last_login_at])
        AuditLog.record("login", user, user, detail=how, ip=request.remote_addr)
    if user.must_change_password:
        return redirect(url_for("auth.password"))
    return redirect(safe_next(next_url or request.args.get("next")))


# --- second factor -------------------------------------------------------------------------------
PENDING_SECONDS = 300  # between the password and the code


class CodeForm(FlaskForm):
    code = StringField(_l("Six-digit code from the authenticator app"),
                       validators=[InputRequired(_l("Please enter the code.")), Length(max=10)])


def _ask_second_factor(user):
    """The password was right: the session holds only that, until the code is given too."""
    next_url = request.args.get("next")
    auth.end_session()
    session["pending"] = {"id": user.id, "token": user.session_token, "at": auth.clock().timestamp(),
                          "next": next_url if next_url else None}
    return redirect(url_for("auth.second_factor"))


def _pending_user():
    pending = session.get("pending")
    if not pending or auth.clock().timestamp() - pending["at"] > PENDING_SECONDS:
        return None
    user = User.get_or_none(User.id == pending["id"])
    if user is None or not user.active or user.session_token != pending["token"]:
        return None
    return user


@bp.route("/login/code", methods=["GET", "POST"])
def second_factor():
    """The second step of a login: the code, or, the first time, setting up the app."""
    user = _pending_user()
    if user is None:
        session.pop("pending", None)
        return redirect(url_for("auth.login"))
    enrolling = not user.totp_secret
    if enrolling:
        # The new key waits in the session of the one who gave the password; it is kept on the
        # account only once a code shows that the app has it.
        session["pending"].setdefault("secret", totp.new_secret())
        session.modified = True
    secret = user.totp_secret or session["pending"]["secret"]
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        if auth.locked(user.username):
            flash(_("Too many wrong passwords: logins with this username are paused for %(n)d minutes.",
                    n=current_app.config["LOGIN_LOCK_MINUTES"]), "error")
            return redirect(url_for("auth.login"))
        step = totp.accepted_step(secret, form.code.data, user.totp_last_step, auth.clock())
        if step is not None:
            next_url = session.pop("pending")["next"]
            with db.atomic():
                User.update(totp_secret=secret, totp_last_step=step).where(User.id == user.id).execute()
                if enrolling:
                    AuditLog.record("totp_enrol", user, user, ip=request.remote_addr)
            return _finish_login(User.get_by_id(user.id), "password+totp", next_url)
        with db.atomic():
            auth.record_failure(user.username)
            AuditLog.record("login_failed", None, None, detail=f"username={user.username} second factor",
                            ip=request.remote_addr)
        flash(_("The code is wrong, expired or already used. Enter the code the app shows now."), "error")
        status = 401
    elif request.method == "POST":
        status = 422
    return render_template("auth/second_factor.html", form=form, enrolling=enrolling, secret=secret,
                           qr=qrcodes.svg(totp.uri(user.username, secret)) if enrolling else None), status


class FactorOffForm(CodeForm):
    password = PasswordField(_l("Password"), validators=[InputRequired(_l("Please enter your password.")),
                                                         Length(max=200)])


@bp.route("/account/second-factor", methods=["GET", "POST"])
@login_required
def own_factor():
    """Turn one's own second factor on, or off where the county does not require it."""
    user = User.get_by_id(current_user.id)
    required = totp.required(user, current_app.config)
    form = FactorOffForm() if user.totp_secret else CodeForm()
    if not user.totp_secret:
        session.setdefault("enrol_secret", totp.new_secret())
    secret = user.totp_secret or session["enrol_secret"]
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            step = totp.accepted_step(secret, form.code.data, user.totp_last_step, auth.clock())
            if user.totp_secret and (required or not user.check_password(form.password.data)):
                flash(_("The second factor stays on: your role must use it.")
                      if required else _("The current password is wrong."), "error")
            elif step is None:
                flash(_("The code is wrong, expired or already used. Enter the code the app shows now."), "error")
            else:
                turning_on = not user.totp_secret
                with db.atomic():
                    User.update(totp_secret=secret if turning_on else "", totp_last_step=step if turning_on else 0) \
                        .where(User.id == user.id).execute()
                    AuditLog.record("totp_enrol" if turning_on else "totp_disable", user, user, ip=request.remote_addr)
                session.pop("enrol_secret", None)
                flash(_("The second factor is on.") if turning_on else _("The second factor is off."), "success")
                return redirect(url_for("auth.own_factor"))
    return render_template("auth/own_factor.html", form=form, enabled=bool(user.totp_secret), required=required,
                           secret=secret, qr=None if user.totp_secret else qrcodes.svg(totp.uri(user.username, secret))), status


def _paused(form):
    # Said alike of every username, whether an account has it or not.
    flash(_("Too many wrong passwords: logins with this username are paused for %(n)d minutes.",
            n=current_app.config["LOGIN_LOCK_MINUTES"]), "error")
    return render_template("auth/login.html", form=form), 429


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    with db.atomic():
        AuditLog.record("logout", current_user, current_user, ip=request.remote_addr)
        user = User.get_by_id(current_user.id)
        user.end_sessions()  # a copy of this session's cookie is refused from now on
        user.save(only=[User.session_token])
    auth.end_session()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    """Change one's own password; every other session of the account ends."""
    form = PasswordForm()
    if form.validate_on_submit():
        with db.atomic():
            user = User.get_by_id(current_user.id)
            user.set_password(form.new.data)
            user.must_change_password = False
            user.end_sessions()
            user.save()
            AuditLog.record("password_change", user, user, ip=request.remote_addr)
        auth.start_session(user)
        flash(_("Your password has been changed."), "success")
        return redirect(url_for("admin.index"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/password.html", form=form, forced=current_user.must_change_password), status


@bp.route("/")
def root():
    return redirect(url_for("admin.index"))
