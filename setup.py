"""gssmech: a GSS-API mechanism for Kerberos V5 with first-class anonymity.

The cffi-built plugin library (DESIGN.md "The plugin library") is added to this file by the
plugin issue; until then setup.py builds the pure-Python package and the console script.
"""

from setuptools import find_packages, setup

setup(
    name="gssmech",
    version="0.1.0",
    description="GSS-API Kerberos V5 mechanism with first-class anonymity (RFC 6112/8062)",
    python_requires=">=3.11",
    packages=find_packages(include=["gssmech", "gssmech.*"]),
    install_requires=["cryptography>=41", "asn1crypto>=1.5", "cffi>=1.15"],
    extras_require={
        "test": ["pytest>=7", "hypothesis>=6", "gssapi>=1.8", "k5test>=0.10", "ruff>=0.5"],
    },
    entry_points={"console_scripts": ["gssmech = gssmech.cli:main"]},
)
