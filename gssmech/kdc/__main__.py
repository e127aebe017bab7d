"""``python -m gssmech.kdc init|addprinc|delprinc|ktadd|list|serve ...`` = ``gssmech kdc ...``."""

import sys

from gssmech.cli import main

sys.exit(main(["kdc", *sys.argv[1:]]))
