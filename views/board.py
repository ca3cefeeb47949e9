"""留言板, 纪企直通车 and 进度查询: what a citizen or a company writes, and how they follow it."""
from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _

from app import appeals, auth, tickets, track_lock
from models import MESSAGE_KINDS, Unit
from views.public import SEND_AGAIN, device_key, hall_units, limiter, received_page

bp = Blueprint("board", __name__)


def unit_groups():
    """Units to address, the hall's first; villages are reached through their township."""
    others = list(Unit.select().where(Unit.active, Unit.kind.in_(("law_enforcement", "township", "farm", "zone")))
                  .order_by(Unit.kind, Unit.code))
    return hall_units(), others


def message_limits(view):
    """Per device, and per address beside it (a hall's phones share one behind NAT)."""
    view = limiter.limit(lambda: current_app.config["MESSAGE_DEVICE_LIMIT"], key_func=device_key,
                         methods=["POST"])(view)
    return limiter.limit(lambda: current_app.config["MESSAGE_RATE_LIMIT"], methods=["POST"])(view)


def board_page(notice=None, status=200, errors=None):
    hall, others = unit_groups()
    return render_template("public/board.html", kinds=MESSAGE_KINDS, hall=hall, others=others,
                           errors=errors or {}, form=request.form, notice=notice), status


def enterprise_page(notice=None, status=200, errors=None):
    return render_template("public/enterprise.html", categories=appeals.ENTERPRISE_CATEGORIES,
                           errors=errors or {}, form=request.form, notice=notice), status


def track_page(notice=None, status=200):
    return render_template("public/track.html", found=None, form=request.form, notice=notice), status


def locked_text(locked):
    """What a citizen reads while her query code is locked: why, until when, and whom to call."""
    return _("To protect the person who wrote, this query code is paused after %(n)d wrong phone digits "
             "until %(until)s; until then even the right digits are not accepted. For help, call %(hotline)s.",
             n=current_app.config["TRACK_LOCK_FAILURES"], until=f"{locked.until:%H:%M}",
             hotline=current_app.config["HOTLINE"])


def retry_after(locked):
    return {"Retry-After": str(max(int((locked.until - auth.clock()).total_seconds()), 1))}


def find(code, last4):
    """appeals.find for this request; (None, a 429 page) while the code is locked."""
    try:
        return appeals.find(code, last4, ip=request.remote_addr or ""), None
    except track_lock.Locked as locked:
        return None, (render_template("public/track.html", found=None, form={"code": (code or "")[:12]},
                                      error=locked_text(locked)), 429, retry_after(locked))


@bp.route("/board", methods=["GET", "POST"])
@message_limits
def board():
    form = request.form
    if request.method == "POST":
        try:
            message = appeals.leave_message(form.get("kind"), form.get("unit"), form.get("content"),
                                            form.get("name"), form.get("phone"))
            return received_page(message.query_code, real_name=bool(message.contact_id and message.contact.phone))
        except appeals.Refused as refused:
            return board_page(status=422, errors=refused.errors)
    return board_page()


@bp.route("/enterprise", methods=["GET", "POST"])
@message_limits
def enterprise():
    form = request.form
    if request.method == "POST":
        try:
            ticket = appeals.enterprise_appeal(form.get("company"), form.get("credit_code"), form.get("name"),
                                               form.get("phone"), form.get("category"), form.get("content"))
            return received_page(ticket.query_code, real_name=True)
        except appeals.Refused as refused:
            return enterprise_page(status=422, errors=refused.errors)
    return enterprise_page()


@bp.route("/track", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["TRACK_RATE_LIMIT"], methods=["POST"], deduct_when=lambda response: response.status_code == 404)
def track():
    """Progress by query code: stage and dates and the public answer, never internal notes or names."""
    if request.method == "GET":  # the QR code on her receipt brings the code along
        code = request.args.get("code", "")
        return render_template("public/track.html", found=None, form={"code": code[:12]})
    found, locked = find(request.form.get("code"), request.form.get("last4"))
    if locked:
        return locked
    if found is None:
        error = _("No record matches this query code (and phone digits). "
                  "Please check them; after several wrong tries, wait a minute.")
        left = track_lock.tries_left((request.form.get("code") or "").strip().upper())
        if left <= 2:  # warned before the lock, not after it
            error += " " + _("%(n)d more wrong try(s) and this query code is paused for an hour; if you have "
                             "lost the phone you left, call %(hotline)s.", n=left,
                             hotline=current_app.config["HOTLINE"])
        return render_template("public/track.html", found=None, form=request.form, error=error), 404
    return show(found)


def show(found, status=200, error=None):
    ticket = found["ticket"]
    stage = tickets.workflow_of(ticket).stages.get(ticket.stage) if ticket is not None else None
    may_grade = ticket is not None and tickets.grade_action(ticket) is not None
    return render_template("public/track.html", found=found, ticket=ticket, stage=stage, form={},
                           may_grade=may_grade, answering_unit=tickets.answering_unit(ticket) if ticket else "",
                           reopened=not may_grade and ticket is not None and ticket.status == "open"
                           and ticket.grade == "dissatisfied", code=request.form.get("code", ""),
                           last4=request.form.get("last4", ""), error=error), status


@bp.route("/track/grade", methods=["POST"])
@limiter.limit(lambda: current_app.config["TRACK_RATE_LIMIT"], deduct_when=lambda response: response.status_code == 404)
def grade():
    """追评: the complainant grades the result; 不满意 reopens the handling, as the rule says."""
    from app.workflow.engine import GRADE_TITLES
    from app.workflow.errors import ActionRefused, StaleTicket
    found, locked = find(request.form.get("code"), request.form.get("last4"))
    if locked:
        return locked
    if found is None or found["ticket"] is None:
        return render_template("public/track.html", found=None, form=request.form,
                               error=_("No record matches this query code (and phone digits). "
                                       "Please check them; after several wrong tries, wait a minute.")), 404
    grade_value = request.form.get("grade")
    if grade_value not in GRADE_TITLES:
        return show(found, 422, _("Please choose satisfied, basically satisfied or dissatisfied."))
    try:
        tickets.citizen_grade(found["ticket"].id, grade_value)
    except (ActionRefused, StaleTicket):
        return show(found, 409, _("This matter no longer waits for your grade."))
    found, locked = find(request.form.get("code"), request.form.get("last4"))
    return locked or show(found)


# A form refused for sending too often comes back as it was typed (views/public.py too_many).
SEND_AGAIN.update({"board.board": board_page, "board.enterprise": enterprise_page, "board.track": track_page})
