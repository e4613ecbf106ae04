"""`documents`: every PDF of a landed PDFA shard, read, measured, judged and stored by content."""

import tarfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import dagster as dg
import polars as pl
from upath import UPath

from assets.docmatix.pdfa import webdataset_samples
from assets.docmatix.reading import DocumentRules, Reading, read_document
from assets.kit.asset_kit import kit_asset, rule_config, rules_from, versioned
from assets.kit.checks import provenance_result, provenance_spec, screen_check_results
from assets.kit.identity import record_id, source_key
from assets.kit.metadata import preview, screen_counts
from assets.kit.partitions import document_shards
from assets.kit.provenance import declare
from assets.kit.screening import screen
from assets.kit.shard_coverage import OK, WITHDRAWN, shard_metadata, shard_readable, shard_readable_spec
from resources.containment import OutsideLandingZone
from resources.landing import LandingZone
from resources.limits import TooLarge, read_capped
from resources.storage import MediaStore

DOCUMENT_SCHEMA = {
    "record_id": pl.String, "source_key": pl.String, "doc_key": pl.String, "shard": pl.String,
    "source_uri": pl.String, "sidecar_uri": pl.String, "duplicate_key": pl.Boolean, "sha256": pl.String,
    "bytes": pl.Int64, "pdf_uri": pl.String, "pages": pl.Int32, "open_status": pl.String,
    "open_detail": pl.String, "text_source": pl.String, "sidecar_issue": pl.String, "lines": pl.Int32,
    "words": pl.Int32, "text_chars": pl.Int32, "text_status": pl.String, "ocr_pages": pl.Int32,
    "ocr_seconds": pl.Float64, "page_text": pl.String, "layout": pl.String,
}
VOLATILE = ("ocr_seconds",)  # what OCR cost, not what it read: left out of the data version
SOURCE_NAMESPACE = "pdf"


@dataclass
class Source:
    key: str
    uri: str
    pdf: bytes
    sidecar: bytes | None
    sidecar_uri: str | None
    refused: tuple[str, str] | None = None  # (reason, detail): never read, e.g. a link out of the landing zone


def shard_sources(landing: LandingZone, folder_uri: str, stray: list[str],
                  rules: DocumentRules | None = None) -> Iterator[Source]:
    """The PDFs of a shard folder, loose (`<key>.pdf` + `<key>.json`) or in webdataset tars, one at a
    time (a tar is streamed); files that are not a PDF's are appended to `stray`. A file over the
    rules' size caps is never read: a PDF becomes a `too_large` row, a sidecar is dropped (its PDF
    is read from its text layer)."""
    rules = rules or DocumentRules()
    folder = UPath(folder_uri, **landing.storage_options)
    names = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))

    def read(name: str, cap: int) -> bytes:
        path = landing.fetch(str(folder / name), cap)  # a local file by its size, a download as it comes
        with path.open("rb") as f:
            return read_capped(f, cap, name)

    for name in names:
        stem, _, ext = name.rpartition(".")
        ext = ext.lower()
        if ext == "pdf":
            side = f"{stem}.json" if f"{stem}.json" in names else None
            side_uri = str(folder / side) if side else None
            try:
                pdf = read(name, rules.max_pdf_bytes)
                sidecar = None
                if side:
                    try:
                        sidecar = read(side, rules.max_sidecar_bytes)
                    except TooLarge:
                        side_uri = None
                        stray.append(f"{side} (over max_sidecar_bytes)")
                yield Source(stem, str(folder / name), pdf, sidecar, side_uri)
            except (OutsideLandingZone, TooLarge) as e:
                yield Source(stem, str(folder / name), b"", None, side_uri, refused=(e.reason, str(e)))
        elif ext == "tar":
            yield from _tar_sources(landing, str(folder / name), stray, rules.max_pdf_bytes)
        elif not (ext == "json" and f"{stem}.pdf" in names):
            stray.append(name)


def _tar_sources(landing: LandingZone, uri: str, stray: list[str], max_member_bytes: int) -> Iterator[Source]:
    """A tar's samples; a tar that leaves the zone or cannot be read (to its end) is a row of its
    own with the reason, after whatever samples it gave: the shard goes on."""
    refused: list[tuple[str, str, str]] = []
    name = uri.rsplit("/", 1)[-1]
    try:
        with landing.fetch(uri).open("rb") as f:
            for key, sample in webdataset_samples(f, refused, max_member_bytes):
                if "pdf" not in sample:
                    stray += [f"{uri}#{key}.{ext}" for ext in sample]
                    continue
                side = sample.get("json")
                yield Source(key.rsplit("/", 1)[-1], f"{uri}#{key}.pdf", sample["pdf"], side,
                             f"{uri}#{key}.json" if side is not None else None)
    except OutsideLandingZone as e:
        refused.append((name, e.reason, str(e)))
    except (tarfile.TarError, EOFError, OSError, zlib.error) as e:
        refused.append((name, "unreadable", f"tar {name}: {type(e).__name__}: {e}"))
    for name, reason, detail in refused:  # a link, a member leaving the tar, one too large: a row, never read
        yield Source(name.rsplit("/", 1)[-1].rsplit(".", 1)[0], f"{uri}#{name}", b"", None, None,
                     refused=(reason, detail))


def document_record_id(shard: str, key: str, occurrence: int = 1) -> str:
    """`pdf:<shard>:<key>`: a landed PDF is identified by where it landed, so the same PDF landed in
    two shards is two records (sharing a `source_key`). A key seen again in the same shard (a loose
    file and a tar member, say) is rejected as `duplicate_key` and its id says which copy it is."""
    return record_id("pdf", shard, key) if occurrence == 1 else record_id("pdf", shard, key, occurrence)


def document_rows(sources: Iterable[Source], shard: str, media: MediaStore,
                  rules: DocumentRules | None = None) -> pl.DataFrame:
    """One row per PDF: its measurements, then the screen's verdict on them.

    `source_key` is `pdf:<sha256 of the file>`: the content, not the PDFA key, is what makes two
    landings the same document (a key is only unique inside one PDFA numbering; identical bytes give
    identical pages and questions, whatever they are called)."""
    rules = rules or DocumentRules()
    rows, seen = [], {}
    for src in sources:
        n = seen[src.key] = seen.get(src.key, 0) + 1
        reading = (Reading(open_error=src.refused[0], open_detail=src.refused[1]) if src.refused
                   else read_document(src.pdf, src.sidecar, rules, rules.max_pages, rules.max_inflated_bytes))
        ref = media.put_bytes(src.pdf, ".pdf")
        rows.append({
            "record_id": document_record_id(shard, src.key, n), "source_key": source_key(SOURCE_NAMESPACE, ref.sha256),
            "doc_key": src.key, "shard": shard, "source_uri": src.uri, "sidecar_uri": src.sidecar_uri,
            "duplicate_key": n > 1, "sha256": ref.sha256, "bytes": ref.size, "pdf_uri": ref.uri,
            "pages": reading.pages, "open_status": reading.open_status, "open_detail": reading.open_detail,
            "text_source": reading.text_source, "sidecar_issue": reading.sidecar_issue,
            "lines": reading.lines, "words": reading.words, "text_chars": reading.text_chars,
            "text_status": reading.text_status, "ocr_pages": reading.ocr_pages,
            "ocr_seconds": None if reading.open_error else round(reading.ocr_seconds, 3),
            "page_text": reading.page_text_json(), "layout": reading.layout_json(),
        })
    df = declare(pl.DataFrame(rows, schema=DOCUMENT_SCHEMA))  # a landed source row: no parents, no model
    return screen(df, rules.rules())


DocumentsConfig = rule_config(DocumentRules, "DocumentsConfig")


@kit_asset(
    group="docmatix",
    partitions_def=document_shards,
    kinds=("pdf", "polars", "parquet"),
    rules=DocumentRules(),
    screen=True,
    check_specs=(provenance_spec, shard_readable_spec),
    description=(
        "Every PDF of one PDFA shard (loose files or webdataset tars), one row each: its lines and "
        "words with [x, y, w, h] boxes in 0-1 (PDFA's layout, from the PDFA JSON when there is one, "
        "else the PDF's text layer via pypdfium2), the PDF stored by content, what was measured "
        "(open status, pages, characters of text) and the verdict on it. Every page's text passes a "
        "gate against its rendered image (unprintable or symbol characters, (cid:N) codes, text not "
        "drawn, ink without text): such pages are OCR'd with Tesseract and keep the OCR text, their own "
        "text when the OCR agrees, or nothing (`page_text` says which, per page, and why). Docmatix "
        "skips long PDFs before generation; encrypted, unreadable, garbled and text-less PDFs cannot "
        "give grounded questions. "
        "`record_id` is shard-qualified (`pdf:<shard>:<key>`); `source_key` (`pdf:<sha256>`) is "
        "shared by every landing of the same file."
    ),
)
def documents(context: dg.AssetExecutionContext, config: DocumentsConfig, landing: LandingZone,
              media: MediaStore):
    rules = rules_from(config, DocumentRules)
    shard = landing.document_shard(context.partition_key)
    stray: list[str] = []
    status, error = OK, None
    if shard is None:  # withdrawn: an empty table, so its documents leave every release
        status, error = WITHDRAWN, f"pdfa shard {context.partition_key!r} is no longer in {landing.root}"
        context.log.warning(error)
    sources = shard_sources(landing, shard.uri, stray, rules) if shard else iter(())
    df = document_rows(sources, context.partition_key, media, rules)
    sources_by = df.group_by("text_source").len().sort("text_source", nulls_last=True)
    yield versioned(
        df,
        {
            **screen_counts(df),
            **shard_metadata(status, error),
            "pages_kept": int(df.filter("kept")["pages"].sum() or 0),
            "text_source": dg.MetadataValue.json({str(k): int(n) for k, n in sources_by.iter_rows()}),
            "ocr_pages": int(df["ocr_pages"].sum() or 0),
            "ocr_seconds": round(float(df["ocr_seconds"].sum() or 0), 2),
            "sidecar_issues": int(df["sidecar_issue"].is_not_null().sum()),
            "files_not_documents": dg.MetadataValue.json(stray),
            "preview": preview(df, ["record_id", "pages", "text_source", "lines", "words", "kept",
                                    "reason", "detail"]),
        },
        rules=rules,
        volatile=VOLATILE,
    )
    yield from screen_check_results(df, n_inputs=df.height)
    yield provenance_result(df)
    yield shard_readable(status, error)
