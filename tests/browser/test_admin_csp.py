"""In a real browser, under the Content-Security-Policy: Flask-Admin's filters, select2 widgets, bulk
actions and editable cells still work, and the browser refuses nothing."""
import re

import pytest

from tests.browser.test_walk import browser, log_in, pytestmark, server  # noqa: F401 (fixtures, the skip)

# Chromium fires this event for every refusal (inline script or handler, javascript: URL, eval).
REPORT_VIOLATIONS = """document.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.violatedDirective + " " + e.blockedURI + " " + (e.sample || ""));
});"""


@pytest.fixture
def office(browser, server):  # noqa: F811
    """The office logged in, with every refusal and script error of the page collected."""
    page = log_in(browser, server, "office")
    page.add_init_script(REPORT_VIOLATIONS)
    page.refused = []
    page.on("console", lambda m: page.refused.append(m.text) if m.type == "error" and (
        "CSP violation" in m.text or "Refused to" in m.text or "Content Security Policy" in m.text) else None)
    page.on("pageerror", lambda exc: page.refused.append(f"script error: {exc}"))
    page.on("dialog", lambda dialog: dialog.accept())  # "Open a ticket for each selected evaluation?"
    yield page
    page.close()


def choose_in_select2(page, container, text):
    """Pick `text` in a select2 widget as a person does: open it, click the option."""
    container.click()
    page.locator(".select2-drop-active .select2-result-label", has_text=text).first.click()


def test_the_office_filters_evaluations_and_opens_tickets_in_bulk(office, server):  # noqa: F811
    office.goto(server + "/admin/evaluation/")
    office.click("li:has(.field-filters) > a")  # 添加筛选器
    office.click(".field-filters a.filter:text-is('好差评')")
    choose_in_select2(office, office.locator("table.filters .select2-container.filter-val"), "差评")
    with office.expect_navigation():
        office.click("#filter_form button[type=submit]")
    assert re.search(r"flt\d+_\d+=bad", office.url)
    levels = office.locator("td.col-level").all_inner_texts()
    assert levels and set(levels) <= {"不满意"}, levels

    office.locator("input.action-checkbox").nth(0).check()
    office.locator("input.action-checkbox").nth(1).check()
    office.click("a.dropdown-toggle:text-is('选中的')")
    with office.expect_navigation(timeout=10000):  # an inline onclick would be refused: nothing happens
        office.click(".dropdown-menu a.dropdown-item:text-is('立案')")
    assert "已立案" in office.inner_text(".alert"), office.inner_text("body")[:500]
    assert office.refused == []


def test_an_editable_cell_saves_without_eval(office, server):  # noqa: F811
    """x-editable reads its options with new Function(), which the policy refuses (views/static/admin.js)."""
    office.goto(server + "/admin/calendar/")
    cell = office.locator("a[data-role=x-editable-boolean][name=workday]").first
    day, was_workday = cell.get_attribute("data-pk"), cell.get_attribute("data-value") == "1"
    cell.click()
    # x-editable opens its select2 at once, with the options of its data-source: pick the other one.
    office.locator(".select2-drop-active .select2-result-label", has_text="否" if was_workday else "是").click()
    with office.expect_response(re.compile(r".*/ajax/update/")) as update:
        office.click(".editable-container button[type=submit]")
    assert update.value.status == 200
    office.reload()
    saved = office.locator(f"a[data-role=x-editable-boolean][name=workday][data-pk='{day}']")
    assert (saved.get_attribute("data-value") == "1") is not was_workday
    assert office.refused == []
