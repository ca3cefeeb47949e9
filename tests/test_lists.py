"""The grids officers live in: no query per row, Excel export with Chinese headers."""
import io

from openpyxl import load_workbook

from app.procedures import active_versions
from models import Evaluation, EvaluationReason, Reason, Ticket


def active(key):
    return active_versions()[key]


def rate(county, n, level="dissatisfied"):
    slow = Reason.get(Reason.title == "办理速度慢")
    for i in range(n):
        e = Evaluation.create(unit=county["hall_a"], window=county["w1"], staff=county["s1"],
                              level=level, channel="kiosk", comment=f"评价{i}")
        EvaluationReason.create(evaluation=e, reason=slow)


def test_evaluation_list_costs_the_same_queries_for_10_or_50_rows(client, login_as, county, count_queries):
    login_as("office")
    rate(county, 10)
    client.get("/admin/evaluation/")  # warm the caches (the procedures the bar's 待办 count reads) first
    count_queries.queries.clear()
    client.get("/admin/evaluation/")
    ten = len(count_queries.queries)
    rate(county, 40)
    count_queries.queries.clear()
    page = client.get("/admin/evaluation/").get_data(as_text=True)
    assert len(count_queries.queries) == ten
    assert "评价39" in page and "办理速度慢" in page and "张丽娜" in page and "01 企业开办窗口" in page


def test_every_list_is_free_of_per_row_queries(client, login_as, county, count_queries):
    """Each grid is fetched twice, with 1 and with 30 rows: the query count must not grow."""
    from models import Message, Staff, Window
    login_as("office")
    Ticket.create(code="T-0", title="问题", content="内容", source="web", unit=county["hall_a"],
                  handling_unit=county["hall_b"], workflow_version=active("problem"))
    Message.create(kind="suggestion", unit=county["hall_a"], content="留言")
    rate(county, 1)
    grids = ("unit", "window", "staff", "ticket", "message", "evaluation")
    for grid in grids:
        client.get(f"/admin/{grid}/")  # warm the caches (parsed workflow versions) first
    counts = {}
    for grid in grids:
        count_queries.queries.clear()
        client.get(f"/admin/{grid}/")
        counts[grid] = len(count_queries.queries)
    for i in range(30):
        Window.create(unit=county["hall_a"], number=f"W{i}", name=f"窗口{i}")
        Staff.create(unit=county["hall_a"], window=county["w1"], number=f"N{i}", name=f"人{i}")
        Ticket.create(code=f"T{i}", title="问题", content="内容", source="web", unit=county["hall_a"],
                      handling_unit=county["hall_b"], workflow_version=active("problem"))
        Message.create(kind="suggestion", unit=county["hall_a"], content="留言")
    rate(county, 30)
    for grid, before in counts.items():
        count_queries.queries.clear()
        client.get(f"/admin/{grid}/")
        assert len(count_queries.queries) == before, grid


def test_evaluations_export_to_excel_with_chinese_headers(client, login_as, county):
    rate(county, 3)
    login_as("bureau")
    response = client.get("/admin/evaluation/export/xlsx/")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("时间", "单位", "窗口", "工作人员", "评价结果")
    assert len(rows) == 4
    assert rows[1][1] == "县行政审批局" and rows[1][4] == "不满意" and rows[1][5] == "办理速度慢"


def test_evaluations_filter_by_level_channel_and_date(client, login_as, county):
    rate(county, 2, "dissatisfied")
    rate(county, 3, "satisfied")
    login_as("office")
    view_url = "/admin/evaluation/"
    page = client.get(view_url).get_data(as_text=True)
    assert "列表 (5)" in page
    # Filter arguments follow the order of column_filters: level is the fourth, grade the fifth.
    page = client.get(view_url + "?flt0_3=dissatisfied").get_data(as_text=True)
    assert "列表 (2)" in page
    page = client.get(view_url + "?flt0_4=good").get_data(as_text=True)  # 好评 on either scale
    assert "列表 (3)" in page
    page = client.get(view_url + "?flt0_5=kiosk").get_data(as_text=True)
    assert "列表 (5)" in page
    page = client.get(view_url + "?flt0_5=qr").get_data(as_text=True)
    assert "评价0" not in page and "列表 (" not in page


def test_a_filter_id_that_is_no_number_or_too_big_is_refused_not_a_500(client, login_as, county):
    login_as("office")
    for view, count in (("evaluation", 16), ("ticket", 22), ("staff", 6), ("accountability", 6)):
        for n in range(count):
            for value in ("abc", "-1", "99999999999999999999"):
                response = client.get(f"/admin/{view}/?flt0_{n}={value}")
                assert response.status_code == 200, (view, n, value, response.status_code)
