"""Administrative units of both eras as reference tables, with the crosswalk from the old units to the new provinces.

Three tables in the ``raw`` schema, recomputed from the ``vietnamadminunits`` package (never typed by hand):

- ``ref_admin_units``: every province and district of the pre-2025 era and every province and commune-level
  unit of the 2025+ era (63 + 696 + 34 + 3,321 rows), keyed like ``admin_units.Unit.key``, with the dates each
  version is valid. Pre-2025 units are valid until 2025-06-30, 2025+ units from 2025-07-01 (Resolution
  202/2025/QH15) with no end. The package's pre-2025 tables are the **final pre-reform snapshot**, not a
  history: the day a pre-2025 unit was created (or last renamed) is unknown, so ``valid_from`` is null for
  them. Null means "unknown, at least since before the reform", not "always".
- ``ref_province_crosswalk``: each of the 63 pre-2025 provinces → the 2025+ province it became part of (34).
- ``ref_district_crosswalk``: each of the 696 pre-2025 districts → the 2025+ province its communes went to.

Where the mapping comes from: the package's own conversion tables (``converter_2025``, behind
``convert_address``). ``DICT_PROVINCE`` lists the old provinces of each new province; the commune tables
(``DICT_PROVINCE_WARD_NO_DIVIDED``, ``DICT_PROVINCE_WARD_DIVIDED``) list, for each new province, the old
``province_district_commune`` keys that became its communes. A district's new province is the one its
communes went to. The reform merged provinces whole, so every district's communes land in one province, the
one its old province went to: ``crosswalks`` checks both tables agree and raises ``ValueError`` if a later
package release ever makes them disagree.

Computing the rows takes about a second (the package import and its JSON); they are cached per process.
Writing them replaces the three tables in one transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Final

import duckdb

from units.admin_units import (
    FIRST_POST_REFORM_YEAR,
    POST_REFORM,
    PRE_REFORM,
    REFORM_DAY,
    Era,
    Unit,
    resolve_province,
    units_of_province,
)
from units.keys import unit_key
from warehouse.raw import RAW_SCHEMA

ADMIN_UNITS_TABLE: Final = "ref_admin_units"
PROVINCE_CROSSWALK_TABLE: Final = "ref_province_crosswalk"
DISTRICT_CROSSWALK_TABLE: Final = "ref_district_crosswalk"

LAST_PRE_REFORM_DAY: Final = REFORM_DAY - timedelta(days=1)
PRE_REFORM_VALID_FROM: Final[date | None] = None  # unknown: the package only holds the final pre-reform snapshot

_YEAR_OF_ERA: Final[Mapping[Era, int]] = {PRE_REFORM: FIRST_POST_REFORM_YEAR - 1, POST_REFORM: FIRST_POST_REFORM_YEAR}
_PACKAGE_TABLE: Final[Mapping[Era, str]] = {PRE_REFORM: "admin_units_legacy", POST_REFORM: "admin_units"}

ADMIN_UNITS_COLUMNS: Final[dict[str, str]] = {
    "unit_key": "VARCHAR",
    "era": "VARCHAR",
    "level": "VARCHAR",
    "code": "VARCHAR",
    "name": "VARCHAR",
    "short_name": "VARCHAR",
    "province_code": "VARCHAR",
    "province_name": "VARCHAR",
    "province_key": "VARCHAR",
    "valid_from": "DATE",
    "valid_to": "DATE",
}
PROVINCE_CROSSWALK_COLUMNS: Final[dict[str, str]] = {
    "old_province_key": "VARCHAR",
    "old_province_code": "VARCHAR",
    "old_province_name": "VARCHAR",
    "new_province_key": "VARCHAR",
    "new_province_code": "VARCHAR",
    "new_province_name": "VARCHAR",
}
DISTRICT_CROSSWALK_COLUMNS: Final[dict[str, str]] = {
    "district_key": "VARCHAR",
    "district_code": "VARCHAR",
    "district_name": "VARCHAR",
    "old_province_key": "VARCHAR",
    "new_province_key": "VARCHAR",
    "new_province_code": "VARCHAR",
    "new_province_name": "VARCHAR",
}

Row = dict[str, object]


@dataclass(frozen=True)
class AdminReference:
    """The rows of the three reference tables."""

    units: tuple[Row, ...]
    province_crosswalk: tuple[Row, ...]
    district_crosswalk: tuple[Row, ...]


@dataclass(frozen=True)
class WriteCounts:
    units: int
    provinces_mapped: int
    districts_mapped: int


# --------------------------------------------------------------------------- the package's catalogue


def _package_query(sql: str) -> list[dict[str, object]]:
    from vietnamadminunits.database import query  # loads the package's parsers: lazily, like admin_units

    return list(query(sql))


def _province_codes(era: Era) -> list[str]:
    rows = _package_query(f"SELECT DISTINCT provinceCode FROM [{_PACKAGE_TABLE[era]}] ORDER BY provinceCode")
    return [str(row["provinceCode"]) for row in rows]


def provinces(era: Era) -> tuple[Unit, ...]:
    """Every province of the era, ordered by code (63 before the reform, 34 after)."""
    found = (resolve_province(code, _YEAR_OF_ERA[era]) for code in _province_codes(era))
    return tuple(unit for unit in found if unit is not None)


def sub_units(era: Era) -> tuple[Unit, ...]:
    """Every district (pre-2025) or commune-level unit (2025+), ordered by province and code."""
    return tuple(unit for province in provinces(era) for unit in units_of_province(province.code, _YEAR_OF_ERA[era]))


def unit_row(unit: Unit) -> Row:
    pre_reform = unit.era == PRE_REFORM
    return {
        "unit_key": unit.key,
        "era": unit.era,
        "level": unit.level,
        "code": unit.code,
        "name": unit.name,
        "short_name": unit.short_name,
        "province_code": unit.province_code,
        "province_name": unit.province_name,
        "province_key": unit_key(unit.era, "province", unit.province_code),
        "valid_from": PRE_REFORM_VALID_FROM if pre_reform else REFORM_DAY,
        "valid_to": LAST_PRE_REFORM_DAY if pre_reform else None,
    }


# --------------------------------------------------------------------------- the package's conversion tables


def _package_key_to_code(era: Era) -> dict[str, str]:
    """The package's folded province key ('tinhlaocai') → province code, in one era."""
    rows = _package_query(f"SELECT DISTINCT provinceKey, provinceCode FROM [{_PACKAGE_TABLE[era]}]")
    return {str(row["provinceKey"]): str(row["provinceCode"]) for row in rows}


def _district_codes() -> dict[tuple[str, str], str]:
    """(old province key, old district key) → district code, as the conversion tables name districts."""
    rows = _package_query(f"SELECT DISTINCT provinceKey, districtKey, districtCode FROM [{_PACKAGE_TABLE[PRE_REFORM]}]")
    return {(str(row["provinceKey"]), str(row["districtKey"])): str(row["districtCode"]) for row in rows}


def _conversion_tables() -> tuple[
    Mapping[str, Sequence[str]], Mapping[str, Mapping[str, Sequence[str]]], Mapping[str, Mapping[str, object]]
]:
    from vietnamadminunits.converter.converter_2025 import (
        DICT_PROVINCE,
        DICT_PROVINCE_WARD_DIVIDED,
        DICT_PROVINCE_WARD_NO_DIVIDED,
    )

    return DICT_PROVINCE, DICT_PROVINCE_WARD_NO_DIVIDED, DICT_PROVINCE_WARD_DIVIDED


def province_mapping() -> dict[str, str]:
    """Old province code → new province code, from the package's ``DICT_PROVINCE``."""
    old_codes, new_codes = _package_key_to_code(PRE_REFORM), _package_key_to_code(POST_REFORM)
    by_province, _, _ = _conversion_tables()
    return {old_codes[old]: new_codes[new] for new, olds in by_province.items() for old in olds}


def district_mapping() -> dict[str, str]:
    """Old district code → new province code, from where the package's commune tables send its communes.

    Raises ``ValueError`` if a district's communes went to several new provinces or if a district has none.
    """
    new_codes, districts = _package_key_to_code(POST_REFORM), _district_codes()
    _, undivided, divided = _conversion_tables()
    kept_whole = [(new, old) for new, communes in undivided.items() for olds in communes.values() for old in olds]
    split_up = [(new, old) for new, communes in divided.items() for old in communes]
    targets: defaultdict[str, set[str]] = defaultdict(set)
    for new, old in (*kept_whole, *split_up):
        old_province, old_district, _commune = old.split("_", 2)
        targets[districts[(old_province, old_district)]].add(new_codes[new])
    split = {code: sorted(codes) for code, codes in targets.items() if len(codes) != 1}
    missing = set(districts.values()) - set(targets)
    if split or missing:
        raise ValueError(f"package conversion tables: districts split {split}, districts without communes {missing}")
    return {code: codes.pop() for code, codes in targets.items()}


# --------------------------------------------------------------------------- the rows


@cache
def admin_reference() -> AdminReference:
    """All rows of the three tables, computed once per process; raises ``ValueError`` if the package disagrees
    with itself (a district whose communes did not go where its province went)."""
    old_provinces = {unit.code: unit for unit in provinces(PRE_REFORM)}
    new_provinces = {unit.code: unit for unit in provinces(POST_REFORM)}
    districts, communes = sub_units(PRE_REFORM), sub_units(POST_REFORM)
    by_province, by_district = province_mapping(), district_mapping()

    province_rows: list[Row] = []
    for code, old in old_provinces.items():
        new = new_provinces[by_province[code]]
        province_rows.append(
            {
                "old_province_key": old.key,
                "old_province_code": old.code,
                "old_province_name": old.short_name,
                "new_province_key": new.key,
                "new_province_code": new.code,
                "new_province_name": new.short_name,
            }
        )
    district_rows: list[Row] = []
    for district in districts:
        new = new_provinces[by_district[district.code]]
        if new.code != by_province[district.province_code]:
            raise ValueError(
                f"{district.key}: communes went to {new.key}, its province to {by_province[district.province_code]}"
            )
        district_rows.append(
            {
                "district_key": district.key,
                "district_code": district.code,
                "district_name": district.name,
                "old_province_key": unit_key(PRE_REFORM, "province", district.province_code),
                "new_province_key": new.key,
                "new_province_code": new.code,
                "new_province_name": new.short_name,
            }
        )
    units = (*old_provinces.values(), *districts, *new_provinces.values(), *communes)
    return AdminReference(tuple(unit_row(unit) for unit in units), tuple(province_rows), tuple(district_rows))


# --------------------------------------------------------------------------- writing


def _replace_table(
    connection: duckdb.DuckDBPyConnection, table: str, columns: Mapping[str, str], rows: Sequence[Row]
) -> None:
    """CREATE OR REPLACE the table and insert the rows through a registered frame (executemany takes seconds)."""
    import pandas as pd

    definition = ", ".join(f'"{name}" {kind}' for name, kind in columns.items())
    connection.execute(f"CREATE OR REPLACE TABLE {RAW_SCHEMA}.{table} ({definition})")
    if not rows:
        return
    frame = pd.DataFrame.from_records(list(rows), columns=list(columns))
    selected = ", ".join(f'cast("{name}" as {kind}) as "{name}"' for name, kind in columns.items())
    connection.register("incoming_reference_rows", frame)
    try:
        connection.execute(f"INSERT INTO {RAW_SCHEMA}.{table} SELECT {selected} FROM incoming_reference_rows")
    finally:
        connection.unregister("incoming_reference_rows")


def write_admin_reference(connection: duckdb.DuckDBPyConnection) -> WriteCounts:
    """Replace ``raw.ref_admin_units``, ``raw.ref_province_crosswalk`` and ``raw.ref_district_crosswalk``
    in one transaction; returns how many rows each got."""
    reference = admin_reference()
    connection.execute("BEGIN TRANSACTION")
    try:
        connection.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
        _replace_table(connection, ADMIN_UNITS_TABLE, ADMIN_UNITS_COLUMNS, reference.units)
        _replace_table(connection, PROVINCE_CROSSWALK_TABLE, PROVINCE_CROSSWALK_COLUMNS, reference.province_crosswalk)
        _replace_table(connection, DISTRICT_CROSSWALK_TABLE, DISTRICT_CROSSWALK_COLUMNS, reference.district_crosswalk)
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    return WriteCounts(len(reference.units), len(reference.province_crosswalk), len(reference.district_crosswalk))
