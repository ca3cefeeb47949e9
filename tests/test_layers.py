"""One direction between the layers: a module never imports (even lazily) one that imports it back."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imports(module):
    """Every module `module` imports anywhere in its text (top level or inside a function)."""
    path = ROOT / (module.replace(".", "/") + ".py")
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("lower, upper", [
    ("app.tickets", "app.ratings"),
    ("views.public", "views.board"),
    ("app.tallies", "app.figures"),
    ("app.ticket_tallies", "app.figures"),
    ("app.tallies", "app.ticket_tallies"),
    ("models", "app.audit"),
])
def test_the_lower_module_does_not_import_the_upper(lower, upper):
    assert upper not in imports(lower)
    assert lower in imports(upper) or lower.rsplit(".", 1)[0] in imports(upper)


def test_the_workflow_engine_and_checker_are_pure():
    """They take role ids as data and touch no table: nothing of the app outside app.workflow."""
    for module in ("app.workflow.engine", "app.workflow.schema"):
        outside = {name for name in imports(module)
                   if (name.startswith("app") or name in ("models", "views") or name.startswith("views."))
                   and not name.startswith("app.workflow")}
        assert outside == set(), module
    assert not (ROOT / "app" / "workflow" / "store.py").exists()
