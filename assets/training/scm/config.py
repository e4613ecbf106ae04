"""sCM budgets per training profile (`assets/training/profiles.py`).

Budgets are counted in optimiser STEPS, never in seconds, so a busy machine slows a run down
without changing its result.

- `default` (CPU figures): the conv UNet, 1200 teacher + 500 student steps at batch 128, about
  7 minutes of training on one core of a near-idle 2-core machine (from per-step costs), 8.3
  minutes measured by bench/bench_scm.py while the machine was shared
  (the budget: at most 10). One torch thread: a second one was 2-6x SLOWER whenever another
  process shared the two cores. At equal steps the UNet distils far faster than the residual MLP
  (FD ratio 1.3 after 300 student steps vs 4.4 after 250 for a 1.4M-parameter MLP), which pays
  for its ~5x cost per step.
- `fast` (tests, `make demo`): a small residual MLP, the three assets in under a minute.
- `large` (a GPU node): a wider three-level UNet and batch 1024 (a tiny model is launch-bound on
  a GPU); not run on a GPU yet.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace


@dataclass(frozen=True)
class NetConfig:
    arch: str = "unet"  # "unet" | "mlp"
    image_size: int = 8
    in_channels: int = 1
    channels: int = 32  # unet: channels of the first level; mlp: width
    channel_mult: tuple[int, ...] = (1, 2)  # unet: one level per entry (8x8, 4x4, ...)
    blocks: int = 1  # residual blocks per level (unet) or in total (mlp)
    emb_dim: int = 128
    groups: int = 8  # GroupNorm groups (unet)
    max_freq: float = 32.0  # highest frequency of the positional time embedding, in 1/radian

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> NetConfig:
        d = dict(d)
        d["channel_mult"] = tuple(d.get("channel_mult", (1, 2)))
        return cls(**d)


@dataclass(frozen=True)
class TeacherConfig:
    net: NetConfig = field(default_factory=NetConfig)
    source: str = "digits"
    image_size: int = 8
    steps: int = 1200
    batch: int = 128
    lr: float = 2e-3
    lr_min_ratio: float = 0.02  # cosine decay to lr * lr_min_ratio
    warmup_steps: int = 200
    ema_decay: float = 0.999
    p_mean: float = -1.0
    p_std: float = 1.4
    grad_clip: float = 1.0
    seed: int = 0
    log_every: int = 50

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class StudentConfig:
    steps: int = 500
    batch: int = 128
    lr: float = 1e-4
    lr_min_ratio: float = 0.1
    warmup_steps: int = 0
    ema_decay: float = 0.995
    p_mean: float = -1.0
    p_std: float = 1.4
    tangent_warmup: int = 150  # H: r = min(1, step / H)
    tangent_c: float = 0.1
    sigma_weight: bool = False  # the extra 1/sigma prior weight of some open implementations
    weight_lr: float = 1e-2  # learning rate of the adaptive-weighting head
    grad_clip: float = 1.0
    seed: int = 1
    log_every: int = 50
    eval_every: int = 100  # FD ratio curve: every this many steps (0: never)
    eval_samples: int = 500
    eval_t_mids: tuple[float, ...] = (0.6, 0.9, 1.1)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ReportConfig:
    eval_samples: int = 1000  # generated samples per FD figure (and real ones for the floor)
    heun_steps: tuple[int, ...] = (1, 2, 4, 8, 12, 16, 20, 24, 28, 32, 40, 48, 63)
    ref_tolerance: float = 0.02  # the reference sampler: smallest NFE within 2% of FD at max NFE
    target_ratio: float = 1.5  # the chosen student sampler: cheapest with val FD ratio <= this
    t_mids: tuple[float, ...] = (0.3, 0.5, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4)
    timing_batch: int = 256
    timing_repeats: int = 3
    bootstrap: int = 200  # rounds for the 95% intervals of FD, ratios and matched speed-ups
    classifier_hidden: tuple[int, ...] = (128, 64)
    seed: int = 123

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ScmConfig:
    teacher: TeacherConfig
    student: StudentConfig
    report: ReportConfig
    # torch CPU threads cap for this profile's jobs (0: no cap). A tiny model's ops are too small
    # to split: a second thread only adds synchronisation, and on a busy machine a lot of it.
    max_threads: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def scm_config(profile: str) -> ScmConfig:
    if profile == "fast":
        # The residual-MLP backbone: a conv step costs ~6x an MLP step on a CPU, and the fast
        # profile only has to exercise the whole pipeline in well under a minute.
        net = NetConfig(arch="mlp", channels=128, blocks=2, emb_dim=64)
        return ScmConfig(
            TeacherConfig(net=net, steps=400, batch=128, lr=3e-3, warmup_steps=20, ema_decay=0.99,
                          log_every=20),
            StudentConfig(steps=150, batch=128, lr=5e-4, tangent_warmup=50, ema_decay=0.95,
                          log_every=10, eval_every=50, eval_samples=300, eval_t_mids=(1.1,)),
            ReportConfig(eval_samples=300, heun_steps=(1, 2, 4, 8, 16, 32, 63),
                         t_mids=(0.7, 0.9, 1.1, 1.3), timing_batch=128, timing_repeats=2, bootstrap=50,
                         classifier_hidden=(64, 32)),
            max_threads=1,
        )
    if profile == "default":
        return ScmConfig(TeacherConfig(), StudentConfig(), ReportConfig(), max_threads=1)
    if profile == "large":
        net = NetConfig(arch="unet", channels=96, channel_mult=(1, 2, 2), blocks=2, emb_dim=256, groups=16)
        return ScmConfig(
            TeacherConfig(net=net, steps=20000, batch=1024, lr=1e-3, warmup_steps=500, ema_decay=0.9995),
            StudentConfig(steps=5000, batch=1024, lr=5e-5, tangent_warmup=1000, ema_decay=0.999,
                          eval_every=500, eval_samples=2000),
            ReportConfig(eval_samples=2000, timing_batch=1024, timing_repeats=5),
        )
    from resources.settings import ConfigError

    raise ConfigError(f"unknown training profile {profile!r}")


# The scaling study (scm/scaling.py): each size is the profile's recipe with the network's width
# scaled (UNet channels stay a multiple of the GroupNorm groups), trained and judged the same way.
SCALING_WIDTHS = {"small": 0.5, "medium": 1.0, "large": 1.5}
SCALING_STEPS = (1, 2, 4)


def scaled(cfg: ScmConfig, size: str) -> ScmConfig:
    """The profile's config with the teacher (and so the student) `SCALING_WIDTHS[size]` times as wide."""
    if size not in SCALING_WIDTHS:
        raise ValueError(f"unknown scaling size {size!r}; one of {sorted(SCALING_WIDTHS)}")
    net = cfg.teacher.net
    unit = net.groups if net.arch == "unet" else 8
    channels = max(unit, unit * round(net.channels * SCALING_WIDTHS[size] / unit))
    return replace(cfg, teacher=replace(cfg.teacher, net=replace(net, channels=channels)))


def with_overrides(cfg, **kw):
    """A copy of a frozen config with some fields replaced (None values are ignored)."""
    return replace(cfg, **{k: v for k, v in kw.items() if v is not None})
