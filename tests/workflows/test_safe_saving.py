"""Saving the procedures safely: one of two editors wins, nothing incomplete, dates honoured, tickets asked for."""
import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from app import procedures, tickets, workdays
from app.workflow.errors import WorkflowFileError
from models import ALL_MODELS, AuditLog, Evaluation, SystemSetting, Ticket, TicketEvent, WorkflowFile, db
from tests.conftest import csrf_token
from tests.workflows.conftest import MONDAY
from tests.workflows.test_screens import as_user, page_text

ROOT = Path(__file__).resolve().parent.parent.parent
SHIPPED = (ROOT / "workflows.yaml").read_text(encoding="utf-8")


def block(text, key):
    """The text of one workflow's block (from `  key:` to the next workflow or auto_open)."""
    return re.search(rf"(?ms)^  {key}:\n.*?(?=^  [a-z_]+:\n|^auto_open:)", text).group(0)


def without(text, key):
    return text.replace(block(text, key), "")


def editor_page(client):
    page = client.get("/admin/rules/edit/").get_data(as_text=True)
    base = re.search(r'name="base" type="hidden" value="(\d+)"|type="hidden" name="base" value="(\d+)"|'
                     r'id="base" name="base" type="hidden" value="(\d+)"', page)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    return [g for g in base.groups() if g][0], token


def save_in_screen(client, text, base, token, **extra):
    return client.post("/admin/rules/edit/", data=dict({"text": text, "base": base, "save": "1",
                                                        "csrf_token": token}, **extra))


# --- two people saving ----------------------------------------------------------------------
def test_a_save_on_an_older_base_is_refused_with_the_other_change_shown(app, officers):
    a, b = as_user(app, "office"), as_user(app, "office")
    base_a, token_a = editor_page(a)
    base_b, token_b = editor_page(b)
    assert base_a == base_b
    problem_change = SHIPPED.replace("title: 调查跟踪督办", "title: 核查督办", 1)
    assert save_in_screen(a, problem_change, base_a, token_a).status_code == 302
    message_change = SHIPPED.replace("title: 留言办理", "title: 群众留言办理", 1)
    assert message_change != SHIPPED
    refused = save_in_screen(b, message_change, base_b, token_b)
    page = page_text(refused)
    assert refused.status_code == 409
    assert "没有保存" in page and "office" in page and "您的文本保留在下面" in page
    assert "+ title: 核查督办" in page and "- title: 调查跟踪督办" in page  # A's change, as a diff
    assert "群众留言办理" in page  # B's own text is still in the textarea
    assert f'value="{base_b}"' in page  # still on the old base: saving again is refused again
    with db.connection_context():
        assert procedures.workflow("problem").version == 3  # A's version stays
        assert procedures.workflow("problem").stages["investigate"].title == "核查督办"
        assert procedures.workflow("message").version == 2 and WorkflowFile.select().count() == 2


def test_the_api_raises_stale_base_with_the_diff(conn, officers):
    first = WorkflowFile.get()
    procedures.save(SHIPPED.replace("title: 平台受理", "title: 平台登记受理", 1), first.id, officers["office"])
    with pytest.raises(procedures.StaleBase) as stale:
        procedures.save(SHIPPED.replace("title: 留言办理", "title: 群众留言办理", 1), first.id, officers["office"])
    assert stale.value.latest.id == first.id + 1
    assert "+        title: 平台登记受理" in stale.value.diff and "office" in stale.value.message
    assert procedures.workflow("problem").version == 3 and procedures.workflow("message").version == 2


# --- completeness ---------------------------------------------------------------------------
@pytest.mark.parametrize("key, channel", [("message", "留言板（/board）将无法受理留言"),
                                          ("enterprise", "涉企诉求渠道"), ("appeal", "评价申诉将无法受理")])
def test_a_file_without_a_channels_procedure_is_refused(conn, officers, key, channel):
    with pytest.raises(WorkflowFileError) as error:
        procedures.save(without(SHIPPED, key), WorkflowFile.get().id, officers["office"])
    assert f"缺少流程 {key}：" in str(error.value) and channel in str(error.value)
    assert WorkflowFile.select().count() == 1


def test_an_empty_procedure_file_is_refused(conn, officers):
    with pytest.raises(WorkflowFileError) as error:
        procedures.save("workflows: {}\n", WorkflowFile.get().id, officers["office"])
    for key in ("message", "enterprise", "appeal"):
        assert f"缺少流程 {key}" in str(error.value)
    with pytest.raises(WorkflowFileError) as error:  # an auto_open target
        procedures.save(without(SHIPPED, "evaluation"), WorkflowFile.get().id, officers["office"])
    assert "evaluation" in str(error.value) and WorkflowFile.select().count() == 1


def every_channel_answers(app, county, officers):
    """The board, the enterprise form, a bad rating and an appeal each work (no 500)."""
    from models import Reason
    from tests.test_board import post
    from tests.test_public_rating import form_of
    public = app.test_client()
    assert post(public, "/board", kind="complaint", unit=str(county["hall_a"].id), content="窗口午休提前",
                name="", phone="").status_code == 200
    assert post(public, "/enterprise", company="海兴锦绣服饰有限公司", credit_code="91350100M000100Y43",
                name="王经理", phone="13812345678", category="审批", content="环评审批超期").status_code == 200
    fields = form_of(public.get(f"/e/{county['w1'].token}").get_data(as_text=True))
    fields.update(level="dissatisfied", reasons=str(Reason.get(Reason.title == "办理速度慢").id), comment="慢")
    assert public.post("/rate", data=fields).status_code == 200
    rating = Evaluation.select().order_by(Evaluation.id.desc()).first()
    handler = as_user(app, "handler_a")
    token = csrf_token(handler, f"/admin/handle/appeal/{rating.id}/")
    assert handler.post(f"/admin/handle/appeal/{rating.id}/", data={
        "reason": "监控显示该群众当天未到本窗口办理任何业务，属误评", "csrf_token": token}).status_code == 302
    assert {t.workflow for t in Ticket.select()} >= {"message", "enterprise", "appeal"}


@pytest.mark.parametrize("change", [
    lambda t: t.replace("title: 留言办理", "title: 群众留言办理", 1),
    lambda t: t.replace(block(t, "appeal"), block(t, "appeal").replace("effective: 2026-01-01", "effective: 2027-01-01")),
    lambda t: t.replace(block(t, "enterprise"), block(t, "enterprise").replace("title: 涉企诉求办理", "title: 企业诉求")),
])
def test_no_channel_answers_500_after_an_accepted_save(app, officers, county, change):
    office = as_user(app, "office")
    base, token = editor_page(office)
    assert save_in_screen(office, change(SHIPPED), base, token).status_code == 302
    with db.connection_context():
        every_channel_answers(app, county, officers)


# --- effective dates ------------------------------------------------------------------------
def test_a_future_version_is_scheduled_and_applies_from_its_day(app, officers, open_problem):
    later = SHIPPED.replace("effective: 2026-12-07", "effective: 2027-01-01", 1) \
        .replace("title: 平台受理", "title: 平台登记受理", 1)
    with db.connection_context():
        procedures.save(later, WorkflowFile.get().id, officers["office"], at=dt.datetime(2026, 12, 7, 10))
        before = open_problem(at=dt.datetime(2026, 12, 31, 17))
        after = open_problem(at=dt.datetime(2027, 1, 4, 9))
        assert (before.workflow_version, after.workflow_version) == (2, 3)
        assert procedures.scheduled(dt.date(2026, 12, 8)) == [("problem", 3, dt.date(2027, 1, 1))]
        assert procedures.active_versions(dt.date(2027, 1, 1))["problem"] == 3
        assert Ticket.get_by_id(before.id).workflow_version == 2  # registered before: keeps its version
    leader = as_user(app, "leader")
    page = page_text(leader.get("/admin/rules/"))
    assert "待生效" in page and "第 3 版" in page
    assert "2027-01-01" in page


# --- stages that go away ----------------------------------------------------------------------
def renamed_investigation(text=SHIPPED):
    head, rest = text.split("  message:", 1)
    return head.replace("investigate", "check").replace("调查跟踪督办", "核查督办") + "  message:" + rest


def test_removing_a_stage_with_open_tickets_asks_where_they_go(app, officers, open_problem):
    with db.connection_context():
        ticket = open_problem()
        tickets.act(ticket.id, officers["office"], "submit", {"comment": "呈报"}, at=MONDAY)
        tickets.act(ticket.id, officers["leader"], "dispatch", {"classification": "作风", "comment": "调查"}, at=MONDAY)
        old_due = Ticket.get_by_id(ticket.id).due_at
    office = as_user(app, "office")
    base, token = editor_page(office)
    asked = save_in_screen(office, renamed_investigation(), base, token)
    page = page_text(asked)
    assert asked.status_code == 200 and 'id="stage-map"' in page
    assert "调查跟踪督办" in page and ticket.code in page and 'name="stage_map:problem:investigate"' in page
    with db.connection_context():
        assert WorkflowFile.select().count() == 1  # nothing saved until the office chooses
    saved = save_in_screen(office, renamed_investigation(), base, token, **{"stage_map:problem:investigate": "check"})
    assert saved.status_code == 302
    with db.connection_context():
        moved = Ticket.get_by_id(ticket.id)
        assert (moved.workflow_version, moved.stage) == (3, "check")
        stage = procedures.workflow("problem", 3).stages["check"]
        assert moved.due_at == workdays.current().due(stage.deadline, moved.stage_entered_at)[0] != old_due
        event = TicketEvent.get(TicketEvent.ticket == ticket.id, TicketEvent.action == "version_move")
        assert event.comment == "流程调整：环节“调查跟踪督办”已删除，改到“核查督办”办理，时限重新计算"
        assert AuditLog.select().where(AuditLog.action == "workflow_save").count() == 1


def test_the_api_lists_the_groups_and_refuses_a_wrong_target(conn, officers, open_problem):
    ticket = open_problem()
    tickets.act(ticket.id, officers["office"], "submit", {"comment": "呈报"}, at=MONDAY)
    tickets.act(ticket.id, officers["leader"], "dispatch", {"classification": "作风", "comment": "调查"}, at=MONDAY)
    with pytest.raises(procedures.StagesNeedMapping) as asked:
        procedures.save(renamed_investigation(), WorkflowFile.get().id, officers["office"],
                        stage_map={"problem": {"investigate": "closed"}})  # a final stage is no choice
    (group,) = asked.value.groups
    assert (group["workflow"], group["version"], group["stage"], group["count"], group["codes"]) == \
        ("problem", 2, "investigate", 1, [ticket.code])
    assert ("check", "核查督办") in group["choices"] and "closed" not in dict(group["choices"])


# --- the file and the database ----------------------------------------------------------------
def test_saving_writes_the_file_atomically_or_says_it_could_not(app, officers):
    office = as_user(app, "office")
    base, token = editor_page(office)
    changed = SHIPPED.replace("title: 平台受理", "title: 平台登记受理", 1)
    assert save_in_screen(office, changed, base, token).status_code == 302
    with db.connection_context():
        assert Path(app.config["WORKFLOWS_PATH"]).read_text(encoding="utf-8") == procedures.latest_file().text
    app.config["WORKFLOWS_PATH"] = str(Path(app.config["INSTANCE_PATH"]) / "missing-folder" / "workflows.yaml")
    base, token = editor_page(office)
    response = save_in_screen(office, changed.replace("title: 留言办理", "title: 群众留言办理", 1), base, token)
    assert response.status_code == 302
    page = page_text(office.get("/admin/rules/"))
    assert "无法写入文件" in page and "missing-folder" in page
    with db.connection_context():
        assert procedures.workflow("message").version == 3


def flask(app, *args, path):
    env = dict(os.environ, DATABASE_URL=app.config["DATABASE_URL"], WORKFLOWS_PATH=str(path),
               INSTANCE_PATH=app.config["INSTANCE_PATH"])
    return subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def row_counts():
    with db.connection_context():
        return {m._meta.table_name: m.select().count() for m in ALL_MODELS}


def test_check_workflows_only_checks(app, tmp_path):
    changed = tmp_path / "changed.yaml"
    changed.write_text(SHIPPED.replace("title: 平台受理", "title: 平台登记受理", 1), encoding="utf-8")
    with db.connection_context():
        settings = list(SystemSetting.select().order_by(SystemSetting.key).tuples())
    before = row_counts()
    result = flask(app, "check-workflows", path=changed)
    assert result.returncode == 0, result.stderr
    assert "没有发现错误" in result.stdout and "problem 将保存为第 3 版" in result.stdout
    broken = tmp_path / "broken.yaml"
    broken.write_text(SHIPPED.replace("to: approve", "to: aprove", 1), encoding="utf-8")
    result = flask(app, "check-workflows", str(broken), path=changed)
    assert result.returncode == 1 and re.search(r"broken\.yaml:\d+:\d+: ", result.stdout)
    assert "Traceback" not in result.stdout + result.stderr
    result = flask(app, "check-workflows", str(tmp_path / "none.yaml"), path=changed)
    assert result.returncode == 2 and result.stderr.strip().startswith("找不到流程文件")
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("workflows: {}\n# 流程".encode("gbk"))
    result = flask(app, "check-workflows", str(latin), path=changed)
    assert result.returncode == 2 and "UTF-8" in result.stderr and "Traceback" not in result.stderr
    assert row_counts() == before
    with db.connection_context():
        assert list(SystemSetting.select().order_by(SystemSetting.key).tuples()) == settings
        assert procedures.workflow("problem").version == 2


def restart(app, path, strict=False):
    """What start-up does with the file (tickets.init_app), on this app's database."""
    app.config.update(WORKFLOWS_PATH=str(path), WORKFLOWS_STRICT=strict)
    tickets.init_app(app)
    return app


def test_a_broken_file_at_start_keeps_the_county_served(app, officers, county, tmp_path, capsys):
    from app.db import ConfigError
    bad = tmp_path / "workflows.yaml"
    bad.write_text(SHIPPED.replace("to: approve", "to: aprove", 1), encoding="utf-8")
    restarted = restart(app, bad)
    assert "aprove" in capsys.readouterr().err
    with db.connection_context():
        assert procedures.workflow("problem").stages["accept"].actions["submit"].to == "approve"
        every_channel_answers(restarted, county, officers)
    for role in ("office", "leader", "inspector"):
        page = page_text(as_user(restarted, role).get("/admin/"))
        assert 'id="workflow-file-error"' in page and "aprove" in page
    assert 'id="workflow-file-error"' not in page_text(as_user(restarted, "handler_a").get("/admin/"))
    with pytest.raises(ConfigError) as error:
        restart(app, bad, strict=True)
    assert "aprove" in str(error.value) and "approve" in str(error.value)
    bad.write_text(SHIPPED, encoding="utf-8")  # fixed: the banner goes
    fixed = restart(app, bad)
    assert 'id="workflow-file-error"' not in page_text(as_user(fixed, "office").get("/admin/"))


def test_a_broken_file_on_first_install_refuses_to_start(tmp_path):
    from app import create_app
    from app.db import ConfigError
    bad = tmp_path / "workflows.yaml"
    bad.write_text(SHIPPED.replace("to: approve", "to: aprove", 1), encoding="utf-8")
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        pytest.skip("a first install needs an empty database")
    with pytest.raises(ConfigError) as error:
        create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "i"), "WORKFLOWS_PATH": str(bad),
                    "DATABASE_URL": f"sqlite:///{tmp_path}/first.sqlite3"})
    assert "aprove" in str(error.value)


def test_start_imports_the_file_only_when_it_differs(app, officers, tmp_path):
    path = Path(app.config["WORKFLOWS_PATH"])
    with app.app_context(), db.connection_context():  # in the app: the save writes its file
        procedures.save(SHIPPED.replace("title: 平台受理", "title: 平台登记受理", 1), WorkflowFile.get().id,
                        officers["office"])
        count = WorkflowFile.select().count()
    assert "    version: 3\n" in path.read_text(encoding="utf-8")
    restart(app, path)  # the file was written by the save: nothing new
    with db.connection_context():
        assert WorkflowFile.select().count() == count
    path.write_text(SHIPPED, encoding="utf-8")  # edited by hand on disk, under its old number
    restart(app, path)
    with db.connection_context():
        assert procedures.workflow("problem").version == 4
        assert procedures.workflow("problem").stages["accept"].title == "平台受理"
    assert "    version: 4\n" in path.read_text(encoding="utf-8")  # the file says what the database says


# --- 恢复 --------------------------------------------------------------------------------------
def test_restore_makes_version_1_the_newest(app, officers):
    office = as_user(app, "office")
    base, token = editor_page(office)
    assert save_in_screen(office, SHIPPED.replace("title: 平台受理", "title: 平台登记受理", 1), base, token) \
        .status_code == 302
    with db.connection_context():
        first, latest = WorkflowFile.get_by_id(int(base)), procedures.latest_file()
    page = office.get(f"/admin/rules/history/{first.id}/").get_data(as_text=True)
    assert 'id="rules-restore"' in page and "data-confirm" in page
    assert as_user(app, "leader").post(f"/admin/rules/history/{first.id}/restore/").status_code in (400, 403)
    assert office.post(f"/admin/rules/history/{first.id}/restore/", data={"base": latest.id}).status_code == 400
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = office.post(f"/admin/rules/history/{first.id}/restore/", data={"base": latest.id, "csrf_token": token})
    assert response.status_code == 302
    with db.connection_context():
        assert procedures.workflow("problem").version == 4
        assert procedures.workflow("problem").stages["accept"].title == "平台受理"
        assert procedures.latest_file().origin == "restore"
        assert AuditLog.select().where(AuditLog.action == "workflow_restore").count() == 1
    stale = office.post(f"/admin/rules/history/{first.id}/restore/", data={"base": latest.id, "csrf_token": token})
    assert stale.status_code == 409  # restored on an older base: refused, shown
