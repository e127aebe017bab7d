"""gssmech: a GSS-API mechanism for Kerberos V5 with first-class anonymity.

Besides the pure-Python package and the console script, ``build_py`` compiles the two plugin
libraries (DESIGN.md "The plugin library") from ``cdefs/`` into ``gssmech/_plugin/``: the
pure-C front ``libgssmech.so`` (plain compiler) and the Python half ``libgssmech_python.so``
(cffi embedding) -- in the source tree for editable installs (``pip install
-e .``, what ``make venv`` runs), in the build directory otherwise.  cffi is a build requirement
(``setup_requires``, which PEP 517 isolated builds install) as well as a runtime one.
"""

import importlib.util
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class build_py_with_plugin(build_py):
    """build_py, then the plugin libraries next to gssmech/_plugin/__init__.py."""

    def run(self):
        super().run()
        spec = importlib.util.spec_from_file_location(
            "_gssmech_plugin_build", HERE / "gssmech" / "_plugin" / "build.py"
        )
        builder = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(builder)
        if getattr(self, "editable_mode", False):
            outdir = HERE / "gssmech" / "_plugin"
        else:
            outdir = Path(self.build_lib) / "gssmech" / "_plugin"
        path = builder.build(outdir, verbose=bool(self.verbose > 1))
        self.announce(f"built plugin libraries {path} (+ Python half)", level=2)


setup(
    name="gssmech",
    version="0.1.0",
    description="GSS-API Kerberos V5 mechanism with first-class anonymity (RFC 6112/8062)",
    python_requires=">=3.11",
    packages=find_packages(include=["gssmech", "gssmech.*"]),
    package_data={"gssmech._plugin": ["libgssmech.so", "libgssmech_python.so"]},
    install_requires=["cryptography>=41", "asn1crypto>=1.5", "cffi>=1.15"],
    setup_requires=["cffi>=1.15"],
    extras_require={
        # setuptools: cffi compiles through it, and Python >= 3.12 venvs do not have it
        # (tests rebuild the plugin; so does ``python -m gssmech._plugin.build``).
        "test": ["pytest>=7", "hypothesis>=6", "gssapi>=1.8", "k5test>=0.10", "ruff>=0.5",
                 "setuptools"],
    },
    entry_points={"console_scripts": ["gssmech = gssmech.cli:main"]},
    cmdclass={"build_py": build_py_with_plugin},
)
