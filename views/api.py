"""Open API /api/v1 for kiosk devices, a WeChat mini-program or a 12345 hotline platform.

Public endpoints need no login (like the kiosk); officer endpoints need a bearer token made with
`flask create-api-token`. No cookies are read here, so CSRF does not apply; errors are JSON with
a code and a Chinese message.
"""
import hashlib

from flask import Blueprint, current_app, jsonify, request
from flask.sessions import SecureCookieSessionInterface

from app import appeals, ratings, scales, tickets, track_lock
from app.headers import over_tls
from models import LEVELS, ApiToken, Reason, Staff, Unit, Window, now
from views import openapi as spec
from views.board import locked_text, retry_after
from views.input_guard import storable_text
from views.public import check_rating_limits, limiter

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def error(status, code, message, fields=None):
    body = {"error": {"code": code, "message": message}}
    if fields:
        body["error"]["fields"] = fields
    return jsonify(body), status


class Refusal(Exception):
    """An error answer raised by the checks below, answered by the blueprint's handler."""

    def __init__(self, status, code, message, fields=None):
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields


@bp.errorhandler(Refusal)
def refusal(exc):
    return error(exc.status, exc.code, exc.message, exc.fields)


def invalid(fields):
    """422 naming each field and what is wrong with it."""
    return Refusal(422, "invalid", "；".join(f"{name}：{why.rstrip('。')}" for name, why in fields.items()) + "。",
                   fields)


def body():
    """The JSON object sent, or None: not JSON, not an object, or nested deeper than the parser goes."""
    try:
        data = request.get_json(silent=True)
    except RecursionError:
        return None
    return data if isinstance(data, dict) else None


def unstorable(data):
    """True when some string in it (a key too) holds what no database keeps."""
    pending = [data]
    while pending:  # by hand: the parser nests deeper than Python's recursion goes
        value = pending.pop()
        if isinstance(value, dict):
            pending += [*value.keys(), *value.values()]
        elif isinstance(value, list):
            pending += value
        elif isinstance(value, str) and not storable_text(value):
            return True
    return False


def checked_body(schema):
    """The JSON object sent, its fields as the document declares them; fields it does not name are not read."""
    data = body()
    if data is None:
        raise Refusal(400, "bad_json", "请求体应当是 JSON 对象。")
    if unstorable({name: data[name] for name in schema["properties"] if name in data}):
        raise Refusal(400, "unstorable", "内容里有无法保存的字符（NUL 控制字符或单独的代理码位），请删去后再发送。")
    if wrong := spec.body_mismatches(schema, data):
        raise invalid(wrong)
    return data


def checked_query(*parameters):
    """{name: value} of these query parameters, read as the document declares them (None when not given)."""
    values, wrong = {}, {}
    for parameter in parameters:
        name = parameter["name"]
        values[name], why = spec.query_value(parameter, request.args.getlist(name))
        if why:
            wrong[name] = why
    if wrong:
        raise invalid(wrong)
    return values


@bp.get("/units")
def units():
    rows = Unit.select().where(Unit.active).order_by(Unit.code)
    return jsonify([{"id": u.id, "code": u.code, "name": u.name, "kind": u.kind, "parent_id": u.parent_id}
                    for u in rows])


@bp.get("/windows")
def windows():
    rows = Window.select().where(Window.active).order_by(Window.number)
    unit = checked_query(spec.UNIT_FILTER)["unit"]
    if unit:
        rows = rows.where(Window.unit == unit)
    return jsonify([{"id": w.id, "number": w.number, "name": w.name, "unit_id": w.unit_id, "token": w.token}
                    for w in rows])


@bp.get("/staff")
def staff():
    rows = Staff.select().where(Staff.active).order_by(Staff.number)
    window = checked_query(spec.WINDOW_FILTER)["window"]
    if window:
        rows = rows.where(Staff.window == window)
    return jsonify([{"id": s.id, "number": s.number, "name": s.name, "unit_id": s.unit_id,
                     "window_id": s.window_id, "token": s.token} for s in rows])


@bp.get("/reasons")
def reasons():
    return jsonify([{"id": r.id, "title": r.title, "levels": sorted(r.level_set)} for r in Reason.offered()])


@bp.get("/scale")
def scale():
    """The levels this county rates on, best first: what a device shows, and which ask for tags."""
    chosen = scales.scale(current_app.config["RATING_SCALE"])
    names = dict(LEVELS)
    return jsonify({"key": chosen.key, "case_number": current_app.config["RATING_CASE_NUMBER"] == "optional",
                    "levels": [{"id": level, "title": str(names[level]), "grade": scales.GRADE_OF[level],
                                "tags": level in chosen.tagged,
                                "tags_required": level in chosen.tagged and scales.GRADE_OF[level] == scales.BAD}
                               for level in chosen.levels]})


@bp.post("/evaluations")
def evaluations():
    check_rating_limits(device=False)  # a device of the open API has no cookie
    data = checked_body(spec.evaluation_body())
    reasons_in = data.get("reasons") or []
    try:
        evaluation, ticket, created = ratings.submit(
            str(data.get("token") or ""), data.get("level"), [str(r) for r in reasons_in],
            str(data.get("comment") or ""), str(data.get("phone") or ""), data.get("channel") or "kiosk",
            str(data.get("submission_key") or ""), staff_id=data.get("staff_id"),
            scale=current_app.config["RATING_SCALE"],
            case_number=str(data.get("case_number") or ""))
    except ratings.CaseAlreadyRated as refused:
        return error(409, "case_rated", str(refused), refused.errors)
    except ratings.RatingRefused as refused:
        return error(422, "invalid", str(refused), refused.errors)
    return jsonify({"id": evaluation.id, "created": created,
                    "ticket": ticket.code if ticket is not None else None,
                    "query_code": ticket.query_code if ticket is not None else None}), 201 if created else 200


@bp.post("/messages")
@limiter.limit(lambda: current_app.config["API_MESSAGE_RATE_LIMIT"])
def messages():
    data = checked_body(spec.message_body())
    try:
        message = appeals.leave_message(data.get("kind"), data.get("unit_id"), str(data.get("content") or ""),
                                        str(data.get("name") or ""), str(data.get("phone") or ""),
                                        channel="web")
    except appeals.Refused as refused:
        return error(422, "invalid", str(refused), refused.errors)
    return jsonify({"query_code": message.query_code}), 201


@bp.get("/track")
@limiter.limit(lambda: current_app.config["TRACK_RATE_LIMIT"], deduct_when=lambda response: response.status_code == 404)
def track():
    query = checked_query(*spec.TRACK_PARAMETERS)
    try:
        found = appeals.find(query["code"], query["last4"], ip=request.remote_addr or "")
    except track_lock.Locked as locked:
        response, status = error(429, "locked", locked_text(locked))
        return response, status, retry_after(locked)
    if found is None:
        return error(404, "not_found", "没有找到与查询码（和电话后四位）相符的记录。")
    ticket = found["ticket"]
    if ticket is None:
        return jsonify({"status": "received", "received": found["message"].created_at.isoformat()})
    stage = tickets.workflow_of(ticket).stages.get(ticket.stage)
    closed = ticket.status == "closed"
    return jsonify({"status": ticket.status, "stage": stage.title if stage else ticket.stage,
                    "received": ticket.created_at.isoformat(),
                    "due": ticket.due_at.date().isoformat() if ticket.due_at and not closed else None,
                    "closed": ticket.closed_at.isoformat() if closed and ticket.closed_at else None,
                    # only the public reply (答复群众), never the internal result
                    "answer": ticket.reply or None,
                    "answered_by": tickets.answering_unit(ticket) if ticket.reply else None,
                    "answered_on": ticket.replied_at.date().isoformat() if ticket.reply and ticket.replied_at else None})


def officer():
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    digest = hashlib.sha256(header[7:].strip().encode()).hexdigest()
    token = ApiToken.get_or_none(ApiToken.token_hash == digest, ApiToken.active)
    if token is None or not token.user.active:
        return None
    ApiToken.update(last_used_at=now()).where(ApiToken.id == token.id).execute()
    return token.user


@bp.get("/todo")
def todo():
    user = officer()
    if user is None:
        return error(401, "unauthorized", "需要有效的 API 令牌（Authorization: Bearer …）。")
    rows = tickets.todo(user).limit(200)
    return jsonify([{"code": t.code, "title": t.title, "stage": t.stage, "workflow": t.workflow,
                     "due": t.due_at.isoformat() if t.due_at else None} for t in rows])


@bp.get("/openapi.json")
def openapi():
    return jsonify(spec.document())


class CookielessApi(SecureCookieSessionInterface):
    """No session under /api/: being exempt from CSRF, the API must never act on a browser's login."""

    def open_session(self, app, request):
        if request.path.startswith(bp.url_prefix + "/"):
            return self.null_session_class()
        return super().open_session(app, request)

    def get_cookie_secure(self, app):
        """Secure whenever the login came over HTTPS, so the browser never sends it over plain http."""
        return super().get_cookie_secure(app) or over_tls()


def init_app(app):
    from app import csrf
    csrf.exempt(bp)  # JSON without cookies: nothing for a forged form to ride on
    app.session_interface = CookielessApi()
    app.register_blueprint(bp)
