"""Where training runs and whether it fits.

`GPUResource` picks the device (cuda, mps, cpu), dtype, CPU thread count and seeds, so every
training asset starts the same way on a laptop, a CI runner or a GPU node. `plan_memory` is the
arithmetic of RECIPES section 7 (policy + reference + gradients + two AdamW states, activations on
top), used to choose precision, LoRA, batch, gradient accumulation and checkpointing for a VRAM
budget, or to refuse with the numbers when nothing fits; it lives in `gpu_memory.py` (pure, so
editing it marks the memory plan stale).

Two launch modes run the same training code: `in_process` (default: the job function is called
inside the asset's step) and `pipes` (`assets/training/pipes.py` runs the job as a separate process under
`dg.PipesSubprocessClient`, reporting its summary as materialization metadata through
dagster-pipes). In production the same module runs in a GPU pod through `dagster_k8s.PipesK8sClient`
or an ECS task through `dagster_aws.pipes.PipesECSClient` (deploy/gpu_pipes.md).
"""

from __future__ import annotations

import json
import os
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import dagster as dg
from pydantic import Field

from resources.gpu_memory import GB
from resources.torch_device import resolve_device, resolve_dtype

PIPES_ENTRY = "assets.training.pipes"
PIPES_SUMMARY = "pipes_summary.json"  # the job's summary, written by PIPES_ENTRY into its workdir

FINGERPRINT_EXEMPT = "which device runs a step; its numerics are the training code's (memory arithmetic: gpu_memory.py)"

class GPUResource(dg.ConfigurableResource):
    """Device, precision and determinism for training steps."""

    device: Literal["auto", "cuda", "mps", "cpu"] = "auto"
    dtype: Literal["auto", "fp32", "bf16", "fp16"] = "auto"
    threads: int = Field(default=0, description="torch CPU threads; 0 = all cores.")
    seed: int = 0
    vram_gb: float | None = Field(default=None, description="Override the detected GPU memory.")
    launch: Literal["in_process", "pipes"] = Field(
        default="in_process",
        description="in_process: call the job in the step; pipes: run it as a subprocess "
                    "(python -m assets.training.pipes) under dg.PipesSubprocessClient (same code, separate process).",
    )

    def torch_device(self):
        return resolve_device(self.device)

    def torch_dtype(self):
        return resolve_dtype(self.dtype, self.torch_device())

    def setup(self) -> None:
        """Threads and seeds, once at the start of a training step."""
        import numpy as np
        import torch

        if self.threads > 0:
            torch.set_num_threads(self.threads)
        random.seed(self.seed)
        np.random.seed(self.seed)
        torch.manual_seed(self.seed)
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

    def available_vram_gb(self) -> float | None:
        if self.vram_gb is not None:
            return self.vram_gb
        import torch

        if self.torch_device().type == "cuda":
            return torch.cuda.get_device_properties(0).total_memory / GB
        return None

    def describe(self) -> dict[str, str]:
        import torch

        dev = self.torch_device()
        name = torch.cuda.get_device_name(0) if dev.type == "cuda" else dev.type
        return {"device": name, "dtype": str(self.torch_dtype()).replace("torch.", ""),
                "threads": str(torch.get_num_threads()), "seed": str(self.seed)}

    def settings(self) -> dict[str, Any]:
        """The fields a separate process needs to set itself up the same way."""
        return {"device": self.device, "dtype": self.dtype, "threads": self.threads, "seed": self.seed,
                "vram_gb": self.vram_gb}

    def run_job(
        self,
        context: dg.AssetExecutionContext,
        job: Callable[..., dict],
        payload: dict,
        workdir: str | os.PathLike,
    ) -> dict[str, Any]:
        """Run a training job and return its summary with the launch record (`launch`, `gpu_*`).

        `job(payload, workdir, device, log)` is a module-level function of plain-JSON inputs and
        outputs; under Pipes `python -m assets.training.pipes` imports it by name from the extras
        {job, payload, workdir, gpu}, streams its log, and writes its summary into the workdir
        (reported as materialization metadata too)."""
        if self.launch == "in_process":
            self.setup()
            summary = job(payload, workdir, self.torch_device(), context.log.info)
            return {**summary, **{f"gpu_{k}": v for k, v in self.describe().items()}, "launch": "in_process"}
        root = str(Path(__file__).resolve().parents[1])
        pythonpath = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
        client = dg.PipesSubprocessClient(cwd=root, env={"PYTHONPATH": pythonpath})
        client.run(
            command=[sys.executable, "-m", PIPES_ENTRY],
            context=context,
            extras={"job": f"{job.__module__}:{job.__name__}", "payload": payload, "workdir": str(workdir),
                    "gpu": self.settings()},
        )
        # read from the workdir like the job's other outputs: a Pipes message can be lost on a loaded
        # node (the reader stops before the last lines), a file the process wrote cannot
        written = Path(workdir) / PIPES_SUMMARY
        if not written.exists():
            raise dg.Failure(f"the Pipes job {job.__module__}:{job.__name__} wrote no {PIPES_SUMMARY} in {workdir}")
        return json.loads(written.read_text())
