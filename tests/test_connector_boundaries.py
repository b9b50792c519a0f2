"""Connectors use the hub's public API (its services), not raw sessions or ORM tables: a
connector that needs the database is a sign the core is missing a service (docs/architecture.md,
GUIDE "Code rules"). This walks every module under connectors/ and fails on a new import of
hub.store's tables or engine, of SQLAlchemy, or a use of a session factory (`.sessions`).

ALLOWED lists what is left today; it can only shrink: an entry that no longer matches fails too,
so whoever moves a use behind a service deletes its line."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONNECTORS = ROOT / "connectors"

# hub.store modules a connector may import: SecretBoxError is how a caller learns a sealed value
# no longer opens (a rotated key), not a way into the database.
PUBLIC_STORE = {"hub.store.secretbox"}

ALLOWED: frozenset[tuple[str, str]] = frozenset(
    {
        # The Zapier app's test harness migrates a throwaway database before starting a hub.
        ("connectors/zapier/app/test/start_hub.py", "import hub.store.migrate"),
        # The admin API and the dashboard take ORM rows from hub services and read their
        # attributes (rendering, scoping); the rows are their types.
        ("connectors/admin_api/render.py", "import hub.store.event_tables"),
        ("connectors/admin_api/render.py", "import hub.store.governance_tables"),
        ("connectors/admin_api/render.py", "import hub.store.ledger_tables"),
        ("connectors/admin_api/endpoint.py", "import hub.store.ledger_tables"),
        ("connectors/admin_api/routes_keys.py", "import hub.store.ledger_tables"),
        ("connectors/dashboard/signin_steps.py", "import hub.store.ledger_tables"),
        ("connectors/dashboard/sessions.py", "import hub.store.ledger_tables"),
        ("connectors/dashboard/admin_keys.py", "import hub.store.ledger_tables"),
        ("connectors/dashboard/signin.py", "import hub.store.ledger_tables"),
        ("connectors/dashboard/admin_scope.py", "import hub.store.ledger_tables"),
    }
)


def _uses(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
            if node.module == "hub.store":
                modules = [f"hub.store.{alias.name}" for alias in node.names]
        for module in modules:
            if module == "sqlalchemy" or module.startswith("sqlalchemy."):
                found.add("import sqlalchemy")
            elif module.startswith("hub.store") and module not in PUBLIC_STORE:
                found.add(f"import {module}")
        if isinstance(node, ast.Attribute) and node.attr in {"sessions", "_sessions"}:
            found.add(".sessions")
    return found


def _all_uses() -> set[tuple[str, str]]:
    uses: set[tuple[str, str]] = set()
    for path in sorted(CONNECTORS.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        name = path.relative_to(ROOT).as_posix()
        uses |= {(name, use) for use in _uses(tree)}
    return uses


def test_connectors_reach_the_database_only_through_hub_services() -> None:
    new = sorted(_all_uses() - ALLOWED)
    assert not new, (
        "connectors must use hub services, not sessions or ORM tables; add the missing service "
        f"to the core instead: {new}"
    )


def test_the_allowlist_only_shrinks() -> None:
    gone = sorted(ALLOWED - _all_uses())
    assert not gone, f"these no longer happen: delete them from ALLOWED: {gone}"


def test_the_walk_sees_what_it_forbids() -> None:
    # The checker itself, on a module that does all three (so a broken walk cannot pass).
    source = (
        "from hub.store.ledger_tables import ApiKey\n"
        "from sqlalchemy import select\n"
        "async def f(hub):\n"
        "    async with hub.sessions() as s:\n"
        "        return await s.scalar(select(ApiKey))\n"
    )
    assert _uses(ast.parse(source)) == {
        "import hub.store.ledger_tables",
        "import sqlalchemy",
        ".sessions",
    }
    assert _uses(ast.parse("from hub.store.secretbox import SecretBoxError\n")) == set()
