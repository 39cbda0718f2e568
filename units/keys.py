"""The committee key: its one format, written and read here only.

Every report is keyed by the committee that sends it, in the era of its year, so that a code reused by
the 2025 reform never joins across it:

- an administrative unit (province, district, commune): ``<era>:<level>:<code>``, e.g. ``pre-2025:district:083``;
- a committee directly under a province that is not a unit: ``<era>:direct:<province code>:<registry code>``,
  e.g. ``pre-2025:direct:14:quan-su``;
- a committee that could not be resolved: ``<folded province>/<folded name>``, e.g. ``lao-cai/xyz``.

The warehouse never parses a key: intake stores the unit's code and province code beside it
(``raw.submissions.unit_code``, ``province_code``), and dbt joins on those.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

DIRECT: Final = "direct"
_UNIT: Final = re.compile(r"^(?P<era>pre-2025|2025\+):(?P<level>province|district|commune):(?P<code>[0-9]+)$")
_DIRECT: Final = re.compile(r"^(?P<era>pre-2025|2025\+):direct:(?P<province>[0-9]+):(?P<code>[a-z0-9-]+)$")
_UNRESOLVED: Final = re.compile(r"^(?P<province>[a-z0-9-]+)/(?P<name>[a-z0-9-]+)$")


def unit_key(era: str, level: str, code: str) -> str:
    return f"{era}:{level}:{code}"


def direct_key(era: str, province_code: str, registry_code: str) -> str:
    return f"{era}:{DIRECT}:{province_code}:{registry_code}"


def unresolved_key(folded_province: str, folded_name: str) -> str:
    return f"{folded_province.replace(' ', '-')}/{folded_name.replace(' ', '-')}"


@dataclass(frozen=True)
class KeyParts:
    kind: str  # "unit" | "direct" | "unresolved"
    era: str | None
    level: str | None  # province, district, commune; "direct"; None when unresolved
    code: str
    province_code: str | None  # the province of a direct committee, or a province unit's own code


def parse_key(key: str) -> KeyParts | None:
    """The parts of a key in one of the formats above; None for anything else."""
    if unit := _UNIT.match(key):
        level, code = unit["level"], unit["code"]
        return KeyParts("unit", unit["era"], level, code, code if level == "province" else None)
    if direct := _DIRECT.match(key):
        return KeyParts("direct", direct["era"], DIRECT, direct["code"], direct["province"])
    if unresolved := _UNRESOLVED.match(key):
        return KeyParts("unresolved", None, None, unresolved["name"], None)
    return None


def province_code_of(key: str | None) -> str | None:
    """The code of a province-level unit key ("pre-2025:province:14" → "14"); None for other committees."""
    parts = parse_key(key) if key else None
    return parts.code if parts is not None and parts.level == "province" else None
