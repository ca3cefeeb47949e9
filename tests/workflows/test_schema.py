"""workflows.yaml is checked before it is used: one golden pair per kind of mistake."""
from pathlib import Path

import pytest

from app.workflow.errors import WorkflowFileError
from app.roles import CASE_ROLES
from app.workflow.schema import load_text, load_workflows

ROOT = Path(__file__).resolve().parent.parent.parent
CASES = sorted((Path(__file__).parent / "err").glob("*.yaml"))


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_each_mistake_is_reported_with_place_and_fix(case):
    with pytest.raises(WorkflowFileError) as error:
        load_text(case.read_text(encoding="utf-8"), source=case.name, roles=CASE_ROLES)
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
