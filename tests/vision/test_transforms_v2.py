"""fastnn.vision.transforms.v2 against torchvision.transforms.v2 (recorded outputs, see
tools/make_v2_goldens.py; live too where torchvision is installed), and v2's calling convention: several
inputs, masks moved with the image by one random draw, labels passed through, dict samples, ToDtype's dict."""
import os
import sys
import types

import numpy as np
import pytest

import fastnn
import fastnn.vision.transforms.v2 as T
import fastnn.vision.transforms.v2.functional as F
from fastnn.utils.data import DataLoader, Dataset
from fastnn.vision import tv_tensors

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _v2_cases as C  # noqa: E402

LIB = types.SimpleNamespace(torch=fastnn, T=T, F=F, U=fastnn.vision.utils)
GOLD = np.load(os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "v2_goldens.npz"))


def _check(name, ours, ref):
    _, tol = C.CASES[name]
    assert ours.shape == ref.shape, (name, ours.shape, ref.shape)
    assert ours.dtype == ref.dtype, (name, ours.dtype, ref.dtype)
    if tol == 0:
        np.testing.assert_array_equal(ours, ref, err_msg=name)
    elif tol == "u8":
        assert np.abs(ours.astype(np.int64) - ref.astype(np.int64)).max() <= 1, name
    else:
        np.testing.assert_allclose(ours, ref, atol=tol, rtol=0, err_msg=name)


@pytest.mark.parametrize("name", sorted(C.CASES))
def test_matches_recorded_torchvision(name):
    _check(name, C.run(LIB, name), GOLD[name])


@pytest.mark.parametrize("name", sorted(C.CASES))
def test_matches_live_torchvision(name):
    torch = pytest.importorskip("torch")
    tv = pytest.importorskip("torchvision.transforms.v2")
    tvf = pytest.importorskip("torchvision.transforms.v2.functional")
    tvu = pytest.importorskip("torchvision.utils")
    _check(name, C.run(LIB, name), C.run(types.SimpleNamespace(torch=torch, T=tv, F=tvf, U=tvu), name))


def test_textbook_pipeline_on_a_dataset_and_loader():
    to_tensor = T.Compose([T.ToImage(), T.ToDtype(fastnn.float32, scale=True)])

    class Digits(Dataset):
        def __init__(self):
            self.x = np.random.default_rng(0).integers(0, 256, (10, 28, 28)).astype(np.uint8)

        def __len__(self):
            return 10

        def __getitem__(self, i):
            return to_tensor(self.x[i]), i % 3

    xb, yb = next(iter(DataLoader(Digits(), batch_size=4)))
    assert xb.shape == (4, 1, 28, 28) and xb.dtype == fastnn.float32 and float(xb.max()) <= 1.0
    assert yb.tolist() == [0, 1, 2, 0]
    x0 = to_tensor(Digits().x[0])
    assert isinstance(x0, tv_tensors.Image) and isinstance(x0, fastnn.Tensor)
    np.testing.assert_array_equal(x0.numpy(), Digits().x[0][None] * np.float32(1 / 255))  # torch multiplies by 1/255


def test_several_inputs_share_one_draw_and_labels_pass_through():
    img = tv_tensors.Image(np.arange(3 * 12 * 14, dtype=np.float32).reshape(3, 12, 14) / 500)
    mask = tv_tensors.Mask((np.arange(12 * 14).reshape(12, 14) % 5).astype(np.int64))
    for t in (T.RandomResizedCrop(6), T.RandomCrop(7), T.RandomRotation(40), T.RandomAffine(20, (0.1, 0.1)),
              T.RandomHorizontalFlip(), T.Resize((9, 5))):
        for seed in range(4):
            fastnn.manual_seed(seed)
            a, m, label = t(img, mask, 7)
            assert label == 7 and isinstance(a, tv_tensors.Image) and isinstance(m, tv_tensors.Mask)
            assert a.shape[1:] == m.shape and m.dtype == fastnn.int64
            assert set(np.unique(m.numpy())) <= set(range(5))  # nearest: no blended labels
            fastnn.manual_seed(seed)
            alone = t(img)
            np.testing.assert_array_equal(alone.numpy(), a.numpy())  # the same draw as for the pair


def test_mask_follows_image_exactly_under_flips_and_crops():
    base = np.arange(10 * 12, dtype=np.int64).reshape(10, 12)
    img = tv_tensors.Image(base[None].astype(np.float32))
    mask = tv_tensors.Mask(base)
    for t in (T.RandomCrop(5), T.RandomHorizontalFlip(p=1.0), T.RandomVerticalFlip(p=1.0), T.CenterCrop(4)):
        a, m = t(img, mask)
        np.testing.assert_array_equal(a.numpy()[0], m.numpy())


def test_dict_samples_colour_ignores_masks_pure_tensor_rule():
    fastnn.manual_seed(0)
    img = tv_tensors.Image(np.random.default_rng(1).random((3, 8, 8)).astype(np.float32))
    mask = tv_tensors.Mask(np.ones((8, 8), np.int64))
    out = T.ColorJitter(0.5, 0.5, 0.5, 0.1)({"image": img, "mask": mask, "id": "x"})
    assert set(out) == {"image", "mask", "id"} and out["mask"] is mask and out["id"] == "x"
    assert not np.array_equal(out["image"].numpy(), img.numpy())
    p1, p2 = fastnn.rand(3, 6, 6), fastnn.rand(3, 6, 6)
    a, b = T.RandomHorizontalFlip(p=1.0)(p1, p2)  # no image given: only the first plain tensor is one
    np.testing.assert_array_equal(a.numpy(), p1.numpy()[:, :, ::-1])
    assert b is p2


def test_to_dtype_dict_and_to_pure_tensor():
    img = tv_tensors.Image(np.full((1, 2, 2), 255, np.uint8))
    mask = tv_tensors.Mask(np.ones((2, 2), np.uint8))
    a, m = T.ToDtype({tv_tensors.Image: fastnn.float32, tv_tensors.Mask: fastnn.int64}, scale=True)(img, mask)
    assert a.dtype == fastnn.float32 and float(a.max()) == 1.0
    assert m.dtype == fastnn.int64 and int(m.max()) == 1  # masks are never rescaled
    a2, m2 = T.ToDtype(fastnn.float32, scale=True)(img, mask)
    assert m2 is mask and a2.dtype == fastnn.float32
    with pytest.raises(ValueError, match="No dtype was specified"):
        T.ToDtype({tv_tensors.Image: fastnn.float32})(img, mask)
    assert type(T.ToPureTensor()(img)) is fastnn.Tensor


def test_pil_images_and_arrays():
    Image = pytest.importorskip("PIL.Image")
    pil = Image.fromarray(C.U8)
    x = T.Compose([T.ToImage(), T.ToDtype(fastnn.float32, scale=True)])(pil)
    np.testing.assert_array_equal(x.numpy(), np.moveaxis(C.U8, -1, 0) * np.float32(1 / 255))
    flipped = T.RandomHorizontalFlip(p=1.0)(pil)
    assert isinstance(flipped, Image.Image)
    np.testing.assert_array_equal(np.asarray(flipped), C.U8[:, ::-1])
    with pytest.raises(TypeError, match="ToImage"):
        T.Normalize([0.5], [0.5])(pil)


def test_bad_arguments_and_missing_names():
    with pytest.raises(ValueError, match="p: expected a probability"):
        T.RandomHorizontalFlip(p=1.5)
    with pytest.raises(ValueError, match="size"):
        T.RandomResizedCrop(0)
    with pytest.raises(ValueError, match="dtype"):
        T.ToDtype("not a dtype")
    with pytest.raises(NotImplementedError, match="RandAugment"):
        T.RandAugment()
    with pytest.raises(NotImplementedError, match="NEAREST or BILINEAR"):
        T.Resize(4, interpolation=T.InterpolationMode.BICUBIC)


def test_save_image_writes_the_grid(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    imgs = fastnn.tensor(np.stack([C.F32, 1 - C.F32]))
    fastnn.vision.utils.save_image(imgs, tmp_path / "g.png", nrow=2, padding=1)
    back = np.asarray(Image.open(tmp_path / "g.png"))
    grid = fastnn.vision.utils.make_grid(imgs, nrow=2, padding=1).numpy()
    np.testing.assert_array_equal(back, np.clip(np.moveaxis(grid, 0, -1) * 255 + 0.5, 0, 255).astype(np.uint8))
