"""Whatever a citizen, a device or a script sends, the answer is never a 5xx.

Hypothesis sends every public page, form and API endpoint valid requests with a few fields made
wrong: arbitrary text (NUL, the last code points, kilobytes, numbers beyond 64 bits), fields left
out or sent twice, wrong JSON types and raw bytes. The valid rest carries each request past the
checks to the database. A refusal is a 4xx in Chinese and writes nothing; nothing saved is lost.
"""
import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app import appeals, publication, ratings, tickets
from app.credit_code import ALPHABET, check_digit
from models import Contact, Evaluation, EvaluationReason, Message, Staff, Ticket, TrackThrottle, Window
from tests.conftest import csrf_token, login
from views.public import limiter

FAST = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])
FEW = settings(FAST, max_examples=20)

WINDOW_TOKEN, STAFF_TOKEN = "w" * 32, "s" * 32
QUERY_CODE, REAL_NAME_CODE = "ABCDEFGH2345", "ZYXWVUTS6789"
LEVELS = ("satisfied", "average", "dissatisfied", "very_satisfied", "basically_satisfied", "very_dissatisfied")
CJK = re.compile(r"[\u4e00-\u9fff]")

# Text no form expects: control characters, the last code points, digits of other scripts,
# kilobytes of one character, numbers far beyond what a database column keeps.
ODD = st.sampled_from(["", " ", "\x00", "a\x00b", "\U0010ffff", "\uffff", "\ufeff\u202e", "²", "١٢٣", "１２",
                       "ß", "İ", "\t\r\n", "%s", "{0}", "<b>", "'; --", "null", "[]", "-1", "0", "1e999",
                       "NaN", "9" * 40, "-" + "9" * 25, "1_000", " 12 "])
LONG = st.builds(lambda piece, times: piece * times, st.text(min_size=1, max_size=3), st.integers(60, 2000))
BIG = st.integers(min_value=-2 ** 80, max_value=2 ** 80).map(str)
ANY_TEXT = st.one_of(st.text(max_size=40), ODD, LONG, BIG)
FORM_JUNK = st.one_of(ANY_TEXT, st.lists(ANY_TEXT, min_size=2, max_size=3))  # a list: the field sent twice

JSON_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2 ** 80, max_value=2 ** 80),
                        st.floats(), ANY_TEXT,
                        st.text(st.characters(categories=["Cs"]), min_size=1, max_size=3))  # lone surrogates
JSON_ANY = st.recursive(JSON_SCALAR, lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)


class Absent:
    def __repr__(self):
        return "ABSENT"


ABSENT = Absent()


@st.composite
def mostly_valid(draw, fields, junk):
    """A valid request with up to three fields wrong or left out, and perhaps one nobody asked for."""
    values = {name: draw(valid) for name, valid in fields.items()}
    for name in draw(st.sets(st.sampled_from(sorted(fields)), max_size=3)):
        values[name] = draw(st.one_of(st.just(ABSENT), junk))
    extra = draw(st.dictionaries(st.text(max_size=8), junk, max_size=1))
    return {**extra, **{name: value for name, value in values.items() if value is not ABSENT}}


HEX32 = st.uuids().map(lambda key: key.hex)  # a new page's submission key
PHONE = st.sampled_from(["", "13912345678", "0317-6612345", "139 1234 5678"])
CASE = st.one_of(st.just(""), st.from_regex(r"[0-9A-Z]{4,10}", fullmatch=True))
SOME_TEXT = st.text(min_size=1, max_size=60).map(lambda text: "窗口" + text)
UNIT_ID = st.sampled_from(["", "1", "2", "3", "4"])
REASON_IDS = st.lists(st.integers(min_value=1, max_value=12).map(str), min_size=1, max_size=3)
CREDIT_CODE = st.text(ALPHABET, min_size=17, max_size=17).map(lambda first: first + check_digit(first))
KINDS = ("opinion", "suggestion", "appeal", "consultation", "complaint", "report")

RATE_FORM = mostly_valid({
    "token": st.sampled_from([WINDOW_TOKEN, STAFF_TOKEN]), "level": st.sampled_from(LEVELS),
    "reasons": REASON_IDS, "comment": st.text(max_size=60), "phone": PHONE,
    "channel": st.sampled_from(["kiosk", "qr"]), "submission_key": HEX32, "staff": st.sampled_from(["", "1", "2"]),
    "case_number": CASE, "bound": st.sampled_from(["", WINDOW_TOKEN])}, FORM_JUNK)
BOARD_FORM = mostly_valid({
    "kind": st.sampled_from(KINDS), "unit": UNIT_ID, "content": SOME_TEXT, "name": st.sampled_from(["", "王某"]),
    "phone": PHONE}, FORM_JUNK)
ENTERPRISE_FORM = mostly_valid({
    "company": st.just("海兴县某某农产品有限公司"), "credit_code": CREDIT_CODE, "name": st.just("李经理"),
    "phone": PHONE.filter(bool), "category": st.sampled_from(appeals.ENTERPRISE_CATEGORIES),
    "content": SOME_TEXT}, FORM_JUNK)
TRACK_FORM = mostly_valid({
    "code": st.sampled_from([QUERY_CODE, REAL_NAME_CODE, QUERY_CODE.lower()]), "last4": st.sampled_from(["", "5678"]),
    "grade": st.sampled_from(["satisfied", "basically_satisfied", "dissatisfied"])}, FORM_JUNK)
LOGIN_FORM = mostly_valid({"username": st.just("office"), "password": st.just("Test@2026pw")}, FORM_JUNK)
HOTLINE_RATING = mostly_valid({
    "window": st.sampled_from(["1", "2"]), "staff": st.sampled_from(["", "1", "2"]), "level": st.sampled_from(LEVELS),
    "reasons": REASON_IDS, "comment": st.text(max_size=60), "phone": PHONE, "submission_key": HEX32}, FORM_JUNK)
ACTION_FIELDS = mostly_valid({
    "unit": UNIT_ID.filter(bool), "classification": st.sampled_from(["服务态度", "办事效率"]),
    "comment": SOME_TEXT, "co_units": st.lists(UNIT_ID.filter(bool), max_size=2),
    "revision": st.just("CURRENT")}, FORM_JUNK)

EVALUATION_JSON = mostly_valid({
    "token": st.sampled_from([WINDOW_TOKEN, STAFF_TOKEN]), "level": st.sampled_from(LEVELS[:3]),
    "reasons": st.lists(st.integers(min_value=1, max_value=4), min_size=1, max_size=3), "comment": st.text(max_size=60),
    "phone": PHONE, "channel": st.sampled_from(["kiosk", "qr"]), "submission_key": HEX32,
    "staff_id": st.just(1), "case_number": CASE}, JSON_ANY)
MESSAGE_JSON = mostly_valid({
    "kind": st.sampled_from(KINDS), "unit_id": st.sampled_from([None, 1, 2, 3]), "content": SOME_TEXT,
    "name": st.sampled_from(["", "王某"]), "phone": PHONE}, JSON_ANY)
RAW_BODY = st.one_of(st.binary(max_size=200), st.sampled_from([
    b"", b"null", b"[]", b"1", b'"x"', b"NaN", b"1e999999", b'{"token": "\\ud800"}', b'{"a": "\\u0000"}',
    b"[" * 5000 + b"]" * 5000, b'{"a":' * 5000 + b"1" + b"}" * 5000, b"\xff\xfe{\x00}", b'{"level": 1']))
QUERY = mostly_valid({"unit": UNIT_ID, "window": st.sampled_from(["", "1", WINDOW_TOKEN]), "case": CASE,
                      "code": st.sampled_from([QUERY_CODE, REAL_NAME_CODE]), "last4": st.just("5678")}, ANY_TEXT)


# --- what every answer must satisfy ------------------------------------------------------------

def saved():
    return {model.__name__: model.select().count() for model in (Evaluation, EvaluationReason, Message, Ticket,
                                                                 Contact)}


# Where a page tells a person what went wrong: a field's or the page's error, a notice, a flash.
MESSAGE_PLACES = re.compile(r'<p class="error[^"]*"[^>]*>(.*?)</p>|id="error-message">(.*?)</p>'
                            r'|<div class="thanks"><h1>(.*?)</h1>'
                            r'|<div class="(?:invalid-feedback|alert)[^"]*"[^>]*>(.*?)</div>', re.S)


def shown_message(response):
    """The refusal as the person reads it: the JSON error's message, or the page's messages (not its menu)."""
    if response.is_json:
        return response.get_json()["error"]["message"]
    return " ".join(part for match in MESSAGE_PLACES.findall(response.get_data(as_text=True)) for part in match)


def assert_answered(response, before=None):
    """No 5xx; a 4xx says what is wrong in Chinese and wrote nothing; nothing saved before is gone."""
    status = response.status_code
    assert status < 500, response.get_data(as_text=True)[:2000]
    if 400 <= status < 500:
        message = shown_message(response)
        assert CJK.search(message), (status, response.get_data(as_text=True)[-3000:])
        if before is not None:
            assert saved() == before
    if before is not None:
        after = saved()
        assert all(after[name] >= count for name, count in before.items())


@pytest.fixture
def hall(county):
    """The small county with codes the strategies know, one rating and two messages already saved."""
    Window.update(token=WINDOW_TOKEN).where(Window.id == county["w1"].id).execute()
    Staff.update(token=STAFF_TOKEN).where(Staff.id == county["s1"].id).execute()
    ratings.submit(WINDOW_TOKEN, "satisfied", [], "", "", "qr", "f" * 32)
    for code, phone in ((QUERY_CODE, ""), (REAL_NAME_CODE, "13912345678")):
        message = appeals.leave_message("complaint", str(county["hall_a"].id), "窗口午休提前关门", "", phone)
        Message.update(query_code=code).where(Message.id == message.id).execute()
        Ticket.update(query_code=code).where(Ticket.message == message.id).execute()
    publication.save(True, "this_year")
    return county


@pytest.fixture
def office_account(make_user):
    return make_user("office", "office")


@pytest.fixture
def office(client, office_account):
    """The conduct office, logged in on the test client."""
    assert login(client, "office").status_code == 302
    return office_account


@pytest.fixture
def fresh_limits():
    """Each example starts with unspent limits and no query code locked, so that it reaches the checks behind them."""
    def reset():
        limiter.reset()
        TrackThrottle.delete().execute()
    return reset


# --- citizen pages -----------------------------------------------------------------------------

@FAST
@given(query=QUERY, token=st.one_of(st.sampled_from([WINDOW_TOKEN, STAFF_TOKEN]), ANY_TEXT))
@example(query={"unit": "9" * 30}, token=WINDOW_TOKEN)  # was a 500: beyond SQLite's INTEGER
@example(query={"window": "\x00"}, token="\x00")  # NUL: PostgreSQL refuses it in any text
def test_kiosk_rating_and_results_pages_open_for_any_query_or_code(client, hall, query, token):
    assert_answered(client.get("/kiosk", query_string=query))
    assert_answered(client.get("/kiosk", query_string=dict(query, window=token)))
    assert_answered(client.get("/e/" + quote(token, safe=""), query_string=query))
    assert_answered(client.get("/results", query_string=query))


@FAST
@given(form=RATE_FORM, scale=st.sampled_from(["three", "five"]))
@example(form={"token": WINDOW_TOKEN, "level": "satisfied", "channel": "qr", "submission_key": "a" * 32,
               "staff": "9" * 30}, scale="three")  # was a 500
@example(form={"token": WINDOW_TOKEN, "level": "satisfied", "channel": "qr", "submission_key": "b" * 32,
               "comment": "好\x00"}, scale="three")
def test_the_rating_form_answers_any_input(app, client, hall, fresh_limits, form, scale):
    fresh_limits()
    app.config["RATING_SCALE"] = scale
    token = csrf_token(client, f"/e/{WINDOW_TOKEN}")
    before = saved()
    assert_answered(client.post("/rate", data=dict(form, csrf_token=token)), before)


@FAST
@given(form=BOARD_FORM)
@example(form={"kind": "opinion", "unit": "²", "content": "好"})  # was a 500: "²".isdigit(), int("²") fails
@example(form={"kind": "opinion", "unit": "9" * 30, "content": "好"})  # was a 500
def test_the_message_board_answers_any_input(client, hall, fresh_limits, form):
    fresh_limits()
    token = csrf_token(client, "/board")
    before = saved()
    assert_answered(client.post("/board", data=dict(form, csrf_token=token)), before)


@FAST
@given(form=ENTERPRISE_FORM)
def test_the_enterprise_form_answers_any_input(client, hall, fresh_limits, form):
    fresh_limits()
    token = csrf_token(client, "/enterprise")
    before = saved()
    assert_answered(client.post("/enterprise", data=dict(form, csrf_token=token)), before)


@FAST
@given(form=TRACK_FORM)
def test_tracking_and_grading_answer_any_input(client, hall, fresh_limits, form):
    fresh_limits()
    token = csrf_token(client, "/track")
    for url in ("/track", "/track/grade"):
        before = saved()
        assert_answered(client.post(url, data=dict(form, csrf_token=token)), before)


@FEW
@given(url=st.sampled_from(["/rate", "/board", "/enterprise", "/track", "/track/grade", "/login"]),
       form=st.one_of(RATE_FORM, BOARD_FORM), token=st.one_of(st.none(), ANY_TEXT))
def test_a_form_without_its_csrf_token_is_refused_in_chinese(client, hall, url, form, token):
    data = form if token is None else dict(form, csrf_token=token)
    before = saved()
    response = client.post(url, data=data)
    assert response.status_code == 400
    assert "重新" in shown_message(response)  # reload the page and send it again
    assert saved() == before


@FEW
@given(rating=RATE_FORM, message=BOARD_FORM)
def test_a_rate_limited_form_comes_back_in_chinese_whatever_was_typed(app, client, hall, fresh_limits, rating,
                                                                       message):
    fresh_limits()
    app.config.update(RATING_DEVICE_LIMIT="1 per day", MESSAGE_DEVICE_LIMIT="1 per day")
    token = csrf_token(client, "/board")
    for url, form in (("/rate", rating), ("/board", message)):
        for _ in range(2):  # the second is over the limit
            assert_answered(client.post(url, data=dict(form, csrf_token=token)))


@FEW  # a password check takes a while, on purpose
@given(form=LOGIN_FORM, next_url=ANY_TEXT)
def test_the_login_form_answers_any_input(client, office_account, form, next_url):
    token = csrf_token(client)
    response = client.post("/login", query_string={"next": next_url}, data=dict(form, csrf_token=token))
    assert_answered(response)
    if response.status_code == 302:
        client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/")})


# --- the open API ------------------------------------------------------------------------------

@FAST
@given(query=QUERY, authorization=st.one_of(st.none(), ANY_TEXT.map(lambda text: "Bearer " + text)))
@example(query={"unit": "9" * 30, "window": "9" * 30}, authorization=None)  # was a 500
def test_api_reads_answer_any_query(client, hall, fresh_limits, query, authorization):
    fresh_limits()
    headers = {"Authorization": authorization} if authorization else {}
    for path in ("units", "windows", "staff", "reasons", "scale", "track", "todo", "openapi.json"):
        assert_answered(client.get(f"/api/v1/{path}", query_string=query, headers=headers))


@FAST
@given(payload=st.one_of(EVALUATION_JSON, JSON_ANY))
@example(payload={"token": WINDOW_TOKEN, "level": "satisfied", "submission_key": "c" * 32,
                  "staff_id": 2 ** 70})  # was a 500
@example(payload={"token": WINDOW_TOKEN, "level": "satisfied", "submission_key": "d" * 32,
                  "comment": "\ud800"})  # was a 500: a lone surrogate, from a JSON escape
def test_api_evaluations_answer_any_json(client, hall, fresh_limits, payload):
    fresh_limits()
    before = saved()
    assert_answered(client.post("/api/v1/evaluations", json=payload), before)


@FAST
@given(payload=st.one_of(MESSAGE_JSON, JSON_ANY))
@example(payload={"kind": ["opinion"], "content": "好"})  # was a 500: a list is no dict key
@example(payload={"kind": "opinion", "unit_id": "²", "content": "好"})  # was a 500
def test_api_messages_answer_any_json(client, hall, fresh_limits, payload):
    fresh_limits()
    before = saved()
    assert_answered(client.post("/api/v1/messages", json=payload), before)


@FAST
@given(body=RAW_BODY, path=st.sampled_from(["evaluations", "messages"]))
@example(body=b"[" * 5000 + b"]" * 5000, path="evaluations")  # was a 500: RecursionError in the parser
def test_api_answers_any_raw_body(client, hall, fresh_limits, body, path):
    fresh_limits()
    before = saved()
    response = client.post(f"/api/v1/{path}", data=body, content_type="application/json")
    assert_answered(response, before)
    assert response.is_json


# --- officers' forms ---------------------------------------------------------------------------

@FEW
@given(rating=HOTLINE_RATING, message=BOARD_FORM)
@example(rating={"window": "9" * 30, "level": "satisfied", "submission_key": "e" * 32},
         message={"kind": "opinion", "content": "好"})  # was a 500
def test_the_hotline_forms_answer_any_input(client, hall, office, rating, message):
    token = csrf_token(client, "/admin/hotline/")
    for url, form in (("/admin/hotline/rating", rating), ("/admin/hotline/message", message)):
        before = saved()
        assert_answered(client.post(url, data=dict(form, csrf_token=token)), before)


def classified_ticket(office):
    """A fresh message ticket waiting at 分类处置, where the office chooses a unit and a class."""
    message = appeals.leave_message("complaint", "", "窗口人员态度生硬", "", "")
    ticket = Ticket.get(Ticket.message == message.id)
    ticket, _event = tickets.act(ticket.id, office, "accept", {})
    return ticket


@FEW
@given(action=st.one_of(st.sampled_from(["own", "answer", "transfer", "reject"]), ANY_TEXT), fields=ACTION_FIELDS)
@example(action="own", fields={"unit": "1", "classification": "服务态度", "revision": "²"})  # was a 500
def test_the_ticket_action_form_answers_any_input(client, hall, office, action, fields):
    ticket = classified_ticket(office)
    token = csrf_token(client, f"/admin/handle/{ticket.id}/")
    data = {f"{action}-{name}": str(ticket.revision) if value == "CURRENT" else value
            for name, value in fields.items()}
    before = Ticket.get_by_id(ticket.id)
    response = client.post(f"/admin/handle/{ticket.id}/act/{quote(action, safe='')}",
                           data=dict(data, csrf_token=token))
    assert_answered(response)
    if response.status_code >= 400:
        after = Ticket.get_by_id(ticket.id)
        assert (after.stage, after.revision, after.classification) == (before.stage, before.revision,
                                                                      before.classification)
    assert_answered(client.get(f"/admin/handle/{'9' * 30}/"))  # was a 500: an id beyond 64 bits


OFFICER_QUERY = mostly_valid({
    "page": st.sampled_from(["0", "1", "2"]), "page_size": st.sampled_from(["20", "50"]), "sort": st.just("0"),
    "desc": st.just("1"), "search": st.text(max_size=10), "id": st.just("1"), "unit": UNIT_ID, "ticket": st.just("1"),
    "flt0_0": UNIT_ID}, ANY_TEXT)


@FEW
@given(path=st.sampled_from(["/admin/", "/admin/todo/", "/admin/ticket/", "/admin/message/", "/admin/evaluation/",
                             "/admin/unit/edit/", "/admin/ticket/details/", "/admin/accountability/new/",
                             "/admin/ledger/", "/admin/hotline/"]), query=OFFICER_QUERY)
@example(path="/admin/", query={"unit": "9" * 30})  # each of these was a 500
@example(path="/admin/todo/", query={"page": "9" * 30})
@example(path="/admin/ticket/", query={"page": "9" * 30})
@example(path="/admin/ticket/", query={"page": "-1"})  # PostgreSQL: OFFSET must not be negative
@example(path="/admin/unit/edit/", query={"id": "²"})
@example(path="/admin/accountability/new/", query={"ticket": "9" * 30})
def test_officer_pages_open_for_any_query(client, hall, office, path, query):
    assert_answered(client.get(path, query_string=query))


# --- what SQLite keeps but PostgreSQL refuses (VARCHAR lengths), refused in Chinese on both -----

def test_a_classification_longer_than_its_column_is_refused(client, hall, office):
    ticket = classified_ticket(office)
    token = csrf_token(client, f"/admin/handle/{ticket.id}/")
    response = client.post(f"/admin/handle/{ticket.id}/act/own", data={
        "csrf_token": token, "own-unit": "1", "own-classification": "类" * 51, "own-revision": str(ticket.revision)})
    assert response.status_code == 422 and "分类最多 50 字" in response.get_data(as_text=True)
    assert Ticket.get_by_id(ticket.id).stage == "classify"


def test_a_registered_complainant_name_longer_than_its_column_is_refused(client, hall, office):
    token = csrf_token(client, "/admin/handle/new/")
    before = saved()
    response = client.post("/admin/handle/new/", data={
        "csrf_token": token, "workflow": "problem", "source": "visit", "title": "窗口推诿", "content": "反映窗口推诿",
        "unit": "", "name": "张" * 51, "phone": ""})
    assert response.status_code == 422 and "姓名最多 50 字" in shown_message(response)
    assert saved() == before


def test_a_nul_character_is_refused_before_the_database_sees_it(client, hall):
    token = csrf_token(client, "/board")
    before = saved()
    page = client.post("/board", data={"kind": "opinion", "content": "大厅\x00空调坏了", "csrf_token": token})
    assert page.status_code == 400 and "无法保存的字符" in shown_message(page)
    api = client.post("/api/v1/messages", json={"kind": "opinion", "content": "大厅\x00空调坏了"})
    assert api.status_code == 400 and "无法保存的字符" in shown_message(api)
    assert client.get("/e/%00").status_code == 400
    assert saved() == before


SYMPOSIUM_CELL = st.one_of(st.sampled_from(["海兴县某某农产品有限公司", "融资", "贷款审批慢", "HA", "县行政审批局", "10",
                                            "10个工作日", "①", "²", "５"]), ANY_TEXT)
SYMPOSIUM_PASTE = st.lists(st.lists(SYMPOSIUM_CELL, min_size=3, max_size=6).map("\t".join), max_size=4).map("\n".join)


@FAST
@given(text=SYMPOSIUM_PASTE)
@example(text="海兴县某某农产品有限公司\t融资\t贷款审批慢\tHA\t①")  # was a 500: "①".isdigit(), int("①") fails
@example(text="公" * 101 + "\t融资\t贷款审批慢\tHA")  # PostgreSQL: longer than the contact's company column
def test_a_pasted_symposium_list_is_read_or_refused_line_by_line(county, text):
    from app.symposia import TIME_LIMIT_MAX, parse_rows
    rows, errors = parse_rows(text)
    assert all(CJK.search(error) for error in errors)
    if not errors:
        assert all(len(row["company"]) <= 100 and (row["days"] is None or 1 <= row["days"] <= TIME_LIMIT_MAX)
                   for row in rows)
