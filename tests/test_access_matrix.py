"""Every route × every role, on another unit's records: only the combinations listed here get in.

A route added later fails `test_every_route_is_classified` until someone decides here who may
reach it. "Reach" is any answer but a refusal; a refusal is 403 or 404 for an officer, a redirect
to the login page (401 for the API) for an anonymous visitor; no route may answer 5xx to anyone.
"""
import csv
import io

import pytest

from app.roles import ROLE_IDS
from models import AuditLog, CaseVolume, Evaluation, Message, Reason, Staff, Ticket, Window
from tests import trust_world
from tests.conftest import CSRF_RE, login

ANONYMOUS = "anonymous"
SUBJECTS = ROLE_IDS + (ANONYMOUS,)
EVERYONE = frozenset(ROLE_IDS)
NOBODY = frozenset()
COMMISSION = frozenset({"office", "leader", "inspector"})
ORG_EDITORS = frozenset({"sysadmin", "office", "bureau"})
OFFICE = frozenset({"office"})
TICKET_READERS = COMMISSION | {"handler"}
CASE_READERS = COMMISSION  # another unit's ticket: never its handler; the auditor, no complaint at all
RATING_READERS = COMMISSION | {"bureau", "auditor"}  # the reasons, volumes and calendar behind the figures
RATINGS = COMMISSION | {"bureau"}  # the ratings themselves, comments included
PUBLIC = "public"  # citizens' pages, the open API, static files, login: anyone, logged in or not

# Who reaches a model view's screens with another unit's row (hall_b's, the handler being hall_a's):
#                 list        details of the row   edit          create        export                    inline edit
MODEL_VIEWS = {
    "unit":           (EVERYONE, EVERYONE - {"handler"}, ORG_EDITORS, ORG_EDITORS, EVERYONE, NOBODY),
    "window":         (EVERYONE, EVERYONE - {"handler"}, ORG_EDITORS, ORG_EDITORS, EVERYONE, NOBODY),
    "staff":          (EVERYONE, EVERYONE - {"handler"}, ORG_EDITORS, ORG_EDITORS, EVERYONE, NOBODY),
    "reason":         (RATING_READERS, RATING_READERS, {"office", "bureau"}, {"office", "bureau"}, NOBODY,
                       {"office", "bureau"}),
    "case_volume":    (RATING_READERS, RATING_READERS, {"office", "bureau"}, {"office", "bureau"},
                       COMMISSION | {"bureau"}, {"office", "bureau"}),
    "evaluation":     (RATINGS | {"handler"}, RATINGS, NOBODY, NOBODY,
                       COMMISSION | {"bureau", "handler"}, NOBODY),
    "message":        (CASE_READERS, CASE_READERS, OFFICE, NOBODY, COMMISSION, NOBODY),
    "ticket":         (TICKET_READERS, CASE_READERS, NOBODY, NOBODY, COMMISSION | {"handler"}, NOBODY),
    "signals":        (COMMISSION, COMMISSION, NOBODY, NOBODY, COMMISSION, NOBODY),
    "accountability": (CASE_READERS, CASE_READERS, {"office", "inspector"}, {"office", "inspector"}, COMMISSION,
                       NOBODY),
    "calendar":       (RATING_READERS, RATING_READERS, OFFICE, NOBODY, OFFICE, OFFICE),
    "user":           ({"sysadmin", "secadmin", "auditor"}, {"sysadmin", "secadmin", "auditor"},
                       {"sysadmin", "secadmin"}, {"sysadmin"}, {"sysadmin", "secadmin", "auditor"}, NOBODY),
    "auditlog":       ({"auditor"}, {"auditor"}, NOBODY, NOBODY, {"auditor"}, NOBODY),
    # Where notices go and what became of them: the commission's office alone (views/outbox.py).
    "channel":        (OFFICE, OFFICE, OFFICE, OFFICE, NOBODY, NOBODY),
    "delivery":       (OFFICE, OFFICE, NOBODY, NOBODY, NOBODY, NOBODY),
}
# Bulk actions on another unit's row; Flask-Admin's "delete" is nobody's, on every view.
ACTIONS = {
    ("window", "rotate_token"): ORG_EDITORS,
    ("staff", "rotate_token"): ORG_EDITORS,
    ("evaluation", "open_ticket"): OFFICE,
    ("message", "accept"): OFFICE,
    ("delivery", "resend"): OFFICE,
}
# Every other route: who reaches it with another unit's records in its URL.
ROUTES = {
    "admin.index": EVERYONE,
    "auth.logout": EVERYONE,
    "auth.password": EVERYONE,
    "auth.own_factor": EVERYONE,
    "api.todo": EVERYONE,  # with the officer's own API token; each sees its own to-do
    "unit_tree.index": EVERYONE,
    "todo.index": COMMISSION | {"handler", "bureau"},
    "notifications.index": COMMISSION | {"handler", "bureau", "sysadmin", "secadmin"},  # theirs: system notices
    "supervision.index": COMMISSION,
    "handle.index": TICKET_READERS,
    "handle.show": CASE_READERS,
    "handle.print_page": CASE_READERS,
    "handle.print_docx": CASE_READERS,
    "handle.attachment": CASE_READERS,
    "handle.act": NOBODY,  # hall_b's ticket waits at 承办单位签收 for hall_b's handler alone
    "handle.reveal_contact": COMMISSION,
    "handle.chase": COMMISSION,  # the lead unit (hall_b) and the commission press a co-handling unit
    "handle.new": OFFICE,
    "handle.appeal": NOBODY,  # a handler appeals its own unit's ratings only
    "message.reveal_contact": COMMISSION,
    "calendar.add_year": OFFICE,
    "calendar.range_view": OFFICE,
    "calendar.notice_view": OFFICE,
    "channel.send_test": OFFICE,
    "auditlog.verify": {"auditor"},
    # Two-person rule: the security administrator asks, a commission leader decides, the auditor reads.
    "account_requests.index": {"secadmin", "leader", "auditor"},
    "account_requests.decide": {"leader"},
    "account_requests.withdraw": {"secadmin"},
    "hotline.index": OFFICE,
    "hotline.rating": OFFICE,
    "hotline.message": OFFICE,
    "ledger.index": CASE_READERS | {"handler"},  # a handler's ledger holds its own unit's rows
    "ledger.download": CASE_READERS | {"handler"},
    "report.index": CASE_READERS,
    "report.docx": CASE_READERS,
    "publication_admin.index": OFFICE,
    "qr.index": ORG_EDITORS | {"handler"},
    "qr.sheet": ORG_EDITORS,
    "qr.single": ORG_EDITORS,
    "rules.index": COMMISSION | {"auditor"},  # the procedures, not a complaint
    "rules.revision": COMMISSION | {"auditor"},
    "rules.edit": OFFICE,
    "rules.overview": COMMISSION | {"auditor"},
    "rules.form": COMMISSION | {"auditor"},
    "rules.preview": OFFICE,
    "rules.save_form": OFFICE,
    "rules.version": COMMISSION | {"auditor"},
    "rules.restore": OFFICE,
    "symposia.index": CASE_READERS,
    "symposia.show": CASE_READERS,
    "symposia.new": OFFICE,
}
PUBLIC_ROUTES = {
    "static", "admin.static", "auth.login", "auth.second_factor", "auth.root", "board.board", "board.enterprise",
    "board.track", "board.grade", "public.kiosk", "public.by_code", "public.rate", "publication.results",
    "api.units", "api.windows", "api.staff", "api.reasons", "api.scale", "api.evaluations", "api.messages",
    "api.track", "api.openapi",
}
# What hall_a's handler reaches once the records in the URL are its own unit's.
HANDLER_OWN = {
    "unit.details_view", "window.details_view", "staff.details_view", "evaluation.details_view",
    "ticket.details_view", "handle.show", "handle.print_page", "handle.print_docx", "handle.attachment",
    "handle.act", "handle.appeal", "handle.chase", "qr.sheet", "qr.single",
}
FLASK_ADMIN_SCREENS = ("index_view", "details_view", "edit_view", "create_view", "export", "ajax_update")


def classify(endpoint, action=None):
    """The roles that reach `endpoint` (with `action` for a bulk action), PUBLIC, or None if unclassified."""
    if endpoint in PUBLIC_ROUTES:
        return PUBLIC
    if endpoint in ROUTES:
        return frozenset(ROUTES[endpoint])
    view, _dot, screen = endpoint.partition(".")
    if view not in MODEL_VIEWS:
        return None
    if screen == "action_view":
        if (view, action) in ACTIONS:
            return frozenset(ACTIONS[view, action])
        return NOBODY if action == "delete" else None
    if screen in ("delete_view", "ajax_lookup"):
        return NOBODY
    if screen in FLASK_ADMIN_SCREENS:
        return frozenset(MODEL_VIEWS[view][FLASK_ADMIN_SCREENS.index(screen)])
    return None


@pytest.fixture
def world(app, county, make_user):
    with app.app_context():
        return trust_world.build(county, make_user)


def record_ids(world, own):
    """The primary key each model view is asked about: hall_b's row, or hall_a's for `own`."""
    side = "a" if own else "b"
    return {
        "unit": world[f"hall_{side}"].id, "window": world["w1" if own else "w2"].id,
        "staff": world["s1" if own else "s2"].id, "reason": Reason.select().first().id,
        "case_volume": CaseVolume.select().first().id, "evaluation": world[f"evaluation_{side}"].id,
        "message": world[f"message_{side}"].id, "ticket": world[f"problem_{side}"].id,
        "signals": world["signal_b"].id, "accountability": world["accountability_b"].id,
        "calendar": world["day"].day.isoformat(), "user": world["users"]["handler_b"].id,
        "auditlog": AuditLog.select().first().id, "channel": world["channel_b"].id,
        "delivery": world["delivery_b"].id,
    }


def url_arguments(world, own):
    """Values for every URL argument of the app's routes; lists give one request each."""
    side = "a" if own else "b"
    window, staff = world["w1" if own else "w2"], world["s1" if own else "s2"]
    return {
        "ticket_id": [world[f"problem_{side}"].id], "attachment_id": [world[f"attachment_{side}"].id],
        "action_id": ["sign"], "evaluation_id": [world[f"evaluation_{side}"].id],
        "unit_id": [world[f"hall_{side}"].id], "message_id": [world[f"message_{side}"].id],
        "meeting_id": [world["meeting"].id], "file_id": [world["workflow_file"].id],
        "export_type": ["csv", "xlsx"], "fmt": ["png"],
        ("kind", "item_id"): [("window", window.id), ("staff", staff.id)],
        "token": [Window.get_by_id(world["w2"].id).token], "co_handling_id": [world[f"co_{side}"].id],
        "channel_id": [world["channel_b"].id], "request_id": [world["account_request"].id],
        "key": ["problem"], "version": [2],
    }


def calls(rule, world, own=False):
    """(method, url, form data, action) for each way to call `rule`."""
    from flask import url_for
    args = url_arguments(world, own)
    combos = [{}]
    names = set(rule.arguments)
    if {"kind", "item_id"} <= names:
        combos = [{"kind": k, "item_id": i} for k, i in args[("kind", "item_id")]]
        names -= {"kind", "item_id"}
    for name in sorted(names):
        if name == "filename":
            values = ["admin/js/helpers.js" if rule.endpoint == "admin.static" else "zt.js"]
        else:
            values = args[name]
        combos = [dict(c, **{name: v}) for c in combos for v in values]
    view, _dot, screen = rule.endpoint.partition(".")
    pk = record_ids(world, own).get(view)
    query = {"id": pk} if screen in ("details_view", "edit_view") and view in MODEL_VIEWS else {}
    actions = [None]
    if screen == "action_view":
        from flask import current_app
        admin_view = next(v for v in current_app.extensions["admin"][0]._views if v.endpoint == view)
        actions = sorted(admin_view._actions_data)
    for combo in combos:
        url = url_for(rule.endpoint, **combo, **query)
        for method in sorted(rule.methods & {"GET", "POST"}):
            for action in actions:
                data = {}
                if screen == "delete_view":
                    data = {"id": pk}
                elif screen == "action_view":
                    data = {"action": action, "rowid": pk}
                elif screen == "ajax_update":
                    data = {"list_form_pk": pk}
                elif rule.endpoint == "handle.act":
                    # A stale revision: an action the officer may take answers 409 and changes nothing.
                    data = {"sign-revision": "999999"}
                yield method, url, data, action


def every_rule(app):
    # Logging out ends the session: last.
    return sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint == "auth.logout", r.endpoint, r.rule))


def csrf(client, subject):
    page = client.get("/login" if subject == ANONYMOUS else "/admin/").get_data(as_text=True)
    return CSRF_RE.search(page).group(1)


def refused(subject, response):
    if subject == ANONYMOUS:
        return response.status_code == 401 or (
            response.status_code == 302 and response.headers["Location"].startswith("/login"))
    return response.status_code in (403, 404)


def send(client, subject, method, url, data, token):
    headers = {"Authorization": f"Bearer {trust_world.TOKENS[subject]}"} if subject != ANONYMOUS else {}
    if method == "GET":
        response = client.get(url, headers=headers)
    else:
        form = dict(data, csrf_token=token)
        form.update({f"{k.split('-')[0]}-csrf_token": token for k in data if "-" in k})
        response = client.post(url, data=form, headers=headers)
    response.get_data()
    response.close()  # a downloaded file's handle
    return response


def test_every_route_is_classified(app):
    unclassified = []
    for rule in app.url_map.iter_rules():
        view, _dot, screen = rule.endpoint.partition(".")
        if screen == "action_view" and view in MODEL_VIEWS:
            admin_view = next(v for v in app.extensions["admin"][0]._views if v.endpoint == view)
            unclassified += [f"action {name!r} of {view}" for name in admin_view._actions_data
                             if classify(rule.endpoint, name) is None]
        elif classify(rule.endpoint) is None:
            unclassified.append(f"route {rule.endpoint} ({rule.rule})")
    assert not unclassified, "not classified in tests/test_access_matrix.py: " + ", ".join(unclassified)


@pytest.mark.parametrize("subject", SUBJECTS)
def test_every_route_refuses_whom_it_must(subject, app, client, world):
    if subject != ANONYMOUS:
        assert login(client, trust_world.ROLE_USERS[subject]).status_code == 302
    token = csrf(client, subject)
    wrong = []
    with app.test_request_context():
        requests = [(rule, call) for rule in every_rule(app) for call in calls(rule, world)]
    for rule, (method, url, data, action) in requests:
        expected = classify(rule.endpoint, action)
        response = send(client, subject, method, url, data, token)
        what = f"{method} {url} {data or ''}: {response.status_code}"
        if response.status_code >= 500:
            wrong.append(f"{what} (server error)")
        elif expected is None:
            wrong.append(f"{what} (route {rule.endpoint} is not classified)")
        elif expected is not PUBLIC and (subject in expected) == refused(subject, response):
            wrong.append(f"{what} ({'refused' if subject in expected else 'reached'})")
    assert not wrong, f"{subject}:\n" + "\n".join(wrong)


def test_a_handler_reaches_its_own_units_records(app, client, world):
    login(client, trust_world.ROLE_USERS["handler"])
    token = csrf(client, "handler")
    with app.test_request_context():
        requests = [(rule, call) for rule in every_rule(app) if rule.endpoint in HANDLER_OWN
                    for call in calls(rule, world, own=True)]
    assert {rule.endpoint for rule, _call in requests} == HANDLER_OWN
    wrong = []
    for rule, (method, url, data, _action) in requests:
        response = send(client, "handler", method, url, data, token)
        if response.status_code >= 500 or refused("handler", response):
            wrong.append(f"{method} {url}: {response.status_code}")
    assert not wrong, "\n".join(wrong)


# --- Flask-Admin's internals ------------------------------------------------------------------
def admin_views(app):
    return app.extensions["admin"][0]._views


def test_every_admin_screen_goes_through_the_secure_bases(app):
    from flask_admin import AdminIndexView
    from flask_admin.contrib.peewee import ModelView

    from views.base import SecureBaseView, SecureModelView
    for view in admin_views(app):
        if isinstance(view, ModelView):
            assert isinstance(view, SecureModelView), view.endpoint
            # No select loads the whole table over Ajax, nothing is edited inline under another row.
            assert not view._form_ajax_refs and not view.inline_models, view.endpoint
        else:
            assert isinstance(view, (SecureBaseView, AdminIndexView)), view.endpoint


def test_nothing_is_deleted_from_the_screens(app, client, world):
    from models import TicketEvent, User
    kept = (Ticket, TicketEvent, Evaluation, Message, User, AuditLog, Window, Staff)
    before = {model: {row.id for row in model.select(model.id)} for model in kept}
    for role in ("sysadmin", "office", "auditor"):
        client.delete_cookie("session")
        login(client, trust_world.ROLE_USERS[role])
        token = csrf(client, role)
        with app.test_request_context():
            pks = record_ids(world, own=False)
        for view in MODEL_VIEWS:
            pk = pks[view]
            assert client.post(f"/admin/{view}/delete/", data={"id": pk, "csrf_token": token}).status_code == 403
            response = client.post(f"/admin/{view}/action/",
                                   data={"action": "delete", "rowid": pk, "csrf_token": token})
            assert response.status_code == 403, (role, view)
    for model, ids in before.items():  # the refusals themselves add to the audit trail
        assert ids <= {row.id for row in model.select(model.id)}, model.__name__


def test_an_inline_edit_reaches_only_rows_the_officer_may_see(app, client, world, monkeypatch):
    # No unit-bound officer edits inline today; were one allowed, another unit's row is still a 404.
    view = next(v for v in admin_views(app) if v.endpoint == "case_volume")
    monkeypatch.setattr(view, "read_roles", view.read_roles | {"handler"})
    monkeypatch.setattr(view, "edit_roles", view.edit_roles | {"handler"})
    monkeypatch.setattr(view, "unit_field", CaseVolume.unit)
    own = CaseVolume.create(unit=world["hall_a"], month=world["volume_b"].month, cases=7)
    login(client, trust_world.ROLE_USERS["handler"])
    token = csrf(client, "handler")
    other = client.post("/admin/case_volume/ajax/update/",
                        data={"list_form_pk": world["volume_b"].id, "cases": "1", "csrf_token": token})
    assert other.status_code == 404
    assert CaseVolume.get_by_id(world["volume_b"].id).cases == 40
    mine = client.post("/admin/case_volume/ajax/update/",
                       data={"list_form_pk": own.id, "cases": "8", "csrf_token": token})
    assert mine.status_code == 200 and CaseVolume.get_by_id(own.id).cases == 8


@pytest.mark.parametrize("endpoint, action, model, field", [
    ("evaluation", "open_ticket", Evaluation, Evaluation.unit),
    ("message", "accept", Message, Message.unit),
    ("window", "rotate_token", Window, Window.unit),
])
def test_a_bulk_action_acts_only_on_rows_its_list_shows(endpoint, action, model, field, app, client, world,
                                                        monkeypatch):
    # The office sees every unit: narrow its list to hall_a and send hall_b's row id anyway.
    view = next(v for v in admin_views(app) if v.endpoint == endpoint)
    monkeypatch.setattr(view, "scope", lambda query: query.where(field == world["hall_a"].id))
    target = {"evaluation": world["evaluation_b"], "message": world["message_b"], "window": world["w2"]}[endpoint]
    Ticket.update(evaluation=None, message=None).where(
        (Ticket.evaluation == target.id) | (Ticket.message == target.id)).execute()
    Message.update(status="new").where(Message.id == world["message_b"].id).execute()
    before = model.get_by_id(target.id)
    login(client, trust_world.ROLE_USERS["office"])
    response = client.post(f"/admin/{endpoint}/action/",
                           data={"action": action, "rowid": [target.id], "csrf_token": csrf(client, "office")})
    assert response.status_code == 302
    if endpoint == "window":
        assert Window.get_by_id(target.id).token == before.token
    else:
        column = Ticket.evaluation if endpoint == "evaluation" else Ticket.message
        assert not Ticket.select().where(column == target.id).exists()


def test_a_handlers_lists_count_only_its_own_rows(client, world):
    login(client, trust_world.ROLE_USERS["handler"])
    hall_a = world["hall_a"].id
    expected = {
        "evaluation": Evaluation.select().where(Evaluation.unit == hall_a).count(),
        "ticket": Ticket.select().where(Ticket.handling_unit == hall_a).count(),
        "window": Window.select().where(Window.unit == hall_a).count(),
        "staff": Staff.select().where(Staff.unit == hall_a).count(),
    }
    assert all(expected.values()) and expected["ticket"] < Ticket.select().count()
    for endpoint, count in expected.items():
        page = client.get(f"/admin/{endpoint}/").get_data(as_text=True)
        assert f"列表 ({count})" in page, endpoint
        exported = client.get(f"/admin/{endpoint}/export/csv/").get_data(as_text=True)
        assert len(list(csv.reader(io.StringIO(exported)))) == count + 1, endpoint  # and the header
        # Searched for another unit's words, the list finds none of that unit's rows.
        other = client.get(f"/admin/{endpoint}/?search=医保").get_data(as_text=True)
        assert "医保报销窗口" not in other and "李志强" not in other and "医保窗口" not in other, endpoint
    # Filtered by another unit (the first filter of the evaluations: unit), the list is empty.
    filtered = client.get(f"/admin/evaluation/?flt0_0={world['hall_b'].id}").get_data(as_text=True)
    assert "工作人员吃拿卡要" not in filtered and "本单位的差评" not in filtered


EDITABLE = 'data-role="x-editable'


def test_permissions_are_decided_for_each_request(app, client, world):
    # One view object serves every officer: what it offers follows whoever is logged in now.
    login(client, trust_world.ROLE_USERS["office"])
    assert EDITABLE in client.get("/admin/reason/").get_data(as_text=True)
    assert "/admin/message/export/csv/" in client.get("/admin/message/").get_data(as_text=True)
    client.delete_cookie("session")
    login(client, trust_world.ROLE_USERS["leader"])
    assert EDITABLE not in client.get("/admin/reason/").get_data(as_text=True)
    client.delete_cookie("session")
    login(client, trust_world.ROLE_USERS["auditor"])
    assert client.get("/admin/message/").status_code == 403


def test_another_units_row_answers_as_one_that_does_not_exist(client, world):
    login(client, trust_world.ROLE_USERS["handler"])
    for endpoint, row in (("unit", world["hall_b"]), ("window", world["w2"]), ("staff", world["s2"]),
                          ("evaluation", world["evaluation_b"]), ("ticket", world["problem_b"])):
        assert client.get(f"/admin/{endpoint}/details/?id={row.id}").status_code == 404, endpoint
    for url in (f"/admin/handle/{world['problem_b'].id}/", f"/admin/handle/appeal/{world['evaluation_b'].id}/",
                f"/admin/qr/unit/{world['hall_b'].id}/", f"/admin/qr/window/{world['w2'].id}.png"):
        assert client.get(url).status_code == 404, url
