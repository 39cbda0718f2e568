"""Reading report files: guards against hostile files, the workbook/CSV reader, legacy Vietnamese encodings."""
