"""The layering rule (api -> engine -> {adapters, storage}) and the package layout.

import-linter cannot be used here: its graph builder needs `bizportal` as a real folder,
while setuptools maps our top-level folders into that namespace. Reading the imports
with `ast` checks the same contract.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# What each layer may import from the project: never a layer above it, never a sibling below.
ALLOWED = {
    "api": {"api", "engine", "adapters", "storage"},
    "engine": {"engine", "adapters", "storage"},
    "adapters": {"adapters"},
    "storage": {"storage"},
}


def _project_imports(path: Path, layer: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 1:
            names = [f"bizportal.{layer}"]  # `from .x import y`: the same package
        elif isinstance(node, ast.ImportFrom) and node.level > 1:
            names = [f"bizportal.{node.module or ''}"]  # `from ..engine import y` climbs to bizportal
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "bizportal" and len(parts) > 1 and parts[1]:
                found.append((node.lineno, parts[1]))
    return found


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layers_import_only_downwards(layer: str) -> None:
    broken = [f"{path.relative_to(ROOT)}:{line} imports bizportal.{target}"
              for path in sorted((ROOT / layer).rglob("*.py"))
              for line, target in _project_imports(path, layer) if target not in ALLOWED[layer]]
    assert broken == []


def test_the_checker_sees_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from bizportal.engine.errors import NotFound\nimport bizportal.api.app\n")
    assert {target for _, target in _project_imports(bad, "storage")} == {"engine", "api"}


def test_only_the_bizportal_namespace_is_installed() -> None:
    for generic in ("api", "engine", "adapters", "storage"):
        spec = importlib.util.find_spec(generic)
        assert spec is None or ROOT not in Path(spec.origin or "").parents, f"`{generic}` is importable"
    for package in ("bizportal.api", "bizportal.engine", "bizportal.adapters", "bizportal.storage"):
        assert importlib.util.find_spec(package) is not None
