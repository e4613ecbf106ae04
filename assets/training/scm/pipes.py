"""The sCM training jobs as a separate process under Dagster Pipes.

    python -m assets.training.scm.pipes      (launched by dg.PipesSubprocessClient, or in a GPU pod
                                              by dagster_k8s.PipesK8sClient: see deploy/gpu_pipes.md)

The orchestrating asset passes everything as Pipes extras: `payload` (the job and its configs),
`workdir` (where checkpoint.pt and curve.json go) and `gpu` (GPUResource fields, so device,
threads and seeds are set up exactly as in-process). The process runs the very same
`jobs.run_job` as the in-process launch, streams its progress through the Pipes log, and
reports the summary as materialization metadata.
"""

from __future__ import annotations

import json


def main() -> None:
    from dagster_pipes import open_dagster_pipes

    with open_dagster_pipes() as pipes:
        extras = pipes.extras
        from assets.training.scm.jobs import run_job
        from resources.gpu import GPUResource

        gpu = GPUResource(**extras.get("gpu", {}))
        gpu.setup()
        device = gpu.torch_device()
        pipes.log.info(f"sCM {extras['payload']['job']} job in process under Pipes on {gpu.describe()}")
        summary = run_job(extras["payload"], extras["workdir"], device, log=pipes.log.info)
        summary = {**summary, **{f"gpu_{k}": v for k, v in gpu.describe().items()}, "launch": "pipes"}
        pipes.report_asset_materialization(
            metadata={k: _meta(v) for k, v in summary.items()},
        )


def _meta(v):
    if isinstance(v, bool | int | float | str) or v is None:
        return v
    return json.dumps(v)


if __name__ == "__main__":
    main()
