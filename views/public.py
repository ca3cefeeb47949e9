"""Pages citizens touch: the hall kiosk and the phone rating page behind each QR code."""
import functools
import re
import secrets

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse_many

from markupsafe import Markup

from app import qrcodes, ratelimit, ratings, scales  # noqa: F401 (ratelimit: registers steady-memory://)
from app.headers import over_tls
from models import LEVELS, Reason, Staff, Unit, Window
from views.input_guard import row_id

bp = Blueprint("public", __name__)
limiter = Limiter(get_remote_address, headers_enabled=False)  # storage from RATELIMIT_STORAGE_URI

DEVICE_COOKIE = "ztc_device"
DEVICE_ID = re.compile(r"^[0-9a-f]{32}$")


def device_key():
    """The browser's own key (a cookie from its first page); its address when it keeps none.

    Limits per device let one hall's phones share an address behind NAT; the per-address limit
    beside it still stops a script that throws its cookies away.
    """
    device = request.cookies.get(DEVICE_COOKIE, "")
    return "device:" + device if DEVICE_ID.match(device) else "address:" + get_remote_address()


@functools.lru_cache(maxsize=32)
def _parsed(text):
    return tuple(parse_many(text))


def check_rating_limits(device=True):
    """Count this rating against the per-address (and per-device) limits; 429 when one is spent.

    The limiter's storage and strategy asked directly: its decorator resolves, filters and parses
    its limits anew on every request, which cost a rating a tenth of its whole time. The counts
    live where the limiter keeps its others (memory, or Redis across processes).
    """
    config = current_app.config
    if not config.get("RATELIMIT_ENABLED", True):
        return
    checks = [(config["RATING_RATE_LIMIT"], "address:" + get_remote_address())]
    if device:
        checks.append((config["RATING_DEVICE_LIMIT"], device_key()))
    scope = config.get("RATELIMIT_KEY_PREFIX", "") + "rating"  # counties sharing one Redis keep apart
    for text, key in checks:
        for item in _parsed(text):
            if not limiter.limiter.hit(item, scope, key):
                abort(429)


def give_device_cookie(response):
    if request.blueprint in ("public", "board") and not DEVICE_ID.match(request.cookies.get(DEVICE_COOKIE, "")):
        response.set_cookie(DEVICE_COOKIE, secrets.token_hex(16), max_age=365 * 24 * 3600, httponly=True,
                            samesite="Lax", secure=over_tls())
    return response


def track_qr(code):
    """A QR code of /track with this query code, at the county's public address, as inline SVG."""
    from views.qr import base_url
    return Markup(qrcodes.svg(qrcodes.track_url(base_url(), code), fluid=True))


def received_page(code, real_name, kiosk=False, back=None, status=200, **extra):
    """The page that hands the citizen her query code, large, copyable and as a QR code to take away.

    On the kiosk it returns to the start after a minute (or at 完成), so the next person never sees it.
    """
    from views.qr import base_url
    return render_template("public/received.html", code=code, real_name=real_name, kiosk=kiosk, back=back,
                           qr=track_qr(code), track_link=qrcodes.track_url(base_url(), code), **extra), status


def hall_units():
    return list(Unit.select().where(Unit.active, Unit.id.in_(Window.select(Window.unit).where(Window.active)))
                .order_by(Unit.code))


def current_scale():
    return scales.scale(current_app.config["RATING_SCALE"])


def rating_page(window, staff, channel, errors=None, form=None, status=200, bound="", notice=None):
    """The big level choices, the tags of the chosen level, an optional comment, phone and case number."""
    token = (staff.token if staff is not None and window is None else window.token)
    people = list(Staff.select().where(Staff.window == window, Staff.active).order_by(Staff.number)) \
        if window is not None and staff is None else []
    form = form or {"case_number": request.args.get("case", "")}  # a counter pad passes the case it served
    scale = current_scale()
    tagged = set(scale.tagged)
    return render_template(
        "public/rate.html", window=window, staff=staff, people=people, token=token, channel=channel,
        scale=scale, level_labels=dict(LEVELS), bad_levels=scales.BAD_LEVELS,
        reasons=[r for r in Reason.offered() if r.level_set & tagged],
        ask_case=current_app.config["RATING_CASE_NUMBER"] == "optional", errors=errors or {}, form=form,
        notice=notice,
        submission_key=ratings.new_submission_key(), bound=bound or form.get("bound", "")), status


@bp.route("/kiosk")
def kiosk():
    """The hall's touch screen: unit → window → rate. `?window=<token>` binds a counter pad."""
    token = request.args.get("window")
    if token:
        window, staff = ratings.target_for(token)
        if window is None:
            return render_template("public/message.html", title=_("This window is not in service"),
                                   text=_("Please ask the hall staff for help.")), 404
        # Opened from the kiosk's lists it returns to the start; opened directly it is a counter pad.
        return rating_page(window, None, "kiosk", bound="" if request.args.get("browse") else token)
    unit_id = request.args.get("unit", type=row_id)
    if unit_id:
        unit = Unit.get_or_none(Unit.id == unit_id, Unit.active)
        if unit is None:
            abort(404)
        windows = list(Window.select().where(Window.unit == unit, Window.active).order_by(Window.number))
        return render_template("public/kiosk_windows.html", unit=unit, windows=windows)
    return render_template("public/kiosk_units.html", units=hall_units())


@bp.route("/e/<token>")
def by_code(token):
    """What a phone opens after scanning a window's or an officer's QR code."""
    window, staff = ratings.target_for(token)
    if window is None and staff is None:
        return render_template("public/message.html", title=_("This QR code is no longer valid"),
                               text=_("It may have been replaced. Please scan the code now shown at the window.")), 404
    return rating_page(window if staff is None else None, staff, "qr")


@bp.route("/rate", methods=["POST"])
def rate():
    check_rating_limits()
    form = request.form
    try:
        evaluation, ticket, created = ratings.submit(
            form.get("token"), form.get("level"), form.getlist("reasons"), form.get("comment"),
            form.get("phone"), form.get("channel"), form.get("submission_key"),
            staff_id=form.get("staff", type=row_id),
            by_officer=current_user if current_user.is_authenticated else None,
            scale=current_app.config["RATING_SCALE"],
            case_number=form.get("case_number") if current_app.config["RATING_CASE_NUMBER"] == "optional" else None)
    except ratings.CaseAlreadyRated as refused:
        return render_template("public/message.html", title=_("This case has been rated already"),
                               text=refused.errors["case_number"], kiosk=form.get("channel") == "kiosk",
                               back=back_to_start(form)), 409
    except ratings.RatingRefused as refused:
        return rating_again(None, 422, refused.errors) or (render_template(
            "public/message.html", title=_("This QR code is no longer valid"),
            text=refused.errors.get("target", "")), 422)
    kiosk = form.get("channel") == "kiosk"
    if ticket is not None:  # a complaint to follow: she leaves with its query code
        return received_page(ticket.query_code, real_name=bool(evaluation.contact_id), kiosk=kiosk,
                             back=back_to_start(form), rating=True)
    return render_template("public/thanks.html", kiosk=kiosk, back=back_to_start(form),
                           bad=scales.GRADE_OF[evaluation.level] == scales.BAD)


def back_to_start(form):
    return url_for("public.kiosk", window=form.get("bound")) if form.get("bound") else url_for("public.kiosk")


def rating_again(notice, status, errors=None):
    """The rating page as it was sent, for the citizen to send again; None if its code is gone."""
    form = request.form
    window, staff = ratings.target_for(form.get("token", ""))
    if window is None and staff is None:
        return None
    channel = form.get("channel") if form.get("channel") in ratings.CHANNELS else "qr"
    return rating_page(window if staff is None or channel == "kiosk" else None, staff, channel, errors=errors,
                       form=form, status=status, notice=notice)


# endpoint -> the page that gives a refused form back as typed; views/board.py adds its own forms
SEND_AGAIN = {"public.rate": rating_again}


def too_many(exc):
    """A pause, in Chinese; a form comes back as it was typed, so that nothing is lost."""
    if request.path.startswith("/api/"):
        from views.errors import render_error
        return render_error(429, _("Too many requests just now. Please try again in a minute."))
    again = SEND_AGAIN.get(request.endpoint)
    if again is not None and request.method == "POST":
        page = again(_("Too many were sent from this device just now. Please wait a minute, then press send "
                       "again: what you typed is still here."), 429)
        if page is not None:
            body, status = page
            return body, status, {"Retry-After": "60"}
    return render_template("public/message.html", title=_("Please wait a moment"),
                           text=_("Too many ratings were sent from this device just now. "
                                  "Please try again in a minute; nothing you sent before was lost.")), 429


def init_app(app):
    limiter.init_app(app)
    # Every limit here sits on a view and is checked by its decorator. The extension's own
    # before_request pass only looks for application-wide and default limits, and there are
    # none: dropping it halves the limiter's cost on each rating.
    checks = app.before_request_funcs.get(None, [])
    if limiter._check_request_limit in checks:  # absent when RATELIMIT_ENABLED is off
        checks.remove(limiter._check_request_limit)
    if app.config.get("RATELIMIT_ENABLED", True) and "memory://" in app.config["RATELIMIT_STORAGE_URI"]:
        # Counts in memory belong to one app: a new app (a test, a restart) starts afresh. In Redis
        # they belong to every process of the county, and one process starting must not wipe them.
        limiter.reset()
    app.register_error_handler(429, too_many)
    app.after_request(give_device_cookie)
    app.register_blueprint(bp)
