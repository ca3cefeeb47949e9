"""workflows.yaml is checked before it is used: one golden pair per kind of mistake."""
from pathlib import Path

import pytest

from app.workflow.errors import WorkflowFileError, describe
from app.roles import CASE_ROLES
from app.workflow.schema import load_text, load_workflows

ROOT = Path(__file__).resolve().parent.parent.parent
CASES = sorted((Path(__file__).parent / "err").glob("*.yaml"))
# What app.procedures.role_labels() passes in (checked against it below): the checker knows no roles itself.
ROLE_LABELS = {"office": "党风政风监督室", "leader": "纪委监委领导", "inspector": "监督检查室/派驻纪检组",
               "handler": "承办单位经办人", "bureau": "行政审批局"}


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_each_mistake_is_reported_with_place_and_fix(case):
    with pytest.raises(WorkflowFileError) as error:
        load_text(case.read_text(encoding="utf-8"), source=case.name, roles=ROLE_LABELS)
    expected = case.with_suffix(".out").read_text(encoding="utf-8").strip()
    assert str(error.value) == expected


def test_every_mistake_in_a_file_is_reported_at_once():
    text = (Path(__file__).parent / "err" / "unknown_role.yaml").read_text(encoding="utf-8")
    with pytest.raises(WorkflowFileError) as error:
        load_text(text, roles=CASE_ROLES)
    assert len(error.value.problems) == 2


def test_the_shipped_procedures_are_valid():
    definitions = load_workflows(ROOT / "workflows.yaml", roles=CASE_ROLES)
    assert set(definitions.workflows) == {"problem", "message", "enterprise", "evaluation", "appeal"}
    problem = definitions.workflows["problem"]
    assert [problem.stages[s].title for s in ("accept", "approve", "investigate", "feedback")] == \
        ["平台受理", "领导批办分类处置", "调查跟踪督办", "结果反馈"]
    assert problem.stages["investigate"].deadline.amount == 15
    assert definitions.auto_open[0].reasons == ("吃拿卡要",)


def test_check_workflows_command_fails_on_a_bad_file(runner, tmp_path):
    good = runner.invoke(args=["check-workflows", str(ROOT / "workflows.yaml")])
    assert good.exit_code == 0 and "5 个流程" in good.output
    bad = tmp_path / "workflows.yaml"
    bad.write_text((Path(__file__).parent / "err" / "unknown_stage.yaml").read_text(encoding="utf-8"),
                   encoding="utf-8")
    result = runner.invoke(args=["check-workflows", str(bad)])
    assert result.exit_code == 1
    assert "workflows.yaml:13:35" in result.output and "investigate" in result.output


def test_the_app_passes_the_chinese_role_labels(app):
    from app import procedures
    with app.app_context():
        assert procedures.role_labels() == ROLE_LABELS


def test_the_office_is_told_the_role_id_of_a_chinese_label(app, conn):
    from app import procedures
    text = (ROOT / "workflows.yaml").read_text(encoding="utf-8").replace("role: leader", "role: 纪委监委领导", 1)
    with app.app_context(), pytest.raises(WorkflowFileError) as error:
        procedures.validate(text)
    assert "你是不是想写 \"leader\"（纪委监委领导）" in str(error.value)
    assert error.value.problems[0].path[-1] == "role"  # the dotted path stays for programs


def test_a_place_in_the_file_is_named_in_words():
    data = {"workflows": {"problem": {"title": "问题线索办理", "stages": {
        "investigate": {"title": "调查跟踪督办"},
        "accept": {"title": "平台受理", "actions": {"submit": {"title": "呈报领导批办"}}}}}}}
    assert describe(("workflows", "problem", "stages", "investigate", "deadline"), data) == \
        "流程“问题线索办理”环节“调查跟踪督办”的时限"
    assert describe(("workflows", "problem", "stages", "accept", "actions", "submit", "to"), data) == \
        "流程“问题线索办理”环节“平台受理”操作“呈报领导批办”的目标环节"
    assert describe(("workflows", "problem", "escalation", "red_after"), data) == "流程“问题线索办理”催办规则的红牌时间"
    assert describe(("workflows", "problem", "escalation", "notify", "red", 0), data) == \
        "流程“问题线索办理”催办规则的通知对象（红牌）第 1 项"
    assert describe(("workflows", "problem", "templates", 1), data) == "流程“问题线索办理”答复模板第 2 项"
    assert describe(("notices", "citizen_replied"), data) == "通知文字“短信：已答复”"
    assert describe(("auto_open", 0, "workflow"), data) == "自动立案规则第 1 条的流程"
    assert describe(("workflows", "message", "stages", "reply", "deadline", "unit")) == \
        "流程“message”环节“reply”的时限的时间单位"  # without the file: the ids
