"""Dependencies point one way (DESIGN.md): krb5 never imports gss; only _plugin imports cffi."""

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "gssmech"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(sub: str) -> list[Path]:
    return sorted((PKG / sub).rglob("*.py")) if sub else sorted(PKG.rglob("*.py"))


def test_krb5_never_imports_upper_layers():
    upper = ("gssmech.gss", "gssmech._plugin", "gssmech.ccache", "gssmech.kdc", "gssmech.cli")
    offenders = {
        str(p.relative_to(PKG)): sorted(i for i in _imports(p) if i.startswith(upper))
        for p in _modules("krb5")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_only_plugin_imports_cffi():
    offenders = [
        str(p.relative_to(PKG))
        for p in _modules("")
        if "_plugin" not in p.parts and any(i.split(".")[0] == "cffi" for i in _imports(p))
    ]
    assert offenders == []


def test_there_are_modules_to_check():
    assert len(_modules("krb5")) >= 3
