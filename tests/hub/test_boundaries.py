"""House rule: dependencies point inward. No module under hub/ imports a connector."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_hub_never_imports_connectors() -> None:
    offenders = []
    for path in sorted((ROOT / "hub").rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] == "connectors"
            ]
    assert offenders == []


def test_only_config_reads_the_environment() -> None:
    readers = sorted(
        str(p.relative_to(ROOT))
        for p in (ROOT / "hub").rglob("*.py")
        if "os.environ" in p.read_text() or "os.getenv" in p.read_text()
    )
    assert readers == ["hub/config/load.py"]
