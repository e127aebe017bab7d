"""The ticket-cache layer: MIT FILE/DIR/MEMORY credential caches and FILE keytabs.

``resolve(name)`` turns a ``KRB5CCNAME``-style name into a :class:`CCache`; ``Keytab.resolve``
does the same for keytabs.  The byte formats live in sans-I/O codecs
(:mod:`gssmech.ccache.fileformat`, :mod:`gssmech.ccache.keytab_format`); files, locks and
atomic replacement in :mod:`gssmech.ccache.file`.
"""

from gssmech.ccache.cache import CCache
from gssmech.ccache.defaults import ccache_type, default_ccache_name, default_keytab_name
from gssmech.ccache.fileformat import parse, serialize
from gssmech.ccache.keytab import Keytab
from gssmech.ccache.keytab_format import KeytabEntry
from gssmech.ccache.records import (
    CCacheContents,
    Credential,
    KeyBlock,
    config_credential,
    config_server,
)
from gssmech.ccache.resolve import DirCollection, resolve, split_name

__all__ = [
    "CCache",
    "CCacheContents",
    "Credential",
    "DirCollection",
    "KeyBlock",
    "Keytab",
    "KeytabEntry",
    "ccache_type",
    "config_credential",
    "config_server",
    "default_ccache_name",
    "default_keytab_name",
    "parse",
    "resolve",
    "serialize",
    "split_name",
]
