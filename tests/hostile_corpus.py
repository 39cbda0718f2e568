"""A corpus of broken and hostile submissions, each with the Vietnamese error it must give.

The files are built by code (deterministically) rather than committed: some are large (a 21 MB file,
a zip bomb) or are links, which do not travel well in git. ``write_corpus`` writes them all into a
folder; ``CORPUS`` says, for each, the words staff must read.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook

from contract.workbook import csv_texts, write_xlsx
from demo.samples import muong_khuong_2023

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Path], None]  # writes the entry at the given path
    expected_vi: str  # words of the Vietnamese message staff must see
    readable: bool = False  # read fine but rejected by validation (missing sheet…)


def write_bytes(data: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(data)


def valid_xlsx_bytes() -> bytes:
    buffer = io.BytesIO()
    path = Path("/tmp") / f"chibo-corpus-{os.getpid()}.xlsx"
    write_xlsx(path, muong_khuong_2023())
    buffer.write(path.read_bytes())
    path.unlink()
    return buffer.getvalue()


def zip_bytes(members: list[tuple[str | zipfile.ZipInfo, bytes]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def good_csv_members() -> list[tuple[str | zipfile.ZipInfo, bytes]]:
    return [(name, text.encode("utf-8")) for name, text in csv_texts(muong_khuong_2023()).items()]


def encrypted_member_zip(path: Path) -> None:
    """A zip whose member is marked encrypted (general-purpose flag bit 0), as a password-protected zip is."""
    data = bytearray(zip_bytes([("thong_tin.csv", "Chỉ tiêu,Giá trị\n".encode())]))
    local, central = data.find(b"PK\x03\x04"), data.find(b"PK\x01\x02")
    data[local + 6] |= 0x1
    data[central + 8] |= 0x1
    path.write_bytes(bytes(data))


def ole_with(stream_name: str) -> bytes:
    return OLE_MAGIC + b"\x00" * 504 + stream_name.encode("utf-16-le") + b"\x00" * 1024


def workbook_with_sheets(names: list[str]) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        workbook = Workbook()
        workbook.remove(workbook.active)
        for name in names:
            sheet = workbook.create_sheet(name)
            sheet.append(["Mã TCCSĐ", "Tên TCCSĐ"])
            sheet.append(["A1", "Xã A"])
        workbook.save(path)

    return build


def formula_without_value(path: Path) -> None:
    report = muong_khuong_2023()
    write_xlsx(path, report)
    from openpyxl import load_workbook

    workbook = load_workbook(path)
    workbook["to_chuc_co_so"]["F2"] = "=G2+H2"  # openpyxl saves formulas without computing them
    workbook.save(path)


def missing_sheet(path: Path) -> None:
    report = muong_khuong_2023()
    del report["tong_hop"]
    write_xlsx(path, report)


def link(path: Path) -> None:
    path.symlink_to("/etc/passwd")


def folder_with_link(path: Path) -> None:
    path.mkdir()
    for name, text in csv_texts(muong_khuong_2023()).items():
        (path / name).write_text(text, encoding="utf-8")
    (path / "thon_ban.csv").unlink()
    (path / "thon_ban.csv").symlink_to("/etc/passwd")


def too_many_rows(path: Path) -> None:
    rows = "Mã chi bộ,Tên chi bộ\n" + "".join(f"C{i},Chi bộ {i}\n" for i in range(100_001))
    path.write_bytes(zip_bytes([("chi_bo.csv", rows.encode("utf-8"))]))


def huge_file(path: Path) -> None:
    with path.open("wb") as handle:
        handle.write(b"PK\x03\x04")
        handle.truncate(21 * 1024 * 1024)


CORPUS: tuple[Case, ...] = (
    Case("rong.xlsx", write_bytes(b""), "Tệp rỗng"),
    Case(
        "van_ban_doi_ten.xlsx", write_bytes("Báo cáo năm 2023\nSố đảng viên: 3.792\n".encode()), "không phải bảng tính"
    ),
    Case("pdf_doi_ten.xlsx", write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"), "tệp PDF"),
    Case("anh_png.xlsx", write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "ảnh PNG"),
    Case("anh_jpeg.xls", write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF"), "ảnh JPEG"),
    Case(
        "trang_web.xls", write_bytes(b"<html><body><table><tr><td>1</td></tr></table></body></html>"), "trang web HTML"
    ),
    Case("gzip_doi_ten.zip", write_bytes(b"\x1f\x8b\x08\x00\x00\x00\x00\x00"), "tệp nén gzip"),
    Case("rar_doi_ten.zip", write_bytes(b"Rar!\x1a\x07\x01\x00"), "tệp nén RAR"),
    Case("cat_ngang.xlsx", lambda path: path.write_bytes(valid_xlsx_bytes()[:3000]), "bị hỏng"),
    Case("mat_khau.xlsx", write_bytes(ole_with("EncryptionInfo")), "đặt mật khẩu"),
    Case("van_ban_word.xls", write_bytes(ole_with("WordDocument")), "văn bản Word"),
    Case("xls_hong.xls", write_bytes(OLE_MAGIC + b"\x01" * 2000), "bị hỏng"),
    Case("bao_cao.pdf", write_bytes(b"%PDF-1.4"), "Định dạng tệp «.pdf»"),
    Case("bao_cao", write_bytes(b"some bytes"), "không có đuôi"),
    Case("bom_nen.zip", write_bytes(zip_bytes([("chi_bo.csv", b"0" * 5_000_000)])), "bom nén"),
    Case("duong_dan_xau.zip", write_bytes(zip_bytes([("../../etc/chi_bo.csv", b"a,b\n")])), "đường dẫn không an toàn"),
    Case("duong_dan_tuyet_doi.zip", write_bytes(zip_bytes([("/tmp/chi_bo.csv", b"a,b\n")])), "đường dẫn không an toàn"),
    Case("zip_mat_khau.zip", encrypted_member_zip, "đặt mật khẩu"),
    Case("zip_khong_csv.zip", write_bytes(zip_bytes([("doc_toi.txt", b"hello")])), "không chứa tệp CSV"),
    Case(
        "zip_nhieu_tep.zip",
        write_bytes(zip_bytes([(f"t{i}.csv", b"a\n") for i in range(201)])),
        "quá nhiều tệp con",
    ),
    Case(
        "sai_bang_ma.zip",
        write_bytes(zip_bytes([("thong_tin.csv", "Tỉnh,Lào Cai\n".encode("utf-16-le"))])),
        "bảng mã",
    ),
    Case("qua_nhieu_dong.zip", too_many_rows, "vượt giới hạn"),
    Case("cong_thuc_chua_tinh.xlsx", formula_without_value, "công thức chưa được tính"),
    Case("khong_co_trang_mau.xlsx", workbook_with_sheets(["Sheet1", "Biểu 01"]), "không có trang nào theo mẫu"),
    Case("trang_trung.xlsx", workbook_with_sheets(["to_chuc_co_so", "TO CHUC CO SO"]), "xuất hiện hai lần"),
    Case("lien_ket.xlsx", link, "liên kết"),
    Case("..ten_xau.xlsx", write_bytes(b"PK\x03\x04 dots"), "ký tự không hợp lệ"),
    Case("ten\\gach_nguoc.xlsx", write_bytes(b"PK\x03\x04 backslash"), "ký tự không hợp lệ"),
    Case("qua_lon.xlsx", huge_file, "quá lớn"),
    Case("thu_muc_co_lien_ket", folder_with_link, "liên kết (shortcut)"),
    Case(
        "van_ban_odt.ods",
        write_bytes(zip_bytes([("mimetype", b"application/vnd.oasis.opendocument.text")], zipfile.ZIP_STORED)),
        "không phải bảng tính",
    ),
    Case("thieu_trang.xlsx", missing_sheet, "thiếu trang «tong_hop»", readable=True),
)


def write_corpus(directory: Path) -> dict[str, Case]:
    directory.mkdir(parents=True, exist_ok=True)
    for case in CORPUS:
        case.build(directory / case.name)
    return {case.name: case for case in CORPUS}
