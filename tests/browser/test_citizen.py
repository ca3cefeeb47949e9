"""In a real browser: the hall kiosk (1080×1920 portrait) and a phone (375×667).

Screenshots land in docs/screenshots/ for README.md.
"""
import re
from pathlib import Path

import pytest

from tests.browser.test_walk import CHROMIUM, browser, pytestmark, serve, server  # noqa: F401 (fixtures)

SHOTS = Path(__file__).resolve().parent.parent.parent / "docs" / "screenshots"


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def kiosk_at_first_window(browser, server, first_shot=None):
    """The 1080×1920 kiosk, 县行政审批局's first window chosen, its rating form and script loaded."""
    page = browser.new_page(viewport={"width": 1080, "height": 1920}, has_touch=True)
    page.goto(server + "/kiosk")
    if first_shot:
        shot(page, first_shot)
    page.click("text=县行政审批局")
    page.click("#windows a >> nth=0")
    page.wait_for_selector("html.js #rate-form")  # the page and its script have loaded
    return page


def test_kiosk_rating_with_reasons_and_reset(server, browser):  # noqa: F811
    page = kiosk_at_first_window(browser, server, first_shot="kiosk-1-units")
    page.wait_for_selector("#reasons", state="hidden")  # reasons appear only on 不满意
    page.click("label.level.bad")
    page.wait_for_selector("#reasons", state="visible")
    shot(page, "kiosk-2-dissatisfied-reasons")
    with page.expect_navigation():
        page.click("button.submit")
    assert "请至少选一个不满意原因" in page.inner_text("main")
    page.click("#level-dissatisfied + span")
    page.click("text=办理速度慢")
    page.fill("textarea[name=comment]", "排队一个多小时")
    with page.expect_navigation():
        page.click("button.submit")
    # a complaint: she leaves with its query code, large, and a QR code of the /track link
    assert "感谢您的评价" in page.inner_text("#received")
    code = page.inner_text("#query-code")
    assert re.fullmatch(r"[0-9A-Z]{12}", code)
    box = page.locator("#track-qr svg").bounding_box()
    assert box["width"] >= 300 and box["y"] + box["height"] <= 1920  # large, and on the screen
    shot(page, "kiosk-3-query-code")
    page.click("#done")  # 完成: the next person never sees her code
    page.wait_for_url(re.compile(r".*/kiosk$"))
    assert "请选择为您办事的单位" in page.inner_text("main") and code not in page.content()
    from playwright.sync_api import Error
    try:  # the page was a POST's answer and is never stored: going back cannot bring the code up again
        page.go_back()
    except Error as refused:
        assert "ERR_CACHE_MISS" in str(refused)
    page.wait_for_load_state("load")
    assert code not in page.inner_text("body")


def test_a_satisfied_kiosk_rating_thanks_and_returns_by_itself(server, browser):  # noqa: F811
    page = kiosk_at_first_window(browser, server)
    page.click("label.level.good")
    with page.expect_navigation():
        page.click("button.submit")
    assert "感谢您的评价" in page.inner_text("#thanks") and not page.is_visible("#query-code")
    shot(page, "kiosk-3-thanks")
    page.wait_for_url(re.compile(r".*/kiosk$"), timeout=15000)  # back to the start by itself
    assert "请选择为您办事的单位" in page.inner_text("main")


def phone_at_first_window(browser, server, unit, query=""):
    """A 375×667 phone on the rating page of the unit's first window, as its QR code opens it."""
    phone = browser.new_page(viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True)
    phone.goto(server + "/kiosk")
    phone.click(f"text={unit}")
    token = phone.get_attribute("#windows a >> nth=0", "href").split("window=")[1].split("&")[0]
    phone.goto(f"{server}/e/{token}{query}")
    phone.wait_for_selector("html.js #rate-form")
    return phone, token


def test_phone_rating_message_lookup_and_enterprise(server, browser):  # noqa: F811
    phone, _token = phone_at_first_window(browser, server, "县医疗保障局")
    shot(phone, "phone-1-rate")
    phone.click("label.level.good")
    with phone.expect_navigation():
        phone.click("button.submit")
    assert "感谢您的评价" in phone.inner_text("#thanks")

    phone, _token = phone_at_first_window(browser, server, "县医疗保障局")
    phone.click("label.level.bad")
    phone.click("text=服务态度差")
    with phone.expect_navigation():
        phone.click("button.submit")
    code = phone.inner_text("#query-code")  # a 差评 opens a ticket: she gets its code, and a way to follow it
    assert re.fullmatch(r"[0-9A-Z]{12}", code) and phone.is_visible("#track-qr svg")
    shot(phone, "phone-7-rating-query-code")
    with phone.expect_navigation():
        phone.click("text=查询办理进度")
    assert phone.input_value("input[name=code]") == code

    phone.goto(server + "/board")
    phone.select_option("select[name=kind]", "appeal")
    phone.fill("textarea[name=content]", "医保报销材料提交后一个月没有消息")
    phone.fill("input[name=phone]", "13812345678")
    shot(phone, "phone-2-board")
    with phone.expect_navigation():
        phone.click("button.submit")
    code = phone.inner_text("#query-code")
    assert re.fullmatch(r"[0-9A-Z]{12}", code)
    shot(phone, "phone-3-query-code")
    phone.goto(server + "/track")
    phone.fill("input[name=code]", code)
    phone.fill("input[name=last4]", "5678")
    with phone.expect_navigation():
        phone.click("button.submit")
    assert "受理" in phone.inner_text("#track-stage")
    shot(phone, "phone-4-track")

    phone.goto(server + "/enterprise")
    phone.fill("input[name=company]", "海兴锦绣服饰有限公司")
    phone.fill("input[name=credit_code]", "91350100M000100Y43")
    phone.fill("input[name=name]", "曹某")
    phone.fill("input[name=phone]", "13800001111")
    phone.select_option("select[name=category]", "物流")
    phone.fill("textarea[name=content]", "原材料运货车下不了高速，产品发不出")
    with phone.expect_navigation():
        phone.click("button.submit")
    assert re.fullmatch(r"[0-9A-Z]{12}", phone.inner_text("#query-code"))
    shot(phone, "phone-5-enterprise-done")


@pytest.fixture(scope="module")
def five_levels(tmp_path_factory):
    yield from serve(tmp_path_factory.mktemp("five"), RATING_SCALE="five")


def test_phone_rating_on_the_national_five_levels(five_levels, browser):  # noqa: F811
    phone, token = phone_at_first_window(browser, five_levels, "县行政审批局", "?case=HX-2026-1125-0001")
    phone.wait_for_selector("#reasons", state="hidden")
    phone.click("#level-very_satisfied + span")  # praise: its own tags, none required
    phone.wait_for_selector("text=办事效率高", state="visible")
    assert not phone.is_visible("text=吃拿卡要")
    phone.click("#level-very_dissatisfied + span")  # 差评: the other tags, one required
    phone.wait_for_selector("text=吃拿卡要", state="visible")
    assert not phone.is_visible("text=办事效率高")
    assert phone.inner_text("#reasons legend") == "不满意的原因（至少选一项）"
    phone.click("#level-very_satisfied + span")
    assert "可选" in phone.inner_text("#reasons legend")
    phone.click("text=办事效率高")
    shot(phone, "phone-6-five-levels")
    with phone.expect_navigation():
        phone.click("button.submit")
    assert "感谢您的评价" in phone.inner_text("#thanks")
    phone.goto(f"{five_levels}/e/{token}?case=HX-2026-1125-0001")  # the same case again
    phone.click("#level-satisfied + span")
    with phone.expect_navigation():
        phone.click("button.submit")
    assert "已经评价过了" in phone.inner_text("main")
