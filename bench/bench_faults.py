"""The fault matrix: what a failure costs, case by case.

Cases, each on its own storage root and Dagster instance:
- `model faults`: the docmatix Q/A step against bench/fault_server.py failing at configured rates
  (429, 500, timeouts, malformed JSON, truncated output), run then rerun.
- `SIGKILL mid-step`: the same step in a separate process, killed with SIGKILL while model calls are
  in flight, then run again in a fresh process.
- `corrupt inputs`: truncated, zero-byte, garbage and wrongly-named videos, a 10 MB transcript,
  non-UTF-8 titles and subtitles, Parquet shards with missing and mistyped columns, garbage,
  encrypted, empty and wrongly-named PDFs, a non-UTF-8 PDFA sidecar; offline backend.
- `two partitions at once`: two processes materializing different shards against one instance,
  storage root, warehouse and response cache, with the model server.
- `hostile landing`: a Flate-bomb PDF and a gzip tar bomb (with the bombs shard's peak memory
  against a ceiling), a PDF linked from outside the landing zone, a shard killed mid-chain and never
  re-run, and a shard withdrawn after the release; `docmatix_dataset` is released before and after.

Printed per case: faults injected, runs completed (the run killed on purpose is not; a shard that is
not Parquet at all completes with an empty table and the reason), records lost (input records missing from an
asset's output), duplicated (repeated record ids), model calls repeated (requests for a prompt the
server had already answered before the rerun / kill), rejections without a reason, leaked (bytes
from outside the landing zone in an output, or withdrawn records still released) and jammed (a
release that could not run, or a good shard missing from it). Lost, duplicated, no reason, leaked
and jammed must read 0 for the product to be right; any other figure is a bug to fix, not to report.
Uses the tiny sample corpus (bench/out/corpus-tiny) for videos and generated documents.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from tests.fakes.fault_server import FakeChatServer

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).resolve().parent / "out" / "corpus-tiny"
DOCS_PER_SHARD = 16
QA_STEP = ["documents", "raw_qa", "filtered_qa"]
SCREENS = ["raw_video_metadata", "language_screen", "video_files", "word_density_screen", "dynamism_screen"]
RATES = {"429": 0.1, "500": 0.1, "timeout": 0.04, "malformed": 0.08, "truncated": 0.05}
QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}

WORKER = f"""
import sys
import dagster as dg
from definitions import build_definitions
defs = build_definitions()
job = defs.resolve_implicit_global_asset_job_def()
res = job.execute_in_process(instance=dg.DagsterInstance.get(), partition_key=sys.argv[1] or None,
                             asset_selection=[dg.AssetKey(a) for a in sys.argv[2].split(",")],
                             raise_on_error=False, run_config={QUIET!r})
for e in res.all_events:
    if e.is_step_failure and e.step_failure_data.error:
        print(e.step_key + ": " + e.step_failure_data.error.message.strip().splitlines()[0], file=sys.stderr)
from tests.fakes.bombs import peak_rss_mb
print(f"peak_mb={{peak_rss_mb():.0f}}", file=sys.stderr)
sys.exit(0 if res.success else 1)
"""


@dataclass
class Outcome:
    case: str
    faults: int = 0
    runs: int = 0
    completed: int = 0
    lost: int = 0
    duplicated: int = 0
    repeated: int = 0
    no_reason: int = 0
    leaked: int = 0
    jammed: int = 0
    notes: list[str] = field(default_factory=list)


# -- inputs -----------------------------------------------------------------------------------------

def answer_from_page(messages: list[dict]) -> str:
    """A model that reads the document: its first line with a colon becomes one Q/A pair."""
    user = next(m["content"] for m in messages if m.get("role") == "user")
    text = user if isinstance(user, str) else " ".join(p.get("text", "") for p in user)
    for line in text.splitlines():
        label, sep, value = line.partition(":")
        if sep and label.strip() and value.strip():
            return json.dumps({"text": f"Q1: What is the {label.strip()}?\nA1: {value.strip()}"})
    first = next((ln for ln in text.splitlines() if ln.strip()), "the document")
    return json.dumps({"text": f"Q1: What does the document begin with?\nA1: {first.strip()}"})


def write_documents(folder: Path, n: int, seed: int) -> None:
    from corpus import documents

    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    makers = (documents.invoice, documents.form, documents.report)
    for i in range(n):
        key = f"{seed:02d}{i:05d}"
        makers[i % 3](random.Random(rng.randrange(2**31)), folder / f"{key}.pdf",
                      folder / f"{key}.json" if i % 2 else None)


def write_corrupt_landing(landing: Path) -> tuple[dict[str, int], int]:
    """A landing zone of broken inputs; returns the input records per shard and the faults planted."""
    from corpus import documents

    manifest = json.loads((CORPUS / "corpus_manifest.json").read_text())
    ok = next(it for it in manifest["items"] if it["kind"] == "video" and it["expected"]["selectable"])
    good = (CORPUS / ok["file"]["path"]).read_bytes()
    vtt = (CORPUS / ok["file"]["vtt"]).read_text()
    videos = landing / "videos"
    videos.mkdir(parents=True)
    words = " ".join(["the", "lantern", "walk", "shows", "river", "boats"] * 40)
    files = {
        "ok00000000a": ("mp4", good),
        "trunc000000": ("mp4", good[: len(good) // 3]),
        "zerobyte000": ("mp4", b""),
        "garbage0000": ("mkv", b"\x00\x01garbage" * 500),
        "wrongext000": ("webm", good),  # an MP4 named .webm
        "pngasmp4000": ("mp4", b"\x89PNG\r\n\x1a\n" + b"\x00" * 2000),
        "hugetext000": ("mp4", good),
        "latin1vtt00": ("mp4", good),
    }
    for vid, (ext, data) in files.items():
        (videos / f"{vid}.{ext}").write_bytes(data)
    (videos / "latin1vtt00.en.vtt").write_bytes(vtt.replace("the", "thé").encode("latin-1", "replace"))
    (videos / "ok00000000a.en.vtt").write_text(vtt)
    rows = []
    for vid in files:
        text = words if vid != "hugetext000" else (words + " ") * (10_000_000 // (len(words) + 1))
        rows.append({"video_id": vid, "title": f"Lantern walk {vid}", "text": text, "channel": "Bench",
                     "channel_id": "UCbench", "date": "2024-01-01T00:00:00Z", "license": "CC-BY",
                     "original_language": "en", "transcription_language": "en",
                     "word_count": len(text.split()), "character_count": len(text),
                     "duration_string": "1:30"})
    yc = landing / "youtube_commons"
    yc.mkdir()
    pl.DataFrame(rows).write_parquet(yc / "broken_files.parquet")
    # the same ids' metadata with columns missing (no text, no languages) and mistyped
    pl.DataFrame([{"video_id": r["video_id"], "title": r["title"]} for r in rows[:4]]).write_parquet(
        yc / "missing_columns.parquet")
    pl.DataFrame({
        "video_id": ["typed000001", "typed000002", "typed000003"],
        "title": [b"caf\xe9 latin-1 title", b"\xff\xfe\x00bad", b"plain"],  # not UTF-8
        "text": [words, words, words],
        "word_count": ["many", "240", "2,4O0"], "view_count": ["n/a", "12", "x"],
        "original_language": ["en", "en", "en"], "transcription_language": ["en", "en", "en"],
        "tags": [7, 8, 9], "date": [20240101, 20240102, 20240103],
    }).write_parquet(yc / "mistyped_columns.parquet")
    (yc / "not_parquet.parquet").write_bytes(b"PAR1 this is not a parquet file")

    pdfa = landing / "pdfa" / "broken_docs"
    pdfa.mkdir(parents=True)
    rng = random.Random(7)
    documents.invoice(rng, pdfa / "0000001.pdf", None)
    documents.garbage(rng, pdfa / "0000002.pdf")
    documents.encrypted(rng, pdfa / "0000003.pdf", None, "user-secret")
    (pdfa / "0000004.pdf").write_bytes(b"")
    (pdfa / "0000005.pdf").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 500)  # an image named .pdf
    documents.invoice(rng, pdfa / "0000006.pdf", None)
    (pdfa / "0000006.json").write_bytes(b'{"pages": [{"lines": {"text": ["caf\xe9"]}}]}')  # not UTF-8
    data = (pdfa / "0000001.pdf").read_bytes()
    (pdfa / "0000007.pdf").write_bytes(data[: len(data) // 2])  # truncated
    records = {"broken_files": len(rows), "missing_columns": 4, "mistyped_columns": 3, "not_parquet": 0,
               "broken_docs": 7}
    # 7 broken videos or subtitles (all but ok00000000a), 3 broken shards, 6 broken PDFs (all but 0000001)
    return records, (len(files) - 1) + 3 + 6


# -- running ----------------------------------------------------------------------------------------

def env_for(root: Path, landing: Path, server: FakeChatServer | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MMFOUNDRY_")}
    env.update({"MMFOUNDRY_DEPLOYMENT": "local", "MMFOUNDRY_DATA": str(root / "data"),
                "MMFOUNDRY_LANDING": str(landing), "DAGSTER_HOME": str(root / "dagster_home"),
                "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"})
    if server is not None:
        env.update({"MMFOUNDRY_LLM_BACKEND": "openai", "MMFOUNDRY_LLM_BASE_URL": server.base_url,
                    "MMFOUNDRY_LLM_MODEL": "fault-server", "MMFOUNDRY_LLM_API_KEY": "bench-key",
                    "MMFOUNDRY_LLM_CONCURRENCY": "4"})
    return env


def prepare_instance(env: dict[str, str]) -> None:
    """The instance the worker processes share, with every landed shard registered."""
    home = Path(env["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "deploy" / "dagster.local.yaml", home / "dagster.yaml")
    code = ("import dagster as dg; from definitions import build_definitions; "
            "from scripts.shards import register_landed_shards; "
            "register_landed_shards(build_definitions(), dg.DagsterInstance.get())")
    subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True)


def start_worker(env: dict[str, str], shard: str, assets: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WORKER, shard, ",".join(assets)], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen, out: Outcome) -> float | None:
    """Count the run; returns the worker's peak resident memory in MB (None if it died first)."""
    _, err = proc.communicate()
    out.runs += 1
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    peak = next((float(ln.split("=", 1)[1]) for ln in reversed(lines) if ln.startswith("peak_mb=")), None)
    if proc.returncode == 0:
        out.completed += 1
    else:
        last = [ln for ln in lines if not ln.startswith("peak_mb=")][-1:] or ["(no message)"]
        out.notes.append(f"a run failed (exit {proc.returncode}): {last[0][:160]}")
    return peak


def read(data: Path, asset: str, shard: str) -> pl.DataFrame | None:
    path = data / asset / f"{shard}.parquet"
    return pl.read_parquet(path) if path.exists() else None


def audit_chain(data: Path, shard: str, assets: list[str], first_inputs: set[str] | None, out: Outcome) -> None:
    """Lost: a record an asset was given (the previous asset's kept rows) missing from its output.
    Duplicated: a record id twice in one output. No reason: a rejected row without `reason`."""
    inputs = first_inputs
    for asset in assets:
        df = read(data, asset, shard)
        if df is None:
            out.notes.append(f"{asset}[{shard}] not written")
            out.lost += len(inputs or ())
            return
        ids = set(df["record_id"])
        out.duplicated += df.height - len(ids)
        if asset == "raw_qa":  # one row per pair, or one error row per failed document
            got = set(df["document_id"])
            out.no_reason += df.filter(pl.col("question").is_null() & pl.col("error").is_null()).height
        else:
            got = ids
        if inputs is not None:
            out.lost += len(inputs - got)
        if "kept" in df.columns:
            out.no_reason += df.filter(~pl.col("kept") & pl.col("reason").is_null()).height
            inputs = set(df.filter("kept")["record_id"])
        else:
            inputs = ids


def doc_inputs(landing: Path, shard: str) -> set[str]:
    """The record ids the shard's loose PDFs must have in `documents` (shard-qualified, as minted)."""
    from assets.docmatix.document_assets import document_record_id

    return {document_record_id(shard, p.stem) for p in (landing / "pdfa" / shard).glob("*.pdf")}


# -- cases ------------------------------------------------------------------------------------------

def case_model_faults(tmp: Path) -> Outcome:
    import logging

    import dagster as dg

    from assets.docmatix.document_assets import documents
    from assets.docmatix.filter_assets import filtered_qa
    from assets.docmatix.qa_assets import raw_qa
    from resources.deployment import build_resources
    from resources.llm import LLMResource
    from resources.settings import load_settings

    out = Outcome("model faults")
    logging.getLogger("instructor").setLevel(logging.CRITICAL)  # each retry is counted below instead
    landing = tmp / "landing"
    write_documents(landing / "pdfa" / "faulty", DOCS_PER_SHARD * 2, seed=1)
    env = env_for(tmp, landing, None)
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        with FakeChatServer(answer_from_page, rates=RATES, seed=3, hang_s=1.0) as server, \
                dg.instance_for_test() as instance:
            settings = load_settings()
            resources = build_resources(settings)
            resources["llm"] = LLMResource(
                backend="openai", base_url=server.base_url, model="fault-server", api_key="bench-key",
                cache_path=str(Path(settings.cache_dir) / "llm.sqlite"), timeout_s=0.5,
                backoff_initial_s=0.05, backoff_max_s=0.4, max_concurrency=4)
            instance.add_dynamic_partitions("document_shards", ["faulty"])
            failed = []
            snapshot = None
            for attempt in range(2):
                if attempt:
                    snapshot = server.snapshot()
                res = dg.materialize([documents, raw_qa, filtered_qa], partition_key="faulty",
                                     instance=instance, resources=resources, raise_on_error=False,
                                     run_config=QUIET)
                out.runs += 1
                out.completed += int(res.success)
                raw = read(Path(settings.data), "raw_qa", "faulty")
                failed.append(raw.filter(pl.col("question").is_null()).height if raw is not None else -1)
            out.repeated = server.repeated_after(snapshot)
            out.faults = server.faults
            kinds = {a: server.actions.count(a) for a in ("429", "500", "timeout", "malformed", "truncated")}
            out.notes.append(f"{server.calls} requests, faults {kinds}; documents failed after run 1: "
                             f"{failed[0]}, after the rerun: {failed[1]}")
            audit_chain(Path(settings.data), "faulty", QA_STEP, doc_inputs(landing, "faulty"), out)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return out


def case_sigkill(tmp: Path) -> Outcome:
    out = Outcome("SIGKILL mid-step")
    landing = tmp / "landing"
    write_documents(landing / "pdfa" / "killed", DOCS_PER_SHARD * 2, seed=2)
    with FakeChatServer(answer_from_page, delay_s=0.4) as server:
        env = env_for(tmp, landing, server)
        prepare_instance(env)
        proc = start_worker(env, "killed", QA_STEP)
        deadline = time.time() + 120
        while server.calls < DOCS_PER_SHARD and proc.poll() is None and time.time() < deadline:
            time.sleep(0.02)
        snapshot = server.snapshot()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        out.runs += 1
        out.faults = 1
        in_flight = snapshot[0] - len(snapshot[1])
        finish(start_worker(env, "killed", QA_STEP), out)
        out.repeated = server.repeated_after(snapshot)
        out.notes.append(f"killed after {snapshot[0]} requests ({len(snapshot[1])} answered, "
                         f"{in_flight} in flight, asked again); {server.calls} requests in all")
    audit_chain(tmp / "data", "killed", QA_STEP, doc_inputs(landing, "killed"), out)
    return out


def case_corrupt_inputs(tmp: Path) -> Outcome:
    out = Outcome("corrupt inputs")
    landing = tmp / "landing"
    inputs, out.faults = write_corrupt_landing(landing)
    env = env_for(tmp, landing, None)
    prepare_instance(env)
    from resources.landing import safe_key

    for shard in ("broken_files", "missing_columns", "mistyped_columns", "not_parquet"):
        proc = start_worker(env, safe_key(shard), SCREENS)
        finish(proc, out)
        raw = read(tmp / "data", "raw_video_metadata", shard)
        if raw is None or raw.height != inputs[shard]:
            out.lost += inputs[shard] - (raw.height if raw is not None else 0)
        audit_chain(tmp / "data", shard, SCREENS, None, out)
    finish(start_worker(env, "broken_docs", ["documents"]), out)
    audit_chain(tmp / "data", "broken_docs", ["documents"], doc_inputs(landing, "broken_docs"), out)
    reasons: dict[str, int] = {}
    for asset, shard in [("video_files", "broken_files"), ("documents", "broken_docs"),
                         ("language_screen", "missing_columns"), ("language_screen", "mistyped_columns")]:
        df = read(tmp / "data", asset, shard)
        if df is not None:
            for r in df.filter(~pl.col("kept"))["reason"].to_list():
                reasons[f"{asset}:{r}"] = reasons.get(f"{asset}:{r}", 0) + 1
    out.notes.append("rejections: " + ", ".join(f"{k} {v}" for k, v in sorted(reasons.items())))
    return out


def case_concurrent(tmp: Path) -> Outcome:
    out = Outcome("two partitions at once")
    landing = tmp / "landing"
    write_documents(landing / "pdfa" / "left", DOCS_PER_SHARD, seed=3)
    write_documents(landing / "pdfa" / "right", DOCS_PER_SHARD, seed=4)
    with FakeChatServer(answer_from_page, delay_s=0.1) as server:
        env = env_for(tmp, landing, server)
        prepare_instance(env)
        procs = [start_worker(env, shard, QA_STEP) for shard in ("left", "right")]
        for proc in procs:
            finish(proc, out)
        snapshot = server.snapshot()
        for shard in ("left", "right"):  # a rerun of both must ask nothing again
            finish(start_worker(env, shard, QA_STEP), out)
        out.repeated = server.repeated_after(snapshot) + len(server.keys) - len(set(server.keys))
        out.notes.append(f"{server.calls} requests for {len(set(server.keys))} prompts")
    for shard in ("left", "right"):
        audit_chain(tmp / "data", shard, QA_STEP, doc_inputs(landing, shard), out)
    return out


PLANTED = "PLANTED-OUTSIDE-7c2e"
DOC_CHAIN = ["documents", "page_images", "raw_qa", "filtered_qa"]
BOMB_CEILING_MB = 700


def _planted_pdf(path: Path) -> None:
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path))
    c.drawString(72, 720, f"Invoice number: {PLANTED}")
    c.save()


def _release_shards(data: Path) -> pl.DataFrame:
    release = read_table(data, "docmatix_dataset")
    return release if release is not None else pl.DataFrame(schema={"shard": pl.String, "document_id": pl.String})


def read_table(data: Path, asset: str) -> pl.DataFrame | None:
    path = data / f"{asset}.parquet"
    return pl.read_parquet(path) if path.exists() else None


def case_hostile_landing(tmp: Path) -> Outcome:
    """Two bombs (a 1 GB Flate stream in a 1 MB PDF, a 1 GB member in a gzip tar), a PDF linked from
    outside the zone, a shard whose run is SIGKILLed before its pages are rendered (never re-run),
    and a shard withdrawn after release. Leaked: outside bytes in any output, or a withdrawn record
    still released. Jammed: a release run that failed, or a good shard missing from the release."""
    from tests.fakes.bombs import flate_bomb, tar_bomb

    out = Outcome("hostile landing")
    landing, data = tmp / "landing", tmp / "data"
    pdfa = landing / "pdfa"
    for shard, seed in (("bombs", 11), ("good_b", 12), ("killed", 13), ("linked", 14)):
        write_documents(pdfa / shard, 4, seed)
    flate_bomb(pdfa / "bombs" / "9000001.pdf")
    tar_bomb(pdfa / "bombs" / "part-0.tar", (pdfa / "good_b" / "1200000.pdf").read_bytes())
    (tmp / "outside").mkdir()
    _planted_pdf(tmp / "outside" / "planted.pdf")
    (pdfa / "linked" / "9000002.pdf").symlink_to(tmp / "outside" / "planted.pdf")
    out.faults = 5
    env = env_for(tmp, landing, None)
    prepare_instance(env)
    peaks = {}
    for shard in ("bombs", "good_b", "linked"):
        peaks[shard] = finish(start_worker(env, shard, DOC_CHAIN), out)
        audit_chain(data, shard, QA_STEP, doc_inputs(landing, shard), out)  # page_images: pages, not documents
    killed = start_worker(env, "killed", DOC_CHAIN)
    while killed.poll() is None and not (data / "documents" / "killed.parquet").exists():
        time.sleep(0.05)
    killed.send_signal(signal.SIGKILL)  # documents written, nothing after it
    finish(killed, out)

    def release() -> pl.DataFrame:
        if finish(start_worker(env, "", ["docmatix_dataset"]), out) is None:
            out.jammed += 1
        return _release_shards(data)

    first = release()
    out.jammed += len({"bombs", "good_b", "linked"} - set(first["shard"]))
    shutil.rmtree(pdfa / "good_b")  # withdrawn: the landing sensor re-runs its root, then the release
    finish(start_worker(env, "good_b", DOC_CHAIN), out)
    second = release()
    out.leaked += second.filter(pl.col("shard") == "good_b").height
    out.jammed += len({"bombs", "linked"} - set(second["shard"]))
    planted = PLANTED.encode()
    out.leaked += sum(planted in p.read_bytes() for p in data.rglob("*") if p.is_file() and p.suffix != ".duckdb")
    docs = pl.concat([read(data, "documents", s) for s in ("bombs", "linked")], how="diagonal_relaxed")
    reasons = {k: r for k, r in docs.filter(~pl.col("kept")).select("doc_key", "reason").iter_rows()}
    out.notes.append(f"rejected: {reasons}; peak memory of the bombs shard's run {peaks['bombs']:.0f} MB "
                     f"(ceiling {BOMB_CEILING_MB} MB); released shards before/after the withdrawal: "
                     f"{sorted(set(first['shard']))} / {sorted(set(second['shard']))}")
    if peaks["bombs"] is None or peaks["bombs"] > BOMB_CEILING_MB:
        out.notes.append("the bombs shard went over its memory ceiling")
        out.lost += 1
    return out


CASES = (case_model_faults, case_sigkill, case_corrupt_inputs, case_concurrent, case_hostile_landing)


def main() -> None:
    from corpus.build import build_corpus
    from scripts.demo import print_table

    build_corpus(CORPUS, seed=0, size="tiny")
    results = []
    for case in CASES:
        start = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="mmf-faults-") as tmp:
            outcome = case(Path(tmp))
        outcome.notes.append(f"{time.perf_counter() - start:.0f} s")
        results.append(outcome)
        print(f"  {outcome.case}: done", flush=True)
    print_table(("case", "faults injected", "runs completed", "records lost", "duplicated",
                 "model calls repeated", "rejections without reason", "leaked", "jammed"),
                [(o.case, str(o.faults), f"{o.completed}/{o.runs}", str(o.lost), str(o.duplicated),
                  str(o.repeated), str(o.no_reason), str(o.leaked), str(o.jammed)) for o in results])
    for o in results:
        for note in o.notes:
            print(f"{o.case}: {note}")


if __name__ == "__main__":
    main()
