import torch

from fervision.models.attention import CSA, CoordinateAttention, SimAM


def test_simam_matches_the_standard_energy_formula():
    x = torch.randn(2, 3, 5, 4)
    lam = 1e-4
    out = SimAM(lam)(x)
    n = 5 * 4 - 1
    expected = torch.empty_like(x)
    for b in range(2):
        for c in range(3):
            v = x[b, c]
            d = (v - v.mean()) ** 2
            e = d / (4 * (d.sum() / n + lam)) + 0.5
            expected[b, c] = v * torch.sigmoid(e)
    assert torch.allclose(out, expected, atol=1e-6)


def test_csa_starts_as_an_even_mix_and_stays_convex():
    csa = CSA(16, reduction=4).eval()
    assert abs(csa.alpha - 0.5) < 1e-6
    x = torch.randn(1, 16, 6, 6)
    with torch.no_grad():
        csa.theta.fill_(3.0)
        a = torch.sigmoid(torch.tensor(3.0))
        expected = a * csa.coord(x) + (1 - a) * csa.simam(x)
        assert torch.allclose(csa(x), expected, atol=1e-6)


def test_coordinate_pooling_modes_differ_and_keep_shape():
    torch.manual_seed(0)
    x = torch.randn(2, 16, 7, 5)
    outs = {}
    for pool in ("avg", "localmax", "maxavg"):
        torch.manual_seed(1)
        block = CoordinateAttention(16, reduction=4, pool=pool).eval()
        outs[pool] = block(x)
        assert outs[pool].shape == x.shape
    assert not torch.allclose(outs["avg"], outs["localmax"])
    assert not torch.allclose(outs["avg"], outs["maxavg"])
