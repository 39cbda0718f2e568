"""Refuse hostile or broken files before anything parses them.

What a file really is comes from its first bytes, not its name; archives are inspected member by
member (sizes, ratios, names) without extracting anything to disk. Every refusal raises
:class:`UnreadableReport` with a Vietnamese message for staff and a precise English detail for the log.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from reading.errors import UnreadableReport

FileKind = Literal["ooxml", "ods", "xls", "csv_zip", "csv", "csv_folder"]

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
ENCRYPTED_OOXML_MARK = "EncryptionInfo".encode("utf-16-le")
FOREIGN_MAGICS: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "tệp PDF"),
    (b"\x89PNG", "ảnh PNG"),
    (b"\xff\xd8\xff", "ảnh JPEG"),
    (b"GIF8", "ảnh GIF"),
    (b"Rar!", "tệp nén RAR"),
    (b"7z\xbc\xaf", "tệp nén 7z"),
    (b"\x1f\x8b", "tệp nén gzip"),
    (b"{\\rtf", "văn bản RTF"),
)
# A web page, whatever its case or preamble: Excel's «Trang web» (.htm/.mht) saved under an .xls name is one.
HTML_START = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|table|meta)\b",
    re.IGNORECASE | re.DOTALL,
)
MHT_START = re.compile(rb"^\s*(?:MIME-Version:|Content-Type:\s*multipart/related)", re.IGNORECASE)
WEB_PAGE = (
    "Tệp thực chất là trang web HTML (Excel lưu kiểu «Trang web» dù tên tệp có đuôi «{suffix}»), không phải bảng "
    "tính. Hãy mở tệp bằng Excel, chọn Tệp → Lưu thành → «Sổ làm việc Excel (*.xlsx)» rồi gửi lại."
)
WORD_DOCUMENT = (
    "Tệp là văn bản Word ({kind}), không phải bảng tính. Hãy chép các bảng số liệu vào mẫu báo cáo Excel "
    "(lệnh `chibo template`, hoặc mẫu Ban Tổ chức gửi) rồi gửi tệp .xlsx."
)
ENCRYPTED_ODF = (
    "Tệp LibreOffice (.ods) có đặt mật khẩu nên không đọc được. Hãy mở tệp, bỏ mật khẩu (Tệp → Thuộc tính → "
    "Bảo mật, hoặc Lưu thành… bỏ chọn «Lưu với mật khẩu») rồi gửi lại."
)
# Entries that macOS (Finder's «Nén»), Windows Explorer and thumbnail caches add to a zip: not part of a report.
SYSTEM_MEMBER = re.compile(r"(^|/)(__MACOSX/|\._|\.DS_Store$|Thumbs\.db$|desktop\.ini$)", re.IGNORECASE)
WORD_SUFFIXES = frozenset({".doc", ".docx", ".docm", ".odt", ".rtf"})
WEB_SUFFIXES = frozenset({".htm", ".html", ".mht", ".mhtml"})
WORKBOOK_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls", ".ods"})
ACCEPTED_SUFFIXES = WORKBOOK_SUFFIXES | {".zip", ".csv"}
SUSPICIOUS_NAME = re.compile(r"(^\.\.|\\|[\x00-\x1f\x7f]|^-)")
RESEND = "Hãy gửi lại tệp báo cáo đúng mẫu (.xlsx, .xls, .ods hoặc .zip các tệp CSV)."


@dataclass(frozen=True)
class Limits:
    """Caps applied to every submission; configurable in chibo.yaml (``limits``)."""

    max_file_bytes: int = 20 * 1024 * 1024
    max_uncompressed_bytes: int = 200 * 1024 * 1024
    max_compression_ratio: float = 200.0
    max_archive_members: int = 200
    max_rows_per_sheet: int = 100_000


def refuse(message_vi: str, detail: str) -> UnreadableReport:
    return UnreadableReport(message_vi, detail)


def check_name(path: Path) -> None:
    """A name that could escape a folder or hide itself is refused (path traversal, control characters)."""
    if SUSPICIOUS_NAME.search(path.name):
        raise refuse(
            f"Tên tệp «{path.name!r}» có ký tự không hợp lệ (dấu \\, '..', ký tự điều khiển). "
            "Hãy đổi tên tệp chỉ gồm chữ, số, dấu gạch rồi gửi lại.",
            f"suspicious file name {path.name!r}",
        )


def check_size(path: Path, size: int, limits: Limits) -> None:
    if size == 0:
        raise refuse("Tệp rỗng (0 byte). " + RESEND, f"empty file {path.name}")
    if size > limits.max_file_bytes:
        raise refuse(
            f"Tệp quá lớn ({size // (1024 * 1024)} MB, tối đa {limits.max_file_bytes // (1024 * 1024)} MB). "
            "Một báo cáo năm không thể lớn như vậy: hãy kiểm tra lại tệp.",
            f"{path.name}: {size} bytes over the cap of {limits.max_file_bytes}",
        )


def check_archive(path: Path, limits: Limits) -> list[zipfile.ZipInfo]:
    """Inspect a zip container (xlsx, ods, zip of CSVs) without extracting it."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise refuse(
            "Tệp bị hỏng, không mở được (có thể tải về chưa xong). " + RESEND, f"bad zip container {path.name}: {error}"
        ) from error
    if len(members) > limits.max_archive_members:
        raise refuse(
            f"Tệp nén có quá nhiều tệp con ({len(members)}). " + RESEND,
            f"{path.name}: {len(members)} members over the cap of {limits.max_archive_members}",
        )
    total = 0
    for member in members:
        name = PurePosixPath(member.filename.replace("\\", "/"))
        if name.is_absolute() or ".." in name.parts or "\\" in member.filename:
            raise refuse(
                f"Tệp nén chứa đường dẫn không an toàn («{member.filename}»). " + RESEND,
                f"{path.name}: path traversal in member {member.filename!r}",
            )
        if member.flag_bits & 0x1:
            raise refuse(
                "Tệp nén có đặt mật khẩu. Hãy nén lại không đặt mật khẩu rồi gửi lại.",
                f"{path.name}: encrypted member {member.filename!r}",
            )
        total += member.file_size
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > 1024 * 1024 and ratio > limits.max_compression_ratio:
            raise refuse(
                "Tệp nén có dấu hiệu bất thường (tỷ lệ nén quá cao, nghi «bom nén»). Tệp đã được cách ly. " + RESEND,
                f"{path.name}: member {member.filename!r} ratio {ratio:.0f} over {limits.max_compression_ratio}",
            )
    if total > limits.max_uncompressed_bytes:
        raise refuse(
            "Tệp nén khi giải nén quá lớn (nghi «bom nén»). Tệp đã được cách ly. " + RESEND,
            f"{path.name}: {total} uncompressed bytes over the cap of {limits.max_uncompressed_bytes}",
        )
    return members


def is_system_member(name: str) -> bool:
    """A zip entry added by the operating system (``__MACOSX/``, ``._x.csv``, ``.DS_Store``, ``Thumbs.db``)."""
    return SYSTEM_MEMBER.search(name.replace("\\", "/")) is not None


def zip_kind(path: Path, members: list[zipfile.ZipInfo]) -> FileKind:
    names = {m.filename for m in members}
    if "word/document.xml" in names:
        raise refuse(WORD_DOCUMENT.format(kind=".docx"), f"{path.name}: Word document (word/document.xml)")
    if "[Content_Types].xml" in names:
        return "ooxml"
    if "mimetype" in names:
        with zipfile.ZipFile(path) as archive:
            mimetype = archive.read("mimetype")
            manifest = archive.read("META-INF/manifest.xml") if "META-INF/manifest.xml" in names else b""
        if b"encryption-data" in manifest:
            raise refuse(ENCRYPTED_ODF, f"{path.name}: encrypted OpenDocument (manifest:encryption-data)")
        if mimetype.startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
            return "ods"
        if mimetype.startswith(b"application/vnd.oasis.opendocument.text"):
            raise refuse(
                "Tệp là văn bản OpenDocument (Writer, .odt), không phải bảng tính. " + RESEND,
                f"{path.name}: OpenDocument text",
            )
        raise refuse(
            "Tệp là văn bản OpenDocument nhưng không phải bảng tính. " + RESEND, f"{path.name}: non-spreadsheet ODF"
        )
    if any(name.lower().endswith(".csv") and not is_system_member(name) for name in names):
        return "csv_zip"
    raise refuse(
        "Tệp .zip không chứa tệp CSV nào của mẫu báo cáo. " + RESEND, f"{path.name}: zip without csv members {names}"
    )


def foreign_kind(head: bytes) -> str | None:
    for magic, label in FOREIGN_MAGICS:
        if head.lstrip().startswith(magic):
            return label
    return None


def sniff(path: Path, limits: Limits) -> FileKind:
    """What the submission really is, refusing hostile or broken files first."""
    check_name(path)
    if path.is_symlink():
        raise refuse(
            "Tệp là một liên kết (shortcut) chứ không phải tệp báo cáo thật; liên kết không được mở. "
            "Hãy gửi chính tệp báo cáo.",
            f"{path.name} is a symbolic link; not followed",
        )
    if path.is_dir():
        return "csv_folder"
    suffix = path.suffix.lower()
    if suffix in WORD_SUFFIXES:
        raise refuse(WORD_DOCUMENT.format(kind=suffix), f"{path.name}: a word-processor document by its name")
    if suffix in WEB_SUFFIXES:
        raise refuse(WEB_PAGE.format(suffix=path.suffix), f"{path.name}: a web page by its name")
    if suffix not in ACCEPTED_SUFFIXES:
        raise refuse(
            f"Định dạng tệp «{path.suffix or '(không có đuôi)'}» không được nhận. " + RESEND,
            f"unsupported suffix {path.suffix!r} for {path.name}",
        )
    check_size(path, path.stat().st_size, limits)
    with path.open("rb") as handle:
        head = handle.read(4096)
    if head.startswith((ZIP_MAGIC, EMPTY_ZIP_MAGIC)):
        return zip_kind(path, check_archive(path, limits))
    if head.startswith(OLE_MAGIC):
        content = path.read_bytes()
        if ENCRYPTED_OOXML_MARK in content:
            raise refuse(
                "Tệp Excel có đặt mật khẩu nên không đọc được. Hãy gỡ mật khẩu (Tệp → Thông tin → Bảo vệ sổ làm việc) "
                "rồi gửi lại.",
                f"{path.name}: encrypted OOXML (EncryptionInfo stream)",
            )
        if "WordDocument".encode("utf-16-le") in content:
            raise refuse(WORD_DOCUMENT.format(kind=".doc"), f"{path.name}: Word document (WordDocument stream)")
        return "xls"
    if HTML_START.match(head) or MHT_START.match(head):
        raise refuse(WEB_PAGE.format(suffix=path.suffix), f"{path.name}: content is a web page (HTML/MHTML)")
    label = foreign_kind(head)
    if label is not None:
        raise refuse(
            f"Tệp thực chất là {label}, chỉ được đặt tên đuôi «{path.suffix}». " + RESEND,
            f"{path.name}: content is {label}",
        )
    if suffix == ".csv":
        return "csv"
    raise refuse(
        "Nội dung tệp không phải bảng tính (có thể là tệp văn bản bị đổi tên). " + RESEND,
        f"{path.name}: unknown content starting {head[:16]!r}",
    )
