"""workers/ is the queue runtime: it runs on worker hosts and imports no web code."""

import ast
from pathlib import Path

WORKERS = Path(__file__).resolve().parents[2] / "workers"
# The site's HTTP side and the libraries only a web process needs.
WEB = ("cloudsite", "calc", "pic", "ninja", "django.http", "django.shortcuts", "django.template",
       "django.contrib.admin", "django.views", "django.urls", "django.forms")


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_workers_import_nothing_from_the_web_stack():
    offenders = {
        f"{path.relative_to(WORKERS.parent)}: {name}"
        for path in WORKERS.rglob("*.py") if "migrations" not in path.parts
        for name in imported_modules(path)
        if any(name == web or name.startswith(web + ".") for web in WEB)
    }
    assert not offenders, sorted(offenders)


def test_the_check_sees_a_web_import():
    # The check above could pass by finding nothing at all; it does find imports.
    assert "django.urls" in imported_modules(WORKERS.parent / "cloudsite" / "urls.py")
    assert "jobs.tools" in imported_modules(WORKERS / "consumer.py")
