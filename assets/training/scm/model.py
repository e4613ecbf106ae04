"""The network F(x, c_noise(t)) shared by the sCM teacher and student (RECIPES section 5).

Everything the continuous-time consistency objective needs from an architecture is here:

- forward-mode differentiable everywhere (`torch.func.jvp`): GroupNorm / LayerNorm, never
  BatchNorm (its running statistics break under forward-mode AD), and no attention (a fused
  attention kernel has no forward-mode rule; 8x8 images do not need attention);
- a *positional* time embedding of c_noise(t) = t (fixed sinusoids of moderate frequency), not
  large-scale random Fourier features, which make dF/dt large and the tangent unstable;
- adaptive double normalisation: norm(h) * pnorm(s(t)) + pnorm(b(t)), where pnorm rescales a
  vector to unit RMS, so the time modulation cannot blow up the activations.

Two backbones: `unet` (a small conv UNet for images: GroupNorm residual blocks at 8x8 and 4x4 with
a skip connection per level) and `mlp` (a residual MLP over the flattened image, the
RECIPES probe's backbone, kept for comparison). `AdaptiveWeight` is the learned weighting
w_phi(t) of the sCD loss.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn import functional as fn

from assets.training.scm.config import NetConfig


def pnorm(v: torch.Tensor, eps: float = 1e-4) -> torch.Tensor:
    """Pixel norm of a modulation vector: unit RMS over the channel axis."""
    return v / torch.sqrt(v.pow(2).mean(dim=1, keepdim=True) + eps)


class PositionalEmbedding(nn.Module):
    """[cos(w_i t), sin(w_i t)] with w_i geometric from 1 to `max_freq` (fixed, not learned)."""

    def __init__(self, dim: int, max_freq: float):
        super().__init__()
        half = dim // 2
        self.register_buffer("freqs", torch.exp(torch.linspace(0.0, math.log(max_freq), half)))

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        a = t.reshape(-1, 1).to(self.freqs.dtype) * self.freqs[None]
        return torch.cat([a.cos(), a.sin()], dim=1)


class TimeEmbedding(nn.Module):
    def __init__(self, dim: int, max_freq: float):
        super().__init__()
        self.pos = PositionalEmbedding(dim, max_freq)
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim), nn.SiLU())

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        return self.mlp(self.pos(t))


class AdaDoubleNorm(nn.Module):
    """norm(h) * pnorm(s(e)) + pnorm(b(e)); `norm` is GroupNorm (conv) or LayerNorm (mlp)."""

    def __init__(self, channels: int, emb_dim: int, groups: int | None):
        super().__init__()
        self.norm = (nn.GroupNorm(groups, channels, affine=False) if groups
                     else nn.LayerNorm(channels, elementwise_affine=False))
        self.scale = nn.Linear(emb_dim, channels)
        self.shift = nn.Linear(emb_dim, channels)

    def forward(self, h: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        s, b = pnorm(self.scale(e)), pnorm(self.shift(e))
        if h.dim() == 4:
            s, b = s[:, :, None, None], b[:, :, None, None]
        return self.norm(h) * s + b


class ConvBlock(nn.Module):
    def __init__(self, cin: int, cout: int, emb_dim: int, groups: int):
        super().__init__()
        self.n1 = AdaDoubleNorm(cin, emb_dim, min(groups, cin))
        self.c1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.n2 = AdaDoubleNorm(cout, emb_dim, min(groups, cout))
        self.c2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()
        nn.init.zeros_(self.c2.weight)
        nn.init.zeros_(self.c2.bias)

    def forward(self, x: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        h = self.c1(fn.silu(self.n1(x, e)))
        h = self.c2(fn.silu(self.n2(h, e)))
        return self.skip(x) + h


class UNet(nn.Module):
    def __init__(self, cfg: NetConfig):
        super().__init__()
        c, e = cfg.channels, cfg.emb_dim
        chans = [c * m for m in cfg.channel_mult]
        self.emb = TimeEmbedding(e, cfg.max_freq)
        self.inp = nn.Conv2d(cfg.in_channels, chans[0], 3, padding=1)
        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        for i, ch in enumerate(chans):
            cin = chans[i - 1] if i else chans[0]
            self.down.append(nn.ModuleList(
                [ConvBlock(cin if j == 0 else ch, ch, e, cfg.groups) for j in range(cfg.blocks)]))
            if i < len(chans) - 1:
                self.downsample.append(nn.Conv2d(ch, ch, 3, stride=2, padding=1))
        self.mid = ConvBlock(chans[-1], chans[-1], e, cfg.groups)
        self.up = nn.ModuleList()
        self.upsample = nn.ModuleList()
        for i in reversed(range(len(chans))):
            ch = chans[i]
            cin = chans[-1] if i == len(chans) - 1 else chans[i + 1]
            if i < len(chans) - 1:
                self.upsample.append(nn.ConvTranspose2d(cin, ch, 2, stride=2))
                cin = ch
            self.up.append(nn.ModuleList(
                [ConvBlock((cin + ch) if j == 0 else ch, ch, e, cfg.groups) for j in range(cfg.blocks)]))
        self.out_norm = nn.GroupNorm(min(cfg.groups, chans[0]), chans[0])
        self.out = nn.Conv2d(chans[0], cfg.in_channels, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        e = self.emb(t)
        h = self.inp(x)
        skips = []
        for i, blocks in enumerate(self.down):
            for b in blocks:
                h = b(h, e)
            skips.append(h)
            if i < len(self.downsample):
                h = self.downsample[i](h)
        h = self.mid(h, e)
        for k, blocks in enumerate(self.up):
            if k > 0:
                h = self.upsample[k - 1](h)
            h = torch.cat([h, skips.pop()], dim=1)
            for b in blocks:
                h = b(h, e)
        return self.out(fn.silu(self.out_norm(h)))


class MLPBlock(nn.Module):
    def __init__(self, width: int, emb_dim: int):
        super().__init__()
        self.norm = AdaDoubleNorm(width, emb_dim, None)
        self.l1 = nn.Linear(width, 2 * width)
        self.l2 = nn.Linear(2 * width, width)
        nn.init.zeros_(self.l2.weight)
        nn.init.zeros_(self.l2.bias)

    def forward(self, x: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        return x + self.l2(fn.silu(self.l1(self.norm(x, e))))


class ResMLP(nn.Module):
    def __init__(self, cfg: NetConfig):
        super().__init__()
        d = cfg.in_channels * cfg.image_size**2
        self.emb = TimeEmbedding(cfg.emb_dim, cfg.max_freq)
        self.inp = nn.Linear(d, cfg.channels)
        self.blocks = nn.ModuleList([MLPBlock(cfg.channels, cfg.emb_dim) for _ in range(cfg.blocks)])
        self.out_norm = nn.LayerNorm(cfg.channels)
        self.out = nn.Linear(cfg.channels, d)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        e = self.emb(t)
        h = self.inp(x.flatten(1))
        for b in self.blocks:
            h = b(h, e)
        return self.out(fn.silu(self.out_norm(h))).view_as(x)


def build_net(cfg: NetConfig) -> nn.Module:
    if cfg.arch == "unet":
        return UNet(cfg)
    if cfg.arch == "mlp":
        return ResMLP(cfg)
    raise ValueError(f"unknown arch {cfg.arch!r}; expected 'unet' or 'mlp'")


class AdaptiveWeight(nn.Module):
    """w_phi(t): a linear head on the positional embedding of t, initialised to 0."""

    def __init__(self, dim: int = 128, max_freq: float = 32.0):
        super().__init__()
        self.pos = PositionalEmbedding(dim, max_freq)
        self.lin = nn.Linear(dim, 1)
        nn.init.zeros_(self.lin.weight)
        nn.init.zeros_(self.lin.bias)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        return self.lin(self.pos(t)).squeeze(1)


@dataclass
class EMA:
    """Exponential moving average of a module's parameters (a detached copy used for sampling)."""

    decay: float
    shadow: dict[str, torch.Tensor] = field(default_factory=dict)

    @classmethod
    def of(cls, module: nn.Module, decay: float) -> EMA:
        return cls(decay, {k: v.detach().clone() for k, v in module.state_dict().items()})

    @torch.no_grad()
    def update(self, module: nn.Module) -> None:
        for k, v in module.state_dict().items():
            if v.dtype.is_floating_point:
                self.shadow[k].lerp_(v, 1.0 - self.decay)
            else:
                self.shadow[k].copy_(v)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {k: v.clone() for k, v in self.shadow.items()}


def count_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
