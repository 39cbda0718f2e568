"""The `chibo` command as a submitter or staff member uses it."""

from __future__ import annotations

from pathlib import Path

import pytest

from chibo.cli import EXIT_ACCEPTED, EXIT_REJECTED, EXIT_UNREADABLE, format_table, main
from contract.workbook import write_csv_zip, write_xlsx
from demo.samples import muong_khuong_2023, muong_nhe_2016


def test_template_writes_a_workbook_that_reads_back_with_every_sheet(tmp_path: Path, capsys):
    output = tmp_path / "mau.xlsx"
    assert main(["template", str(output)]) == EXIT_ACCEPTED
    assert output.exists()
    assert main(["validate", str(output)]) == EXIT_REJECTED  # blank: required values missing
    printed = capsys.readouterr().out
    assert "Thiếu «Tỉnh»" in printed


def test_validate_accepts_a_good_report_and_shows_how_it_was_read(tmp_path: Path, capsys):
    path = write_csv_zip(tmp_path / "mk.zip", muong_khuong_2023())
    assert main(["validate", str(path)]) == EXIT_ACCEPTED
    printed = capsys.readouterr().out
    assert "«Đảng viên - Tổng số» → members_total" in printed
    assert "243 dòng số liệu" in printed
    assert "HỢP LỆ" in printed


def test_validate_rejects_with_rows_and_how_to_fix(tmp_path: Path, capsys):
    path = write_xlsx(tmp_path / "mn.xlsx", muong_nhe_2016())
    assert main(["validate", str(path)]) == EXIT_REJECTED
    printed = capsys.readouterr().out
    assert "BỊ TỪ CHỐI — 4 lỗi" in printed
    assert "trang tong_hop, dòng 5" in printed
    assert "Cách sửa:" in printed


@pytest.mark.parametrize("content", [b"", b"garbage"])
def test_validate_unreadable_file_exits_2(tmp_path: Path, capsys, content):
    path = tmp_path / "hong.xlsx"
    path.write_bytes(content)
    assert main(["validate", str(path)]) == EXIT_UNREADABLE
    assert "KHÔNG ĐỌC ĐƯỢC TỆP" in capsys.readouterr().out


def test_validate_missing_file_exits_2(tmp_path: Path, capsys):
    assert main(["validate", str(tmp_path / "khong_co.xlsx")]) == EXIT_UNREADABLE


def test_totals_table_uses_vietnamese_number_format():
    table = format_table([("report_year", "Năm"), ("members_total", "Đảng viên"), ("pct", "%")], [(2023, 3792, 73.2)])
    assert table.splitlines()[-1].split() == ["2023", "3.792", "73,2"]


def test_alert_recipients_match_province_whatever_its_spelling():
    from chibo.config import load_settings

    settings = load_settings()
    expected = settings.recipients["Lào Cai"]
    for spelling in ["Lào Cai", "Tỉnh Lào Cai", "LAO CAI", "lào  cai"]:
        assert settings.recipients_for(spelling) == expected
    assert settings.recipients_for("Hà Giang") == settings.operators
    assert settings.recipients_for(None) == settings.operators


def test_history_lists_every_version_with_who_sent_it_and_which_feeds_the_marts(settings, capsys):
    import copy

    from pipeline import nightly

    first = muong_khuong_2023()
    write_xlsx(settings.inbox / "lan1.xlsx", first)
    nightly.ingest(settings, "night-1")
    nightly.validate(settings, "night-1")
    second = copy.deepcopy(first)
    second["thong_tin"]["preparer"] = "Lò Văn Sửa"
    write_xlsx(settings.inbox / "lan2.xlsx", second)
    nightly.ingest(settings, "night-2")
    nightly.validate(settings, "night-2")

    assert main(["history", "Mường Khương", "2023"]) == EXIT_ACCEPTED
    lines = capsys.readouterr().out.splitlines()
    assert "Đảng bộ huyện Mường Khương" in lines[0]
    version_rows = [line for line in lines if line.strip().startswith(("1 ", "2 "))]
    assert len(version_rows) == 2
    assert "lan1.xlsx" in version_rows[0] and "lan2.xlsx" in version_rows[1]
    assert "Lò Văn Sửa" in version_rows[1] and version_rows[1].rstrip().endswith("✔")
    assert not version_rows[0].rstrip().endswith("✔")
    assert main(["history", "Bát Xát", "2023"]) == EXIT_REJECTED


def test_validate_says_held_when_a_check_cannot_run(tmp_path: Path, capsys, monkeypatch):
    """The night's own code: a check whose expectation raises in real GX holds the report (exit 1)."""
    from dataclasses import replace

    import expectations.runner as runner

    build = runner.build_expectation

    def build_broken(rule):
        if rule.rule_id == "chi_bo.it_nhat_3":
            rule = replace(rule, params={**rule.params, "column": "cot_khong_ton_tai"})
        return build(rule)

    monkeypatch.setattr(runner, "build_expectation", build_broken)
    path = write_xlsx(tmp_path / "mk.xlsx", muong_khuong_2023())
    assert main(["validate", str(path)]) == EXIT_REJECTED
    printed = capsys.readouterr().out
    assert "KẾT QUẢ: báo cáo ĐƯỢC GIỮ LẠI" in printed
    assert "Không thực hiện được kiểm tra «chi_bo.it_nhat_3»" in printed
