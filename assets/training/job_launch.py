"""Handing a device job its inputs and taking back its outputs, for the MLLM and DPO assets.

The job (`mllm_jobs.run_job`, `dpo_jobs.run_job`) runs in the step or under Pipes
(`GPUResource.launch`); it sees files only. Frames are written as Parquet into the job's work
folder, the GPU settings it needs (seed, dtype setting) join the payload, and the summary comes
back with the launch record: `launch` (in_process | pipes) and the device the job ran on, which
every device asset puts in its metadata.
"""

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl

FINGERPRINT_EXEMPT = "moves files to and from a job and names where it ran; the results are the job modules'"


@contextmanager
def device_job(context, gpu, job: Callable[..., dict], payload: dict,
               frames: dict[str, pl.DataFrame] | None = None) -> Iterator[tuple[dict, Path]]:
    """Run `job` on `payload` plus `frames` (payload key -> frame, passed as a Parquet path);
    yields (summary, work folder) while the job's files are still there."""
    with tempfile.TemporaryDirectory(prefix=f"{payload['job']}_") as tmp:
        work = Path(tmp)
        payload = {**payload, "seed": gpu.seed, "dtype": gpu.dtype}
        for key, df in (frames or {}).items():
            path = work / f"input_{key}.parquet"
            df.write_parquet(path)
            payload[key] = str(path)
        yield gpu.run_job(context, job, payload, work / "out"), work / "out"


def launch_record(summary: dict) -> dict:
    """Where a job ran, for the output metadata."""
    return {"launch": summary["launch"], **{k: summary[f"gpu_{k}"] for k in ("device", "dtype", "threads", "seed")}}
