"""Screenshots of the running UI for the README, with headless Chromium where it is installed.

Starts the webserver on the project's instance (`.dagster_home`, so after `make demo` the graph shows
its materializations), opens each page in headless Chromium and writes PNGs to docs/.
Usage: python -m scripts.screenshot_ui [--out docs]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from scripts.webserver import ROOT, graphql, running_webserver

PAGES = {
    "asset_graph.png": "/asset-groups",
    "finevideo_group.png": "/asset-groups~group%3A%22finevideo%22",
    "quality_group.png": "/asset-groups~group%3A%22quality%22",
    "runs.png": "/runs",
}
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--window-size=1600,1000", "--virtual-time-budget=20000",
]


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        if path := shutil.which(name):
            return path
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs"))
    args = parser.parse_args(argv)
    chromium = find_chromium()
    if chromium is None:
        print("screenshot_ui: no Chromium on PATH (Debian: apt-get install chromium); nothing to do")
        return 0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("DAGSTER_HOME", str(ROOT / ".dagster_home"))
    profile = out / ".chromium-profile"
    with running_webserver(env, out / ".webserver.log") as (port, _):
        graphql(port, "mutation { setNuxSeen }")  # the community pop-up would cover every page
        for name, path in PAGES.items():
            subprocess.run(
                [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--screenshot={out / name}",
                 f"http://127.0.0.1:{port}{path}"],
                check=True, capture_output=True, timeout=120,
            )
            print(f"wrote {out / name}")
    shutil.rmtree(profile, ignore_errors=True)
    (out / ".webserver.log").unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
