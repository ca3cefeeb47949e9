"""Loads the demo county from the data files beside this module. Running it again changes nothing.

The demo activity reproduces the Haixing report's totals: 390 evaluations and suggestions
collected, 22 problems accepted, 22 solved.
"""
import csv
import datetime
import random
from pathlib import Path

import yaml

from app import procedures, tallies
from app.appeals import enterprise_title
from app.tickets import counts_as_bad
from app.roles import AUDITOR, BUREAU, HANDLER, INSPECTOR, LEADER, OFFICE, SECADMIN, SYSADMIN
from models import (Contact, Evaluation, EvaluationReason, Message, Reason, Staff, Symposium,
                    SystemSetting, Ticket, TicketEvent, Unit, User, Window, db)

SEED_DIR = Path(__file__).resolve().parent

# The four reasons of the article, offered on 不满意 in this order.
REASONS = ("办理速度慢", "故意刁难", "吃拿卡要", "服务态度差")  # Haixing's: offered with 差评
# The national 好差评 scale's tags for the better levels, offered only when RATING_SCALE=five.
GOOD_TAGS = ("服务热情周到", "办事效率高", "一次性告知清楚", "材料精简", "流程简便")
NEUTRAL_TAGS = ("等候时间较长", "材料要求较多", "指引不够清楚")

DEMO_PASSWORD = "Demo@2026"
COMMISSION_UNIT = {"code": "K01", "name": "县纪委监委", "kind": "commission"}
# username, role, full name, unit code
DEMO_USERS = (
    ("admin", SYSADMIN, "韩立新", None),
    ("security", SECADMIN, "于海燕", None),
    ("office", OFFICE, "周文涛", "K01"),
    ("leader", LEADER, "郭建新", "K01"),
    ("inspector", INSPECTOR, "马晓东", "K01"),
    ("bureau", BUREAU, "何丽萍", "H01"),
    ("auditor", AUDITOR, "孙慧敏", None),
    ("handler1", HANDLER, "邵春燕", "H01"),
    ("handler2", HANDLER, "冯国栋", "H04"),
    ("handler3", HANDLER, "唐志刚", "T01"),
    ("handler4", HANDLER, "苗秀娟", "T02"),
)

ARTICLE_COLLECTED = 390  # evaluations + messages
DEMO_ACTIVITY_KEY = "demo_activity_loaded"

OUTCOME_IDS = {"责令整改": "rectify", "批评教育": "criticism", "约谈提醒": "talk",
               "发文通报": "notice", "免去职务": "dismissal"}
UNIT_GROUPS = (("law_enforcement", "law_enforcement"), ("townships", "township"), ("farms", "farm"),
               ("zones", "zone"), ("enterprises", "enterprise"), ("communities", "community"),
               ("schools", "school"))


def read_yaml(name):
    with open(SEED_DIR / name, encoding="utf-8") as f:
        return yaml.safe_load(f)


def load(demo=True, today=None):
    """Load the reason catalogue and, for a demo database, the whole demo county."""
    summary = {}
    with db.atomic():
        summary["reasons"] = load_reasons()
        if demo:
            summary["units"] = load_units()
            summary["windows"], summary["staff"] = load_hall()
            summary["users"] = load_users()
            summary["activity"] = load_activity(today or datetime.date.today())
    return summary


def load_reasons():
    tags = ([(t, "dissatisfied,very_dissatisfied") for t in REASONS]
            + [(t, "very_satisfied,satisfied") for t in GOOD_TAGS]
            + [(t, "basically_satisfied") for t in NEUTRAL_TAGS])
    for order, (title, levels) in enumerate(tags, start=1):
        Reason.get_or_create(title=title, defaults={"sort_order": order * 10, "levels": levels})
    return Reason.select().count()


def upsert_unit(code, name, kind, parent=None):
    unit = Unit.get_or_none(Unit.code == code)
    if unit is None:
        return Unit.create(code=code, name=name, kind=kind, parent=parent)
    return unit


def load_units():
    upsert_unit(**COMMISSION_UNIT)
    for unit in read_yaml("hall.yaml")["units"]:
        upsert_unit(unit["code"], unit["name"], "hall")
    groups = read_yaml("units.yaml")
    for key, kind in UNIT_GROUPS:
        for row in groups.get(key, ()):
            parent = Unit.get(Unit.code == row["parent"]) if row.get("parent") else None
            upsert_unit(row["code"], row["name"], kind, parent)
    with open(SEED_DIR / "villages.csv", encoding="utf-8", newline="") as f:
        townships = {u.code: u for u in Unit.select().where(Unit.kind == "township")}
        for row in csv.DictReader(f):
            upsert_unit(row["code"], row["name"], "village", townships[row["township"]])
    return Unit.select().count()


def load_hall():
    for data in read_yaml("hall.yaml")["units"]:
        unit = Unit.get(Unit.code == data["code"])
        windows = {}
        for w in data["windows"]:
            window = Window.get_or_none(Window.number == w["number"])
            if window is None:
                window = Window.create(unit=unit, number=w["number"], name=w["name"],
                                       services=w.get("services", ""))
            windows[w["number"]] = window
        for s in data["staff"]:
            if not Staff.select().where(Staff.number == s["number"]).exists():
                Staff.create(unit=unit, number=s["number"], name=s["name"],
                             position=s.get("position", ""), window=windows.get(s.get("window")))
    return Window.select().count(), Staff.select().count()


def load_users():
    for username, role, full_name, unit_code in DEMO_USERS:
        if User.select().where(User.username == username).exists():
            continue  # never reset a password someone may have changed
        user = User(username=username, role=role, full_name=full_name,
                    unit=Unit.get(Unit.code == unit_code) if unit_code else None)
        user.set_password(DEMO_PASSWORD)
        user.save()
    return User.select().count()


def working_time(rng, day):
    """A moment in the hall's opening hours on `day`."""
    minute = rng.randrange(8 * 60 + 30, 17 * 60 + 30)
    return datetime.datetime.combine(day, datetime.time(minute // 60, minute % 60, rng.randrange(60)))


def past_weekday(rng, today, max_days):
    while True:
        day = today - datetime.timedelta(days=rng.randrange(1, max_days))
        if day.weekday() < 5:
            return day


def last_weekday(day):
    """The last weekday before `day`: on a Sunday or a Monday, the Friday."""
    day -= datetime.timedelta(days=1)
    while day.weekday() >= 5:
        day -= datetime.timedelta(days=1)
    return day


def add_weekdays(day, n):
    while n > 0:
        day += datetime.timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def load_activity(today):
    """Evaluations, messages and the 22 problems, once per database."""
    if SystemSetting.read(DEMO_ACTIVITY_KEY):
        return "already loaded"
    rng = random.Random(20210901)  # the month the system went live: the same county every time
    activity = read_yaml("activity.yaml")
    comments = activity["evaluation_comments"]
    reasons = {r.title: r for r in Reason.select()}
    windows = list(Window.select().order_by(Window.number))
    staff_by_window = {}
    for s in Staff.select().where(Staff.window.is_null(False)).order_by(Staff.number):
        staff_by_window.setdefault(s.window_id, []).append(s)
    villages = list(Unit.select().where(Unit.kind.in_(("village", "township", "law_enforcement")))
                    .order_by(Unit.code))
    office = User.get(User.username == "office")

    problems = activity["problems"]
    n_messages = len(activity["messages"]) + sum(1 for p in problems if not p["from_evaluation"])
    n_evaluations = ARTICLE_COLLECTED - n_messages
    n_problem_evaluations = sum(1 for p in problems if p["from_evaluation"])

    def evaluate(day, window=None, unit=None, level=None, reason_titles=(), comment=None,
                 channel=None, contact=None):
        staff = rng.choice(staff_by_window[window.id]) if window and rng.random() < 0.8 else None
        level = level or rng.choices(("satisfied", "average", "dissatisfied"), (86, 10, 4))[0]
        if level == "dissatisfied" and not reason_titles:
            reason_titles = rng.sample(REASONS[:2] + REASONS[3:], rng.choice((1, 1, 2)))
        if comment is None:
            comment = rng.choice(comments[level]) if rng.random() < 0.4 else ""
        evaluation = Evaluation.create(
            unit=window.unit_id if window else unit, window=window, staff=staff, level=level,
            comment=comment, channel=channel or rng.choices(("kiosk", "qr", "hotline"), (55, 40, 5))[0],
            contact=contact, created_at=working_time(rng, day))
        for title in reason_titles:
            EvaluationReason.create(evaluation=evaluation, reason=reasons[title])
        return tallies.record(evaluation, [reasons[title].id for title in reason_titles])

    for _ in range(n_evaluations - n_problem_evaluations):
        day = past_weekday(rng, today, 200)
        if rng.random() < 0.85:
            evaluate(day, window=rng.choice(windows))
        else:
            evaluate(day, unit=rng.choice(villages), channel="qr")

    unread = len(activity["messages"]) - 3  # the last three wait for the office: some already late
    for i, m in enumerate(activity["messages"]):
        day = past_weekday(rng, today, 12 if i >= unread else 200)
        created = working_time(rng, day)
        answered = i < unread
        Message.create(
            kind=m["kind"], unit=Unit.get(Unit.code == m["unit"]) if m.get("unit") else None,
            content=m["content"], channel="web", contact=make_contact(m), created_at=created,
            status="answered" if answered else "new",
            reply="感谢您的意见建议，已转相关单位研究办理。" if answered else "")

    for number, p in enumerate(problems, start=1):
        load_problem(rng, today, number, p, evaluate, office)
    load_symposium(today, office, len(problems))

    SystemSetting.write(DEMO_ACTIVITY_KEY, today.isoformat())
    return (f"{Evaluation.select().count()} evaluations, {Message.select().count()} messages, "
            f"{Ticket.select().count()} problems")


def load_symposium(today, office, numbered):
    """The article's 纪企直通车 meeting: 18 issues as a list, 10 solved, 8 answered with an explanation."""
    data = read_yaml("symposium.yaml")
    held = last_weekday(today - datetime.timedelta(days=data["meeting"]["days_ago"]))
    meeting = Symposium.create(title=data["meeting"]["title"], place=data["meeting"]["place"], held_on=held)
    start = datetime.datetime.combine(held, datetime.time(10, 0))
    for i, issue in enumerate(data["issues"], start=1):
        company = Unit.get(Unit.code == issue["company"])
        unit = Unit.get(Unit.code == issue["handling_unit"])
        closed_day = add_weekdays(held, issue["deadline_workdays"])
        closed = datetime.datetime.combine(closed_day, datetime.time(16, 0))
        final = "closed" if issue["state"] == "solved" else "explained"
        ticket = Ticket.create(
            code=f"ZTC-{held.year}-{numbered + i:04d}", title=enterprise_title(issue["category"], issue["content"]),
            content=issue["content"], source="symposium", unit=None, handling_unit=unit,
            contact=Contact.create(company=company.name), workflow="enterprise",
            workflow_version=procedures.active_versions()["enterprise"],
            stage=final, status="closed", closing_kind=issue["state"], classification=issue["category"],
            deadline=closed_day, handler=office, result=issue["result"], symposium=meeting,
            # the article's results are public facts: the demo answers the companies with them
            reply=issue["result"], replied_at=closed, reply_unit=unit,
            time_limit=issue["deadline_workdays"],
            created_at=start, stage_entered_at=closed, closed_at=closed, revision=4)
        TicketEvent.create(ticket=ticket, actor=office, role="office", action="open", title="立案",
                           to_stage="register", comment=f"{meeting.title}登记", created_at=start)
        TicketEvent.create(ticket=ticket, actor=office, role="office", action="assign", title="交办",
                           from_stage="register", to_stage="receive", comment=f"交{unit.name}限期办理",
                           created_at=start + datetime.timedelta(minutes=30))
        TicketEvent.create(ticket=ticket, actor=office, role="office",
                           action="solved" if issue["state"] == "solved" else "explain",
                           title="已解决，反馈企业" if issue["state"] == "solved" else "政策不允许，作出解释",
                           from_stage="feedback", to_stage=final, comment=issue["result"], created_at=closed)


def make_contact(row):
    if not (row.get("name") or row.get("phone")):
        return None
    return Contact.create(name=row.get("name") or "", phone=row.get("phone") or "")


def load_problem(rng, today, number, p, evaluate, office):
    unit = Unit.get(Unit.code == p["unit"])
    window = Window.get(Window.number == p["window"]) if p.get("window") else None
    day = past_weekday(rng, today, 190)
    contact = make_contact(p)
    evaluation = message = None
    if p["from_evaluation"]:
        evaluation = evaluate(day, window=window, unit=unit, level="dissatisfied",
                              reason_titles=[p["reason"]], comment=p["content"],
                              channel=p["source"], contact=contact)
        created = evaluation.created_at
    else:
        created = working_time(rng, day)
        message = Message.create(kind="complaint", unit=unit, content=p["content"], channel=p["source"],
                                 contact=contact, created_at=created, status="accepted")
    closed_day = add_weekdays(created.date(), p["days_to_solve"] - 1) if p["days_to_solve"] > 1 else created.date()
    closed = max(datetime.datetime.combine(closed_day, datetime.time(17, 0)), created + datetime.timedelta(hours=1))
    # The procedure each would have followed: 吃拿卡要 goes straight to the commission.
    if p["from_evaluation"]:
        workflow = "problem" if p["reason"] == "吃拿卡要" else "evaluation"
    else:
        workflow = "message" if p["source"] == "web" else "problem"
    ticket = Ticket.create(
        workflow=workflow, workflow_version=procedures.active_versions()[workflow], stage_entered_at=closed, revision=3,
        code=f"ZTC-{created.year}-{number:04d}", title=p["title"], content=p["content"],
        source=p["source"], unit=unit, window=window,
        handling_unit=Unit.get(Unit.code == p["handling_unit"]), contact=contact,
        evaluation=evaluation, message=message, stage="closed", status="closed",
        bad_rating=evaluation is not None and counts_as_bad(evaluation),
        deadline=add_weekdays(created.date(), 15), handler=office, result=p["result"],
        reply=p["result"], replied_at=closed, reply_unit=Unit.get(Unit.code == p["handling_unit"]),
        closing_kind="solved", outcome=OUTCOME_IDS.get(p.get("outcome")),
        created_at=created, closed_at=closed)
    TicketEvent.create(ticket=ticket, actor=office, action="accept", to_stage="accept",
                       comment="平台受理", created_at=created)
    if p["handling_unit"] != p["unit"]:
        TicketEvent.create(ticket=ticket, actor=office, action="transfer", from_stage="accept",
                           to_stage="accept", comment=f"转{ticket.handling_unit.name}办理",
                           created_at=created + datetime.timedelta(minutes=30))
    TicketEvent.create(ticket=ticket, actor=office, action="close", from_stage="accept",
                       to_stage="closed", comment=p["result"], created_at=closed)
