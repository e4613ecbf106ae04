"""A training job as a separate process under Dagster Pipes.

    python -m assets.training.pipes     (launched by dg.PipesSubprocessClient, or in a GPU pod by
                                         dagster_k8s.PipesK8sClient: see deploy/gpu_pipes.md)

The orchestrating asset passes everything as Pipes extras: `job` (`module:function`, a
`run_job(payload, workdir, device, log)` of the sCM, MLLM or DPO jobs), `payload` (its plain-JSON
inputs), `workdir` (where its files go) and `gpu` (GPUResource fields, so device, dtype, threads
and seeds are set up exactly as in-process). The process runs the very same function as the
in-process launch, streams its progress through the Pipes log and reports the summary as
materialization metadata (nested values as JSON, so they come back with their structure), and
writes it as `pipes_summary.json` in the workdir, which the launcher reads first.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path


def main() -> None:
    from dagster_pipes import open_dagster_pipes

    with open_dagster_pipes() as pipes:
        extras = pipes.extras
        from resources.gpu import PIPES_SUMMARY, GPUResource

        module, name = extras["job"].split(":")
        job = getattr(importlib.import_module(module), name)
        gpu = GPUResource(**extras.get("gpu", {}))
        gpu.setup()
        device = gpu.torch_device()
        pipes.log.info(f"{extras['job']} ({extras['payload'].get('job')}) under Pipes on {gpu.describe()}")
        summary = job(extras["payload"], extras["workdir"], device, log=pipes.log.info)
        summary = {**summary, **{f"gpu_{k}": v for k, v in gpu.describe().items()}, "launch": "pipes"}
        # the job's other outputs are files in workdir; its summary is one too, so a Pipes message
        # lost on a loaded node (the reader stops before the last lines) cannot lose it
        Path(extras["workdir"], PIPES_SUMMARY).write_text(json.dumps(summary, default=float))
        pipes.report_asset_materialization(metadata={k: _meta(v) for k, v in summary.items()})


def _meta(v):
    if isinstance(v, bool | int | float | str) or v is None:
        return v
    return {"raw_value": v, "type": "json"}


if __name__ == "__main__":
    main()
