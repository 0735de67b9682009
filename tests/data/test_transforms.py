import numpy as np
import pytest

import fastnn
from fastnn import augment as D


def imgs(n=6, c=3, h=7, w=9, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).random((n, c, h, w)).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_flips_and_transpose_exact(dtype):
    x = imgs(dtype=dtype)
    np.testing.assert_array_equal(D.BatchRandomHorizontalFlip(1.0)(x), x[..., ::-1])
    np.testing.assert_array_equal(D.BatchRandomVerticalFlip(1.0)(x), x[..., ::-1, :])
    np.testing.assert_array_equal(D.BatchRandomHorizontalFlip(0.0)(x), x)
    sq = imgs(h=8, w=8, dtype=dtype)
    np.testing.assert_array_equal(D.BatchRandomTranspose(1.0)(sq), sq.transpose(0, 1, 3, 2))
    y = D.BatchRandomHorizontalFlip(0.5)(x, np.random.default_rng(3))
    flipped = [np.array_equal(y[i], x[i, :, :, ::-1]) for i in range(len(x))]
    kept = [np.array_equal(y[i], x[i]) for i in range(len(x))]
    assert all(f or k for f, k in zip(flipped, kept)) and any(flipped) and any(kept)


def test_identities():
    x = imgs()
    np.testing.assert_array_equal(D.BatchRandomRotation(0)(x), x)
    np.testing.assert_array_equal(D.BatchRandomCrop((7, 9))(x), x)
    np.testing.assert_array_equal(D.BatchRandomShift(0, 0)(x), x)
    np.testing.assert_array_equal(D.BatchRandomZoom((1.0, 1.0))(x), x)
    np.testing.assert_array_equal(D.BatchColorJitter()(x), x)


def test_rotation_by_90_is_rot90_counterclockwise():
    x = imgs(h=8, w=8)
    y = D.BatchRandomRotation((90, 90))(x)
    np.testing.assert_allclose(y, np.rot90(x, 1, axes=(2, 3)), atol=1e-6)


def test_shift_and_crop_against_numpy():
    x = imgs()
    rng = np.random.default_rng(5)
    y = D.BatchRandomShift(2, 1)(x, np.random.default_rng(5))
    dy = -(-rng.integers(-1, 2, len(x)))  # reproduce the draws: dy first, then dx
    dx = rng.integers(-2, 3, len(x))
    for i in range(len(x)):
        ref = np.zeros_like(x[i])
        H, W = x.shape[2:]
        for r in range(H):
            for c in range(W):
                sr, sc = r - dy[i], c - dx[i]
                if 0 <= sr < H and 0 <= sc < W:
                    ref[:, r, c] = x[i, :, sr, sc]
        np.testing.assert_array_equal(y[i], ref)
    z = D.BatchRandomCrop(5, padding=2)(x, np.random.default_rng(1))
    assert z.shape == (6, 3, 5, 5)
    pad = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)))
    for i in range(len(x)):  # every crop is some window of the padded image
        found = any(np.array_equal(z[i], pad[i, :, t:t + 5, l:l + 5])
                    for t in range(pad.shape[2] - 4) for l in range(pad.shape[3] - 4))
        assert found


def test_resized_crop_and_zoom_shapes_and_ranges():
    x = imgs(h=16, w=16)
    y = D.BatchRandomResizedCrop(8, scale=(0.5, 1.0))(x, np.random.default_rng(0))
    assert y.shape == (6, 3, 8, 8) and y.min() >= 0 and y.max() <= 1
    # full-image crop resized to the same size is the identity
    np.testing.assert_allclose(D.BatchRandomResizedCrop(16, scale=(1, 1), ratio=(1, 1))(x), x, atol=1e-6)
    z = D.BatchRandomZoom((2.0, 2.0))(x)
    np.testing.assert_allclose(z[:, :, 7:9, 7:9].mean(), x[:, :, 6:10, 6:10].mean(), atol=0.1)


def _gray(x):
    return 0.2989 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]


def test_color_factors_as_documented():
    x = imgs(seed=2)
    b = D.BatchColorJitter(brightness=(1.5, 1.5))(x)
    np.testing.assert_allclose(b, np.clip(1.5 * x, 0, 1), atol=1e-6)
    c = D.BatchColorJitter(contrast=(0.5, 0.5))(x)
    m = _gray(x).mean(axis=(1, 2))[:, None, None, None]
    np.testing.assert_allclose(c, np.clip(0.5 * x + 0.5 * m, 0, 1), atol=1e-6)
    s = D.BatchColorJitter(saturation=(0.0, 0.0))(x)
    np.testing.assert_allclose(s, np.repeat(_gray(x)[:, None], 3, axis=1), atol=1e-6)
    h = D.BatchColorJitter(hue=(0.0, 0.0))(x)
    np.testing.assert_allclose(h, x, atol=1e-6)
    full = D.BatchColorJitter(hue=(0.5, 0.5))(D.BatchColorJitter(hue=(0.5, 0.5))(x))  # two half turns
    np.testing.assert_allclose(full, x, atol=1e-5)
    gray_img = np.random.default_rng(1).random((2, 1, 4, 4)).astype(np.float32)
    np.testing.assert_array_equal(D.BatchColorJitter(saturation=0.5, hue=0.2)(gray_img), gray_img)


def test_color_jitter_matches_torchvision_hue_if_available():
    tvf = pytest.importorskip("torchvision.transforms.functional")
    import torch
    x = imgs(n=2, seed=4)
    ours = D.BatchColorJitter(hue=(0.2, 0.2))(x)
    theirs = np.stack([tvf.adjust_hue(torch.from_numpy(x[i]), 0.2).numpy() for i in range(2)])
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_normalize_and_standardize():
    x = imgs()
    n = D.BatchNormalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))(x)
    np.testing.assert_allclose(n, (x - 0.5) / 0.5, atol=1e-6)
    X = np.random.default_rng(0).normal(5, 3, (500, 4))
    X[:, 3] = 7.0
    st = D.Standardize().fit(X)
    Z = st.transform(X)
    np.testing.assert_allclose(Z[:, :3].mean(axis=0), 0, atol=1e-9)
    np.testing.assert_allclose(Z[:, :3].std(axis=0), 1, atol=1e-9)
    assert np.all(Z[:, 3] == 0)
    st2 = D.Standardize().load_state_dict(st.state_dict())
    np.testing.assert_array_equal(st2.transform(X), Z)
    with pytest.raises(RuntimeError, match="fit"):
        D.Standardize().transform(X)
    with pytest.raises(ValueError, match="std"):
        D.BatchNormalize(0, 0)


def test_compose_reproducible_and_multithread_invariant():
    x = imgs(n=16, h=12, w=12)
    t = D.BatchCompose([D.BatchRandomRotation(20), D.BatchRandomHorizontalFlip(), D.BatchColorJitter(0.3, 0.3, 0.3, 0.05),
                   D.BatchRandomCrop(10, padding=1)])
    outs = []
    for nt in (1, 2, 3):
        with fastnn.set_num_threads(nt):
            outs.append(t(x, np.random.default_rng(7)))
    np.testing.assert_array_equal(outs[0], outs[1])
    np.testing.assert_array_equal(outs[0], outs[2])
    assert not np.array_equal(t(x, np.random.default_rng(8)), outs[0])


def test_bad_inputs():
    with pytest.raises(ValueError, match=r"expected an image batch \(N, C, H, W\)"):
        D.BatchRandomHorizontalFlip()(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="p: expected a probability"):
        D.BatchRandomHorizontalFlip(2)
    with pytest.raises(ValueError, match="square"):
        D.BatchRandomTranspose(1.0)(imgs())
    with pytest.raises(ValueError, match="hue"):
        D.BatchColorJitter(hue=0.7)
    with pytest.raises(ValueError, match="larger than the padded image"):
        D.BatchRandomCrop(20)(imgs())


@pytest.mark.parametrize("h", [0.1, -0.3, 0.5])
def test_hue_matches_an_independent_hsv_reference(h):
    colors = pytest.importorskip("matplotlib.colors")
    x = imgs(n=3, seed=6)
    ours = D.BatchColorJitter(hue=(h, h))(x)
    hsv = colors.rgb_to_hsv(np.moveaxis(x, 1, -1).astype(np.float64))
    hsv[..., 0] = (hsv[..., 0] + h) % 1.0
    ref = np.moveaxis(colors.hsv_to_rgb(hsv), -1, 1)
    np.testing.assert_allclose(ours, ref, atol=2e-6)


def test_compose_fuses_geometric_transforms():
    x = imgs(n=5, h=10, w=10)
    flips = D.BatchCompose([D.BatchRandomHorizontalFlip(1.0), D.BatchRandomVerticalFlip(1.0)])
    np.testing.assert_array_equal(flips(x), x[..., ::-1, ::-1])
    seq = [D.BatchRandomCrop(8, padding=1), D.BatchRandomHorizontalFlip(0.5)]
    fused = D.BatchCompose(seq)(x, np.random.default_rng(4))
    r = np.random.default_rng(4)
    one_by_one = seq[1](seq[0](x, r), r)
    np.testing.assert_array_equal(fused, one_by_one)  # integer maps: exactly the same result


def test_affine_kernel_survives_hostile_maps():
    from fastnn._ext import _augment
    x = imgs(n=3)
    A = np.array([[np.nan, 0, 0, 0, 1, 0], [1e300, 0, -1e300, 0, 1, 0], [0, 0, -5e9, 0, 0, 7e18]])
    y = _augment.affine_sample(x, A)
    assert y.shape == x.shape and np.isfinite(y).all()
    with pytest.raises(ValueError, match="out_hw"):
        _augment.affine_sample(x, A, (0, 4))
    with pytest.raises(ValueError, match=r"matrices: expected shape \(3, 6\)"):
        _augment.affine_sample(x, A[:2])


def test_resize_matches_torch_bilinear():
    x = imgs(n=2, h=8, w=12)
    np.testing.assert_array_equal(D.BatchResize((8, 12))(x), x)
    up = D.BatchResize(16)(x)
    assert up.shape == (2, 3, 16, 16)
    torch = pytest.importorskip("torch")
    ref = torch.nn.functional.interpolate(torch.from_numpy(x), size=(16, 16), mode="bilinear",
                                          align_corners=False).numpy()
    np.testing.assert_allclose(up, ref, atol=1e-5)
    down = D.BatchResize((4, 6))(x)
    ref = torch.nn.functional.interpolate(torch.from_numpy(x), size=(4, 6), mode="bilinear",
                                          align_corners=False, antialias=False).numpy()
    np.testing.assert_allclose(down, ref, atol=1e-5)
