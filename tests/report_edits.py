"""Edits that tests make to a good report to plant a finding."""

from __future__ import annotations

import copy


def too_many_excellent(report: dict) -> dict:
    """Half of the first organisation's HTXSNV + HTTNV members graded HTXSNV: above the HTXSNV cap."""
    report = copy.deepcopy(report)
    first = report["to_chuc_co_so"][0]
    both = first["members_htxsnv"] + first["members_httnv"]
    first["members_htxsnv"], first["members_httnv"] = both // 2, both - both // 2
    return report
