"""Import layers: a provider's folder uses the core and the shared helpers, never the operator,
ledger or simulator surfaces (no import cycle), and the operator side names no provider module."""

from __future__ import annotations

import ast
from pathlib import Path

WALLET = Path(__file__).resolve().parent.parent / "wallet"


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth of the file (late imports included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_providers_do_not_import_the_surfaces() -> None:
    """No module under wallet/providers/ imports wallet.operator, wallet.ledger or wallet.sim; a
    provider's simulator driver (its sim.py) builds on the simulator's contract, wallet.sim.providers."""
    wrong = {
        f"{path.relative_to(WALLET)}: {module}"
        for path in (WALLET / "providers").rglob("*.py")
        for module in _imports(path)
        if module.startswith(("wallet.operator", "wallet.ledger", "wallet.sim"))
        and not (path.name == "sim.py" and module == "wallet.sim.providers")
    }
    assert wrong == set()


def test_operator_names_no_provider() -> None:
    """The operator surface reaches providers only through the registry (wallet.providers and its
    platform errors), never a provider's own module."""
    wrong = {
        f"{path.relative_to(WALLET)}: {module}"
        for path in (WALLET / "operator").rglob("*.py")
        for module in _imports(path)
        if module.startswith("wallet.providers.") and module != "wallet.providers.platform"
    }
    assert wrong == set()
