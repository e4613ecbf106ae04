"""Screenshots of an audit launched from the launchpad, for the README.

After `make demo`: starts the webserver and the daemon on the project's instance, opens the `audit`
job's launchpad with a record id filled in (the link the UI shows beside every record id), clicks
"Launch Run", waits for the run and captures the launchpad, the run and its Markdown audit.
Playwright drives the Chromium Debian installs (`apt-get install chromium`; no browser download):
`.venv/bin/pip install -e ".[docs]"` then `python -m scripts.screenshot_audit [--record-id ID]`.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from assets.kit.links import audit_launchpad_url
from scripts.screenshot_ui import find_chromium
from scripts.webserver import ROOT, graphql, running_daemon, running_webserver

RUN_STATUS = 'query { runOrError(runId: "%s") { ... on Run { status } } }'


def released_record(warehouse: Path) -> str:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("SELECT record_id FROM finevideo_dataset ORDER BY record_id LIMIT 1").fetchone()[0]


def wait_for_run(port: int, run_id: str, timeout_s: float = 300) -> str:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        status = graphql(port, RUN_STATUS % run_id)["data"]["runOrError"].get("status")
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            return status
        time.sleep(2)
    raise TimeoutError(f"run {run_id} did not finish in {timeout_s:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record-id", help="default: the first released FineVideo record")
    parser.add_argument("--out", default=str(ROOT / "docs"))
    args = parser.parse_args(argv)
    chromium = find_chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("screenshot_audit: needs playwright (.venv/bin/pip install playwright)", file=sys.stderr)
        return 2
    if chromium is None:
        print("screenshot_audit: no Chromium on PATH (Debian: apt-get install chromium)", file=sys.stderr)
        return 2
    out = Path(args.out)
    env = dict(os.environ)
    env.setdefault("DAGSTER_HOME", str(ROOT / ".dagster_home"))
    record = args.record_id or released_record(ROOT / env.get("MMFOUNDRY_DATA", ".data") / "warehouse.duckdb")
    with running_webserver(env, out / ".webserver.log") as (port, _), running_daemon(env, out / ".daemon.log"):
        graphql(port, "mutation { setNuxSeen }")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}{audit_launchpad_url(record)}")
            launch = page.get_by_role("button", name="Launch Run")
            launch.wait_for(timeout=60_000)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(out / "audit_launchpad.png"))
            launch.click()
            page.wait_for_url("**/runs/**", timeout=60_000)
            run_id = page.url.rstrip("/").split("/runs/")[1].split("?")[0]
            status = wait_for_run(port, run_id)
            print(f"run {run_id}: {status}")
            page.reload()
            page.wait_for_timeout(4000)
            page.screenshot(path=str(out / "audit_run.png"))
            page.get_by_text("Show Markdown").first.click()
            page.wait_for_timeout(1500)
            page.screenshot(path=str(out / "audit_markdown.png"))
            browser.close()
    for name in ("audit_launchpad.png", "audit_run.png", "audit_markdown.png"):
        print(f"wrote {out / name}")
    return 0 if status == "SUCCESS" else 1


if __name__ == "__main__":
    sys.exit(main())
