"""The network's use cases behind one import: the network-file loader (``loader``) and
the directory look-ups other domains make (``directory``)."""

from direkte.network.directory import (
    MANAGERS,
    MANAGERS_ORDER,
    MANAGERS_WHERE,
    find_advisor,
    find_local_manager,
    find_managers,
    find_ops_ids,
    find_regional_manager,
    pick_managers,
)
from direkte.network.loader import (
    KINDS,
    NetworkFileInvalid,
    default_currency,
    load_network,
    parse_network,
    read_network_file,
)
from direkte.network.programs import record_program_change, record_program_state

__all__ = [
    "KINDS",
    "MANAGERS",
    "MANAGERS_ORDER",
    "MANAGERS_WHERE",
    "NetworkFileInvalid",
    "default_currency",
    "find_advisor",
    "find_local_manager",
    "find_managers",
    "find_ops_ids",
    "find_regional_manager",
    "load_network",
    "parse_network",
    "pick_managers",
    "read_network_file",
    "record_program_change",
    "record_program_state",
]
