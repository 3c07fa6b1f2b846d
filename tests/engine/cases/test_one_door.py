"""The case is the one door for moving a process: nothing else in the engine or the api moves the runtime.

A move that skipped `engine/cases/case.py` would leave the case's status, the statutory clock, the trail,
the notices, the waiting licences and the application's status behind the workflow (issue 10 §2).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
# The runtime's commands; its reads (load, due_timers, definitions) are fine anywhere.
MOVES = {"start", "complete_task", "send_message", "fire_timers", "cancel"}
# The case moves the runtime; the runtime is the workflow package itself.
ALLOWED = (ROOT / "engine" / "cases" / "case.py", ROOT / "engine" / "workflow")


def _moves_of_the_runtime(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MOVES):
            continue
        owner = node.func.value
        name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
        if name == "runtime":
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} runtime.{node.func.attr}")
    return found


def test_only_the_case_moves_the_runtime() -> None:
    sources = [path for folder in ("engine", "api") for path in (ROOT / folder).rglob("*.py")
               if not any(path == allowed or allowed in path.parents for allowed in ALLOWED)]
    assert sources  # the scan found the code
    moves = [move for path in sources for move in _moves_of_the_runtime(path)]
    assert moves == [], "move the case through engine/cases/case.py instead:\n" + "\n".join(moves)
