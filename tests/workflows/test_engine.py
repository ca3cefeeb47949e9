"""Tickets move only through the rule: the right role acts, the deadline follows, history is kept."""
import datetime as dt
import threading

import pytest

from app import tickets
from app.workflow.engine import InvalidInput
from app.workflow.errors import ActionRefused, StaleTicket
from models import Evaluation, Notification, Ticket, TicketEvent, db
from tests.workflows.conftest import MONDAY


def at(days, hour=10):
    return MONDAY + dt.timedelta(days=days, hours=hour - 9)


def step(ticket, user, action, when, **data):
    ticket, _event = tickets.act(ticket.id, user, action, data, at=when)
    return ticket


def test_a_problem_walks_the_articles_chain_to_closing(officers, county, open_problem):
    o = officers
    t = open_problem()
    assert t.stage == "accept" and t.due_at == dt.datetime(2026, 3, 3, 23, 59, 59)  # 1 working day
    t = step(t, o["office"], "submit", at(0), comment="请领导批办")
    t = step(t, o["leader"], "dispatch", at(1), classification="作风问题", comment="请监督检查室调查")
    assert t.stage == "investigate" and t.due_at.date() == dt.date(2026, 3, 24)  # 15 working days
    t = step(t, o["inspector"], "assign", at(2), unit=county["hall_a"].id, comment="请限期整改")
    assert t.stage == "receive" and t.handling_unit_id == county["hall_a"].id and t.transfers == 1
    t = step(t, o["handler_a"], "sign", at(2, 14))
    t = step(t, o["handler_a"], "done", at(5), result="已对窗口人员批评教育，推行一次性告知")
    t = step(t, o["inspector"], "report", at(7), result="经查属实，已整改")
    t = step(t, o["office"], "reply", at(8), reply="已整改并答复群众")
    t = step(t, o["office"], "grade", at(9), grade="dissatisfied")
    assert t.stage == "investigate" and t.grade == "dissatisfied"  # reopened where the rule says
    t = step(t, o["inspector"], "report", at(10), result="再次核查，已当面致歉")
    t = step(t, o["office"], "reply", at(10, 15), reply="再次答复")
    t = step(t, o["office"], "grade", at(11), grade="satisfied")
    assert (t.status, t.stage, t.closing_kind, t.grade) == ("closed", "closed", "solved", "satisfied")
    assert t.closed_at == at(11) and t.due_at is None
    events = [e.action for e in TicketEvent.select().where(TicketEvent.ticket == t).order_by(TicketEvent.id)]
    assert events == ["open", "submit", "dispatch", "assign", "sign", "done", "report", "reply", "grade",
                      "report", "reply", "grade"]
    assert TicketEvent.get(TicketEvent.action == "dispatch").role == "leader"


def test_each_closing_kind(officers, open_problem):
    o = officers
    rejected = step(open_problem(), o["office"], "reject", at(0), comment="不属于受理范围",
                    reply="您反映的事项不属于本平台受理范围，请向县信访局反映。")
    assert rejected.closing_kind == "not_accepted" and rejected.status == "closed"
    t = open_problem()
    t = step(t, o["office"], "submit", at(0), comment="呈报")
    t = step(t, o["leader"], "dispatch", at(0), classification="政策咨询", comment="调查")
    t = step(t, o["inspector"], "report", at(1), result="政策不允许")
    t = step(t, o["office"], "explain", at(1), reply="已向群众说明政策")
    assert t.closing_kind == "explained" and t.reply == "已向群众说明政策" and t.result == "政策不允许"


def test_a_role_that_may_not_act_is_refused(officers, county, open_problem):
    o = officers
    t = open_problem()
    with pytest.raises(ActionRefused) as refused:
        tickets.act(t.id, o["leader"], "submit", {"comment": "越权"}, at=at(0))
    assert refused.value.status == 403 and "平台受理" in str(refused.value)
    t = step(t, o["office"], "submit", at(0), comment="呈报")
    t = step(t, o["leader"], "transfer", at(0), unit=county["hall_b"].id, comment="转医保局")
    with pytest.raises(ActionRefused):  # another unit's handler cannot sign for it
        tickets.act(t.id, o["handler_a"], "sign", {}, at=at(1))
    assert [a.id for a in tickets.available(t, o["handler_b"])] == ["sign", "send_back", ]
    assert tickets.available(t, o["handler_a"]) == []
    assert Ticket.get_by_id(t.id).stage == "receive"


def test_required_fields_are_asked_for_in_chinese(officers, open_problem):
    t = open_problem()
    with pytest.raises(InvalidInput) as invalid:
        tickets.act(t.id, officers["office"], "submit", {"comment": "  "}, at=at(0))
    assert invalid.value.errors == {"comment": "请填写意见。"}
    assert Ticket.get_by_id(t.id).stage == "accept" and Ticket.get_by_id(t.id).revision == 0


def test_transfers_are_limited_and_a_return_goes_back(officers, county, open_problem):
    o = officers
    t = open_problem()
    t = step(t, o["office"], "submit", at(0), comment="呈报")
    t = step(t, o["leader"], "dispatch", at(0), classification="作风", comment="调查")
    t = step(t, o["inspector"], "assign", at(1), unit=county["hall_b"].id, comment="交医保局")
    t = step(t, o["handler_b"], "send_back", at(1, 15), comment="不属于本单位职责")
    assert t.stage == "investigate" and t.handling_unit_id is None
    t = step(t, o["inspector"], "assign", at(2), unit=county["hall_a"].id, comment="交审批局")
    assert t.transfers == 2
    t = step(t, o["handler_a"], "send_back", at(2, 15), comment="也不是我们")
    with pytest.raises(ActionRefused) as refused:
        tickets.act(t.id, o["inspector"], "assign", {"unit": county["hall_b"].id, "comment": "再转"}, at=at(3))
    assert "达到规则上限 2 次" in str(refused.value)


def test_extension_moves_the_deadline_once_approved(officers, county, open_problem):
    o = officers
    t = open_problem()
    t = step(t, o["office"], "submit", at(0), comment="呈报")
    t = step(t, o["leader"], "dispatch", at(0), classification="作风", comment="调查")
    before = t.due_at
    with pytest.raises(InvalidInput) as too_long:
        tickets.act(t.id, o["inspector"], "extend_request", {"days": "99", "comment": "x"}, at=at(3))
    assert too_long.value.errors["days"] == "最多只能延期 15 个工作日。"
    t = step(t, o["inspector"], "extend_request", at(3), days="5", comment="需调取档案")
    assert t.extension_requested == 5 and t.due_at == before
    assert "extend_approve" in [a.id for a in tickets.available(t, o["leader"])]
    t = step(t, o["leader"], "extend_approve", at(4), comment="同意")
    assert t.extension_requested is None
    assert t.due_at.date() == dt.date(2026, 3, 30)  # 03-23 plus 5 working days


def test_a_paused_clock_does_not_run(officers, open_problem):
    o = officers
    t = open_problem()
    t = step(t, o["office"], "submit", at(0), comment="呈报")
    t = step(t, o["leader"], "dispatch", at(0), classification="作风", comment="调查")
    due = t.due_at
    t = step(t, o["inspector"], "pause", at(1), comment="等待群众补充材料")
    assert t.paused_at == at(1) and t.next_alert_at is None
    assert [a.id for a in tickets.available(t, o["inspector"])] == ["resume"]
    t = step(t, o["inspector"], "resume", at(8), comment="材料已补齐")  # Tue 03-03 .. Tue 03-10
    assert due.date() == dt.date(2026, 3, 23)  # dispatched Monday: 15 working days
    assert t.paused_at is None and t.due_at.date() == dt.date(2026, 3, 30)  # 5 working days later


def test_sweep_reminds_then_cards_once_each(officers, open_problem):
    o = officers
    t = open_problem()  # accept: due Tue 03-03 end of day; reminder from Mon 03-02
    assert tickets.sweep(at(0, 11)) == {"remind": 1, "yellow": 0, "red": 0}
    assert tickets.sweep(at(0, 12)) == {"remind": 0, "yellow": 0, "red": 0}  # idempotent
    assert tickets.sweep(at(2)) == {"remind": 0, "yellow": 1, "red": 0}
    t = Ticket.get_by_id(t.id)
    assert t.alert_level == 2 and t.supervised  # on the leader's 督办 list
    assert tickets.sweep(at(5)) == {"remind": 0, "yellow": 0, "red": 1}  # 3 working days after
    assert tickets.sweep(at(30)) == {"remind": 0, "yellow": 0, "red": 0}
    kinds = [(n.kind, n.role) for n in Notification.select().order_by(Notification.id)]
    assert kinds == [("new_work", "office"),  # the new ticket in the office's 待办
                     ("remind", "office"), ("yellow", "office"), ("red", "leader"), ("red", "office")]
    assert tickets.workdays_left(t, at(5)) == -3
    # Acting moves the ticket on: the next stage starts with a clean slate.
    t = step(t, o["office"], "submit", at(5), comment="呈报")
    assert t.alert_level == 0 and t.next_alert_at is not None


def test_two_officers_acting_at_once_one_wins(officers, open_problem):
    t = open_problem()
    step(t, officers["office"], "submit", at(0), comment="先到")
    with pytest.raises(StaleTicket) as stale:
        tickets.act(t.id, officers["office"], "reject", {"comment": "后到", "reply": "不予受理"}, at=at(0),
                    expected_revision=0)
    assert "领导批办分类处置" in str(stale.value)
    assert Ticket.get_by_id(t.id).stage == "approve"
    assert TicketEvent.select().where(TicketEvent.action == "reject").count() == 0


def test_concurrent_actions_in_threads(app, officers, open_problem):
    """Two requests at the same moment, each with its own connection: exactly one wins."""
    t = open_problem()
    barrier, outcomes = threading.Barrier(2), []

    def officer_acts(action, data):
        with db.connection_context():
            barrier.wait()
            try:
                tickets.act(t.id, officers["office"], action, data, at=at(0), expected_revision=0)
                outcomes.append("won")
            except StaleTicket:
                outcomes.append("stale")

    threads = [threading.Thread(target=officer_acts, args=("submit", {"comment": "呈报"})),
               threading.Thread(target=officer_acts, args=("reject", {"comment": "不受理", "reply": "不予受理"}))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["stale", "won"]
    assert TicketEvent.select().where(TicketEvent.ticket == t.id, TicketEvent.action != "open").count() == 1


def test_an_upheld_appeal_excludes_the_rating_but_keeps_it(officers, county, open_problem):
    e = Evaluation.create(unit=county["hall_a"], level="dissatisfied", channel="kiosk", comment="恶意差评")
    t = open_problem("appeal", evaluation=e)
    t = step(t, officers["office"], "uphold", at(1), comment="监控显示当事人未办理业务")
    assert t.closing_kind == "solved"
    e = Evaluation.get_by_id(e.id)
    assert e.excluded is True and e.comment == "恶意差评"


def test_merging_a_duplicate_keeps_both_histories(officers, open_problem):
    first, duplicate = open_problem(), open_problem()
    merged = step(duplicate, officers["office"], "merge", at(0), target=first.code, comment="同一事项")
    assert merged.status == "closed" and merged.closing_kind == "merged"
    assert tickets.follow_merges(merged).id == first.id
    assert TicketEvent.select().where(TicketEvent.ticket == duplicate.id).count() == 2
    with pytest.raises(InvalidInput):
        tickets.act(first.id, officers["office"], "merge", {"target": first.code, "comment": "x"}, at=at(0))


def test_the_enterprise_deadline_counts_from_registration(officers, county, open_problem):
    t = open_problem("enterprise", source="symposium")
    t = step(t, officers["office"], "assign", at(2), unit=county["hall_a"].id, classification="物流",
             comment="请限期解决")
    t = step(t, officers["handler_a"], "sign", at(3))
    assert t.stage == "handle" and t.due_at.date() == dt.date(2026, 3, 16)  # 10 working days from 03-02


def test_todo_lists_what_waits_for_me_overdue_first(officers, county, open_problem):
    late = open_problem(at=MONDAY - dt.timedelta(days=7))
    fresh = open_problem()
    assert [t.id for t in tickets.todo(officers["office"])] == [late.id, fresh.id]
    assert list(tickets.todo(officers["leader"])) == []
    t = step(fresh, officers["office"], "submit", at(0), comment="呈报")
    t = step(t, officers["leader"], "transfer", at(0), unit=county["hall_b"].id, comment="转")
    assert [x.id for x in tickets.todo(officers["handler_b"])] == [t.id]
    assert list(tickets.todo(officers["handler_a"])) == []


def test_the_lead_unit_reports_only_after_every_co_handler_answered(officers, county, open_problem, make_user):
    from models import CoHandling, Unit
    o = officers
    hall_c = Unit.create(code="HC", name="县税务局", kind="hall")
    handler_c = make_user("handler_c", "handler", hall_c)
    t = open_problem()
    t = step(t, o["office"], "submit", at(0), comment="呈报")
    t = step(t, o["leader"], "dispatch", at(0), classification="作风", comment="调查")
    t = step(t, o["inspector"], "assign", at(1), unit=county["hall_a"].id, comment="审批局主办，医保局、税务局协办",
             co_units=[county["hall_b"].id, hall_c.id])
    assert CoHandling.select().where(CoHandling.ticket == t, CoHandling.active).count() == 2
    assert [x.id for x in tickets.todo(o["handler_b"])] == [t.id]  # waits for the co-handler's answer
    t = step(t, o["handler_a"], "sign", at(1, 14))
    with pytest.raises(ActionRefused) as waiting:
        tickets.act(t.id, o["handler_a"], "done", {"result": "已整改"}, at=at(2))
    assert "还有 2 个协办单位没有答复" in str(waiting.value)
    t = step(t, o["handler_b"], "co_answer", at(2), comment="医保局已配合核实报销材料")
    assert "co_answer" not in [a.id for a in tickets.available(t, o["handler_b"])]  # answered once
    t = step(t, handler_c, "co_answer", at(2, 11), comment="税务局无相关问题")
    assert list(tickets.todo(o["handler_b"])) == []
    t = step(t, o["handler_a"], "done", at(3), result="三家单位联合整改完毕")
    assert t.stage == "investigate"
    with pytest.raises(ActionRefused):  # a unit that is neither lead nor co-handler
        tickets.act(t.id, make_user("handler_d", "handler", county["township"]), "co_answer",
                    {"comment": "x"}, at=at(3))


def test_a_message_accepted_late_is_already_on_the_supervision_list(officers, county):
    import datetime as dt
    from models import Message
    message = Message.create(kind="appeal", unit=county["hall_a"], content="一周前的留言，一直没人理",
                             created_at=MONDAY)
    ticket = tickets.open_for_message(message, officers["office"], at=MONDAY + dt.timedelta(days=8))
    assert ticket.created_at == MONDAY  # the clock ran from receipt
    assert ticket.alert_level == 3 and ticket.supervised
    assert Notification.select().where(Notification.ticket == ticket, Notification.kind == "red").exists()
    assert Message.get_by_id(message.id).status == "accepted"
