"""The supervision dashboard: each figure against a recount, periods, rankings and role scope."""
import datetime
import re

from app import dashboard, tallies, tickets
from models import Evaluation, Ticket

OCT = datetime.datetime(2026, 10, 15, 10, 0)
NOV = datetime.datetime(2026, 11, 3, 10, 0)


def rate(unit, level, at, window=None, staff=None, excluded=False, channel="kiosk"):
    return tallies.record(Evaluation.create(unit=unit, window=window, staff=staff, level=level, channel=channel,
                                            created_at=at, excluded=excluded))


def test_national_indicators_against_a_recount(conn, county):
    a = county["hall_a"]
    for _ in range(6):
        rate(a, "satisfied", OCT)
    bad = [rate(a, level, OCT) for level in ("dissatisfied", "dissatisfied", "very_dissatisfied", "dissatisfied")]
    rate(a, "dissatisfied", OCT, excluded=True)  # upheld appeal: not a 差评 any more
    for i, e in enumerate(bad[:2]):  # two handled to the end; the first one revisited and satisfied
        t = tickets.open_for_evaluation(e, at=OCT, workflow="evaluation")
        Ticket.update(status="closed", closing_kind="solved", grade="satisfied" if i == 0 else None) \
            .where(Ticket.id == t.id).execute()
    n = dashboard.national()
    assert (n["bad"], n["total"]) == (4, 10) and n["bad_rate"] == 0.4
    assert n["rectify_rate"] == 0.5 and n["revisit_rate"] == 0.25 and n["revisit_satisfaction"] == 1.0


def test_rankings_need_a_minimum_sample(conn, county):
    for _ in range(dashboard.MIN_SAMPLE):
        rate(county["hall_a"], "satisfied", OCT, window=county["w1"], staff=county["s1"])
    rate(county["hall_b"], "dissatisfied", OCT, window=county["w2"], staff=county["s2"])
    by_window = dashboard.rankings(by="window")
    assert [r["name"] for r in by_window["ranked"]] == ["企业开办窗口"]
    assert [r["name"] for r in by_window["too_few"]] == ["医保报销窗口"]
    assert by_window["most_bad"][0]["name"] == "医保报销窗口"
    assert [r["name"] for r in dashboard.rankings(by="staff")["ranked"]] == ["张丽娜"]


def test_periods_trends_and_channels(conn, county):
    rate(county["hall_a"], "satisfied", OCT, channel="qr")
    rate(county["hall_a"], "dissatisfied", NOV)
    rate(county["hall_a"], "satisfied", NOV)
    assert dashboard.monthly_trend() == [("2026-10", 1, 1, 0, 1.0), ("2026-11", 2, 1, 1, 0.5)]
    assert dashboard.monthly_trend(datetime.date(2026, 11, 1), None) == [("2026-11", 2, 1, 1, 0.5)]
    # 15 October 2026 is in ISO week 42, 3 November in week 45.
    assert dashboard.weekly_trend() == [("2026-W42", 1, 1, 0, 1.0), ("2026-W45", 2, 1, 1, 0.5)]
    assert dashboard.weekly_trend(weeks=1) == [("2026-W45", 2, 1, 1, 0.5)]
    assert [(key, n) for key, _label, n in dashboard.channels()] == [("kiosk", 2), ("qr", 1)]


def test_the_page_shows_the_period_and_refuses_a_bad_one(client, login_as, county):
    rate(county["hall_a"], "satisfied", OCT)
    rate(county["hall_a"], "dissatisfied", NOV)
    login_as("office")
    page = client.get("/admin/?start=2026-11-01&end=2026-11-30").get_data(as_text=True)
    assert re.search(r'id="fig-collected">1<', page)
    assert 'id="fig-bad-rate">100.0%<' in page and "统计期间：2026-11-01 至 2026-11-30" in page
    assert 'id="chart-trend"' in page and "<svg" in page
    bad = client.get("/admin/?start=2026-12-01&end=2026-11-01")
    assert bad.status_code == 422 and "结束日期早于开始日期" in bad.get_data(as_text=True)


def test_a_handler_sees_only_its_own_unit_on_the_dashboard(client, login_as, county):
    rate(county["hall_a"], "satisfied", OCT)
    rate(county["hall_b"], "dissatisfied", OCT)
    login_as("handler", county["hall_b"])
    page = client.get("/admin/").get_data(as_text=True)
    assert re.search(r'id="fig-collected">1<', page) and "县行政审批局" not in page


def test_active_rating_rate_counts_only_the_months_with_cases_entered(client, login_as, county):
    from models import CaseVolume
    from tests.conftest import csrf_token
    for _ in range(3):
        rate(county["hall_a"], "satisfied", OCT)
    rate(county["hall_a"], "satisfied", NOV)  # November's cases are not entered: left out
    assert dashboard.active_rating_rate()["rate"] is None
    login_as("bureau")
    url = "/admin/case_volume/new/"
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "unit": county["hall_a"].id,
                                      "month": "2026-10-09", "cases": "12"})
    assert response.status_code == 302 and CaseVolume.get().month == datetime.date(2026, 10, 1)
    again = client.post(url, data={"csrf_token": csrf_token(client, url), "unit": county["hall_a"].id,
                                   "month": "2026-10-20", "cases": "5"})
    assert again.status_code == 422 and "已经录入" in again.get_data(as_text=True)
    assert dashboard.active_rating_rate() == {"cases": 12, "ratings": 3, "rate": 0.25}
    page = client.get("/admin/").get_data(as_text=True)
    assert 'id="fig-active-rate">25.0%<' in page


def test_each_figure_opens_the_list_behind_it(client, login_as, county):
    """The numbers on the dashboard and the rows the officer finds behind them are the same."""
    import html
    a, b = county["hall_a"], county["hall_b"]
    for _ in range(3):
        rate(a, "satisfied", NOV, window=county["w1"])
    rate(a, "dissatisfied", NOV, window=county["w1"])
    rate(b, "dissatisfied", NOV)
    rate(a, "dissatisfied", OCT)  # outside the period
    solved = []
    for at, kind in ((NOV, "solved"), (NOV, "solved"), (NOV, "explained"), (OCT, "solved")):
        t = tickets.open_ticket("problem", title="问题", content="内容", source="web", at=at, unit=a.id,
                                handling_unit=a.id)
        Ticket.update(status="closed", closing_kind=kind, closed_at=at + datetime.timedelta(hours=2)) \
            .where(Ticket.id == t.id).execute()
        solved.append(t)
    merged = tickets.open_ticket("problem", title="重复", content="同上", source="web", at=NOV, unit=a.id,
                                 handling_unit=a.id)  # merged into another: the figures leave it out
    Ticket.update(status="closed", closing_kind="solved", closed_at=NOV, merged_into=solved[0].id) \
        .where(Ticket.id == merged.id).execute()
    from models import Message
    Message.create(kind="suggestion", unit=a, content="留言", created_at=NOV)
    login_as("office")
    page = client.get("/admin/?start=2026-11-01&end=2026-11-30").get_data(as_text=True)

    def follow(pattern):
        href = html.unescape(re.search(pattern, page).group(1))
        listing = client.get(href)
        assert listing.status_code == 200, href
        return int(re.search(r"列表 \((\d+)\)", listing.get_data(as_text=True)).group(1))

    assert 'id="fig-collected">6<' in page
    assert follow(r'id="fig-evaluations" href="([^"]+)">5<') == 5
    assert follow(r'id="fig-messages" href="([^"]+)">1<') == 1
    assert follow(r'id="fig-solved"><a href="([^"]+)">2<') == 2
    assert follow(r'id="fig-accepted"><a href="([^"]+)">3<') == 3
    assert follow(r'<a href="([^"]+)">全部差评</a>') == 2
    assert follow(r'<a href="([^"]+)">企业开办窗口</a>') == 4


def test_a_townships_figures_open_its_lists_with_its_villages(client, login_as, county):
    township, village = county["township"], county["village"]
    rate(township, "satisfied", NOV)
    rate(village, "dissatisfied", NOV)
    rate(county["hall_a"], "satisfied", NOV)  # another unit: in neither
    login_as("office")
    page = client.get(f"/admin/?start=2026-11-01&end=2026-11-30&unit={township.id}").get_data(as_text=True)
    import html
    assert 'id="fig-collected">2<' in page
    href = html.unescape(re.search(r'id="fig-evaluations" href="([^"]+)">2<', page).group(1))
    listing = client.get(href).get_data(as_text=True)
    assert "列表 (2)" in listing and "单位（含下级）" in listing


def test_the_dashboards_top_of_a_ranking_is_the_head_of_the_whole_ranking(conn, county):
    """Ten of a province's officers are shown: the same ten, in the same order, ties broken by name."""
    from models import Staff
    officers = [Staff.create(unit=county["hall_a"], window=county["w1"], number=f"T{i:02d}", name=name)
                for i, name in enumerate("赵钱孙李周吴郑王冯陈褚卫蒋沈")]
    for i, officer in enumerate(officers):  # rates in few distinct values, so that many tie
        good = dashboard.MIN_SAMPLE + i % 3
        for _ in range(good):
            rate(county["hall_a"], "satisfied", OCT, window=county["w1"], staff=officer)
        for _ in range(i % 4):
            rate(county["hall_a"], "dissatisfied", OCT, window=county["w1"], staff=officer)
    whole = dashboard.rankings(by="staff")
    for top in (1, 3, 5, 10):
        head = dashboard.rankings(by="staff", top=top)
        assert head["ranked"] == whole["ranked"][:top] and head["most_bad"] == whole["most_bad"][:top]
    assert len({(r["rate"], r["total"]) for r in whole["ranked"][:5]}) < 5  # ties were there to break


def test_the_overdue_problems_link_opens_the_chosen_units_overdue_problems(client, login_as, county):
    import html
    late = datetime.datetime(2026, 10, 1, 9, 0)
    for unit in (county["village"], county["hall_a"]):  # one under the township, one elsewhere
        ticket = tickets.open_ticket("problem", title="拖延办理", content="内容", source="kiosk", unit=unit.id,
                                     handling_unit=unit.id, at=late)
        Ticket.update(due_at=late).where(Ticket.id == ticket.id).execute()
    login_as("office")
    page = client.get(f"/admin/?unit={county['township'].id}").get_data(as_text=True)
    assert 'id="fig-overdue">1<' in page
    href = html.unescape(re.search(r'id="link-overdue" href="([^"]+)"', page).group(1))
    assert "列表 (1)" in client.get(href).get_data(as_text=True)
    everyone = client.get("/admin/").get_data(as_text=True)
    assert 'id="fig-overdue">2<' in everyone
    href = html.unescape(re.search(r'id="link-overdue" href="([^"]+)"', everyone).group(1))
    assert "列表 (2)" in client.get(href).get_data(as_text=True)
