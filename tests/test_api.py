"""The open API: every route documented, JSON errors in Chinese, the same rules as the pages."""
import re

from models import Evaluation, Message, Reason, Ticket


def test_every_api_route_is_in_the_openapi_document_and_back(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule[len("/api/v1"):])
            routed |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert routed == documented


def test_lists_for_kiosk_devices(client, county):
    units = client.get("/api/v1/units").get_json()
    assert {"code": "HA", "name": "县行政审批局"}.items() <= next(u for u in units if u["code"] == "HA").items()
    windows = client.get(f"/api/v1/windows?unit={county['hall_a'].id}").get_json()
    assert [w["number"] for w in windows] == ["01"] and windows[0]["token"] == county["w1"].token
    staff = client.get(f"/api/v1/staff?window={county['w1'].id}").get_json()
    assert [s["name"] for s in staff] == ["张丽娜"]
    assert [r["title"] for r in client.get("/api/v1/reasons").get_json()][:1] == ["办理速度慢"]


def test_submit_an_evaluation_once(client, county):
    slow = Reason.get(Reason.title == "办理速度慢")
    payload = {"token": county["w1"].token, "level": "dissatisfied", "reasons": [slow.id], "channel": "kiosk",
               "submission_key": "a" * 32, "comment": "等太久"}
    first = client.post("/api/v1/evaluations", json=payload)
    again = client.post("/api/v1/evaluations", json=payload)
    assert first.status_code == 201 and again.status_code == 200
    assert first.get_json()["ticket"] and again.get_json()["id"] == first.get_json()["id"]
    assert Evaluation.select().count() == 1 and Ticket.select().count() == 1


def test_errors_are_json_with_a_chinese_message(client, county):
    bad = client.post("/api/v1/evaluations", json={"token": county["w1"].token, "level": "dissatisfied",
                                                   "submission_key": "b" * 32})
    assert bad.status_code == 422
    assert bad.get_json()["error"]["fields"]["reasons"].startswith("选择“不满意”时")
    assert client.post("/api/v1/evaluations", data="not json").status_code == 400
    missing = client.get("/api/v1/no-such")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    assert Evaluation.select().count() == 0


def test_an_object_or_list_where_text_belongs_is_refused_not_stored_as_its_repr(client, county):
    rating = {"token": county["w1"].token, "level": "satisfied", "submission_key": "c" * 32}
    wrong = client.post("/api/v1/evaluations", json={**rating, "comment": {"text": "很好"}, "phone": ["139"]})
    assert wrong.status_code == 422
    assert wrong.get_json()["error"]["fields"] == {"comment": "应当是文字", "phone": "应当是文字"}
    assert client.post("/api/v1/messages", json={"kind": "suggestion", "content": True}).status_code == 422
    assert Evaluation.select().count() == 0 and Message.select().count() == 0
    # A phone sent as a number is its digits.
    assert client.post("/api/v1/evaluations", json={**rating, "phone": 13912345678}).status_code == 201
    assert Evaluation.get().contact.phone == "13912345678"


def test_message_and_track(client, county):
    created = client.post("/api/v1/messages", json={"kind": "suggestion", "content": "建议延长午间服务",
                                                    "phone": "13800005678"})
    code = created.get_json()["query_code"]
    assert client.get(f"/api/v1/track?code={code}").status_code == 404  # real name: phone digits needed
    found = client.get(f"/api/v1/track?code={code}&last4=5678").get_json()
    assert found["stage"] == "受理" and found["answer"] is None
    assert Message.select().count() == 1


def test_officer_endpoint_needs_a_token(client, runner, county, make_user):
    make_user("office", "office")
    assert client.get("/api/v1/todo").status_code == 401
    out = runner.invoke(args=["create-api-token", "office", "--name", "12345 热线"]).output
    token = out.strip().rsplit("：", 1)[1]
    client.post("/api/v1/messages", json={"kind": "suggestion", "content": "测试"})
    todo = client.get("/api/v1/todo", headers={"Authorization": f"Bearer {token}"})
    assert todo.status_code == 200 and todo.get_json()[0]["stage"] == "accept"
    assert client.get("/api/v1/todo", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_the_api_never_acts_on_a_browsers_login(client, login_as, county):
    """The API takes no CSRF token, so a logged-in officer's cookie must carry no weight there."""
    login_as("office")
    assert client.get("/admin/").status_code == 200  # the browser is logged in
    response = client.get("/api/v1/todo")
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthorized"
