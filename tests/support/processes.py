"""The process tree, read from /proc (Linux): which processes a launcher started, to kill one or see them gone."""

from __future__ import annotations

from pathlib import Path


def parents() -> dict[int, int]:
    """Every live process id -> its parent's id."""
    found: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:  # the command name in (...) may hold spaces and parentheses: the fields start after the last ')'
                found[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # gone meanwhile
    return found


def children(pid: int) -> list[int]:
    return [child for child, parent in parents().items() if parent == pid]


def descendants(pid: int) -> set[int]:
    """The children of `pid`, theirs, and so on."""
    tree: dict[int, list[int]] = {}
    for child, parent in parents().items():
        tree.setdefault(parent, []).append(child)
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found
