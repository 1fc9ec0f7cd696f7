"""The README is a front door and docs/ holds the rest: every variable the service reads is in the
configuration table, every link between the pages lands on a file and a heading that exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as '-'."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.DOTALL)  # '# ...' in code is not a heading
    return {_slug(h) for h in re.findall(r"^#+ (.+)$", text, flags=re.MULTILINE)}


def test_every_variable_is_in_the_configuration_table() -> None:
    """Each environment variable wallet/config.py or a provider's settings module reads is named in
    docs/configuration.md."""
    sources = [ROOT / "wallet" / "config.py", *(ROOT / "wallet" / "providers").glob("*/settings.py")]
    text = "".join(path.read_text() for path in sources)
    names = set(re.findall(r'"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)(?:\{suffix\})?"', text.replace('f"', '"')))
    documented = (ROOT / "docs" / "configuration.md").read_text()
    assert len(names) > 25
    assert sorted(n for n in names if f"`{n}" not in documented) == []


def test_links_between_pages_resolve() -> None:
    """Every relative link of the README and docs/ names an existing file, and its #anchor a heading."""
    broken = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists() or (anchor and linked.suffix == ".md" and anchor not in _anchors(linked)):
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert broken == []


def test_readme_is_a_front_door() -> None:
    """At most ~200 lines: what it is, make run and make test, the walk-through and the links."""
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 200
    assert "make run" in text and "make test" in text and "## Try it" in text
    assert all(f"({p.relative_to(ROOT)}" in text for p in PAGES[1:])
