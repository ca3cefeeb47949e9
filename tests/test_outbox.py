"""Notices really go out: each event to exactly its channels, through a local HTTP sink and SMTP server."""
import datetime as dt
import logging

import pytest

from app import outbox, tickets
from models import AuditLog, Channel, Contact, Delivery, Notification, Ticket, Unit
from tests.conftest import csrf_token
from tests.sinks import HttpSink, SmtpSink

MONDAY = dt.datetime(2026, 3, 2, 9, 0)
PHONE = "13912345678"
CANARY = "内部金丝雀7Q3X"


@pytest.fixture
def officers(county, make_user, conn):
    commission = Unit.create(code="K01", name="县纪委监委", kind="commission")
    return {
        "office": make_user("office", "office", commission, full_name="刘主任"),
        "leader": make_user("leader", "leader", commission, full_name="王书记"),
        "inspector": make_user("inspector", "inspector", commission, full_name="赵检查"),
        "handler_a": make_user("handler_a", "handler", county["hall_a"], full_name="孙经办"),
        "handler_b": make_user("handler_b", "handler", county["hall_b"], full_name="周经办"),
    }


@pytest.fixture
def sink():
    with HttpSink() as running:
        yield running


@pytest.fixture
def smtp():
    with SmtpSink() as running:
        yield running


@pytest.fixture
def channels(sink, smtp, county, officers):
    """A group per role of the commission, per hall unit, a handler's mailbox and the SMS gateway."""
    made = {}
    for role in ("office", "leader", "inspector"):
        made[role] = Channel.create(title=f"{role} 群", kind="role", role=role, url=sink.url(f"/{role}"))
    for key in ("hall_a", "hall_b"):
        made[key] = Channel.create(title=f"{key} 群", kind="unit", unit=county[key], url=sink.url(f"/{key}"))
    made["mail_a"] = Channel.create(title="孙经办邮箱", kind="account", user=officers["handler_a"],
                                    url=smtp.url("sun@county.local"))
    made["sms"] = Channel.create(title="短信网关", kind="citizen_sms", url=sink.url("/sms?:phone={phone}"))
    return made


def open_problem(officers, county, at=MONDAY, phone=PHONE, **facts):
    contact = Contact.create(name="王秀英" + CANARY, phone=phone) if phone is not None else None
    facts.setdefault("unit", county["hall_a"])
    return tickets.open_ticket("problem", title="窗口办事拖拉", content="材料齐全仍被要求跑三趟" + CANARY,
                               source="kiosk", actor_user=officers["office"], at=at,
                               contact=contact.id if contact else None, **facts)


def by_path(sink):
    got = {}
    for request in sink.received:
        got.setdefault(request["path"], []).append(request["json"]["message"])
    return got


def test_each_event_reaches_exactly_its_channels(officers, county, channels, sink, smtp):
    o = officers
    t = open_problem(o, county)
    assert outbox.drain(at=MONDAY) == {"sent": 2, "retry": 0, "failed": 0, "skipped": 0, "held": 0}
    got = by_path(sink)
    assert set(got) == {"/office", "/sms"}
    assert got["/office"] == [f"【直通车】{t.code}“窗口办事拖拉”已到“平台受理”环节，请在 2026-03-03 23:59 前办理："
                              f"http://127.0.0.1:5000/admin/handle/{t.id}/"]
    assert got["/sms"] == [f"【直通车】您反映的问题已受理，查询码 {t.query_code}，"
                           f"可在 http://127.0.0.1:5000/track?code={t.query_code} 查看办理进展。"]
    assert sink.received[-1]["json"]["phone"] == PHONE  # the gateway learns the number, nothing else does

    sink.received.clear()
    t, _ = tickets.act(t.id, o["office"], "submit", {"comment": "呈报" + CANARY}, at=MONDAY)
    t, _ = tickets.act(t.id, o["leader"], "dispatch", {"classification": "作风" + CANARY, "comment": "查"}, at=MONDAY)
    outbox.drain(at=MONDAY)
    assert {k: len(v) for k, v in by_path(sink).items()} == {"/leader": 1, "/inspector": 1}

    sink.received.clear()
    t, _ = tickets.act(t.id, o["inspector"], "assign", {"unit": county["hall_a"].id, "comment": "交办" + CANARY,
                                                       "co_units": [county["hall_b"].id]}, at=MONDAY)
    outbox.drain(at=MONDAY)
    got = by_path(sink)
    assert {k: len(v) for k, v in got.items()} == {"/hall_a": 1, "/hall_b": 1, "/sms": 1}
    assert "已到“承办单位签收”环节" in got["/hall_a"][0]
    assert "请县医疗保障局协办" in got["/hall_b"][0]
    assert got["/sms"] == [f"【直通车】您反映的问题（查询码 {t.query_code}）已转县行政审批局办理，"
                           f"进展请见 http://127.0.0.1:5000/track?code={t.query_code}"]
    assert [m["to"] for m in smtp.received] == [["sun@county.local"]]
    assert "承办单位签收" in smtp.received[0]["text"] and smtp.received[0]["subject"] == "直通车"

    # The lead unit waits for hall_b: the chase goes to hall_b alone.
    sink.received.clear()
    outbox.notify_unit(Ticket.get_by_id(t.id), county["hall_b"].id, at=MONDAY)
    outbox.drain(at=MONDAY)
    assert list(by_path(sink)) == ["/hall_b"] and "催办" in by_path(sink)["/hall_b"][0]

    # Every notice on every channel was sent once, and none carries the complainant.
    assert not Delivery.select().where(Delivery.status != "sent").exists()
    officer_texts = [n.message for n in Notification.select().where(Notification.role != "citizen")]
    assert officer_texts and not any("王秀英" in text or PHONE in text for text in officer_texts)


def test_no_citizen_message_holds_anything_internal(officers, county, channels, sink):
    o = officers
    t = open_problem(o, county)
    t, _ = tickets.act(t.id, o["office"], "submit", {"comment": CANARY}, at=MONDAY)
    t, _ = tickets.act(t.id, o["leader"], "transfer", {"unit": county["hall_b"].id, "comment": CANARY}, at=MONDAY)
    t, _ = tickets.act(t.id, o["handler_b"], "sign", {}, at=MONDAY)
    t, _ = tickets.act(t.id, o["handler_b"], "done", {"result": CANARY}, at=MONDAY)
    t, _ = tickets.act(t.id, o["inspector"], "report", {"result": CANARY}, at=MONDAY)
    t, _ = tickets.act(t.id, o["office"], "reply", {"reply": "已责令窗口整改，材料一次讲清。"}, at=MONDAY)
    tickets.citizen_grade(t.id, "dissatisfied", at=MONDAY)
    outbox.drain(at=MONDAY + dt.timedelta(days=1))
    sms = by_path(sink)["/sms"]
    kinds = [n.kind for n in Notification.select().where(Notification.role == "citizen").order_by(Notification.id)]
    assert kinds == ["citizen_accepted", "citizen_transfer", "citizen_replied", "citizen_reopened"]
    assert len(sms) == 4  # the fourth of the day the next morning
    for text in sms:
        assert CANARY not in text and "窗口办事拖拉" not in text
        for officer in o.values():
            assert officer.full_name not in text
    assert any("已责令窗口整改" in text and "县医疗保障局已答复" in text for text in sms)  # the unit that answered
    assert any("重新交" in text for text in sms)


def test_a_failing_gateway_is_retried_then_listed_and_resent(officers, county, client, make_user, monkeypatch):
    monkeypatch.setitem(outbox.settings, "max_attempts", 3)
    with HttpSink(status=500, answer="quota exceeded 配额已用完") as failing:
        Channel.create(title="纪委群", kind="role", role="office", url=failing.url("/office"))
        t = open_problem(officers, county, phone=None)  # the action succeeds: nothing is sent in it
        assert Ticket.get_by_id(t.id).stage == "accept"
        assert outbox.drain(at=MONDAY)["retry"] == 1
        row = Delivery.get()
        assert row.attempts == 1 and row.next_attempt_at == MONDAY + dt.timedelta(minutes=1)
        assert "error=500" in row.last_error  # a first try asks Apprise for the status line only
        assert outbox.drain(at=MONDAY + dt.timedelta(seconds=59))["retry"] == 0  # not yet
        assert outbox.drain(at=MONDAY + dt.timedelta(minutes=1))["retry"] == 1
        assert Delivery.get().next_attempt_at == MONDAY + dt.timedelta(minutes=3)  # then 2 minutes
        assert outbox.drain(at=MONDAY + dt.timedelta(minutes=3))["failed"] == 1
        assert len(failing.received) == 3
    row = Delivery.get()
    assert row.status == "failed" and row.attempts == 3
    assert "error=500" in row.last_error and "quota exceeded 配额已用完" in row.last_error  # the gateway's words
    assert outbox.drain(at=MONDAY + dt.timedelta(days=1)) == {"sent": 0, "retry": 0, "failed": 0, "skipped": 0,
                                                               "held": 0}

    # The office sees it failed, with the gateway's answer, and sends it again.
    from tests.conftest import login
    office = make_user("office2", "office", None)
    login(client, office.username)
    page = client.get("/admin/delivery/?flt0_0=failed").get_data(as_text=True)
    assert "发送失败" in page and "quota exceeded" in page and "新待办" in page
    token = csrf_token(client, "/admin/delivery/")
    response = client.post("/admin/delivery/action/", data={"action": "resend", "rowid": [row.id],
                                                             "csrf_token": token})
    assert response.status_code == 302 and Delivery.get().status == "pending"
    with HttpSink() as mended:
        Channel.update(url=mended.url("/office")).execute()
        assert outbox.drain()["sent"] == 1
        assert len(mended.received) == 1
    assert AuditLog.select().where(AuditLog.action == "delivery_resend").exists()


def test_a_gateway_that_is_down_or_slow_is_a_retry_not_a_loss(officers, county, monkeypatch):
    with HttpSink() as gone:
        url = gone.url("/office")
    Channel.create(title="纪委群", kind="role", role="office", url=url)
    open_problem(officers, county, phone=None)
    assert outbox.drain(at=MONDAY)["retry"] == 1
    assert "Connection error" in Delivery.get().last_error
    with HttpSink(delay=0.5) as slow:
        Channel.update(url=slow.url("/office") + "?rto=0.2").execute()
        assert outbox.drain(at=MONDAY + dt.timedelta(minutes=1))["retry"] == 1
        assert "timed out" in Delivery.get().last_error


def test_sms_waits_for_morning_and_at_most_three_a_day(officers, county, channels, sink):
    evening = dt.datetime(2026, 3, 2, 22, 30)
    t = open_problem(officers, county, at=evening)
    row = Delivery.select().join(Channel).where(Channel.kind == "citizen_sms").get()
    morning = dt.datetime(2026, 3, 3, 8, 0)
    assert row.next_attempt_at == morning
    outbox.drain(at=evening)
    assert "/sms" not in by_path(sink)
    for _ in range(3):
        outbox.notify_citizen(Ticket.get_by_id(t.id), "citizen_transfer", dt.datetime(2026, 3, 3, 10, 0))
    slots = [d.scheduled_at for d in Delivery.select().join(Channel).where(Channel.kind == "citizen_sms")
             .order_by(Delivery.id)]
    assert slots == [morning, dt.datetime(2026, 3, 3, 10, 0), dt.datetime(2026, 3, 3, 10, 0),
                     dt.datetime(2026, 3, 4, 8, 0)]  # the fourth of the day waits for the next morning
    outbox.drain(at=dt.datetime(2026, 3, 3, 12, 0))
    assert len(by_path(sink)["/sms"]) == 3
    # A retry that falls in the night is held too, without counting as a try.
    assert outbox.drain(at=dt.datetime(2026, 3, 4, 7, 0))["sent"] == 0
    assert outbox.drain(at=dt.datetime(2026, 3, 4, 8, 0))["sent"] == 1


def test_a_phone_that_is_no_mobile_gets_no_sms_and_the_office_sees_it(officers, county, channels, sink, client,
                                                                      caplog):
    open_problem(officers, county, phone="0317-6612345")
    open_problem(officers, county)
    caplog.set_level(logging.DEBUG)  # every logger, while the worker reads the phones and sends
    assert outbox.drain(at=MONDAY)["skipped"] == 1
    assert len(by_path(sink)["/sms"]) == 1
    skipped = Delivery.get(Delivery.status == "skipped")
    assert "不是手机号码" in skipped.last_error and "6612345" not in skipped.last_error
    for row in Delivery.select():  # the phone is read at send time, never stored beside the notice
        assert PHONE not in str(row.__data__) and "6612345" not in str(row.__data__)
    assert PHONE not in caplog.text and "6612345" not in caplog.text
    from tests.conftest import login
    login(client, "office")
    page = client.get("/admin/delivery/?flt0_0=skipped").get_data(as_text=True)
    assert "不是手机号码" in page and "6612345" not in page and PHONE not in page


def test_the_accused_officers_account_is_never_told(officers, county, sink, make_user):
    accused = make_user("handler_s1", "handler", county["hall_a"], staff=county["s1"])
    mine = Channel.create(title="被反映者邮箱", kind="account", user=accused, url=sink.url("/accused"))
    colleague = Channel.create(title="同事邮箱", kind="account", user=officers["handler_a"], url=sink.url("/colleague"))
    t = open_problem(officers, county, staff=county["s1"], handling_unit=county["hall_a"])
    assert outbox.route("handler", county["hall_a"].id, t) == [colleague.id]
    assert mine.id not in outbox.route("handler", county["hall_a"].id, t)


def test_two_workers_never_claim_the_same_row(officers, county, channels):
    open_problem(officers, county)
    (first,), _token, _until = outbox.claim(MONDAY)
    (second,), _token, _until = outbox.claim(MONDAY)
    assert first != second
    assert outbox.claim(MONDAY)[0] == []  # two notices, two claims
    # A claim whose worker died is taken over once its lease is out, not before.
    lease = dt.timedelta(seconds=outbox.settings["lease_seconds"])
    assert outbox.claim(MONDAY + lease - dt.timedelta(seconds=1))[0] == []
    assert outbox.claim(MONDAY + lease, limit=5)[0] == sorted([first, second])


# --- the channel screen ------------------------------------------------------------------------
SECRET = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"


@pytest.fixture
def office_client(client, officers):
    from tests.conftest import login
    login(client, "office")
    return client


def test_a_bad_url_is_refused_in_chinese(office_client):
    token = csrf_token(office_client, "/admin/channel/new/")
    response = office_client.post("/admin/channel/new/", data={
        "title": "坏地址", "kind": "role", "role": "office", "address": "wecombot:/nothing here", "active": "y",
        "csrf_token": token})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Apprise 无法识别这个地址" in page
    assert not Channel.select().exists()


def test_the_secret_is_never_shown_again(office_client, sink):
    token = csrf_token(office_client, "/admin/channel/new/")
    url = f"wecombot://{SECRET}"
    response = office_client.post("/admin/channel/new/", data={
        "title": "纪委监委工作群", "kind": "role", "role": "leader", "address": url, "active": "y",
        "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    channel = Channel.get()
    assert channel.url == url and channel.masked_url == "wecombot://****5aaa"
    pages = [office_client.get(u).get_data(as_text=True) for u in
             ("/admin/channel/", f"/admin/channel/details/?id={channel.id}", f"/admin/channel/edit/?id={channel.id}")]
    assert all(SECRET not in page for page in pages)
    assert "wecombot://****5aaa" in pages[0]
    # Saved again without a new address: the old one stays; with a title change, the audit has no secret.
    response = office_client.post(f"/admin/channel/edit/?id={channel.id}", data={
        "title": "纪委监委领导群", "kind": "role", "role": "leader", "address": "", "active": "y",
        "csrf_token": token})
    assert response.status_code == 302
    assert Channel.get().url == url and Channel.get().title == "纪委监委领导群"
    office_client.post(f"/admin/channel/edit/?id={channel.id}", data={
        "title": "纪委监委领导群", "kind": "role", "role": "leader", "address": f"wecombot://{SECRET}b", "active": "y",
        "csrf_token": token})
    details = [a.detail for a in AuditLog.select()]
    assert any("纪委监委工作群" in d for d in details)
    assert all(SECRET not in d for d in details)


def test_send_test_shows_the_gateways_answer(office_client):
    with HttpSink(status=500, answer="invalid webhook key") as failing:
        channel = Channel.create(title="测试群", kind="role", role="office", url=failing.url("/hook"))
        token = csrf_token(office_client, "/admin/channel/")
        page = office_client.post(f"/admin/channel/test/{channel.id}/", data={"csrf_token": token},
                                  follow_redirects=True).get_data(as_text=True)
        assert "invalid webhook key" in page and len(failing.received) == 1
        assert "测试消息" in failing.received[0]["json"]["message"]
    with HttpSink() as working:
        sms = Channel.create(title="短信", kind="citizen_sms", url=working.url("/sms?:phone={phone}"))
        page = office_client.post(f"/admin/channel/test/{sms.id}/", data={"csrf_token": token, "phone": PHONE},
                                  follow_redirects=True).get_data(as_text=True)
        assert "已被" in page or "成功" in page
        assert working.received[0]["json"]["phone"] == PHONE
    assert all(PHONE not in a.detail for a in AuditLog.select())


def test_the_texts_are_the_offices_to_edit(officers, county, sink, app):
    from pathlib import Path

    from app import procedures
    from app.workflow.errors import WorkflowFileError
    Channel.create(title="纪委群", kind="role", role="office", url=sink.url("/office"))
    text = Path(app.config["WORKFLOWS_PATH"]).read_text(encoding="utf-8")
    procedures.accept(text.replace("  new_work: 【直通车】{code}“{title}”已到“{stage}”环节，请在 {due} 前办理：{link}",
                              "  new_work: 新待办 {code}：{stage}"), user=officers["office"])
    t = open_problem(officers, county, phone=None)
    outbox.drain(at=MONDAY)
    assert by_path(sink)["/office"] == [f"新待办 {t.code}：平台受理"]
    with pytest.raises(WorkflowFileError) as refused:
        procedures.accept(text.replace("查看办理进展。", "查看办理进展。{content}"))
    assert "通知文字“短信：已受理”: 不认识的占位符 {content}" in str(refused.value)


def test_extension_requests_and_decisions_are_told(officers, county, sink):
    o = officers
    Channel.create(title="领导群", kind="role", role="leader", url=sink.url("/leader"))
    Channel.create(title="检查室群", kind="role", role="inspector", url=sink.url("/inspector"))
    t = open_problem(o, county, phone=None)
    t, _ = tickets.act(t.id, o["office"], "submit", {"comment": "呈报"}, at=MONDAY)
    t, _ = tickets.act(t.id, o["leader"], "dispatch", {"classification": "作风", "comment": "查"}, at=MONDAY)
    t, _ = tickets.act(t.id, o["inspector"], "extend_request", {"days": "5", "comment": "需要调取录像"}, at=MONDAY)
    t, _ = tickets.act(t.id, o["leader"], "extend_reject", {"comment": "按期办结"}, at=MONDAY)
    outbox.drain(at=MONDAY)
    got = by_path(sink)
    assert len(got["/leader"]) == 2 and "申请延期 5 天，请审批" in got["/leader"][1]
    assert len(got["/inspector"]) == 2 and "延期申请未获批准" in got["/inspector"][1]


def test_every_notice_kind_fits_its_column():
    from app.workflow.schema import NOTICE_KINDS
    assert max(len(kind) for kind in NOTICE_KINDS) <= Notification.kind.max_length  # PostgreSQL would refuse


def test_the_sweep_tells_the_groups_of_reminders_and_cards(officers, county, sink):
    Channel.create(title="监督室群", kind="role", role="office", url=sink.url("/office"))
    Channel.create(title="领导群", kind="role", role="leader", url=sink.url("/leader"))
    open_problem(officers, county, phone=None)  # accept: due Tue 03-03; reminder from Mon 03-02
    tickets.sweep(MONDAY + dt.timedelta(hours=2))
    tickets.sweep(MONDAY + dt.timedelta(days=5))  # yellow, then red three working days on
    outbox.drain(at=MONDAY + dt.timedelta(days=5))
    office, leader = by_path(sink)["/office"], by_path(sink)["/leader"]
    assert ["已到“平台受理”环节" in office[0], "即将到期" in office[1], "黄牌" in office[2],
            "红牌" in office[3]] == [True] * 4 and len(office) == 4
    assert len(leader) == 1 and "红牌" in leader[0]


def test_workers_draining_together_send_each_notice_once(officers, county, sink, app):
    import threading

    from models import db
    Channel.create(title="监督室群", kind="role", role="office", url=sink.url("/office"))
    for _ in range(30):
        open_problem(officers, county, phone=None)
    errors = []

    def worker():
        try:
            with app.app_context(), db.connection_context():
                outbox.drain()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    sent = sink.messages("/office")
    assert len(sent) == 30 and len(set(sent)) == 30
    assert Delivery.select().where(Delivery.status == "sent").count() == 30


def test_the_delivery_thread_lets_requests_go_first():
    import threading
    import time

    release = threading.Event()
    in_flight = outbox.InFlight(lambda environ, start_response: release.wait(2) and [b""])
    started = time.monotonic()
    in_flight.wait_quiet(longest=0.5)
    assert time.monotonic() - started < 0.1  # nothing served: no wait at all
    serving = threading.Thread(target=in_flight, args=({}, None))
    serving.start()
    time.sleep(0.05)
    started = time.monotonic()
    in_flight.wait_quiet(longest=0.3)
    assert 0.25 < time.monotonic() - started < 1  # a request in flight: waits, but not for ever
    release.set()
    serving.join()
    started = time.monotonic()
    in_flight.wait_quiet(longest=0.5, calm=0.05)
    assert time.monotonic() - started < 0.3  # the request ended: a short calm, then go
