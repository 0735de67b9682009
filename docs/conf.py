"""Sphinx configuration of fastnn's documentation site (build: see docs/README.md)."""
import inspect
import importlib
import os

import fastnn

project = "fastnn"
author = "the fastnn developers"
copyright = "2026, the fastnn developers"
release = version = fastnn.__version__

extensions = ["sphinx.ext.autodoc", "sphinx.ext.autosummary", "sphinx.ext.mathjax", "sphinx.ext.viewcode",
              "numpydoc", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "README.md", "Thumbs.db", ".DS_Store"]
myst_enable_extensions = ["colon_fence", "dollarmath"]
myst_heading_anchors = 3
html_theme = "pydata_sphinx_theme"
html_title = f"fastnn {release}"
html_static_path = ["_static"]
html_css_files = ["fastnn.css"]
html_theme_options = {"navigation_depth": 2, "show_toc_level": 2, "navbar_align": "left"}

autodoc_member_order = "bysource"
autodoc_typehints = "none"           # signatures as written; the docstrings say the types
autodoc_default_options = {"members": True, "show-inheritance": True}
autosummary_generate = False
numpydoc_show_class_members = False  # members are documented by autodoc below each class
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# Links from the Markdown guide pages to files of the repository (scripts, benchmark results) are not
# documents of this site.
suppress_warnings = ["myst.xref_missing", "myst.header"]

# ---- the API reference: one page per public module, every public class and function on it ----------
# Each object is documented once, on the page of the public module its code lives under (fastnn.fit is
# fastnn.training's); the pages are generated at build time into api/generated (not committed).
MODULES = [
    ("fastnn", "Tensors, autograd switches, seeding, threads, save/load (``import fastnn as torch``)"),
    ("fastnn.nn", "Layers, containers, losses (PyTorch's ``torch.nn``)"),
    ("fastnn.nn.functional", "Differentiable functions on tensors (``torch.nn.functional``)"),
    ("fastnn.nn.init", "Weight initialization"),
    ("fastnn.nn.utils", "Gradient clipping and parameter vectors"),
    ("fastnn.optim", "Optimizers with fused updates"),
    ("fastnn.optim.lr_scheduler", "Learning-rate schedules"),
    ("fastnn.regularizers", "L1, L2 and elastic-net penalties"),
    ("fastnn.utils.data", "Datasets, samplers and loaders (``torch.utils.data``)"),
    ("fastnn.vision.transforms", "torchvision's transforms"),
    ("fastnn.vision.transforms.functional", "torchvision's image operations, one implementation for v1 and v2"),
    ("fastnn.vision.transforms.v2", "torchvision's v2 transforms (``ToImage``, ``ToDtype``, several inputs)"),
    ("fastnn.vision.transforms.v2.functional", "v2's own functions (``to_image``, ``to_dtype``)"),
    ("fastnn.vision.tv_tensors", "Typed image and mask tensors"),
    ("fastnn.vision.utils", "make_grid and save_image"),
    ("fastnn.vision.datasets", "Image datasets"),
    ("fastnn.metrics", "torchmetrics' metrics (``import fastnn.metrics as torchmetrics``)"),
    ("fastnn.metrics.functional", "torchmetrics' functional forms"),
    ("fastnn.jit", "Recording a model as a graph, saving and loading it (``torch.jit``'s names; not TorchScript)"),
    ("fastnn.onnx", "ONNX export (runs in onnxruntime and any ONNX runtime)"),
    ("fastnn.amp", "Mixed precision: bfloat16 products under ``autocast`` (``torch.amp``)"),
    ("fastnn.augment", "Batch augmentation and normalization (what fit and DataLoader take as transform=)"),
    ("fastnn.training", "fit, evaluate, predict, callbacks, History, lr_find"),
    ("fastnn.checkpoint", "Checkpoint files"),
    ("fastnn.transfer", "Reusing pretrained layers"),
    ("fastnn.zoo", "The local model zoo"),
    ("fastnn.pretrain", "RBMs, deep belief nets, stacked autoencoders"),
    ("fastnn.diagnostics", "Why a network fails to train"),
    ("fastnn.experiments", "The chapter's experiments"),
    ("fastnn.sklearn", "scikit-learn estimators"),
    ("fastnn.distributed", "Data-parallel training over MPI"),
    ("fastnn.autograd", "The autograd engine"),
    ("fastnn.ops", "The array-level kernel layer"),
    ("fastnn.reference", "The kernels' NumPy twins"),
]
_NAMES = [m for m, _ in MODULES]


def _home(obj):
    """The public module whose page documents obj: the longest listed prefix of its __module__."""
    mod = getattr(obj, "__module__", None) or ""
    best = None
    for m in _NAMES:
        if (mod == m or mod.startswith(m + ".")) and (best is None or len(m) > len(best)):
            best = m
    return best or ("fastnn" if mod.startswith("fastnn") else None)


def _public(modname):
    mod = importlib.import_module(modname)
    names = getattr(mod, "__all__", None) or dir(mod)
    out = []
    for n in names:
        obj = getattr(mod, n, None)
        if n.startswith("_") or obj is None or inspect.ismodule(obj):
            continue
        if not (inspect.isclass(obj) or callable(obj)):
            continue
        compiled = (getattr(obj, "__module__", "") or "").startswith("fastnn._ext")  # the kernels' bindings
        if compiled and modname == "fastnn.ops":
            pass  # documented on the page of the module that exports them
        elif _home(obj) != modname and not (modname == "fastnn" and _home(obj) is None):
            continue
        out.append((n, "class" if inspect.isclass(obj) else "function"))
    return out


def _write_api(app):
    out = os.path.join(app.srcdir, "api", "generated")
    os.makedirs(out, exist_ok=True)
    seen = set()
    for modname, title in MODULES:
        members = [(n, k) for n, k in _public(modname) if (modname, n) not in seen]
        lines = [modname, "=" * len(modname), "", title + ".", "",
                 f".. automodule:: {modname}", "   :no-members:", "", ".. currentmodule:: " + modname, ""]
        if members:
            lines += [".. autosummary::", "   :nosignatures:", ""] + [f"   {n}" for n, _ in members] + [""]
        for n, kind in members:
            if kind == "class":
                lines += [f".. autoclass:: {n}", ""]
            else:
                lines += [f".. autofunction:: {n}", ""]
        text = "\n".join(lines)
        path = os.path.join(out, modname + ".rst")
        if not os.path.exists(path) or open(path).read() != text:
            with open(path, "w") as f:
                f.write(text)


def _skip(app, what, name, obj, skip, options):
    """scikit-learn generates set_*_request methods on estimator classes: its API, not fastnn's."""
    if (getattr(obj, "__module__", "") or "").startswith("sklearn"):
        return True
    return skip


def setup(app):
    app.connect("builder-inited", _write_api)
    app.connect("autodoc-skip-member", _skip)
