"""In a real browser, as the office: a procedure changed in forms only (no YAML typed), the diagram
following each change, saved as a new version; a second browser still on the old one is refused."""
import sqlite3

import pytest

from tests.browser.test_citizen import SHOTS, kiosk_at_first_window
from tests.browser.test_walk import CHROMIUM, browser, log_in, pytestmark, serve  # noqa: F401 (fixtures)


FOLDER = {}


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    FOLDER["path"] = tmp_path_factory.mktemp("form-editor")
    yield from serve(FOLDER["path"])


def citizen_reports_a_bribe(browser, server):  # noqa: F811
    """At the kiosk, 不满意 with 吃拿卡要: the auto_open rule opens a 问题线索办理 ticket; its id."""
    page = kiosk_at_first_window(browser, server)
    page.click("label.level.bad")
    page.click("text=吃拿卡要")
    with page.expect_navigation():
        page.click("button.submit")
    assert "您的查询码" in page.inner_text("main")
    page.close()
    with sqlite3.connect(FOLDER["path"] / "walk.sqlite3") as db:  # which ticket: the page shows only her code
        return db.execute("SELECT max(id) FROM ticket WHERE workflow = 'problem'").fetchone()[0]


def version_shown(page, server, ticket_id):
    page.goto(server + f"/admin/ticket/details/?id={ticket_id}")
    return page.inner_text("h2 + *, .zt-ticket-head, body").split("问题线索办理 · ", 1)[1].split(" ·", 1)[0]


def office_at_the_form(browser, server, key="problem"):  # noqa: F811
    page = log_in(browser, server, "office")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(server + f"/admin/rules/?wf={key}")
    return page


def stage_by_id(page, sid):
    return page.locator(f'.zt-stage-card[data-id="{sid}"]')


def diagram_settles(page, *words):
    page.wait_for_function("""words => {
        const box = document.querySelector('#wf-diagram');
        return !box.classList.contains('zt-stale') && words.every(w => box.textContent.includes(w))
            && document.querySelector('#form-errors').hidden;
    }""", arg=list(words), timeout=15000)


def test_the_office_changes_its_procedure_in_forms(county, browser):  # noqa: F811
    server = county
    before = citizen_reports_a_bribe(browser, server)  # registered on version 2
    office = office_at_the_form(browser, server)
    other = office_at_the_form(browser, server, "message")  # a colleague on the same file, another tab
    assert "第 2 版" in office.inner_text("#wf-version")
    office.wait_for_timeout(300)  # the script has bound its events

    # 承办单位整改: 10 → 7 working days
    rectify = stage_by_id(office, "rectify")
    rectify.locator('[data-f="deadline.amount"]').fill("7")
    assert rectify.locator('[data-f="deadline.unit"]').input_value() == "workdays"
    diagram_settles(office, "承办单位整改", "7 个工作日")

    # a new stage 分管领导审核 (纪委监委领导) after the investigation, before the feedback
    rectify.locator("[data-act=stage-insert]").click()
    new = office.locator(".zt-stage-card").nth(5)
    assert new.get_attribute("data-id") == "stage_1"  # the id is the system's, never typed
    assert office.evaluate("document.activeElement.dataset.f") == "title"  # focus in its name, typed at once
    new.locator('.zt-stage-own [data-f="title"]').fill("分管领导审核")
    new.locator('.zt-stage-own select[data-f="role"]').select_option(label="纪委监委领导")
    new.locator("[data-act=action-add]").click()
    action = new.locator(".zt-action").first
    action.locator('[data-f="title"]').fill("审核同意")
    action.locator('select[data-f="to"]').select_option(label="结果反馈")
    action.locator('input[data-f="require"][value="comment"]').check()
    report = stage_by_id(office, "investigate").locator('.zt-action[data-id="report"]')
    report.locator('select[data-f="to"]').select_option(label="分管领导审核")  # offered by its new title at once

    # rename a stage: the lists of stages follow as one types
    stage_by_id(office, "feedback").locator('.zt-stage-own [data-f="title"]').fill("反馈群众结果")
    assert action.locator('select[data-f="to"] option:checked').inner_text() == "反馈群众结果"

    # the red card two working days after the deadline
    office.locator('#escalation [data-f="red_after.amount"]').fill("2")
    diagram_settles(office, "分管领导审核", "反馈群众结果", "审核同意")

    # a mistake is shown at its field, in Chinese, and the diagram waits for it to be fixed
    title = new.locator('.zt-stage-own [data-f="title"]')
    title.fill("")
    office.wait_for_selector("#form-errors:not([hidden])")
    assert "应当是一段文字" in new.locator(".zt-field-error").first.inner_text()
    assert "zt-stale" in office.get_attribute("#wf-diagram", "class")
    title.fill("分管领导审核")
    diagram_settles(office, "分管领导审核")

    SHOTS.mkdir(parents=True, exist_ok=True)
    new.scroll_into_view_if_needed()
    office.evaluate("window.scrollBy(0, document.querySelector('.zt-stage-card:nth-child(6)').getBoundingClientRect().top - 8)")
    office.screenshot(path=str(SHOTS / "rules-form-new-stage.png"))
    office.evaluate("window.scrollTo(0, 0)")
    office.screenshot(path=str(SHOTS / "rules-form-editor.png"))
    office.locator("#wf-diagram").screenshot(path=str(SHOTS / "rules-form-diagram.png"))

    with office.expect_navigation():
        office.click("#save-form")
    assert "已保存" in office.inner_text(".alert")
    assert "第 3 版" in office.inner_text("#wf-version")  # numbered by the system
    assert stage_by_id(office, "rectify").locator('[data-f="deadline.amount"]').input_value() == "7"
    assert office.locator('#escalation [data-f="red_after.amount"]').input_value() == "2"
    assert "分管领导审核" in office.inner_text("#wf-diagram")

    # the ticket registered before keeps version 2; a new one follows version 3
    after = citizen_reports_a_bribe(browser, server)
    reader = office_at_the_form(browser, server)
    assert version_shown(reader, server, before) == "第 2 版"
    assert version_shown(reader, server, after) == "第 3 版"

    # the colleague, still on the old file, changes 留言办理 and saves: refused, the difference shown
    other.locator('.zt-stage-card[data-id="handle"] [data-f="deadline.amount"]').fill("8")
    other.click("#save-form")
    other.wait_for_selector("#stale-panel:not([hidden])")
    assert "没有保存" in other.inner_text("#stale-message") and "保存了新的流程规则" in other.inner_text("#stale-message")
    assert "分管领导审核" in other.inner_text("#stale-diff")
    assert other.locator('.zt-stage-card[data-id="handle"] [data-f="deadline.amount"]').input_value() == "8"  # kept
    other.click("[data-act=reapply]")  # he left 问题线索办理 alone: his change goes on top, on purpose
    diagram_settles(other, "8 个工作日")
    with other.expect_navigation():
        other.click("#save-form")
    assert "已保存" in other.inner_text(".alert")
    other.goto(server + "/admin/rules/?wf=problem")
    assert "第 3 版" in other.inner_text("#wf-version") and "分管领导审核" in other.inner_text("#wf-diagram")


def test_restoring_the_first_version_from_history(county, browser):  # noqa: F811
    server = county
    office = office_at_the_form(browser, server)
    office.on("dialog", lambda dialog: dialog.accept())  # "make this text the new version?"
    office.goto(server + "/admin/rules/overview/")
    office.locator("#rules-history tr a").last.click()  # the first text, as the county installed it
    with office.expect_navigation():
        office.click("#rules-restore button")
    assert "问题线索办理 第 4 版" in office.inner_text(".alert-success")
    office.goto(server + "/admin/rules/?wf=problem")
    assert "第 4 版" in office.inner_text("#in-force")
    assert "分管领导审核" not in office.inner_text("#wf-diagram")
    assert stage_by_id(office, "rectify").locator('[data-f="deadline.amount"]').input_value() == "10"
