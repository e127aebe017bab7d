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


#: Command-line programs, the demo and the build script run as ordinary programs, never inside
#: a privileged host through the plugin; everything else reads gssmech.environ.ENVIRON.
_ENVIRON_EXEMPT = {"environ.py", "demo.py", "cli.py", "build.py"}


def test_the_environment_is_read_through_environ():
    """A privileged plugin host must not take KRB5_CONFIG & co. from its caller
    (gssmech/environ.py); a direct os.environ or os.getenv would bypass that."""
    offenders = []
    for p in _modules(""):
        if p.name in _ENVIRON_EXEMPT:
            continue
        for node in ast.walk(ast.parse(p.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in ("environ", "getenv", "environb")
                and isinstance(node.value, ast.Name)
                and node.value.id == "os"
            ):
                offenders.append(f"{p.relative_to(PKG)}:{node.lineno}")
    assert offenders == []
