import torch

from assets.training.scm.config import NetConfig
from assets.training.scm.model import EMA, AdaptiveWeight, build_net, count_params, pnorm

torch.set_num_threads(1)


def test_unet_and_mlp_map_images_to_images_without_batchnorm():
    for cfg in (NetConfig(arch="unet", channels=8, emb_dim=16, groups=4),
                NetConfig(arch="unet", channels=8, channel_mult=(1, 2, 2), blocks=2, emb_dim=16, groups=4),
                NetConfig(arch="mlp", channels=32, blocks=2, emb_dim=16)):
        net = build_net(cfg)
        out = net(torch.randn(5, 1, 8, 8), torch.rand(5))
        assert out.shape == (5, 1, 8, 8)
        assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in net.modules())
        assert count_params(net) > 0


def test_pnorm_gives_unit_rms():
    v = pnorm(torch.randn(4, 32) * 7)
    assert torch.allclose(v.pow(2).mean(1), torch.ones(4), atol=1e-3)


def test_ema_moves_towards_the_weights():
    net = torch.nn.Linear(2, 1)
    ema = EMA.of(net, decay=0.75)
    before = ema.shadow["weight"].clone()
    with torch.no_grad():
        net.weight.add_(4.0)
    ema.update(net)
    assert torch.allclose(ema.shadow["weight"], before + 1.0)


def test_adaptive_weight_starts_at_zero():
    assert torch.equal(AdaptiveWeight(16)(torch.rand(3)), torch.zeros(3))
