"""The `chibo` command as a submitter or staff member uses it."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest

from chibo.cli import EXIT_ACCEPTED, EXIT_REFUSED, EXIT_REJECTED, EXIT_UNREADABLE, format_table, main, parser
from chibo.config import Settings
from contract.workbook import write_csv_zip, write_xlsx
from demo.samples import muong_khuong_2023, muong_nhe_2016

CHIBO = Path(sys.executable).with_name("chibo")  # the installed console script, as people run it


def test_template_writes_a_workbook_that_reads_back_with_every_sheet(tmp_path: Path, capsys):
    output = tmp_path / "mau.xlsx"
    assert main(["template", str(output)]) == EXIT_ACCEPTED
    assert output.exists()
    assert main(["validate", str(output)]) == EXIT_REJECTED  # blank: required values missing
    printed = capsys.readouterr().out
    assert "Thiếu «Tỉnh»" in printed


def test_validate_accepts_a_good_report_and_shows_how_it_was_read_only_when_asked(tmp_path: Path, capsys):
    path = write_csv_zip(tmp_path / "mk.zip", muong_khuong_2023())
    assert main(["validate", str(path)]) == EXIT_ACCEPTED
    printed = capsys.readouterr().out
    assert printed.startswith("KẾT QUẢ: báo cáo HỢP LỆ")  # the verdict first
    assert "→ members_total" not in printed and "dòng số liệu" not in printed
    assert "--verbose" in printed  # and how to see the rest

    assert main(["validate", "--verbose", str(path)]) == EXIT_ACCEPTED
    verbose = capsys.readouterr().out
    assert verbose.startswith("KẾT QUẢ: báo cáo HỢP LỆ")
    assert "«Đảng viên - Tổng số» → members_total" in verbose
    assert "243 dòng số liệu" in verbose
    assert verbose.index("KẾT QUẢ") < verbose.index("→ members_total")


def test_validate_rejects_with_rows_and_how_to_fix(tmp_path: Path, capsys):
    path = write_xlsx(tmp_path / "mn.xlsx", muong_nhe_2016())
    assert main(["validate", str(path)]) == EXIT_REJECTED
    printed = capsys.readouterr().out
    lines = printed.splitlines()
    assert lines[0].startswith("KẾT QUẢ: báo cáo BỊ TỪ CHỐI — 4 lỗi")  # the verdict, then the findings
    assert all(line.startswith("  - ") for line in lines[1:5]) and "Cách sửa:" in lines[1]
    assert "trang tong_hop, dòng 5" in printed
    assert "Trang «" not in printed  # the column mapping only with --verbose


@pytest.mark.parametrize("content", [b"", b"garbage"])
def test_validate_unreadable_file_exits_2(tmp_path: Path, capsys, content):
    path = tmp_path / "hong.xlsx"
    path.write_bytes(content)
    assert main(["validate", str(path)]) == EXIT_UNREADABLE
    assert "KHÔNG ĐỌC ĐƯỢC TỆP" in capsys.readouterr().out


def run_chibo(*arguments: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CHIBO), *arguments], capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})}
    )


@pytest.mark.parametrize(
    "arguments",
    [
        ["validate", "{missing}"],
        ["validate", "{report}", "--warehouse", "{missing}"],
        ["account", "import", "{missing}"],
        ["account", "add", "lan", "--role", "operator", "--password-file", "{missing}"],
        ["template", "{missing_folder}/mau.xlsx"],
        ["export", "--province", "10", "--year", "2023", "--out", "{missing_folder}/bao-cao.xlsx"],
    ],
    ids=["validate", "validate-warehouse", "account-import", "password-file", "template-folder", "export-folder"],
)
def test_a_missing_file_is_said_as_missing_with_exit_2_and_no_traceback(tmp_path: Path, arguments: list[str]):
    report = write_xlsx(tmp_path / "mk.xlsx", muong_khuong_2023())
    names = {"missing": str(tmp_path / "khong_co.xlsx"), "report": str(report), "missing_folder": str(tmp_path / "x")}
    from tests.deployments import deployment_variables

    result = run_chibo(*(a.format(**names) for a in arguments), env=deployment_variables(tmp_path))
    assert result.returncode == EXIT_REFUSED == EXIT_UNREADABLE
    assert "Traceback" not in result.stderr + result.stdout
    assert re.search(r"Không có (tệp|thư mục) " + re.escape(str(tmp_path)), result.stderr), result.stderr


def test_version_is_the_installed_one():
    result = run_chibo("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"chibo {metadata.version('chibo')}"


def every_parser(root: argparse.ArgumentParser | None = None) -> Iterator[argparse.ArgumentParser]:
    root = root or parser()
    yield root
    for action in root._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from every_parser(sub)


def test_help_and_every_argument_are_described_in_vietnamese():
    vietnamese = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹáàãéèíìóòõúùýĂÂĐÊÔƠƯ]")
    for command in every_parser():
        assert command.description is None or vietnamese.search(command.description)
        for action in command._actions:
            if action.help is None or isinstance(action, argparse._SubParsersAction):
                continue
            assert vietnamese.search(action.help), (command.prog, action.dest, action.help)
    result = run_chibo("validate", "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("cách dùng: chibo validate")
    assert "--warehouse" in result.stdout and "--verbose" in result.stdout  # the options keep their English names
    assert "show this help" not in result.stdout and "usage:" not in result.stdout
    wrong = run_chibo("history", "Mường Khương", "hai-nghìn")
    assert wrong.returncode == 2 and "lỗi: đối số NĂM: không phải số nguyên" in wrong.stderr


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


def test_export_writes_the_province_report_that_reads_back_to_the_marts(settings: Settings, tmp_path: Path, capsys):
    from contract.model import load_contract
    from pipeline import nightly
    from reading.reader import read_report
    from warehouse.raw import connect

    write_xlsx(settings.inbox / "mk.xlsx", muong_khuong_2023())
    nightly.ingest(settings, "night-1")
    nightly.validate(settings, "night-1")
    nightly.build_marts(settings)
    with connect(settings.warehouse, read_only=True) as connection:
        [(members, orgs)] = connection.execute(
            "select members_total, orgs_total from marts.fct_province_year where province = 'Lào Cai'"
        ).fetchall()
    for arguments, code in ((["--province", "10"], "10"), (["--province", "15", "--restated"], "15")):
        out = tmp_path / f"tong-hop-{code}.xlsx"
        assert main(["export", *arguments, "--year", "2023", "--out", str(out)]) == EXIT_ACCEPTED
        assert "Đã ghi báo cáo tổng hợp" in capsys.readouterr().out
        read = read_report(out, load_contract(), settings.limits)
        figures = {row.values["field"]: str(row.values["value"]) for row in read.sheets["tong_hop"].rows}
        assert (int(figures["members_total"]), int(figures["orgs_total"])) == (members, orgs)
    assert main(["export", "--province", "10", "--year", "2019", "--out", str(tmp_path / "x.xlsx")]) == EXIT_REFUSED
    assert "2019" in capsys.readouterr().err  # nothing to export for that year: said, not a traceback


def test_run_shows_each_step_of_the_night_as_it_starts_and_ends(settings: Settings, capsys):
    from chibo.local_airflow import load_dag

    write_xlsx(settings.inbox / "mk.xlsx", muong_khuong_2023())
    assert main(["run"]) == EXIT_ACCEPTED
    lines = capsys.readouterr().out.splitlines()
    dag = load_dag()
    steps = [task.task_id for task in dag.topological_sort()]
    said = [re.fullmatch(r"\[(\d+)/(\d+)\] (\w+)(?: \(.+\))?: (bắt đầu|xong sau .+ giây)", line) for line in lines]
    events = [(found[3], found[4] == "bắt đầu", int(found[1]), int(found[2])) for found in said if found]
    assert sorted(task for task, start, _, _ in events if start) == sorted(steps)  # every task once, started
    assert sorted(task for task, start, _, _ in events if not start) == sorted(steps)  # and ended
    starts = [(task, number, of) for task, start, number, of in events if start]
    assert [(number, of) for _, number, of in starts] == [(i + 1, len(steps)) for i in range(len(steps))]
    numbered = {task: number for task, number, _ in starts}  # numbered as they start, and ended under that number
    assert all(number == numbered[task] and of == len(steps) for task, _, number, of in events)
    position = {(task, start): index for index, (task, start, _, _) in enumerate(events)}
    for task in steps:  # a step ends after it starts, and starts after each step it waits for has ended
        assert position[(task, True)] < position[(task, False)]
        for upstream in dag.get_task(task).upstream_task_ids:
            assert position[(upstream, False)] < position[(task, True)]
    assert any(line.startswith("Kết thúc tổng hợp: thành công") for line in lines)
    [total] = [line.split() for line in lines[-3:] if line.startswith("Lào Cai")]  # then the province totals
    assert total[2:5] == ["2023", "1/9", "42"]  # Mường Khương: 1 of Lào Cai's 9 districts, 42 TCCSĐ
