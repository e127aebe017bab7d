"""``python -m gssmech.kdc init|addprinc|delprinc|ktadd|list|serve ...``."""

import sys

from gssmech.kdc.cli import main

sys.exit(main(["kdc", *sys.argv[1:]]))
