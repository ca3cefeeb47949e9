"""The OpenAPI document says what the API answers, and the API takes what the document says.

The outside probe (.ci/schemathesis) checks this at length against a live server; these are the
facts it rests on, fast, for the normal suite.
"""
import re

import pytest

from models import Evaluation, Message

GETS = ("/units", "/windows", "/staff", "/reasons", "/scale", "/track", "/todo", "/openapi.json")


@pytest.fixture
def spec(client):
    return client.get("/api/v1/openapi.json").get_json()


def ecma(pattern):
    """A JSON Schema pattern as a browser or Schemathesis reads it: `$` ends the text."""
    return re.compile(pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern)


def test_every_operation_declares_the_400_the_input_guard_gives(spec):
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert "400" in op["responses"], f"{method.upper()} {path}"


@pytest.mark.parametrize("path, method", [("/windows", "get"), ("/staff", "get"), ("/track", "get"),
                                          ("/evaluations", "post"), ("/messages", "post")])
def test_operations_that_refuse_input_declare_their_422(spec, path, method):
    assert "422" in spec["paths"][path][method]["responses"]


def test_refusals_a_schema_cannot_express_are_named_in_the_422(spec):
    rating = spec["paths"]["/evaluations"]["post"]
    assert "staff_id" in rating["responses"]["422"]["description"]
    assert "token" in rating["responses"]["422"]["description"]
    assert "unit_id" in spec["paths"]["/messages"]["post"]["responses"]["422"]["description"]


def body(spec, path):
    return spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]


def test_blank_content_is_outside_the_schema(spec):
    content = body(spec, "/messages")["properties"]["content"]
    assert content["minLength"] == 1 and content["maxLength"] == 2000
    visible = ecma(content["pattern"])
    for blank in ("", " ", "\u3000\n\t", "\ufeff", "\x1c"):
        assert not visible.search(blank), repr(blank)
    for text in ("建议延长午间服务", " 好 ", "0"):
        assert visible.search(text), repr(text)
    assert not visible.search("好\x00")


def test_the_rating_schema_says_which_fields_and_values_are_taken(spec):
    schema = body(spec, "/evaluations")
    fields = schema["properties"]
    assert fields["level"]["enum"] == ["satisfied", "average", "dissatisfied"]  # this county's scale
    assert fields["staff_id"]["minimum"] == 1 and "token" in fields["staff_id"]["description"]
    assert fields["comment"]["maxLength"] == 500
    assert ecma(fields["submission_key"]["pattern"]).search("a" * 32)
    assert not ecma(fields["submission_key"]["pattern"]).search("a" * 32 + "\n")


def test_the_national_scale_is_the_one_documented_where_it_is_used(app, client):
    app.config["RATING_SCALE"] = "five"
    spec = client.get("/api/v1/openapi.json").get_json()
    assert body(spec, "/evaluations")["properties"]["level"]["enum"] == [
        "very_satisfied", "satisfied", "basically_satisfied", "dissatisfied", "very_dissatisfied"]


@pytest.mark.parametrize("query", ["unit=abc", "unit=", "unit=0", "unit=-1", "unit=1.5", "unit=%D9%A3",
                                   "unit=99999999999999999999", "unit=1&unit=2", "window=x", "window=%203"])
def test_a_junk_list_filter_is_a_422_in_chinese_not_the_whole_list(client, county, query):
    path = "/api/v1/staff" if query.startswith("window") else "/api/v1/windows"
    response = client.get(f"{path}?{query}")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid" and "编号（正整数）" in error["message"]


def test_a_good_filter_still_filters_and_none_lists_all(client, county):
    assert [w["number"] for w in client.get(f"/api/v1/windows?unit={county['hall_b'].id}").get_json()] == ["02"]
    assert client.get("/api/v1/windows?unit=999999").get_json() == []
    assert len(client.get("/api/v1/windows").get_json()) == 2


def test_what_breaks_the_schema_is_refused_and_nothing_is_stored(client, county):
    rating = {"token": county["w1"].token, "level": "satisfied", "submission_key": "e" * 32}
    for wrong in ({"comment": 5}, {"reasons": ["1"]}, {"staff_id": 0}, {"channel": ""}, {"case_number": "A B"},
                  {"phone": "139 1234 5678"}, {"submission_key": "e" * 32 + "\n"}):
        response = client.post("/api/v1/evaluations", json={**rating, **wrong})
        assert response.status_code == 422, wrong
        assert set(response.get_json()["error"]["fields"]) == set(wrong), wrong
    for blank in (" ", "\ufeff"):
        refused = client.post("/api/v1/messages", json={"kind": "opinion", "content": blank})
        assert refused.status_code == 422 and "请写下您要反映的内容" in refused.get_json()["error"]["message"]
    assert Evaluation.select().count() == 0 and Message.select().count() == 0


def test_what_the_schema_allows_is_not_refused_for_fields_it_does_not_read(client, county):
    """Fields the document does not name are not read: a NUL in one is nothing to refuse."""
    rating = {"token": county["w1"].token, "level": "satisfied", "submission_key": "f" * 32,
              "channel": None, "comment": None, "phone": 13912345678, "device": {"note": "\x00"}}
    assert client.post("/api/v1/evaluations", json=rating).status_code == 201
    assert Evaluation.get().contact.phone == "13912345678"


def test_a_malformed_query_code_is_a_422_and_a_wrong_one_a_404(client, county):
    assert client.get("/api/v1/track?code=abc").status_code == 422
    assert client.get("/api/v1/track?code=ABCDEFGHJKLM&last4=12345").status_code == 422
    assert client.get("/api/v1/track?code=ABCDEFGHJKLM").status_code == 404
