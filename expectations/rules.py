"""The rule catalogue: every check a submission must pass, with its Vietnamese message.

Rules on single fields are derived from the contract (a column added there gets its checks for
free); cross-checks are listed here. Each rule names the validation frame it runs on and how to
build its Great Expectations expectation, so the suites, the alerts and the docs share one list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, TypedDict

from contract.model import Contract, Field, Sheet, load_contract

Severity = Literal["error", "warning"]

INTEGER_PATTERN = r"^\d+$"
DECIMAL_PATTERN = r"^\d+(?:\.\d+)?$"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
YEAR_PATTERN = r"^(?:19[5-9]\d|20\d\d)$"


@dataclass(frozen=True)
class Rule:
    """One check. ``kind`` and ``params`` say which GX expectation to build (see runner.py)."""

    rule_id: str
    frame: str
    sheet: str
    kind: Literal["not_null", "regex", "in_set", "unique", "pair_equal", "is_true"]
    params: dict[str, Any]
    message: str  # Vietnamese, may use {header}, {value}, {declared}, {computed}, {allowed}
    fix: str  # Vietnamese: how to correct it
    origin: str  # English: what the rule checks and where it comes from
    field: str | None = None
    severity: Severity = "error"
    regulation: str = "Mẫu báo cáo thống kê (hợp đồng dữ liệu chibo)"


class _FieldPlace(TypedDict):
    """Where a rule on one contract field runs: shared keyword arguments of ``Rule``."""

    frame: str
    sheet: str
    field: str


def _type_rule(sheet: Sheet, field_: Field, contract: Contract) -> Rule | None:
    base: _FieldPlace = {"frame": sheet.name, "sheet": sheet.name, "field": field_.name}
    header = field_.header
    if field_.type == "integer":
        pattern = YEAR_PATTERN if field_.name == "report_year" else INTEGER_PATTERN
        return Rule(
            rule_id=f"{sheet.name}.{field_.name}.so_nguyen",
            kind="regex",
            params={"column": field_.name, "regex": pattern},
            message=f"«{{value}}» ở «{header}» không phải số nguyên không âm hợp lệ.",
            fix="Ghi một số nguyên (0, 1, 2, …), không kèm chữ, dấu trừ hay ghi chú.",
            origin=f"{header}: a non-negative whole number (contract type integer)",
            **base,
        )
    if field_.type == "decimal":
        pattern, what = DECIMAL_PATTERN, "số"
    elif field_.type == "date":
        pattern, what = DATE_PATTERN, "ngày (ngày/tháng/năm)"
    elif field_.type == "email":
        pattern, what = EMAIL_PATTERN, "địa chỉ thư điện tử"
    elif field_.type in {"enum", "grade", "boolean"}:
        allowed = ["true", "false"] if field_.type == "boolean" else list(contract.allowed_codes(field_))
        labels = "Có, Không" if field_.type == "boolean" else ", ".join(v.label for v in contract.values_for(field_))
        return Rule(
            rule_id=f"{sheet.name}.{field_.name}.danh_muc",
            kind="in_set",
            params={"column": field_.name, "value_set": allowed},
            message=f"«{{value}}» ở «{header}» không thuộc danh mục cho phép.",
            fix=f"Chọn một trong: {labels}.",
            origin=f"{header}: one of the contract's allowed values",
            **base,
        )
    else:
        return None
    # An optional date or e-mail that cannot be read is worth a warning, never a rejection (decimals are figures).
    optional = not field_.required and field_.type in {"date", "email"}
    return Rule(
        rule_id=f"{sheet.name}.{field_.name}.dinh_dang",
        kind="regex",
        params={"column": field_.name, "regex": pattern},
        message=f"«{{value}}» ở «{header}» không phải {what} hợp lệ.",
        fix=f"Ghi đúng {what}.",
        origin=f"{header}: format of type {field_.type}",
        severity="warning" if optional else "error",
        **base,
    )


def field_rules(contract: Contract) -> list[Rule]:
    rules: list[Rule] = []
    for sheet in contract.sheets:
        for field_ in sheet.fields:
            if field_.required:
                rules.append(
                    Rule(
                        rule_id=f"{sheet.name}.{field_.name}.bat_buoc",
                        frame=sheet.name,
                        sheet=sheet.name,
                        field=field_.name,
                        kind="not_null",
                        params={"column": field_.name},
                        message=f"Thiếu «{field_.header}».",
                        fix=f"Điền «{field_.header}»; ô này không được để trống.",
                        origin=f"{field_.header}: required by the contract",
                    )
                )
            type_rule = _type_rule(sheet, field_, contract)
            if type_rule is not None:
                rules.append(type_rule)
        if sheet.key:
            headers = ", ".join(f"«{sheet.field(k).header}»" for k in sheet.key)
            rules.append(
                Rule(
                    rule_id=f"{sheet.name}.khoa_trung",
                    frame=sheet.name,
                    sheet=sheet.name,
                    field=sheet.key[-1],
                    kind="unique",
                    params={"column_list": ["submission_id", *sheet.key]},
                    message=f"{headers} «{{value}}» bị trùng: mỗi dòng phải có mã riêng.",
                    fix="Sửa mã trùng hoặc xóa dòng lặp.",
                    origin=f"{sheet.name}: key {', '.join(sheet.key)} unique within a report",
                )
            )
    return rules


def within_whole_column(field_name: str) -> str:
    return f"{field_name}__within_whole"


def percent_column(field_name: str) -> str:
    return f"{field_name}__within_0_100"


def bound_rules(contract: Contract) -> list[Rule]:
    """From the contract: a part is at most its whole (``at_most``/``part_of``); a percentage is in 0–100."""
    rules: list[Rule] = []
    for sheet in contract.sheets:
        for field_ in sheet.fields:
            base: _FieldPlace = {"frame": sheet.name, "sheet": sheet.name, "field": field_.name}
            if field_.whole:
                whole = sheet.field(field_.whole)
                rules.append(
                    Rule(
                        rule_id=f"{sheet.name}.{field_.name}.khong_vuot",
                        kind="is_true",
                        params={"column": within_whole_column(field_.name)},
                        message=f"«{field_.header}» ({{{field_.name}}}) lớn hơn «{whole.header}» ({{{whole.name}}}): "
                        "một phần không thể lớn hơn tổng số.",
                        fix=f"Kiểm tra lại «{field_.header}» và «{whole.header}»; số này là một phần của số kia.",
                        origin=f"{field_.header}: a part of «{whole.header}», so at most it "
                        f"(contract: {field_.name} ≤ {whole.name})",
                        **base,
                    )
                )
            if field_.unit == "%":
                rules.append(
                    Rule(
                        rule_id=f"{sheet.name}.{field_.name}.phan_tram",
                        kind="is_true",
                        params={"column": percent_column(field_.name)},
                        message=f"«{field_.header}» là {{{field_.name}__number}}%, nằm ngoài khoảng từ 0 đến 100%.",
                        fix="Ghi tỷ lệ phần trăm từ 0 đến 100 (ví dụ 73,2), không ghi số lượng hay tỷ số.",
                        origin=f"{field_.header}: a percentage (contract unit %), within 0–100",
                        **base,
                    )
                )
    return rules


def calendar_rules() -> list[Rule]:
    """A yearly report is as of 31 December: its year must have ended, and it cannot be prepared in the future."""
    return [
        Rule(
            rule_id="thong_tin.report_year.chua_ket_thuc",
            frame="thong_tin",
            sheet="thong_tin",
            field="report_year",
            kind="is_true",
            params={"column": "report_year_ended"},
            message="Năm báo cáo {report_year} chưa kết thúc (số liệu báo cáo năm tính đến ngày 31/12/{report_year}; "
            "hôm nay là {today}).",
            fix="Kiểm tra lại «Năm báo cáo»; báo cáo năm chỉ được gửi sau khi năm đó kết thúc.",
            origin="the report year has ended (report_year < the current year in Asia/Ho_Chi_Minh): figures are "
            "as of 31 December",
        ),
        Rule(
            rule_id="thong_tin.prepared_on.tuong_lai",
            frame="thong_tin",
            sheet="thong_tin",
            field="prepared_on",
            kind="is_true",
            params={"column": "prepared_on_not_future"},
            message="«Ngày lập» {prepared_on_shown} là một ngày trong tương lai (hôm nay là {today}).",
            fix="Ghi đúng ngày lập báo cáo (ngày/tháng/năm), không muộn hơn ngày gửi.",
            origin="the report was not prepared after today (Asia/Ho_Chi_Minh)",
        ),
    ]


def structure_rules() -> list[Rule]:
    return [
        Rule(
            rule_id="bao_cao.thieu_trang",
            frame="sheets_present",
            sheet="(tệp)",
            field="sheet",
            kind="is_true",
            params={"column": "present"},
            message="Tệp thiếu trang «{value}».",
            fix="Thêm trang này theo mẫu (lệnh `chibo template`) rồi gửi lại.",
            origin="every report has thong_tin and tong_hop; a detailed report has to_chuc_co_so",
        ),
        Rule(
            rule_id="bao_cao.thieu_cot",
            frame="columns_present",
            sheet="(tệp)",
            field="field",
            kind="is_true",
            params={"column": "present"},
            message="Trang «{sheet}» thiếu cột hoặc chỉ tiêu bắt buộc «{value}».",
            fix="Thêm cột/chỉ tiêu đúng tên như trong mẫu rồi gửi lại.",
            origin="every required field of a sheet present is there",
        ),
    ]


def committee_rule() -> Rule:
    return Rule(
        rule_id="thong_tin.don_vi_hanh_chinh",
        frame="thong_tin",
        sheet="thong_tin",
        field="committee_resolution",
        kind="is_true",
        params={"column": "committee_resolved"},
        message="{value}",
        fix="Ghi đúng tên (hoặc mã) đơn vị hành chính của đảng bộ theo danh mục của năm báo cáo.",
        origin="the committee is resolved to one official administrative unit valid in the report's year, for both "
        "eras (districts up to 2024, communes from 2025; package vietnamadminunits)",
    )


def cross_rules() -> list[Rule]:
    def pair(check: str, frame: str, sheet: str, field_: str, message: str, fix: str, origin: str) -> Rule:
        return Rule(
            rule_id=f"{sheet}.{check}",
            frame=frame,
            sheet=sheet,
            field=field_,
            kind="pair_equal",
            params={"column_A": f"{check}__declared", "column_B": f"{check}__computed"},
            message=message,
            fix=fix,
            origin=origin,
        )

    return [
        pair(
            "members_split",
            "to_chuc_co_so",
            "to_chuc_co_so",
            "members_total",
            "Tổng số đảng viên ({declared}) khác số chính thức + dự bị ({computed}).",
            "Kiểm tra lại ba cột Tổng số, Chính thức, Dự bị của TCCSĐ này.",
            "members total = official + probationary (glossary identity)",
        ),
        pair(
            "grades_cover_members",
            "to_chuc_co_so",
            "to_chuc_co_so",
            "members_total",
            "Số đảng viên theo bốn mức xếp loại cộng chưa xếp loại ({computed}) khác tổng số đảng viên ({declared}).",
            "Mỗi đảng viên phải ở đúng một mức xếp loại hoặc ở cột chưa xếp loại.",
            "member grade counts + not rated = members total",
        ),
        pair(
            "branch_rows",
            "to_chuc_co_so",
            "to_chuc_co_so",
            "branches_declared",
            "Khai báo {declared} chi bộ trực thuộc nhưng trang chi_bo có {computed} chi bộ của TCCSĐ này.",
            "Bổ sung các chi bộ còn thiếu trong trang chi_bo, hoặc sửa số chi bộ trực thuộc.",
            "declared number of subordinate branches = branch rows with that parent",
        ),
        pair(
            "branch_members",
            "to_chuc_co_so",
            "to_chuc_co_so",
            "members_total",
            "Tổng số đảng viên của đảng bộ cơ sở ({declared}) khác tổng đảng viên các chi bộ trực thuộc ({computed}).",
            "Đối chiếu số đảng viên của từng chi bộ trong trang chi_bo với số của đảng bộ cơ sở.",
            "members of a đảng bộ cơ sở = sum of its subordinate branches' members",
        ),
        Rule(
            rule_id="chi_bo.thuoc_tccsd",
            frame="chi_bo",
            sheet="chi_bo",
            field="parent_org_code",
            kind="is_true",
            params={"column": "parent_known"},
            message="Mã TCCSĐ «{value}» của chi bộ không có trong trang to_chuc_co_so.",
            fix="Ghi đúng mã của đảng bộ cơ sở mà chi bộ trực thuộc.",
            origin="every branch belongs to an organisation of the report",
        ),
        pair(
            "orgs_by_kind",
            "tong_hop_kinds",
            "tong_hop",
            "orgs_total",
            "Tổng số TCCSĐ ({declared}) khác số đảng bộ cơ sở + chi bộ cơ sở ({computed}).",
            "Sửa lại ba chỉ tiêu TCCSĐ trong trang tổng hợp cho khớp nhau.",
            "TCCSĐ total = đảng bộ cơ sở + chi bộ cơ sở",
        ),
        pair(
            "matches_detail",
            "tong_hop_detail",
            "tong_hop",
            "value",
            "«{header}» trong trang tổng hợp là {declared}, nhưng cộng từ các trang chi tiết được {computed}.",
            "Sửa số tổng hợp, hoặc bổ sung/sửa các dòng chi tiết cho khớp.",
            "each tong_hop total = the same figure added up from the detail sheets",
        ),
    ]


GRADING_REGULATIONS = (
    "Hướng dẫn 20-HD/BTCTW, 27-HD/BTCTW (2008–2017); Quy định 132-QĐ/TW, 124-QĐ/TW (2018–2024); "
    "Quy định 366-QĐ/TW (2025–)"
)
STATUTE_21 = "Điều lệ Đảng, Điều 21 (chi bộ có ít nhất 3 đảng viên chính thức)"


def party_rules() -> list[Rule]:
    """The Party's rules: Statute art. 21, the grading regulation in force, Hướng dẫn 21-HD/BTCTW."""

    def check(
        rule_id: str,
        frame: str,
        field_: str,
        column: str,
        severity: Severity,
        message: str,
        fix: str,
        origin: str,
        regulation: str,
    ) -> Rule:
        return Rule(
            rule_id=rule_id,
            frame=frame,
            sheet=frame,
            field=field_,
            kind="is_true",
            params={"column": column},
            message=message,
            fix=fix,
            origin=origin,
            severity=severity,
            regulation=regulation,
        )

    return [
        check(
            "to_chuc_co_so.org_grade.theo_nam",
            "to_chuc_co_so",
            "org_grade",
            "org_grade_fits_rule",
            "error",
            "Mức xếp loại «{value}» không có trong {grading_rule_name}, áp dụng cho năm {report_year} "
            "(chỉ có: {allowed_org_grades}).",
            "Xếp loại lại theo các mức của quy định áp dụng cho năm báo cáo.",
            "an organisation's grade exists in the grading rule of the report's year (TSVM only up to 2017, "
            "HTXSNV for organisations only from 2018)",
            GRADING_REGULATIONS,
        ),
        check(
            "chi_bo.branch_grade.theo_nam",
            "chi_bo",
            "branch_grade",
            "branch_grade_fits_rule",
            "error",
            "Mức xếp loại chi bộ «{value}» không có trong {grading_rule_name}, áp dụng cho năm {report_year} "
            "(chỉ có: {allowed_org_grades}).",
            "Xếp loại lại theo các mức của quy định áp dụng cho năm báo cáo.",
            "a branch's grade exists in the grading rule of the report's year",
            GRADING_REGULATIONS,
        ),
        check(
            "to_chuc_co_so.htxsnv_toi_da",
            "to_chuc_co_so",
            "members_htxsnv",
            "htxsnv_within_cap",
            "warning",
            "Số đảng viên hoàn thành xuất sắc nhiệm vụ ({members_htxsnv}) vượt {htxsnv_cap_percent}% số đảng viên "
            "hoàn thành tốt nhiệm vụ ({members_httnv}) trong một TCCSĐ, theo {grading_rule_name}.",
            "Đề nghị kiểm tra lại kết quả xếp loại đảng viên của tổ chức này.",
            "members graded HTXSNV ≤ ratio × the denominator column, both parameters of the grading rule in force",
            "Hướng dẫn 21-HD/BTCTW (2019); tỷ lệ và mẫu số là tham số của quy định đánh giá từng năm",
        ),
        check(
            "to_chuc_co_so.chi_bo_co_so_3",
            "to_chuc_co_so",
            "members_official",
            "grassroots_branch_3_official",
            "warning",
            "Chi bộ cơ sở chỉ có {members_official} đảng viên chính thức, chưa đủ 3.",
            "Đề nghị kiểm tra số liệu hoặc kiện toàn chi bộ.",
            "a chi bộ cơ sở has at least 3 full members",
            STATUTE_21,
        ),
        check(
            "to_chuc_co_so.chi_bo_co_so_30",
            "to_chuc_co_so",
            "members_total",
            "grassroots_branch_under_30",
            "warning",
            "Chi bộ cơ sở có {members_total} đảng viên: từ 30 đảng viên trở lên thường đã lập đảng bộ cơ sở. "
            "Số liệu vẫn có thể đúng nếu việc thành lập đảng bộ cơ sở đang được xem xét.",
            "Đề nghị xem xét thành lập đảng bộ cơ sở, hoặc kiểm tra lại số liệu.",
            "a chi bộ cơ sở with 30 or more members is usually a đảng bộ cơ sở",
            "Điều lệ Đảng và hướng dẫn thi hành (đảng bộ cơ sở thường có từ 30 đảng viên)",
        ),
        check(
            "chi_bo.it_nhat_3",
            "chi_bo",
            "members_official",
            "branch_3_official",
            "warning",
            "Chi bộ «{branch_name}» chỉ có {members_official} đảng viên chính thức, chưa đủ 3.",
            "Đề nghị kiểm tra số liệu hoặc kiện toàn chi bộ (ghép sinh hoạt nếu cần).",
            "a subordinate branch has at least 3 full members",
            STATUTE_21,
        ),
        check(
            "thon_ban.chua_co_chi_bo",
            "thon_ban",
            "village_name",
            "village_served",
            "warning",
            "«{value}» có {members} đảng viên nhưng chưa có chi bộ, cũng không sinh hoạt ghép.",
            "Đề nghị xem xét thành lập chi bộ hoặc ghép sinh hoạt; nếu đã có, ghi mã chi bộ.",
            "a village with members has its own or a joint branch",
            "Chỉ thị, nghị quyết về xóa thôn, bản chưa có tổ chức đảng",
        ),
        Rule(
            rule_id="tong_hop.grades_cover_orgs",
            frame="tong_hop_kinds",
            sheet="tong_hop",
            field="orgs_total",
            kind="pair_equal",
            params={"column_A": "grades_cover_orgs__declared", "column_B": "grades_cover_orgs__computed"},
            message="Kết quả xếp loại chỉ có {computed} TCCSĐ trong khi tổng số TCCSĐ là {declared}.",
            fix="Ghi đủ số TCCSĐ ở từng mức xếp loại (mức nào không có thì ghi 0).",
            origin="a grade breakdown covers every organisation (Mường Khương 2021: 7 + 10 of 42)",
        ),
        Rule(
            rule_id="tong_hop.parts_add_up",
            frame="tong_hop_parts",
            sheet="tong_hop",
            field="field",
            kind="pair_equal",
            params={"column_A": "parts_add_up__declared", "column_B": "parts_add_up__computed"},
            message="«{header}» là {declared} nhưng các phần «{parts}» cộng lại được {computed}.",
            fix="Sửa số tổng hoặc các số «trong đó» cho khớp nhau.",
            origin="the parts of a figure broken down add up to it (Sơn La 2006: 292 + 93 + 28 ≠ 346)",
        ),
    ]


OUTLIER_LABELS = {
    "members_total": "Tổng số đảng viên",
    "admitted": "Số kết nạp",
    "branches_total": "Số chi bộ trực thuộc",
}


def history_rules() -> list[Rule]:
    """Checks against the committee's own accepted history (latest accepted version of each year)."""
    rules = [
        Rule(
            rule_id="lich_su.chuyen_so_du",
            frame="history",
            sheet="tong_hop",
            field="members_total",
            kind="pair_equal",
            severity="warning",
            params={"column_A": "roll_forward__declared", "column_B": "roll_forward__computed"},
            message="Đảng viên cuối năm là {declared}, nhưng từ {previous_members} đảng viên cuối năm {previous_year} "
            "cộng kết nạp, chuyển đến, trừ từ trần, xóa tên, khai trừ, chuyển đi thì được {computed} "
            "(chênh {roll_forward_gap}).",
            fix="Đề nghị đối chiếu số đảng viên đầu năm và các biến động trong năm.",
            origin="members at year end = previous accepted year end + admitted + transferred in − (deceased + "
            "struck off + expelled + transferred out)",
            regulation="Đẳng thức số dư đảng viên (hướng dẫn thống kê đảng viên)",
        ),
        Rule(
            rule_id="lich_su.thon_co_chi_bo_giam",
            frame="history",
            sheet="tong_hop",
            field="villages_with_branch",
            kind="is_true",
            severity="warning",
            params={"column": "villages_not_fewer"},
            message="Số thôn, tổ dân phố có chi bộ giảm từ {previous_villages_with_branch} (năm {previous_year}) "
            "xuống {villages_with_branch_now}.",
            fix="Đề nghị kiểm tra lại: thôn nào không còn chi bộ, vì sao.",
            origin="fewer villages with a branch than the previous accepted year",
            regulation="Chỉ thị, nghị quyết về xóa thôn, bản chưa có tổ chức đảng",
        ),
    ]
    rules.append(
        Rule(
            rule_id="tinh.doi_chieu",
            frame="reconciliation",
            sheet="tong_hop",
            field="field",
            kind="pair_equal",
            severity="warning",
            params={"column_A": "province_matches__declared", "column_B": "province_matches__computed"},
            message="«{header}» trong báo cáo tổng hợp của tỉnh là {declared}, nhưng cộng {committees} báo cáo "
            "đã tiếp nhận của các đảng bộ trực thuộc được {computed}.",
            fix="Đề nghị đối chiếu số liệu của tỉnh với báo cáo của từng đảng bộ trực thuộc.",
            origin="a province-level aggregate report agrees with the accepted reports of its committees for the same "
            "year (TCCSĐ, branches, members; Sơn La 2019: 608, 4,429, 85,651)",
            regulation="Đối chiếu số liệu tổng hợp cấp tỉnh với báo cáo cấp dưới",
        )
    )
    for metric, label in OUTLIER_LABELS.items():
        rules.append(
            Rule(
                rule_id=f"lich_su.bat_thuong.{metric}",
                frame="history",
                sheet="tong_hop",
                field=f"{metric}_value",
                kind="is_true",
                severity="warning",
                params={"column": f"{metric}_typical"},
                message=f"{label} năm nay là {{{metric}_value}}, khác xa mức thường thấy của chính đảng bộ này "
                f"trong các năm trước (thường khoảng {{{metric}_median}}). Số liệu vẫn có thể đúng, chẳng hạn khi "
                "đảng bộ được sáp nhập, chia tách, nhận hoặc chuyển đi nhiều tổ chức đảng trong năm.",
                fix="Đề nghị kiểm tra lại số liệu; nếu đúng, ghi chú lý do biến động (ví dụ: sáp nhập, chia tách).",
                origin=f"{metric}: modified z-score 0.6745·|x − median| / MAD over the committee's own history ≥ 3.5 "
                "(no flag when MAD is 0 or with fewer than 3 earlier years)",
                regulation="Phát hiện giá trị bất thường (như DHIS2)",
            )
        )
    return rules


def all_rules(contract: Contract | None = None) -> list[Rule]:
    contract = contract or load_contract()
    return (
        structure_rules()
        + field_rules(contract)
        + bound_rules(contract)
        + calendar_rules()
        + [committee_rule()]
        + cross_rules()
        + party_rules()
        + history_rules()
    )


UNREADABLE_RULE = Rule(
    rule_id="tep.khong_doc_duoc",
    frame="(none)",
    sheet="(tệp)",
    kind="is_true",
    params={},
    message="(the reader's own message: see docs/submission-format.md, Refusals)",
    fix="Gửi lại tệp theo mẫu báo cáo (.xlsx, .xls, .ods hoặc .zip các tệp CSV).",
    origin="the file can be read as a report at all (format, size, safety)",
)


INTAKE_FAILED_RULE = Rule(
    rule_id="tep.loi_tiep_nhan",
    frame="(none)",
    sheet="(tệp)",
    kind="is_true",
    params={},
    message="(intake's own message: the system failed while taking the file in; the technical detail goes to the "
    "operators)",
    fix="Đơn vị không cần làm gì: đây là lỗi của hệ thống, không phải lỗi của báo cáo. Bộ phận kỹ thuật sẽ khắc phục "
    "và tiếp nhận lại tệp.",
    origin="the file was taken in without an unexpected system error; such a file is held for the operators "
    "(registered under its hash, not retried automatically)",
    regulation="Vận hành hệ thống chibo",
)

#: A check that could not run (its expectation raised): the report is held, never passed.
ERRORED_MESSAGE = (
    "Không thực hiện được kiểm tra «{rule_id}» (trang {sheet}); báo cáo được giữ lại chờ bộ phận kỹ thuật xử lý."
)
ERRORED_FIX = (
    "Đơn vị không cần làm gì: đây là lỗi kỹ thuật của hệ thống, không phải lỗi của báo cáo. Báo cáo sẽ được "
    "kiểm tra lại tự động sau khi lỗi được khắc phục."
)


def system_rules() -> list[Rule]:
    """Rules outside the GX suites: files that could not be read, or not taken in."""
    return [UNREADABLE_RULE, INTAKE_FAILED_RULE]
