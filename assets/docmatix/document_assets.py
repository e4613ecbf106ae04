"""`documents`: every PDF of a landed PDFA shard, read, judged and stored by content."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import dagster as dg
import polars as pl
from upath import UPath

from assets.docmatix.asset_options import PER_SHARD
from assets.docmatix.pdfa import webdataset_samples
from assets.docmatix.reading import document_rules, read_document
from assets.kit.checks import screen_check_results, screen_check_specs
from assets.kit.metadata import preview, screen_counts
from assets.kit.screening import screen
from resources.landing import LandingZone
from resources.storage import MediaStore

DOCUMENT_SCHEMA = {
    "record_id": pl.String, "shard": pl.String, "source_uri": pl.String, "sidecar_uri": pl.String,
    "duplicate_key": pl.Boolean, "sha256": pl.String, "bytes": pl.Int64, "pdf_uri": pl.String,
    "pages": pl.Int32, "open_error": pl.String, "open_detail": pl.String, "text_source": pl.String,
    "sidecar_issue": pl.String, "lines": pl.Int32, "words": pl.Int32, "text_chars": pl.Int32,
    "layout": pl.String,
}


@dataclass
class Source:
    key: str
    uri: str
    pdf: bytes
    sidecar: bytes | None
    sidecar_uri: str | None


def shard_sources(landing: LandingZone, folder_uri: str, stray: list[str]) -> Iterator[Source]:
    """The PDFs of a shard folder, loose (`<key>.pdf` + `<key>.json`) or in webdataset tars, one at a
    time (a tar is streamed); files that are not a PDF's are appended to `stray`."""
    folder = UPath(folder_uri, **landing.storage_options)
    names = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))

    def read(name: str) -> bytes:
        return landing.fetch(str(folder / name)).read_bytes()

    for name in names:
        stem, _, ext = name.rpartition(".")
        ext = ext.lower()
        if ext == "pdf":
            side = f"{stem}.json" if f"{stem}.json" in names else None
            yield Source(stem, str(folder / name), read(name), read(side) if side else None,
                         str(folder / side) if side else None)
        elif ext == "tar":
            yield from _tar_sources(landing, str(folder / name), stray)
        elif not (ext == "json" and f"{stem}.pdf" in names):
            stray.append(name)


def _tar_sources(landing: LandingZone, uri: str, stray: list[str]) -> Iterator[Source]:
    with landing.fetch(uri).open("rb") as f:
        for key, sample in webdataset_samples(f):
            if "pdf" not in sample:
                stray += [f"{uri}#{key}.{ext}" for ext in sample]
                continue
            side = sample.get("json")
            yield Source(key.rsplit("/", 1)[-1], f"{uri}#{key}.pdf", sample["pdf"], side,
                         f"{uri}#{key}.json" if side is not None else None)


def document_rows(sources: Iterable[Source], shard: str, media: MediaStore) -> pl.DataFrame:
    rows, seen = [], {}
    for src in sources:
        n = seen[src.key] = seen.get(src.key, 0) + 1
        reading = read_document(src.pdf, src.sidecar)
        ref = media.put_bytes(src.pdf, ".pdf")
        rows.append({
            "record_id": src.key if n == 1 else f"{src.key}#{n}", "shard": shard,
            "source_uri": src.uri, "sidecar_uri": src.sidecar_uri, "duplicate_key": n > 1,
            "sha256": ref.sha256, "bytes": ref.size, "pdf_uri": ref.uri,
            "pages": reading.pages, "open_error": reading.open_error, "open_detail": reading.open_detail,
            "text_source": reading.text_source, "sidecar_issue": reading.sidecar_issue,
            "lines": reading.lines, "words": reading.words, "text_chars": reading.text_chars,
            "layout": reading.layout_json(),
        })
    return screen(pl.DataFrame(rows, schema=DOCUMENT_SCHEMA), document_rules())


@dg.asset(
    **PER_SHARD,
    code_version="1",
    kinds={"pdf", "polars", "parquet"},
    check_specs=screen_check_specs("documents"),
    description=(
        "Every PDF of one PDFA shard (loose files or webdataset tars), one row each: its lines and "
        "words with [x, y, w, h] boxes in 0-1 (PDFA's layout, from the PDFA JSON when there is one, "
        "else the PDF's text layer via pypdfium2), the PDF stored by content, and the verdict: "
        "encrypted, unreadable, more than 4 pages (Docmatix skips them) or no text are rejected "
        "with a reason."
    ),
)
def documents(context: dg.AssetExecutionContext, landing: LandingZone, media: MediaStore):
    shard = landing.document_shard(context.partition_key)
    stray: list[str] = []
    df = document_rows(shard_sources(landing, shard.uri, stray), context.partition_key, media)
    sources_by = df.group_by("text_source").len().sort("text_source", nulls_last=True)
    yield dg.Output(
        df,
        metadata={
            **screen_counts(df),
            "pages_kept": int(df.filter("kept")["pages"].sum() or 0),
            "text_source": dg.MetadataValue.json({str(k): int(n) for k, n in sources_by.iter_rows()}),
            "sidecar_issues": int(df["sidecar_issue"].is_not_null().sum()),
            "files_not_documents": dg.MetadataValue.json(stray),
            "preview": preview(df, ["record_id", "pages", "text_source", "lines", "words", "kept",
                                    "reason", "detail"]),
        },
    )
    yield from screen_check_results(df, n_inputs=df.height)
