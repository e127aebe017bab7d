"""Stateless tickets after draft-salowey-tls-ticket-07 (RFC 4507 → RFC 5077), DESIGN.md T1-T8.

* ticket.py: the §4 format (key_name | IV | encrypted_state | MAC), sealed state, binding.
* profiles.py: draft-07 / rfc5077 (default) / nginx-48 algorithm profiles.
* keyring.py: the key ring: seal with the newest active key, open with any held key, renew.
* keydir.py, nginx.py: the key directory a fleet shares, and nginx key files.
* tls.py: StatePlaintext, ClientIdentity, SessionTicket extension, NewSessionTicket codecs.
"""

from gssmech.tlsticket.errors import (
    TicketEncodeError,
    TicketError,
    TicketExpired,
    TicketInvalid,
    TicketKeyError,
    TicketKeyFileError,
    TicketSealError,
    TicketUnknownKey,
)
from gssmech.tlsticket.keyring import (
    MAX_LIFETIME,
    KeyRing,
    OpenedTicket,
    SealedTicket,
    new_ticket_key,
)
from gssmech.tlsticket.profiles import DRAFT_07, NGINX_48, RFC_5077, TicketProfile, get_profile
from gssmech.tlsticket.ticket import TicketBinding, TicketKey

__all__ = [
    "DRAFT_07",
    "MAX_LIFETIME",
    "NGINX_48",
    "RFC_5077",
    "KeyRing",
    "OpenedTicket",
    "SealedTicket",
    "TicketBinding",
    "TicketEncodeError",
    "TicketError",
    "TicketExpired",
    "TicketInvalid",
    "TicketKey",
    "TicketKeyError",
    "TicketKeyFileError",
    "TicketProfile",
    "TicketSealError",
    "TicketUnknownKey",
    "get_profile",
    "new_ticket_key",
]
