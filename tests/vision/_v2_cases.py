"""The cases compared between torchvision.transforms.v2 and fastnn.vision.transforms.v2: each case runs on
either library (lib.F the v2 functional module, lib.T the v2 transforms, lib.U torchvision.utils, lib.torch the tensor
library).
tools/make_v2_goldens.py records torchvision's outputs in tests/vision/data/v2_goldens.npz; the tests
run the same cases on fastnn and compare (exactly, or within the tolerance given)."""
import numpy as np

RNG = np.random.default_rng(7)
U8 = RNG.integers(0, 256, (13, 17, 3)).astype(np.uint8)          # an HWC image
F32 = RNG.random((3, 13, 17)).astype(np.float32)                  # a CHW float image
GREY = RNG.integers(0, 256, (9, 11)).astype(np.uint8)


def _u8(lib):
    return lib.F.to_image(U8)


def _f32(lib):
    return lib.torch.tensor(F32)


def _np(x):
    if hasattr(x, "detach"):
        x = x.detach()
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x)


# name -> (function of lib, tolerance: 0 exact, a float = atol, "u8" = within one level)
CASES = {
    "to_image_hwc": (lambda L: L.F.to_image(U8), 0),
    "to_image_hw": (lambda L: L.F.to_image(GREY), 0),
    "to_dtype_u8_f32": (lambda L: L.F.to_dtype(_u8(L), L.torch.float32, scale=True), 0),
    "to_dtype_f32_u8": (lambda L: L.F.to_dtype(_f32(L), L.torch.uint8, scale=True), 0),
    "to_dtype_noscale": (lambda L: L.F.to_dtype(_u8(L), L.torch.float32), 0),
    "compose_textbook": (lambda L: L.T.Compose([L.T.ToImage(), L.T.ToDtype(L.torch.float32, scale=True)])(GREY), 0),
    "compose_normalize": (lambda L: L.T.Compose([L.T.ToImage(), L.T.ToDtype(L.torch.float32, scale=True),
                                                 L.T.Normalize([0.5, 0.4, 0.3], [0.2, 0.25, 0.3])])(U8), 1e-6),
    "normalize": (lambda L: L.F.normalize(_f32(L), [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]), 1e-6),
    "resize_down_aa": (lambda L: L.F.resize(_f32(L), [7, 9]), 1e-5),
    "resize_down_noaa": (lambda L: L.F.resize(_f32(L), [7, 9], antialias=False), 1e-5),
    "resize_up": (lambda L: L.F.resize(_f32(L), [20, 25]), 1e-5),
    "resize_short_edge": (lambda L: L.F.resize(_f32(L), 8), 1e-5),
    "resize_nearest": (lambda L: L.F.resize(_f32(L), [7, 30], interpolation=L.F.InterpolationMode.NEAREST), 0),
    "resize_u8_aa": (lambda L: L.F.resize(_u8(L), [6, 8]), "u8"),
    "resized_crop": (lambda L: L.F.resized_crop(_f32(L), 2, 3, 8, 10, [6, 5]), 1e-5),
    "resized_crop_up": (lambda L: L.F.resized_crop(_f32(L), 1, 1, 5, 6, [12, 12]), 1e-5),
    "crop": (lambda L: L.F.crop(_u8(L), 2, 3, 5, 7), 0),
    "center_crop": (lambda L: L.F.center_crop(_u8(L), [6, 9]), 0),
    "center_crop_big": (lambda L: L.F.center_crop(_u8(L), [16, 20]), 0),
    "pad_constant": (lambda L: L.F.pad(_u8(L), [1, 2, 3, 4], fill=7), 0),
    "pad_edge": (lambda L: L.F.pad(_u8(L), [2, 1], padding_mode="edge"), 0),
    "pad_reflect": (lambda L: L.F.pad(_f32(L), [3], padding_mode="reflect"), 0),
    "pad_symmetric": (lambda L: L.F.pad(_f32(L), [1, 2], padding_mode="symmetric"), 0),
    "hflip": (lambda L: L.F.horizontal_flip(_u8(L)), 0),
    "vflip": (lambda L: L.F.vertical_flip(_f32(L)), 0),
    "rotate_90": (lambda L: L.F.rotate(_f32(L)[:, :13, :13], 90.0), 1e-6),
    "rotate_30_nearest": (lambda L: L.F.rotate(_f32(L), 30.0), 1e-6),
    "rotate_30_bilinear": (lambda L: L.F.rotate(_f32(L), 30.0, interpolation=L.F.InterpolationMode.BILINEAR), 1e-5),
    "affine": (lambda L: L.F.affine(_f32(L), angle=15.0, translate=[2, -1], scale=1.1, shear=[5.0, 3.0],
                                    interpolation=L.F.InterpolationMode.BILINEAR), 1e-5),
    "brightness": (lambda L: L.F.adjust_brightness(_f32(L), 1.4), 1e-6),
    "contrast": (lambda L: L.F.adjust_contrast(_f32(L), 0.6), 1e-5),
    "saturation": (lambda L: L.F.adjust_saturation(_f32(L), 1.7), 1e-5),
    "hue": (lambda L: L.F.adjust_hue(_f32(L), 0.2), 1e-5),
    "brightness_u8": (lambda L: L.F.adjust_brightness(_u8(L), 1.3), "u8"),
    "grayscale": (lambda L: L.F.rgb_to_grayscale(_f32(L)), 1e-5),
    "grayscale3": (lambda L: L.F.rgb_to_grayscale(_f32(L), num_output_channels=3), 1e-5),
    "blur": (lambda L: L.F.gaussian_blur(_f32(L), [5, 3], [1.3, 0.8]), 1e-5),
    "invert_u8": (lambda L: L.F.invert(_u8(L)), 0),
    "erase": (lambda L: L.F.erase(_f32(L), 2, 3, 4, 5, L.torch.tensor(0.25)), 0),
    "flip_p1": (lambda L: L.T.RandomHorizontalFlip(p=1.0)(_u8(L)), 0),
    "vflip_p1": (lambda L: L.T.RandomVerticalFlip(p=1.0)(_f32(L)), 0),
    "grayscale_p1": (lambda L: L.T.RandomGrayscale(p=1.0)(_f32(L)), 1e-5),
    "resize_t": (lambda L: L.T.Resize(10)(_f32(L)), 1e-5),
    "center_crop_t": (lambda L: L.T.CenterCrop(8)(_u8(L)), 0),
    "make_grid": (lambda L: L.U.make_grid(L.torch.tensor(np.stack([F32, F32 * 0.5, F32 ** 2, 1 - F32, F32])), nrow=2,
                                          padding=1, normalize=True, pad_value=0.3), 1e-6),
    "make_grid_grey": (lambda L: L.U.make_grid(L.torch.tensor(np.stack([F32[:1], F32[1:2], F32[2:]])), nrow=4), 0),
}


def run(lib, name):
    f, _ = CASES[name]
    return _np(f(lib))
