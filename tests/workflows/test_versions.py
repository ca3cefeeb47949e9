"""Procedure versions: stored once, in-flight tickets keep theirs, moving is explicit."""
from pathlib import Path

import pytest

from app import tickets
from app import procedures
from app.workflow.errors import WorkflowFileError
from models import Ticket, WorkflowFile, WorkflowVersion
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


def test_changed_text_under_the_same_version_is_refused(conn, officers):
    changed = SHIPPED.replace("调查跟踪督办", "核查督办", 1)
    with pytest.raises(WorkflowFileError) as error:
        procedures.accept(changed, user=officers["office"])
    assert "第 2 版已经保存过" in str(error.value) and "version 改为 3" in str(error.value)
    assert procedures.workflow("problem").stages["investigate"].title == "调查跟踪督办"


def test_in_flight_tickets_keep_their_version_until_moved(conn, officers, open_problem):
    old = open_problem()
    tickets.act(old.id, officers["office"], "submit", {"comment": "呈报"}, at=MONDAY)
    tickets.act(old.id, officers["leader"], "dispatch", {"classification": "作风", "comment": "调查"}, at=MONDAY)
    procedures.accept(version_2(), user=officers["office"])
    new = open_problem()
    assert (new.workflow_version, Ticket.get_by_id(old.id).workflow_version) == (3, 2)
    old = Ticket.get_by_id(old.id)
    assert old.stage == "investigate"
    assert [a.id for a in tickets.available(old, officers["inspector"])][:2] == ["assign", "report"]
    report, problems = tickets.move_to_version("problem", 3)
    assert problems == 1 and "--map investigate=新环节" in report[0]
    report, problems = tickets.move_to_version("problem", 3, {"investigate": "check"})
    assert problems == 0 and Ticket.get_by_id(old.id).workflow_version == 2  # a dry run writes nothing
    tickets.move_to_version("problem", 3, {"investigate": "check"}, apply=True, user=officers["office"])
    moved = Ticket.get_by_id(old.id)
    assert (moved.workflow_version, moved.stage) == (3, "check")
    assert tickets.workflow_of(moved).stages["check"].title == "核查督办"


def test_an_invalid_disk_file_stops_the_start_and_keeps_the_stored_procedure(tmp_path, app):
    from app import create_app
    from app.db import ConfigError
    bad = tmp_path / "workflows.yaml"
    bad.write_text(SHIPPED.replace("to: approve", "to: aprove", 1), encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        create_app({"TESTING": True, "INSTANCE_PATH": app.config["INSTANCE_PATH"],
                    "DATABASE_URL": app.config["DATABASE_URL"], "WORKFLOWS_PATH": str(bad)})
    assert "workflows.yaml:" in str(error.value) and "aprove" in str(error.value)
    assert "approve" in str(error.value)  # did you mean
    from models import db
    with db.connection_context():
        assert procedures.workflow("problem").stages["accept"].actions["submit"].to == "approve"
