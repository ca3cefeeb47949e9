"""公示: published only when the office says so, units only, no people."""
import datetime
import re

from app import publication, tallies
from models import Evaluation
from tests.conftest import csrf_token


def test_nothing_is_public_until_the_office_publishes(client, login_as, county):
    assert client.get("/results").status_code == 404
    today = datetime.date.today()
    start, _end = publication.bounds("this_year", today)
    for i in range(10):
        tallies.record(Evaluation.create(unit=county["hall_a"], window=county["w1"], staff=county["s1"],
                          level="satisfied" if i < 9 else "dissatisfied", channel="kiosk",
                          created_at=datetime.datetime.combine(today, datetime.time(9, 0))))
    tallies.record(Evaluation.create(unit=county["hall_b"], level="satisfied", channel="kiosk",
                                     created_at=datetime.datetime.combine(today, datetime.time(9, 0))))
    login_as("office")
    token = csrf_token(client, "/admin/publication/")
    response = client.post("/admin/publication/", data={"csrf_token": token, "enabled": "1", "period": "this_year"})
    assert response.status_code == 302
    page = re.sub(r"\s+", " ", client.get("/results").get_data(as_text=True))
    assert "县行政审批局</td><td>10</td><td>90.0%" in page
    assert "县医疗保障局</td><td>1</td><td>评价较少" in page
    assert "张丽娜" not in page and "企业开办窗口" not in page


def test_only_the_office_switches_it(client, login_as, county):
    login_as("leader")
    assert client.get("/admin/publication/").status_code == 403


def test_a_bad_period_is_refused(client, login_as, county):
    login_as("office")
    token = csrf_token(client, "/admin/publication/")
    response = client.post("/admin/publication/", data={"csrf_token": token, "enabled": "1", "period": "forever"})
    assert response.status_code == 422 and "公示期间只能是" in response.get_data(as_text=True)
    assert publication.settings()["enabled"] is False
