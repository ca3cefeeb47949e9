"""月度运行情况报告: the standing committee's monthly report, from the data, as figures and as Word.

`monthly(year, month)` gathers everything the report says; `write_docx` lays it out in the house
style (仿宋 body, 黑体 headings); the admin page prints the same figures as HTML.
"""
import datetime
import io

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt
from peewee import JOIN

from app import audit, dashboard, figures, ledger, workdays
from app.periods import FIRST_DAY, LAST_DAY, month_before, month_bounds, within
from app.i18n import in_chinese
from models import ACCOUNTABILITY_KINDS, Accountability, Staff, Ticket, Unit, now

MIN_SAMPLE = dashboard.MIN_SAMPLE  # ratings a unit needs in the month before it is ranked
TOP = 5


def parse_month(text):
    """'2026-10' -> (2026, 10); ValueError with a Chinese message."""
    try:
        year, month = (int(part) for part in str(text).split("-"))
        datetime.date(year, month, 1)
    except (ValueError, TypeError):
        raise ValueError(f"月份请写成 2026-10 这样的格式，现在是“{text}”。") from None
    if not FIRST_DAY.year <= year <= LAST_DAY.year:
        raise ValueError(f"月份须在 {FIRST_DAY:%Y-%m} 至 {LAST_DAY:%Y-%m} 之间，现在是“{text}”。")
    return year, month


def _change(now_value, before):
    if now_value is None or before is None:
        return None
    return now_value - before


def unit_rankings(start, end):
    """Units by satisfaction (with at least MIN_SAMPLE ratings) and by number of 差评."""
    table = dashboard.rankings(start, end, None, "unit", minimum=MIN_SAMPLE)
    ranked = table["ranked"]
    return {"best": ranked[:TOP], "worst": list(reversed(ranked[-TOP:])) if len(ranked) > TOP else [],
            "most_bad": table["most_bad"][:TOP], "unranked": len(table["too_few"])}


def problem_details(start, end):
    """On-time closing, overdue at the month's end, accountability and typical cases."""
    calendar = workdays.current()
    cut = datetime.datetime.combine(end, datetime.time())
    on_time = dashboard.on_time_rate(start, end)
    still_open = Ticket.select().where(Ticket.merged_into.is_null(), Ticket.created_at < cut,
                                       (Ticket.status == "open") | (Ticket.closed_at >= cut))
    overdue = [t for t in still_open if (ledger.overall_due(t, calendar) or cut) < cut]
    measures = list(Accountability.select(Accountability, Unit, Staff).join_from(Accountability, Unit)
                    .join_from(Accountability, Staff, JOIN.LEFT_OUTER)
                    .where(Accountability.decided_on >= start, Accountability.decided_on < end)
                    .order_by(Accountability.decided_on))
    with in_chinese():  # a 公文: Chinese whatever language the screen is in
        kinds = {k: str(v) for k, v in ACCOUNTABILITY_KINDS}
    by_kind = {}
    for m in measures:
        m.kind_title = kinds.get(m.kind, m.kind)
        by_kind[m.kind_title] = by_kind.get(m.kind_title, 0) + 1
    with_measures = {m.ticket_id for m in measures if m.ticket_id}
    solved = within(Ticket.select().where(Ticket.closing_kind == "solved", Ticket.merged_into.is_null(),
                                          Ticket.symposium.is_null()), Ticket.closed_at, start, end)
    typical = sorted(solved, key=lambda t: (t.id not in with_measures, -len(t.result or "")))[:3]
    return {"closed": on_time["closed"], "on_time": on_time["on_time"], "on_time_rate": on_time["rate"],
            "overdue": sorted(overdue, key=lambda t: t.created_at), "escalated": [t for t in overdue if t.supervised],
            "measures": measures, "measures_by_kind": by_kind, "typical": typical}


def monthly(year, month):
    """Everything the month's report says."""
    start, end = month_bounds(year, month)
    previous = month_bounds(*month_before(year, month))
    this, before = figures.headline(start, end), figures.headline(*previous)
    return {
        "year": year, "month": month, "start": start, "end": end, "made_at": now(),
        "this": this, "before": before,
        "change": {k: _change(this[k], before[k]) for k in ("collected", "evaluations", "accepted", "solved",
                                                             "satisfaction_rate", "bad")},
        "symposium": figures.problems(start, end, symposium=True),
        "total": figures.headline(), "total_symposium": figures.problems(symposium=True),
        "rankings": unit_rankings(start, end), "reasons": dashboard.reasons(start, end),
        "windows_most_bad": dashboard.rankings(start, end, None, "window", minimum=MIN_SAMPLE)["most_bad"][:TOP],
        **problem_details(start, end),
        # The audit trail's head as it is now: on paper, out of reach of whoever edits the database.
        "checkpoint": audit.checkpoint_text(audit.checkpoint()),
    }


def percent(value):
    return "—" if value is None else f"{value * 100:.1f}%"


def signed(value, percent_points=False):
    if value is None:
        return "—"
    if percent_points:
        return f"{value * 100:+.1f} 个百分点"
    return f"{value:+d}"


# --- Word --------------------------------------------------------------------------------------
def _run(paragraph, text, font="仿宋", size=14, bold=False):
    run = paragraph.add_run(text)
    run.bold = bold
    run.font.name = font
    run.font.size = Pt(size)
    # Word takes the East Asian font from its own attribute; without it Chinese falls back.
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
    return run


def _para(doc, text, font="仿宋", size=14, bold=False, align=None):
    p = doc.add_paragraph()
    _run(p, text, font, size, bold)
    if align is not None:
        p.alignment = align
    return p


def _table(doc, header, rows):
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header):
        _run(cell.paragraphs[0], text, size=11, bold=True)
    for values in rows:
        for cell, text in zip(table.add_row().cells, values):
            _run(cell.paragraphs[0], str(text), size=11)
    doc.add_paragraph()  # a table runs into the next one without it
    return table


def lines(r):
    """The report's sentences, shared by the Word and the HTML versions."""
    t, c = r["this"], r["change"]
    return {
        "overview": (f"{r['month']}月，全县共收集群众评价和意见建议 {t['collected']} 条（评价 {t['evaluations']} 条、"
                     f"留言 {t['messages']} 条），较上月 {signed(c['collected'])} 条；满意率 {percent(t['satisfaction_rate'])}，"
                     f"较上月 {signed(c['satisfaction_rate'], True)}；差评 {t['bad']} 条，较上月 {signed(c['bad'])} 条。"),
        "problems": (f"受理问题 {t['accepted']} 件（较上月 {signed(c['accepted'])} 件），本月办结 {t['solved'] + t['explained']} 件，"
                     f"其中解决 {t['solved']} 件、作出解释 {t['explained']} 件，月末在办 {t['open']} 件；"
                     f"按期办结率 {percent(r['on_time_rate'])}（{r['on_time']}/{r['closed']}）。"),
        "total": (f"累计收集群众评价和意见建议 {r['total']['collected']} 条，受理问题 {r['total']['accepted']} 件，"
                  f"解决 {r['total']['solved']} 件、作出解释 {r['total']['explained']} 件，在办 {r['total']['open']} 件；"
                  f"纪企直通车座谈会登记问题 {r['total_symposium']['accepted']} 个，已解决 {r['total_symposium']['solved']} 个、"
                  f"已作解释 {r['total_symposium']['explained']} 个。"),
        "definition": "满意率 = 好评（满意、非常满意）÷ 全部评价，经申诉核实为误评、恶意差评的不计入；"
                      f"单位排名只列本月评价不少于 {MIN_SAMPLE} 条的单位。",
    }


def write_docx(r, target=None):
    """The report as a .docx; into `target` (a path or a binary file) or a new BytesIO."""
    doc = Document()
    words = lines(r)
    _para(doc, f"直通车{r['year']}年{r['month']}月运行情况报告", font="方正小标宋简体", size=20, bold=True,
          align=WD_ALIGN_PARAGRAPH.CENTER)
    _para(doc, f"（{r['start']:%Y年%m月%d日}至{r['end'] - datetime.timedelta(days=1):%Y年%m月%d日}）", size=14,
          align=WD_ALIGN_PARAGRAPH.CENTER)
    _para(doc, "一、总体情况", font="黑体", size=16)
    for key in ("overview", "problems", "total"):
        _para(doc, words[key])
    _table(doc, ("指标", "本月", "上月", "增减"), [
        ("收集评价和意见建议（条）", r["this"]["collected"], r["before"]["collected"], signed(r["change"]["collected"])),
        ("评价（条）", r["this"]["evaluations"], r["before"]["evaluations"], signed(r["change"]["evaluations"])),
        ("满意率", percent(r["this"]["satisfaction_rate"]), percent(r["before"]["satisfaction_rate"]),
         signed(r["change"]["satisfaction_rate"], True)),
        ("差评（条）", r["this"]["bad"], r["before"]["bad"], signed(r["change"]["bad"])),
        ("受理问题（件）", r["this"]["accepted"], r["before"]["accepted"], signed(r["change"]["accepted"])),
        ("解决问题（件）", r["this"]["solved"], r["before"]["solved"], signed(r["change"]["solved"])),
    ])
    _para(doc, words["definition"], size=11)
    _para(doc, "二、单位评价排名", font="黑体", size=16)
    rank = r["rankings"]
    if rank["best"]:
        _table(doc, ("满意率靠前的单位", "评价数", "满意率"), [(x["name"], x["total"], percent(x["rate"])) for x in rank["best"]])
    if rank["worst"]:
        _table(doc, ("满意率靠后的单位", "评价数", "满意率"), [(x["name"], x["total"], percent(x["rate"])) for x in rank["worst"]])
    if rank["most_bad"]:
        _table(doc, ("差评较多的单位", "差评数", "评价数"), [(x["name"], x["bad"], x["total"]) for x in rank["most_bad"]])
    if r["windows_most_bad"]:
        _table(doc, ("差评较多的窗口", "差评数", "评价数"), [(x["name"], x["bad"], x["total"]) for x in r["windows_most_bad"]])
    if r["reasons"]:
        _para(doc, "差评原因：" + "；".join(f"{title} {n} 次" for title, n in r["reasons"]) + "。")
    if not (rank["best"] or rank["most_bad"]):
        _para(doc, "本月评价数量较少，暂不排名。")
    _para(doc, "三、超期和督办问题", font="黑体", size=16)
    if r["overdue"]:
        _table(doc, ("工单编号", "问题", "承办单位", "受理时间", "督办"), [
            (t.code, t.title, t.handling_unit.name if t.handling_unit_id else "—", f"{t.created_at:%m月%d日}",
             "红牌督办" if t.supervised else "") for t in r["overdue"]])
    else:
        _para(doc, "月末没有超期未办结的问题。")
    _para(doc, "四、问责情况", font="黑体", size=16)
    if r["measures"]:
        _para(doc, "本月问责 " + str(len(r["measures"])) + " 人次：" +
              "、".join(f"{kind} {n} 人次" for kind, n in r["measures_by_kind"].items()) + "。")
        _table(doc, ("决定日期", "方式", "对象", "文号"), [
            (f"{m.decided_on:%m月%d日}", m.kind_title, m.staff.name if m.staff_id else m.unit.name,
             m.document_number) for m in r["measures"]])
    else:
        _para(doc, "本月没有问责。")
    _para(doc, "五、典型案例", font="黑体", size=16)
    for i, t in enumerate(r["typical"], start=1):
        _para(doc, f"{i}. {t.title}", bold=True)
        _para(doc, f"群众反映：{t.content}")
        _para(doc, f"办理结果：{t.result}")
    if not r["typical"]:
        _para(doc, "本月没有办结的典型案例。")
    _para(doc, f"县纪委监委党风政风监督室　{r['made_at']:%Y年%m月%d日}", align=WD_ALIGN_PARAGRAPH.RIGHT)
    _para(doc, r["checkpoint"], size=8)
    target = target if target is not None else io.BytesIO()
    doc.save(target)
    if hasattr(target, "seek"):
        target.seek(0)
    return target
