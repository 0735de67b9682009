"""fastnn.vision.transforms: torchvision's per-sample transforms on tensors, HWC arrays and PIL images,
checked against exact references (flips, crops, right-angle rotations, resizing vs torch's interpolate)."""
import numpy as np
import pytest

import fastnn
from fastnn.utils.data import DataLoader, Dataset
from fastnn.vision import datasets, transforms as T


def img(c=3, h=6, w=8, seed=0):
    return fastnn.tensor(np.random.default_rng(seed).random((c, h, w)).astype(np.float32))


def test_to_tensor_and_normalize():
    hwc = (np.arange(2 * 3 * 3) % 256).astype(np.uint8).reshape(2, 3, 3)
    t = T.ToTensor()(hwc)
    assert t.shape == (3, 2, 3) and t.dtype == fastnn.float32
    np.testing.assert_allclose(t.numpy(), np.moveaxis(hwc, -1, 0) / 255.0, rtol=1e-6)
    assert T.ToTensor()(np.zeros((4, 5), np.uint8)).shape == (1, 4, 5)
    f = np.random.default_rng(0).random((4, 5, 3)).astype(np.float32)
    np.testing.assert_array_equal(T.ToTensor()(f).numpy(), np.moveaxis(f, -1, 0))  # floats are not rescaled
    n = T.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))(t)
    np.testing.assert_allclose(n.numpy(), (t.numpy() - 0.5) / 0.5, rtol=1e-6)
    with pytest.raises(TypeError, match="ToTensor first"):
        T.Normalize((0.5,), (0.5,))(hwc)


def test_flips_and_crops_are_exact():
    x = img()
    a = x.numpy()
    fastnn.manual_seed(0)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(x).numpy(), a[:, :, ::-1])
    np.testing.assert_array_equal(T.RandomVerticalFlip(p=1.0)(x).numpy(), a[:, ::-1, :])
    assert T.RandomHorizontalFlip(p=0.0)(x) is x
    np.testing.assert_array_equal(T.CenterCrop(4)(x).numpy(), a[:, 1:5, 2:6])
    np.testing.assert_array_equal(T.CenterCrop((6, 8))(x).numpy(), a)
    big = T.CenterCrop(10)(x).numpy()  # larger than the image: zero padding
    assert big.shape == (3, 10, 10) and big[:, 0].sum() == 0
    crops = [T.RandomCrop(4)(x).numpy() for _ in range(20)]
    for c in crops:
        assert any(np.array_equal(c, a[:, i:i + 4, j:j + 4]) for i in range(3) for j in range(5))
    padded = np.pad(a, ((0, 0), (2, 2), (2, 2)))
    for _ in range(10):
        c = T.RandomCrop((6, 8), padding=2)(x).numpy()
        assert any(np.array_equal(c, padded[:, i:i + 6, j:j + 8]) for i in range(5) for j in range(5))
    np.testing.assert_array_equal(T.Pad((1, 2), padding_mode="edge")(x).numpy(),
                                  np.pad(a, ((0, 0), (2, 2), (1, 1)), mode="edge"))


def test_rotation_and_affine():
    x = img(1, 5, 5)
    a = x.numpy()
    np.testing.assert_array_equal(T.RandomRotation((0, 0))(x).numpy(), a)
    np.testing.assert_allclose(T.RandomRotation((90, 90))(x).numpy(), np.rot90(a, 1, axes=(1, 2)), atol=1e-6)
    np.testing.assert_allclose(T.RandomRotation((-90, -90))(x).numpy(), np.rot90(a, -1, axes=(1, 2)), atol=1e-6)
    shifted = T.RandomAffine(0, translate=(0.2, 0.0))(x).numpy()  # up to 1 pixel left or right
    assert any(np.array_equal(shifted[:, :, max(d, 0):5 + min(d, 0)], a[:, :, max(-d, 0):5 - max(d, 0)])
               for d in (-1, 0, 1))
    z = T.RandomAffine(0, scale=(1.0, 1.0), shear=0)(x).numpy()
    np.testing.assert_allclose(z, a, atol=1e-6)
    r = T.RandomAffine(30, translate=(0.1, 0.1), scale=(0.8, 1.2), shear=10, fill=0)(img(3, 16, 16))
    assert r.shape == (3, 16, 16)


def test_resize_matches_torch_interpolate():
    torch = pytest.importorskip("torch")
    x = img(3, 10, 12)
    for size in [(20, 24), (5, 6), (7, 9), (4, 20)]:
        for aa in (False, True):  # torchvision's default antialias=True averages when shrinking, as PIL
            ours = T.Resize(size, antialias=aa)(x).numpy()
            ref = torch.nn.functional.interpolate(torch.tensor(x.numpy())[None], size=size, mode="bilinear",
                                                  align_corners=False, antialias=aa)[0].numpy()
            np.testing.assert_allclose(ours, ref, atol=1e-5)
        near = T.Resize(size, interpolation=T.InterpolationMode.NEAREST)(x).numpy()
        np.testing.assert_array_equal(near, torch.nn.functional.interpolate(torch.tensor(x.numpy())[None], size=size,
                                                                            mode="nearest")[0].numpy())
    assert T.Resize(5)(x).shape == (3, 5, 6)  # the smaller edge to 5, aspect ratio kept
    with pytest.raises(NotImplementedError, match="NEAREST or BILINEAR"):
        T.Resize(5, interpolation=T.InterpolationMode.BICUBIC)


def test_random_resized_crop_colour_grey_erasing_blur():
    fastnn.manual_seed(0)
    x = img(3, 16, 16)
    assert T.RandomResizedCrop(8)(x).shape == (3, 8, 8)
    np.testing.assert_allclose(T.ColorJitter()(x).numpy(), x.numpy(), atol=1e-6)
    b = T.ColorJitter(brightness=(0.5, 0.5))(x).numpy()
    np.testing.assert_allclose(b, np.clip(x.numpy() * 0.5, 0, 1), atol=1e-6)
    assert 0 <= T.ColorJitter(0.4, 0.4, 0.4, 0.1)(x).numpy().min() and T.ColorJitter(0.4, 0.4, 0.4, 0.1)(x).numpy().max() <= 1
    g = T.Grayscale()(x).numpy()  # torchvision's tensor weights (0.2989, not ITU 601's 0.299)
    np.testing.assert_allclose(g[0], 0.2989 * x.numpy()[0] + 0.587 * x.numpy()[1] + 0.114 * x.numpy()[2], rtol=1e-5)
    assert T.Grayscale(3)(x).shape == (3, 16, 16)
    e = T.RandomErasing(p=1.0, value=0)(x).numpy()
    assert (e == 0).sum() > 0 and (e != x.numpy()).any()
    bl = T.GaussianBlur(3, sigma=1.0)(x).numpy()
    assert abs(bl.mean() - x.numpy().mean()) < 0.02 and bl.std() < x.numpy().std()


def test_uint8_arrays_and_pil_images_keep_their_form():
    hwc = np.random.default_rng(0).integers(0, 256, (6, 8, 3)).astype(np.uint8)
    f = T.RandomHorizontalFlip(1.0)(hwc)
    assert isinstance(f, np.ndarray) and f.dtype == np.uint8
    np.testing.assert_array_equal(f, hwc[:, ::-1])
    PIL = pytest.importorskip("PIL.Image")
    im = PIL.fromarray(hwc)
    out = T.Compose([T.RandomHorizontalFlip(1.0), T.CenterCrop(4)])(im)
    assert type(out).__module__.startswith("PIL") and out.size == (4, 4)
    np.testing.assert_array_equal(np.asarray(out), hwc[1:5, ::-1][:, 2:6])
    t = T.ToTensor()(im)
    np.testing.assert_allclose(t.numpy(), np.moveaxis(hwc, -1, 0) / 255.0, rtol=1e-6)


class Augmented(Dataset):
    """A course-style dataset: HWC uint8 images through a torchvision-style Compose."""

    def __init__(self, n=24):
        self.x = np.random.default_rng(0).integers(0, 256, (n, 12, 12, 3)).astype(np.uint8)
        self.y = np.arange(n) % 3
        self.tf = T.Compose([T.RandomCrop(10, padding=1), T.RandomHorizontalFlip(), T.ToTensor(),
                             T.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.tf(self.x[i]), int(self.y[i])


def test_transforms_inside_a_dataset_through_the_loader():
    fastnn.manual_seed(0)
    for workers in (0, 2):
        xs = [x for x, _ in DataLoader(Augmented(), batch_size=8, shuffle=True, num_workers=workers)]
        assert [tuple(x.shape) for x in xs] == [(8, 3, 10, 10)] * 3
        assert all(-1 <= x.min().item() and x.max().item() <= 1 for x in xs)


def test_digits_dataset():
    tr, te = datasets.Digits(train=True), datasets.Digits(train=False)
    assert len(tr) + len(te) == 1797
    x, y = tr[0]
    assert x.shape == (8, 8) and x.dtype == np.uint8 and 0 <= y < 10
    t = datasets.Digits(train=True, transform=T.ToTensor())[0][0]
    assert t.shape == (1, 8, 8)
    with pytest.raises(RuntimeError, match="download=True"):  # downloading: tests/vision/test_datasets.py
        datasets.MNIST("/nonexistent")
