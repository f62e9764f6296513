"""CSV import of returns: read a spreadsheet, preview it row by row, then import it all or nothing.

A file goes through three parts, each in its own module:

1. ``reading``: the uploaded bytes become text (UTF-8 with or without a BOM;
   UTF-16 from Excel's "Unicode text"; Windows-1252 as a last resort, with a
   warning) and rows keyed by column (``columns`` names them);
2. ``planning``: every row is checked and the problems said in plain words
   where a person would look — the row number as a spreadsheet shows it (the
   header is row 1), the column, the problem. Rows sharing a reference become
   one pickup. Nothing is written;
3. ``committing``: the upload is kept server-side between preview and commit,
   claimed exactly once, planned again and created through the pickups domain
   in one go (``pickups.services.create_pickups``), or not at all;
4. ``jobs``: a big file, checked in full in its request, is created by the
   worker in chunks, each all or nothing, with progress the console shows.
"""
from app.dispatch.imports.columns import ALL_COLUMNS, OPTIONAL_COLUMNS, REQUIRED_COLUMNS, template_csv
from app.dispatch.imports.committing import (
    AlreadyImported,
    ImportResult,
    commit_import,
    create_imported_pickups,
    get_import,
    import_csv,
    preview_import,
    store_import,
)
from app.dispatch.imports.jobs import claim_import_job, job_status, run_import_chunk, run_import_jobs
from app.dispatch.imports.planning import MAX_ERRORS, ImportPreview, PlannedPickup, parse_import, parse_local_time
from app.dispatch.imports.reading import (
    CP1252_WARNING,
    MAX_ROWS,
    CsvTable,
    DecodedUpload,
    ImportRefused,
    RowError,
    canonical_column,
    check_header,
    read_table,
    read_upload,
)

__all__ = [
    "ALL_COLUMNS", "CP1252_WARNING", "MAX_ERRORS", "MAX_ROWS", "OPTIONAL_COLUMNS", "REQUIRED_COLUMNS",
    "AlreadyImported", "CsvTable", "DecodedUpload", "ImportPreview", "ImportRefused", "ImportResult", "PlannedPickup", "RowError",
    "canonical_column", "check_header", "claim_import_job", "commit_import", "job_status", "run_import_chunk", "run_import_jobs", "create_imported_pickups", "get_import", "import_csv", "parse_import",
    "parse_local_time", "preview_import", "read_table", "read_upload", "store_import", "template_csv",
]  # fmt: skip
