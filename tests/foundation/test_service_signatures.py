"""Services and selectors are called by keyword and declare what they return.

Keyword-only arguments keep call sites readable and let a service grow an argument without
silently shifting the others; a return annotation lets mypy check every caller. Parsing the
source (rather than importing it) keeps the check independent of Django's app loading.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = (
    "accounts",
    "claims",
    "core",
    "incidents",
    "losses",
    "merchants",
    "settlements",
    "sla",
    "telemetry",
)


def layer_modules() -> list[Path]:
    found: list[Path] = []
    for app in APPS:
        base = ROOT / app
        for layer in ("services", "selectors"):
            module = base / f"{layer}.py"
            if module.exists():
                found.append(module)
            package = base / layer
            if package.is_dir():
                found.extend(sorted(package.glob("*.py")))
    return found


def signature_problems(source: str, where: str) -> list[str]:
    """Public module-level functions that take a positional argument or return no annotation."""
    tree = ast.parse(source, filename=where)
    problems: list[str] = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if node.name.startswith("_"):
            continue
        positional = [a.arg for a in node.args.posonlyargs + node.args.args]
        if positional:
            problems.append(f"{where}:{node.lineno} {node.name}: positional {', '.join(positional)}")
        if node.args.vararg is not None:
            problems.append(f"{where}:{node.lineno} {node.name}: *{node.args.vararg.arg}")
        if node.returns is None:
            problems.append(f"{where}:{node.lineno} {node.name}: no return annotation")
        unannotated = [a.arg for a in node.args.kwonlyargs if a.annotation is None]
        if unannotated:
            problems.append(f"{where}:{node.lineno} {node.name}: untyped {', '.join(unannotated)}")
    return problems


def test_layer_modules_are_found():
    names = {p.relative_to(ROOT).as_posix() for p in layer_modules()}
    # The scan must see the package layout as well as plain modules, or it would pass vacuously.
    assert "claims/services.py" in names
    assert "settlements/services/documents.py" in names
    assert "sla/selectors.py" in names


def test_services_and_selectors_are_keyword_only_and_typed():
    problems = [
        problem
        for path in layer_modules()
        for problem in signature_problems(path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix())
    ]
    assert not problems, "services/selectors must be `def f(*, x: T) -> R`:\n" + "\n".join(problems)


def test_the_scan_names_each_offending_function():
    source = (
        "def good(*, a: int) -> int:\n    return a\n"
        "def positional(a: int, *, b: int) -> int:\n    return a\n"
        "def untyped(*, a: int):\n    return a\n"
        "def loose(*, a) -> None:\n    return None\n"
        "def _private(a):\n    return a\n"
        "class Helper:\n    def method(self, a):\n        return a\n"
    )
    assert signature_problems(source, "x/services.py") == [
        "x/services.py:3 positional: positional a",
        "x/services.py:5 untyped: no return annotation",
        "x/services.py:7 loose: untyped a",
    ]
