"""Procedure versions: stored once, in-flight tickets keep theirs, moving is explicit."""
import datetime as dt
from pathlib import Path

from app import procedures, tickets, workdays
from models import Ticket, TicketEvent, WorkflowFile, WorkflowVersion
from tests.workflows.conftest import MONDAY

ROOT = Path(__file__).resolve().parent.parent.parent
SHIPPED = (ROOT / "workflows.yaml").read_text(encoding="utf-8")


def version_2(text=SHIPPED):
    """The office renames 调查跟踪督办 to 核查督办 with a new stage id, as version 3."""
    head, rest = text.split("  message:", 1)
    head = head.replace("version: 2", "version: 3", 1).replace("investigate", "check") \
        .replace("调查跟踪督办", "核查督办")
    return head + "  message:" + rest


def test_the_shipped_file_is_stored_at_start(conn):
    assert procedures.active_versions() == {"problem": 2, "message": 2, "enterprise": 2, "evaluation": 2, "appeal": 1}
    assert WorkflowFile.select().count() == 1 and WorkflowVersion.select().count() == 5


def test_a_changed_procedure_is_numbered_by_the_system(conn, officers):
    changed = SHIPPED.replace("title: 调查跟踪督办", "title: 核查督办", 1)  # still says version: 2
    stored = procedures.save(changed, WorkflowFile.select().first().id, officers["office"])
    assert stored.versions == {"problem": 3}
    assert stored.text == changed.replace("    version: 2\n", "    version: 3\n", 1)  # only that line, comments kept
    assert procedures.workflow("problem").version == 3
    assert procedures.workflow("message").version == 2  # unchanged: keeps its number
    assert procedures.workflow("problem").stages["investigate"].title == "核查督办"


def test_in_flight_tickets_keep_their_version_until_moved(conn, officers, open_problem):
    old = open_problem()
    tickets.act(old.id, officers["office"], "submit", {"comment": "呈报"}, at=MONDAY)
    tickets.act(old.id, officers["leader"], "dispatch", {"classification": "作风", "comment": "调查"}, at=MONDAY)
    # saved in March, in force from 2026-12-07: scheduled, so no open ticket needs to move yet
    procedures.save(version_2(), None, officers["office"], at=MONDAY)
    assert open_problem().workflow_version == 2
    new = open_problem(at=dt.datetime(2026, 12, 7, 9, 0))
    assert (new.workflow_version, Ticket.get_by_id(old.id).workflow_version) == (3, 2)
    old = Ticket.get_by_id(old.id)
    assert old.stage == "investigate"
    assert [a.id for a in tickets.available(old, officers["inspector"])][:2] == ["assign", "report"]
    report, problems = tickets.move_to_version("problem", 3)
    assert problems == 1 and "--map investigate=新环节" in report[0]
    report, problems = tickets.move_to_version("problem", 3, {"investigate": "check"})
    assert problems == 0 and Ticket.get_by_id(old.id).workflow_version == 2  # a dry run writes nothing
    moved_at = dt.datetime(2026, 3, 10, 9, 0)
    tickets.move_to_version("problem", 3, {"investigate": "check"}, apply=True, user=officers["office"], at=moved_at)
    moved = Ticket.get_by_id(old.id)
    assert (moved.workflow_version, moved.stage, moved.stage_entered_at) == (3, "check", moved_at)
    assert tickets.workflow_of(moved).stages["check"].title == "核查督办"
    stage = tickets.workflow_of(moved).stages["check"]
    assert moved.due_at == workdays.current().due(stage.deadline, moved_at)[0]  # from the move, not the old stage
    event = TicketEvent.select().where(TicketEvent.ticket == old.id, TicketEvent.action == "version_move").get()
    assert "时限重新计算" in event.comment and "核查督办" in event.comment


def test_move_tickets_names_what_exists_instead_of_sql(runner, conn):
    result = runner.invoke(args=["move-tickets", "problme", "--to", "3"])
    assert result.exit_code == 1 and "没有名为 problme 的流程" in result.output and "problem" in result.output
    assert "SELECT" not in result.output and "Traceback" not in result.output
    result = runner.invoke(args=["move-tickets", "problem", "--to", "9"])
    assert result.exit_code == 1 and "没有第 9 版" in result.output and "已保存的版本：2" in result.output
    assert "SELECT" not in result.output
