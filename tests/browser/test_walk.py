"""In a real browser: one complaint walked from 受理 to 办结 by the demo accounts."""
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="Debian's chromium is not installed here (.ci/run installs it)")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from serve(tmp_path_factory.mktemp("walk"))


def serve(folder, **settings):
    """`python run.py` on a free port with its own demo database; yields its address."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # A copy of the procedures: a save in the editor writes its file, never the repository's.
    shutil.copy(ROOT / "workflows.yaml", folder / "workflows.yaml")
    env = dict(os.environ, INSTANCE_PATH=str(folder), DATABASE_URL=f"sqlite:///{folder}/walk.sqlite3",
               WORKFLOWS_PATH=str(folder / "workflows.yaml"), **settings)
    env.pop("SECRET_KEY", None)
    with open(folder / "server.log", "w") as log:
        process = subprocess.Popen([sys.executable, "run.py", "--port", str(port)], cwd=ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(url + "/login", timeout=1).close()
            break
        except OSError:
            time.sleep(0.25)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield chromium
        chromium.close()


def log_in(browser, server, username):
    page = browser.new_page()
    page.goto(server + "/login")
    page.fill("#username", username)
    page.fill("#password", "Demo@2026")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/(todo/)?$"))  # a handler lands on 我的待办
    return page


def take(page, server, ticket_url, action, **fields):
    """Open the ticket, unfold the action, fill its fields, submit; returns the stage shown after."""
    page.goto(server + ticket_url)
    form = page.locator(f"#form-{action}")
    details = page.locator("details.zt-action", has=form)
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    for name, value in fields.items():
        field = form.locator(f"[name='{action}-{name}']")
        if field.first.get_attribute("type") == "radio":
            form.locator(f"[name='{action}-{name}'][value='{value}']").check()
        elif field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(label=value)
        else:
            field.fill(value)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert "已完成" in page.inner_text(".alert"), page.inner_text("body")[:500]
    return page.inner_text("#ticket-stage")


def test_a_complaint_from_accepting_to_closing(server, browser):
    office = log_in(browser, server, "office")
    office.goto(server + "/admin/handle/new/")
    office.select_option("#workflow", "problem")
    office.select_option("#source", "hotline")
    office.fill("#title", "婚姻登记窗口要求重复开具证明")
    office.fill("#content", "来电反映：补办结婚证时被要求先到派出所改婚姻状况，派出所又要结婚证。")
    office.select_option("#unit", label="县民政局婚姻登记处")
    office.fill("#phone", "13800001234")
    with office.expect_navigation():
        office.click("#new-ticket button[type=submit]")
    office.wait_for_url(re.compile(r".*/admin/handle/\d+/$"))
    ticket_url = office.url.replace(server, "")
    assert office.inner_text("#ticket-stage") == "平台受理"

    assert take(office, server, ticket_url, "submit", comment="请领导批办") == "领导批办分类处置"
    leader = log_in(browser, server, "leader")
    assert take(leader, server, ticket_url, "dispatch", classification="办事效率",
                comment="请监督检查室跟踪督办") == "调查跟踪督办"
    inspector = log_in(browser, server, "inspector")
    assert take(inspector, server, ticket_url, "assign", unit="县行政审批局",
                comment="请审批局协调婚姻登记处与派出所对接办理") == "承办单位签收"
    handler = log_in(browser, server, "handler1")
    assert take(handler, server, ticket_url, "sign") == "承办单位整改"
    assert "13800001234" not in handler.inner_text("body")  # the unit never sees who called
    assert take(handler, server, ticket_url, "done", result="当天对接办理，已补办结婚证") == "调查跟踪督办"
    assert take(inspector, server, ticket_url, "report", result="问题已解决") == "结果反馈"
    assert take(office, server, ticket_url, "reply", reply="已电话告知群众") == "回访"
    assert take(office, server, ticket_url, "grade", grade="satisfied") == "办结"

    timeline = office.inner_text("#timeline")
    for step in ("立案", "呈报领导批办", "批办监督检查室", "交承办单位整改", "签收", "报送整改结果",
                 "调查结果报党风政风监督室", "反馈群众", "记录回访评价"):
        assert step in timeline
    assert office.inner_text("#no-actions") == "工单已办结。"
