"""The office changes a procedure in forms: the file keeps its comments and order, the diagram follows."""
import copy
import json
import re
from pathlib import Path

import pytest

from app import procedures
from app.roles import CASE_ROLES
from app.workflow.schema import load_text
from app.workflow_form import apply_form, to_form, workflow_keys
from models import WorkflowFile
from tests.workflows.conftest import MONDAY
from tests.conftest import csrf_token

ROOT = Path(__file__).resolve().parent.parent.parent
SHIPPED = (ROOT / "workflows.yaml").read_text(encoding="utf-8")


def form_of(key="problem", text=SHIPPED):
    return json.loads(json.dumps(to_form(text, key)))  # as the browser sends it back


def stage(form, sid):
    return next(s for s in form["stages"] if s["id"] == sid)


def changed_lines(before, after):
    a, b = before.splitlines(), after.splitlines()
    assert len(a) == len(b)
    return [(x, y) for x, y in zip(a, b) if x != y]


def valid(text):
    return load_text(text, roles=CASE_ROLES)


@pytest.mark.parametrize("key", [k for k, _title in workflow_keys(SHIPPED)])
def test_an_unchanged_form_gives_the_file_back_byte_for_byte(key):
    assert apply_form(SHIPPED, key, form_of(key)) == SHIPPED


def test_a_deadline_change_touches_one_line_and_keeps_the_comments():
    form = form_of()
    stage(form, "rectify")["deadline"]["amount"] = "7"
    text = apply_form(SHIPPED, "problem", form)
    assert changed_lines(SHIPPED, text) == [("        deadline: {amount: 10, unit: workdays}",
                                             "        deadline: {amount: 7, unit: workdays}")]
    assert text.startswith("# 直通车 办理流程") and "# 哪些评价自动立案" in text
    assert valid(text).workflows["problem"].stages["rectify"].deadline.amount == 7


def test_renaming_a_stage_changes_its_title_not_its_id():
    form = form_of()
    stage(form, "feedback")["title"] = "结果反馈群众"
    text = apply_form(SHIPPED, "problem", form)
    assert changed_lines(SHIPPED, text) == [("        title: 结果反馈", "        title: 结果反馈群众")]
    assert valid(text).workflows["problem"].stages["feedback"].title == "结果反馈群众"


def test_a_stage_added_between_two_and_the_actions_repointed():
    form = form_of()
    ids = [s["id"] for s in form["stages"]]
    new = {"id": "stage_1", "title": "分管领导审核", "role": "leader", "unit": "any", "unit_code": "",
           "deadline": {"amount": "2", "unit": "workdays", "from": "stage_entry"}, "pausable": False,
           "extension": {"approver": "", "amount": "", "unit": "workdays"}, "final": "",
           "actions": [{"id": "action_1", "title": "审核同意", "to": "feedback", "role": "", "require": ["comment"],
                        "effect": "", "co_units": False, "after_co_answers": False, "reopen_to": ""}]}
    form["stages"].insert(ids.index("feedback"), new)
    next(a for a in stage(form, "investigate")["actions"] if a["id"] == "report")["to"] = "stage_1"
    text = apply_form(SHIPPED, "problem", form)
    wf = valid(text).workflows["problem"]
    assert list(wf.stages).index("stage_1") == list(wf.stages).index("feedback") - 1
    assert wf.stages["stage_1"].role == "leader" and wf.stages["stage_1"].actions["action_1"].to == "feedback"
    assert wf.stages["investigate"].actions["report"].to == "stage_1"
    assert "          action_1: {title: 审核同意, to: feedback, require: [comment]}" in text
    assert "        deadline: {amount: 2, unit: workdays}\n" in text


def test_stages_and_actions_reordered_and_removed_still_make_a_valid_file():
    form = form_of()
    accept, approve = form["stages"][0], form["stages"][1]
    form["stages"][0], form["stages"][1] = approve, accept  # the order shown, not the flow
    actions = stage(form, "feedback")["actions"]
    actions.reverse()
    stage(form, "approve")["actions"] = [a for a in stage(form, "approve")["actions"] if a["id"] != "transfer"]
    text = apply_form(SHIPPED, "problem", form)
    wf = valid(text).workflows["problem"]
    assert list(wf.stages)[:2] == ["approve", "accept"]
    assert list(wf.stages["feedback"].actions) == ["explain", "reply"]
    assert "transfer" not in wf.stages["approve"].actions
    # a stage nobody reaches any more is named, not silently kept
    form["stages"] = [s for s in form["stages"] if s["id"] != "revisit"]
    stage(form, "feedback")["actions"][1]["to"] = "closed"
    text = apply_form(SHIPPED, "problem", form)
    assert "revisit" not in valid(text).workflows["problem"].stages


def test_escalation_templates_notices_and_classifications():
    form = form_of()
    form["escalation"]["red_after"]["amount"] = 2
    form["escalation"]["notify"]["red"] = ["leader", "office", "inspector"]
    form["templates"].append({"title": "已转办", "text": "您于{received}反映的问题已转{unit}办理。"})
    form["notices"]["remind"] = "【直通车】{code}快到期了：{link}"
    text = apply_form(SHIPPED, "problem", form)
    definitions = valid(text)
    wf = definitions.workflows["problem"]
    assert wf.escalation.red_after.amount == 2 and wf.escalation.notify["red"] == ("leader", "office", "inspector")
    assert wf.templates[-1] == ("已转办", "您于{received}反映的问题已转{unit}办理。")
    assert definitions.notices["remind"] == "【直通车】{code}快到期了：{link}"
    assert len(changed_lines(SHIPPED, text.replace("      - title: 已转办\n        text: 您于{received}反映的问题已转{unit}办理。\n", ""))) == 3
    # the classification list: edited in place
    assert apply_form(SHIPPED, "problem", form_of()) == SHIPPED
    form = form_of()
    form["classifications"] = ["作风问题", "营商环境", "其他", ""]
    text = apply_form(SHIPPED, "problem", form)
    assert "classifications: [作风问题, 营商环境, 其他]\n" in text
    again = form_of(text=text)
    assert again["classifications"] == ["作风问题", "营商环境", "其他"] and again["classifications_in_file"]
    assert apply_form(text, "problem", again) == text


def test_fixed_unit_pausable_extension_and_final():
    form = form_of()
    accept = stage(form, "accept")
    accept.update(unit="fixed", unit_code="K01", pausable=True, extension={"approver": "leader", "amount": 3,
                                                                          "unit": "days"})
    text = apply_form(SHIPPED, "problem", form)
    assert "        unit: {fixed: K01}\n" in text
    assert "        extension: {approver: leader, max: {amount: 3, unit: days}}\n" in text
    wf = load_text(text, roles=CASE_ROLES, unit_codes={"K01"}).workflows["problem"]
    assert wf.stages["accept"].pausable and wf.stages["accept"].extension_approver == "leader"
    accept.update(unit="any", pausable=False, extension={"approver": ""})
    assert apply_form(text, "problem", form) == SHIPPED


# --- the screen -----------------------------------------------------------------------------------
def preview(client, form, token, key="problem", base=None):
    base = base or procedures.latest_file().id
    return client.post(f"/admin/rules/form/{key}/preview/", json={"form": form, "base": base},
                       headers={"X-CSRFToken": token})


def test_the_form_is_the_default_view_and_previews_the_diagram(client, login_as):
    login_as("office")
    page = client.get("/admin/rules/").get_data(as_text=True)
    assert 'id="wf-form"' in page and "<svg" in page and "承办单位整改" in page
    assert "文本方式编辑" in page and "/admin/rules/edit/" in page and "/admin/rules/overview/" in page
    token = csrf_token(client, "/admin/rules/")
    form = form_of()
    stage(form, "rectify")["deadline"]["amount"] = 7
    answer = preview(client, form, token)
    assert answer.status_code == 200 and answer.json["errors"] == []
    assert answer.json["svg"].startswith("<svg") and "7 个工作日" in answer.json["svg"]
    assert WorkflowFile.select().count() == 1  # a preview saves nothing


def test_a_preview_names_each_error_at_its_field(client, login_as):
    login_as("office")
    token = csrf_token(client, "/admin/rules/")
    form = form_of()
    stage(form, "rectify")["deadline"]["amount"] = "七"
    stage(form, "accept")["title"] = ""
    form["notices"]["remind"] = "{phone}"
    answer = preview(client, form, token).json
    assert answer["svg"] is None
    fields = {tuple(e["field"]): e["message"] for e in answer["errors"]}
    assert "七" in fields[("wf", "stages", "rectify", "deadline", "amount")]
    assert ("wf", "stages", "accept", "title") in fields
    assert "phone" in fields[("top", "notices", "remind")]
    assert all(re.search(r"[\u4e00-\u9fff]", e["message"]) for e in answer["errors"])


def test_save_gives_a_new_version_and_a_stale_base_is_refused(client, login_as):
    login_as("office")
    token = csrf_token(client, "/admin/rules/")
    base = procedures.latest_file().id
    form = form_of()
    stage(form, "rectify")["deadline"]["amount"] = 7
    answer = client.post("/admin/rules/form/problem/save/", json={"form": form, "base": base},
                         headers={"X-CSRFToken": token})
    assert answer.status_code == 200 and answer.json["ok"]
    assert procedures.workflow("problem").version == 3  # numbered by the system
    assert procedures.workflow("problem").stages["rectify"].deadline.amount == 7
    assert procedures.workflow("message").version == 2  # the others untouched
    # a second person, still on the old base, changes another procedure: refused, with the difference
    other = form_of("message")
    stage(other, "handle")["deadline"]["amount"] = 5
    answer = client.post("/admin/rules/form/message/save/", json={"form": other, "base": base},
                         headers={"X-CSRFToken": token})
    assert answer.status_code == 409 and answer.json["stale"]
    assert "+        deadline: {amount: 7, unit: workdays}" in answer.json["diff"]
    assert answer.json["latest"] == procedures.latest_file().id
    assert answer.json["conflict"] is False  # he left 问题线索办理 alone: his form may go on top
    mine = form_of()
    stage(mine, "accept")["deadline"]["amount"] = 3
    clash = client.post("/admin/rules/form/problem/save/", json={"form": mine, "base": base},
                        headers={"X-CSRFToken": token})
    assert clash.status_code == 409 and clash.json["conflict"] is True  # re-applying would undo the 7
    assert procedures.workflow("problem").version == 3 and procedures.workflow("message").version == 2
    # on the newest base the same form saves, and problem keeps its new deadline
    answer = client.post("/admin/rules/form/message/save/",
                         json={"form": other, "base": answer.json["latest"]}, headers={"X-CSRFToken": token})
    assert answer.status_code == 200
    assert procedures.workflow("message").stages["handle"].deadline.amount == 5
    assert procedures.workflow("problem").stages["rectify"].deadline.amount == 7


def test_a_save_with_errors_saves_nothing(client, login_as):
    login_as("office")
    token = csrf_token(client, "/admin/rules/")
    form = form_of()
    stage(form, "investigate")["actions"][1]["to"] = ""
    answer = client.post("/admin/rules/form/problem/save/", json={"form": form, "base": procedures.latest_file().id},
                         headers={"X-CSRFToken": token})
    assert answer.status_code == 422
    assert ["wf", "stages", "investigate", "actions", "report", "to"] in [e["field"] for e in answer.json["errors"]]
    assert WorkflowFile.select().count() == 1


def test_removing_a_stage_open_tickets_sit_in_asks_where_they_go(client, login_as, officers, open_problem):
    from app import tickets
    from models import Ticket
    ticket = open_problem()
    tickets.act(ticket.id, officers["office"], "submit", {"comment": "呈报"}, at=MONDAY)  # now at 领导批办
    login_as("office")
    token = csrf_token(client, "/admin/rules/")
    form = form_of()
    stage(form, "accept")["actions"][0]["to"] = "investigate"  # straight on, without the leader
    form["stages"] = [s for s in form["stages"] if s["id"] != "approve"]
    body = {"form": form, "base": procedures.latest_file().id}
    asked = client.post("/admin/rules/form/problem/save/", json=body, headers={"X-CSRFToken": token})
    assert asked.status_code == 409
    (group,) = asked.json["mapping"]
    assert (group["id"], group["count"], group["tickets"]) == ("problem:approve", 1, [ticket.code])
    assert ["investigate", "调查跟踪督办"] in group["choices"] and "closed" not in dict(group["choices"])
    assert WorkflowFile.select().count() == 1  # nothing saved until the office chooses
    body["stage_map"] = {"problem:approve": "investigate"}
    assert client.post("/admin/rules/form/problem/save/", json=body, headers={"X-CSRFToken": token}).json["ok"]
    moved = Ticket.get_by_id(ticket.id)
    assert (moved.workflow_version, moved.stage) == (3, "investigate")


def test_only_the_office_edits_the_leader_reads_a_handler_is_refused(client, login_as, county):
    leader = login_as("leader")
    page = client.get("/admin/rules/").get_data(as_text=True)
    assert "<fieldset disabled>" in page and 'id="save-form"' not in page
    token = csrf_token(client, "/admin/rules/")
    body = {"form": form_of(), "base": procedures.latest_file().id}
    assert client.post("/admin/rules/form/problem/preview/", json=body, headers={"X-CSRFToken": token}).status_code == 403
    assert client.post("/admin/rules/form/problem/save/", json=body, headers={"X-CSRFToken": token}).status_code == 403
    client.post("/logout", data={"csrf_token": token})
    assert leader
    login_as("handler", county["hall_a"])
    assert client.get("/admin/rules/").status_code == 403
    assert client.get("/admin/rules/form/problem/").status_code == 403


def test_a_save_without_the_csrf_token_is_refused(client, login_as):
    login_as("office")
    body = {"form": form_of(), "base": procedures.latest_file().id}
    assert client.post("/admin/rules/form/problem/save/", json=body).status_code == 400
    assert client.post("/admin/rules/form/problem/preview/", json=body).status_code == 400
    assert WorkflowFile.select().count() == 1


def test_bad_bodies_answer_400_not_500(client, login_as):
    login_as("office")
    token = csrf_token(client, "/admin/rules/")
    for body in ({}, {"form": []}, {"form": {}, "base": "x"}, {"form": {}, "base": 10 ** 9}):
        assert client.post("/admin/rules/form/problem/save/", json=body, headers={"X-CSRFToken": token}).status_code == 400
    assert client.get("/admin/rules/form/nope/").status_code == 404
    assert client.get("/admin/rules/?wf=nope").status_code == 404
    form = copy.deepcopy(form_of())
    form["stages"] = [{"id": "1bad", "title": 3, "deadline": "x", "actions": [5]}]
    answer = client.post("/admin/rules/form/problem/preview/", json={"form": form, "base": procedures.latest_file().id},
                         headers={"X-CSRFToken": token})
    assert answer.status_code == 200 and answer.json["errors"]
