"""月度运行情况报告: every figure against a recount, the Word file, the screen, the command line."""
import datetime
import io

import pytest
from docx import Document

from app import figures, report, tallies, tickets
from models import Accountability, Evaluation, EvaluationReason, Message, Reason, Ticket

OCT = datetime.datetime(2026, 10, 15, 10, 0)
SEP = datetime.datetime(2026, 9, 10, 10, 0)


def rate(unit, level, at, window=None, reasons=(), excluded=False):
    e = Evaluation.create(unit=unit, window=window, level=level, channel="kiosk", created_at=at, excluded=excluded)
    ids = [Reason.get(Reason.title == title).id for title in reasons]
    for reason_id in ids:
        EvaluationReason.create(evaluation=e, reason=reason_id)
    return tallies.record(e, ids)


@pytest.fixture
def month(county, make_user):
    a, b = county["hall_a"], county["hall_b"]
    for i in range(12):  # hall A: 12 ratings in October, 9 好评
        rate(a, "satisfied" if i < 9 else "dissatisfied", OCT, county["w1"], reasons=["办理速度慢"] if i >= 9 else ())
    rate(a, "satisfied", OCT, excluded=True)  # upheld appeal: left out
    for i in range(10):  # hall B: 10 ratings, all 好评 (one on the five-level scale)
        rate(b, "very_satisfied" if i == 0 else "satisfied", OCT)
    rate(county["township"], "dissatisfied", OCT, reasons=["故意刁难"])  # one vote: not ranked
    for i in range(5):
        rate(a, "satisfied", SEP)
    Message.create(kind="suggestion", content="建议", created_at=OCT)
    done = tickets.open_ticket("problem", title="窗口办事拖拉", content="跑了三趟", source="web", at=OCT,
                               handling_unit=a.id)
    Ticket.update(status="closed", closing_kind="solved", stage="closed", closed_at=OCT + datetime.timedelta(days=3),
                  due_at=None, result="已整改，向群众道歉").where(Ticket.id == done.id).execute()
    late = tickets.open_ticket("problem", title="报销两个月未到账", content="医保报销", source="hotline",
                               at=datetime.datetime(2026, 9, 1, 9, 0), handling_unit=b.id)
    recorder = make_user("recorder", "inspector")
    Accountability.create(ticket=done, unit=a, staff=county["s1"], kind="reminder_talk",
                          decided_on=datetime.date(2026, 10, 20), document_number="海纪〔2026〕7号",
                          decider="县纪委监委", created_by=recorder)
    return done, late


@pytest.fixture(autouse=True)
def context(app):
    with app.app_context():  # as on the screen and on the command line
        yield


def test_every_figure_of_the_month_matches_a_recount(month, county):
    done, late = month
    r = report.monthly(2026, 10)
    this = r["this"]
    assert this["evaluations"] == 12 + 10 + 1 and this["good"] == 19 and this["bad"] == 4
    assert this["satisfaction_rate"] == pytest.approx(19 / 23)
    assert this["collected"] == 24 and this["messages"] == 1
    assert (this["accepted"], this["solved"], this["open"]) == (1, 1, 1)  # the September one is still open
    assert r["before"]["evaluations"] == 5 and r["change"]["evaluations"] == 18
    assert r["change"]["satisfaction_rate"] == pytest.approx(19 / 23 - 1.0)
    assert [x["name"] for x in r["rankings"]["best"]] == ["县医疗保障局", "县行政审批局"]  # 苏基镇 has one vote
    assert r["rankings"]["unranked"] == 1
    worst = r["rankings"]["most_bad"][0]
    assert (worst["name"], worst["total"], worst["bad"], worst["rate"]) == ("县行政审批局", 12, 3, 0.75)
    assert r["reasons"] == [("办理速度慢", 3), ("故意刁难", 1)]
    assert [(w["name"], w["bad"]) for w in r["windows_most_bad"]] == [("企业开办窗口", 3)]
    assert [t.code for t in r["overdue"]] == [late.code]
    assert (r["closed"], r["on_time"]) == (1, 1)
    assert r["measures_by_kind"] == {"约谈提醒": 1}
    assert [t.code for t in r["typical"]] == [done.code]


def test_the_word_report_says_what_the_figures_say(month):
    stream = report.write_docx(report.monthly(2026, 10))
    text = "\n".join(p.text for p in Document(stream).paragraphs)
    assert "直通车2026年10月运行情况报告" in text
    assert "全县共收集群众评价和意见建议 24 条" in text and "满意率 82.6%" in text
    assert "本月问责 1 人次：约谈提醒 1 人次。" in text and "已整改，向群众道歉" in text


def test_the_demo_county_gives_the_articles_figures(demo):
    whole = figures.headline()
    assert (whole["collected"], whole["accepted"], whole["solved"]) == (390, 22, 22)
    today = datetime.date.today()
    r = report.monthly(today.year, today.month)
    assert "累计收集群众评价和意见建议 390 条，受理问题 22 件，解决 22 件" in report.lines(r)["total"]


def test_the_commission_reads_it_on_screen_and_downloads_word(client, login_as, month):
    login_as("leader")
    page = client.get("/admin/report/?month=2026-10").get_data(as_text=True)
    assert "直通车2026年10月运行情况报告" in page and "海纪〔2026〕7号" not in page  # the list is in Word only
    response = client.get("/admin/report/report.docx?month=2026-10")
    assert response.status_code == 200
    assert "满意率 82.6%" in "\n".join(p.text for p in Document(io.BytesIO(response.data)).paragraphs)
    bad = client.get("/admin/report/?month=2026-13")
    assert bad.status_code == 422 and "月份请写成 2026-10" in bad.get_data(as_text=True)


def test_a_unit_does_not_read_the_countys_report(client, login_as, county):
    login_as("handler", county["hall_a"])
    assert client.get("/admin/report/").status_code == 403


def test_the_command_line_writes_the_month(runner, month, tmp_path):
    target = tmp_path / "十月.docx"
    result = runner.invoke(args=["report", "monthly", "2026-10", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "收集 24 条" in result.output and target.exists()
    wrong = runner.invoke(args=["report", "monthly", "十月"])
    assert wrong.exit_code != 0 and "月份请写成" in wrong.output
