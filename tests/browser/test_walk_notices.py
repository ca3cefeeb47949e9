"""In a real browser, as the people who live it: a kiosk 差评 walked to the citizen's grade, each
step's notice arriving at the county's groups (a local HTTP sink stands in for 企业微信/钉钉)."""
import re
import time

import pytest

from tests.browser.test_citizen import kiosk_at_first_window, shot
from tests.browser.test_walk import CHROMIUM, browser, log_in, pytestmark, serve  # noqa: F401 (fixtures)
from tests.browser.test_walk import take as act
from tests.sinks import HttpSink

GROUPS = {  # path at the sink: (title, kind, role or unit)
    "/office": ("党风政风监督室群", "role", "党风政风监督室"),
    "/leader": ("纪委监委领导群", "role", "纪委监委领导"),
    "/inspector": ("监督检查室群", "role", "监督检查室/派驻纪检组"),
    "/hall": ("县行政审批局工作群", "unit", "县行政审批局"),
    "/suji": ("苏基镇工作群", "unit", "苏基镇"),
}


@pytest.fixture(scope="module")
def sink():
    with HttpSink() as running:
        yield running


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    yield from serve(tmp_path_factory.mktemp("notices"))


SEEN = {}  # path -> how many of its messages a step has already matched


def arrives(sink, path, *words, seconds=20):
    """The next message at `path` holding every word: the worker sends every few seconds."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        messages = sink.messages(path)
        for i, text in enumerate(messages[SEEN.get(path, 0):], start=SEEN.get(path, 0)):
            if all(word in text for word in words):
                SEEN[path] = i + 1
                return text
        time.sleep(0.3)
    raise AssertionError(f"no message with {words} at {path}; got {sink.messages(path)}")


def choose(page, selector, label):
    """Pick an option by its Chinese label (the unit list is long: no typing its id)."""
    page.select_option(selector, label=label)


def test_a_kiosk_complaint_walked_to_her_grade_with_every_notice_delivered(county, browser, sink):  # noqa: F811
    server = county
    office = log_in(browser, server, "office")
    for path, (title, kind, whom) in GROUPS.items():  # the office sets up the county's groups once
        office.goto(server + "/admin/channel/new/")
        office.fill("#title", title)
        office.eval_on_selector("#kind", "(s, v) => { s.value = v; s.dispatchEvent(new Event('change')); }", kind)
        choose(office, "#role" if kind == "role" else "#unit", whom)
        office.fill("#address", sink.url(path))
        with office.expect_navigation():
            office.click("input[type=submit][value='保存']")
        assert sink.url(path) not in office.content()  # the saved address is only ever shown masked

    kiosk = kiosk_at_first_window(browser, server)
    kiosk.click("label.level.bad")
    kiosk.click("text=吃拿卡要")
    kiosk.fill("textarea[name=comment]", "办营业执照被暗示要请吃饭")
    kiosk.fill("input[name=phone]", "13900001234")
    with kiosk.expect_navigation():
        kiosk.click("button.submit")
    code = kiosk.inner_text("#query-code")
    kiosk.click("#done")
    notice = arrives(sink, "/office", "平台受理")  # 新待办 in the office's group, with the ticket's link
    ticket_url = re.search(r"/admin/handle/\d+/", notice).group(0)
    office.goto(server + "/admin/todo/")
    assert office.locator(f"a[href='{ticket_url}']").count() == 1  # and in its 待办
    assert act(office, server, ticket_url, "submit", comment="吃拿卡要线索，请领导批办") == "领导批办分类处置"
    arrives(sink, "/leader", "领导批办分类处置")
    leader = log_in(browser, server, "leader")
    assert act(leader, server, ticket_url, "dispatch", classification="吃拿卡要", comment="请监督检查室调查") == "调查跟踪督办"
    arrives(sink, "/inspector", "调查跟踪督办")
    inspector = log_in(browser, server, "inspector")
    inspector.goto(server + ticket_url)
    form = inspector.locator("#form-assign")
    inspector.locator("details.zt-action", has=form).locator("summary").click()
    form.locator("[name='assign-unit']").select_option(label="县行政审批局")
    form.locator("[name='assign-co_units']").select_option(label="苏基镇")
    form.locator("[name='assign-comment']").fill("审批局主办，苏基镇协办核实")
    with inspector.expect_navigation():
        form.locator("button[type=submit]").click()
    arrives(sink, "/hall", "承办单位签收")
    arrives(sink, "/suji", "协办")

    handler = log_in(browser, server, "handler1")
    assert handler.url.endswith("/admin/todo/")  # his home is 我的待办
    assert act(handler, server, ticket_url, "sign") == "承办单位整改"
    assert "13900001234" not in handler.content()  # the unit never learns who complained
    handler.goto(server + ticket_url)
    assert "等待协办单位答复：苏基镇" in handler.inner_text("#waiting-co")
    with handler.expect_navigation():
        handler.click("#waiting-co button")
    arrives(sink, "/suji", "催办")
    township = log_in(browser, server, "handler3")
    act(township, server, ticket_url, "co_answer", comment="苏基镇已核实当事人情况")
    assert act(handler, server, ticket_url, "done", result="内部：对窗口人员批评教育并调离") == "调查跟踪督办"
    arrives(sink, "/inspector", "调查跟踪督办")
    assert act(inspector, server, ticket_url, "report", result="内部：查实，建议约谈提醒") == "结果反馈"
    arrives(sink, "/office", "结果反馈")
    assert act(office, server, ticket_url, "reply",
               reply="您反映的问题已查实，县行政审批局已对相关窗口人员批评教育并调整岗位。") == "回访"
    arrives(sink, "/office", "回访")
    timeline = office.inner_text("#timeline")
    assert "协办答复（苏基镇）" in timeline and "催办协办单位（苏基镇）" in timeline

    phone = browser.new_page(viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True)
    phone.goto(f"{server}/track?code={code}")
    phone.fill("input[name=last4]", "1234")
    with phone.expect_navigation():
        phone.click("button.submit")
    page = phone.inner_text("main")
    assert "已对相关窗口人员批评教育" in page and "县行政审批局" in page and "内部" not in page
    assert page.index("给您的答复") < page.index("您对办理结果满意吗")
    shot(phone, "phone-8-track-reply")
    phone.click("label.level.good")
    with phone.expect_navigation():
        phone.click("#grade-form button.submit")
    assert "已记录" in phone.inner_text("main") or "谢谢" in phone.inner_text("main")
    every = " ".join(sink.messages())
    assert "13900001234" not in every and "内部" not in every  # no complainant, nothing internal, to any group
