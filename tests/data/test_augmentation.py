import torch

from fervision.data import AugmentConfig, augment, iterate_batches, preprocess

MEAN, STD = (0.5,), (0.25,)


def _faces(n=4, c=1, size=48):
    g = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (n, c, size, size), generator=g, dtype=torch.uint8)


def test_augment_shapes_channels_and_determinism():
    x = _faces()
    a = augment(x, 112, 3, MEAN, STD, generator=torch.Generator().manual_seed(1))
    b = augment(x, 112, 3, MEAN, STD, generator=torch.Generator().manual_seed(1))
    c = augment(x, 112, 3, MEAN, STD, generator=torch.Generator().manual_seed(2))
    assert a.shape == (4, 3, 112, 112) and a.dtype == torch.float32
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_identity_augmentation_equals_preprocessing():
    x = _faces(size=32)
    none = AugmentConfig(scale=(1, 1), translate=0, rotate_deg=0, flip=False, brightness=0, contrast=0, erase_prob=0)
    assert torch.allclose(augment(x, 32, 1, MEAN, STD, none), preprocess(x, 32, 1, MEAN, STD), atol=1e-4)


def test_flip_only_mirrors():
    x = _faces(n=64, size=16)
    flip = AugmentConfig(scale=(1, 1), translate=0, rotate_deg=0, flip=True, brightness=0, contrast=0, erase_prob=0)
    out = augment(x, 16, 1, MEAN, STD, flip, generator=torch.Generator().manual_seed(0))
    ref = preprocess(x, 16, 1, MEAN, STD)
    same = [torch.allclose(o, r, atol=1e-4) for o, r in zip(out, ref, strict=True)]
    mirrored = [torch.allclose(o, r.flip(-1), atol=1e-4) for o, r in zip(out, ref, strict=True)]
    assert all(s or m for s, m in zip(same, mirrored, strict=True))
    assert 10 < sum(mirrored) < 54


def test_random_erasing_touches_some_pixels():
    x = torch.full((32, 1, 32, 32), 128, dtype=torch.uint8)
    cfg = AugmentConfig(scale=(1, 1), translate=0, rotate_deg=0, flip=False, brightness=0, contrast=0, erase_prob=1.0)
    out = augment(x, 32, 1, MEAN, STD, cfg, generator=torch.Generator().manual_seed(0))
    changed = ((out - preprocess(x, 32, 1, MEAN, STD)).abs() > 1e-3).flatten(1).float().mean(1)
    assert (changed > 0.01).all() and (changed < 0.5).all()


def test_batches_cover_every_index_once_across_ranks():
    g = lambda: torch.Generator().manual_seed(3)  # noqa: E731
    ranks = [torch.cat(list(iterate_batches(10, 3, shuffle=True, generator=g(), rank=r, world_size=2))) for r in (0, 1)]
    assert sorted(torch.cat(ranks).tolist()) == list(range(10))
    dropped = list(iterate_batches(10, 3, shuffle=False, drop_last=True))
    assert [len(b) for b in dropped] == [3, 3, 3]
