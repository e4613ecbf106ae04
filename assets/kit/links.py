"""Links a person can click in the Dagster UI: a record id opens its audit, a URI its file.

A record id is not a URI, so it links to the launchpad of the `audit` job with the id filled
in (the UI's `playground/setup?config=` route preloads a launchpad session). The link is relative
to the UI's own origin, so it works wherever the webserver runs. Pure strings here; the asset and
job modules wrap them as `MetadataValue.url` / `.path`.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, unquote, urlparse

FINGERPRINT_EXEMPT = "how the UI links to records and files, never what an asset computes"

AUDIT_JOB = "audit"
AUDIT_OP = "audit_record"
LOCATION = "mmfoundry"  # workspace.yaml's location_name
REPOSITORY = "__repository__"  # the name Dagster gives a Definitions object's repository


def audit_run_config(record_id: str) -> dict:
    return {"ops": {AUDIT_OP: {"config": {"record_id": record_id}}}}


def audit_config_yaml(record_id: str) -> str:
    import yaml

    return yaml.safe_dump(audit_run_config(record_id), sort_keys=False)


def audit_launchpad_url(record_id: str) -> str:
    """The launchpad of the audit job, preloaded with `record_id`."""
    return (f"/locations/{REPOSITORY}@{LOCATION}/jobs/{AUDIT_JOB}/playground/setup"
            f"?config={quote(audit_config_yaml(record_id), safe='')}")


def is_uri(text: object) -> bool:
    return isinstance(text, str) and urlparse(text).scheme in ("file", "s3", "gs", "gcs", "http", "https")


def local_path(uri: str) -> str | None:
    """The local file behind a `file://` URI (None for a remote one)."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return str(Path(unquote(parsed.path)))


def markdown_link(text: str, url: str) -> str:
    label = text.replace("[", "\\[").replace("]", "\\]")
    return f"[{label}]({url.replace(')', '%29').replace(' ', '%20')})"
