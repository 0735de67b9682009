"""Containers: Sequential (a chain the explicit kernel pair runs without Python between its layers),
ModuleList, ModuleDict, ParameterList, ParameterDict -- PyTorch's, registering their members as
submodules and parameters."""
from collections import OrderedDict

import numpy as np

from .._autocast import products_bf16
from .._workspace import chain_backward, chain_forward
from ..tensor import Tensor, _wrap
from .dropout import Dropout
from .linear import Linear
from .module import Module, layer_call
from .normalization import BatchNorm1d
from .parameter import Parameter, pack


class _ModuleSequence:
    """Length, iteration and renumbering shared by Sequential and ModuleList (keys "0", "1", ...)."""

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def _renumber(self, items):
        self._modules.clear()
        for i, m in enumerate(items):  # as PyTorch: keys follow the positions
            self.add_module(str(i), m)

    def _changed(self):
        """Hook after the list of modules changed (Sequential repacks its arena)."""

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def insert(self, index, module):
        items = list(self._modules.values())
        n = len(items)
        if not -n <= index <= n:
            raise IndexError(f"index {index} is out of range")
        items.insert(index if index >= 0 else n + index, module)
        self._renumber(items)
        self._changed()
        return self


class Sequential(_ModuleSequence, Module):
    """Modules applied in order. Indexing gives a layer; slicing gives a Sequential that shares the
    same layers (``model[:3]``); item assignment, deletion, insert, append and extend edit it. Building
    one packs its parameters into one arena. A Sequential of built-in layers runs as one fused graph
    node on tensors (and as the explicit chain on arrays).

    Parameters
    ----------
    *modules : iterable or dict, optional
        The modules to hold.

    Examples
    --------
    >>> model = fastnn.nn.Sequential(fastnn.nn.Linear(784, 300), fastnn.nn.ReLU(), fastnn.nn.Linear(300, 10))
    >>> model[:2]   # the first two layers, shared
    """

    _native = True
    _chain = 0

    def get_config(self):
        return {"layers": [{"name": n, "class": type(m).__name__, "config": m.get_config()}
                           for n, m in self._modules.items()]}

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (dict, OrderedDict)):
            modules = list(modules[0].items())
        else:
            modules = [(str(i), m) for i, m in enumerate(modules)]
        for name, m in modules:
            self.add_module(name, m)
        self._repack()

    def _repack(self):
        params = self._param_list()
        if params:
            try:
                pack(params)
            except TypeError:  # mixed dtypes: the optimizer or to(dtype) will say so
                pass

    def _fusable(self):
        if not type(self)._native or self._forward_hooks or self._forward_pre_hooks:
            return False
        for m in self._modules.values():
            if m is not None and not m._fusable():
                return False
        return True

    def forward(self, x):
        if self._fusable():
            return layer_call(self, x)
        if not isinstance(x, Tensor):
            x = _wrap(np.asarray(x))
        for m in self._modules.values():
            if m is not None:
                x = m(x)
        return x

    def _fwd(self, x):
        return chain_forward(self._modules.values(), x, products_bf16())

    def _bwd(self, ctxs, g, need_input_grad, accumulate=True):
        """Back through the layers in reverse. Without need_input_grad it stops at the lowest layer
        with trainable parameters: frozen lower layers cost forward time only."""
        return chain_backward(self._modules.values(), ctxs, g, need_input_grad, accumulate)

    def __getitem__(self, idx):
        mods = list(self._modules.values())
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        return mods[idx]

    def _key(self, idx):
        keys = list(self._modules)
        n = len(keys)
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range")
        return keys[idx % n]

    def __setitem__(self, idx, module):
        self.add_module(self._key(idx), module)
        self._repack()

    def __delitem__(self, idx):
        if isinstance(idx, slice):
            for k in list(self._modules)[idx]:
                del self._modules[k]
        else:
            del self._modules[self._key(idx)]
        self._renumber(list(self._modules.values()))

    def __add__(self, other):
        return Sequential(*self, *other)

    def append(self, module):
        if not isinstance(module, Module):
            raise TypeError(f"module: expected a fastnn Module, got {type(module).__name__}")
        dts = {p._a.dtype for p in list(self.parameters()) + list(module.parameters())}
        if len(dts) > 1:
            raise TypeError(f"append: the new module's dtype differs from the model's ({sorted(map(str, dts))}); "
                            "convert it with .to(dtype) first")
        self.add_module(str(len(self._modules)), module)
        self._repack()
        return self

    def _changed(self):
        self._repack()

    def pop(self, index=-1):
        m = self[index]
        del self[index]
        return m


class ModuleList(_ModuleSequence, Module):
    """A list of modules, registered (their parameters belong to the parent).

    Parameters
    ----------
    modules : iterable of Module, optional
        The modules, in order.
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx):
        if isinstance(idx, slice):  # `for layer in self.layers[:-1]` runs every forward: build it directly
            new = ModuleList()
            mods = new.__dict__["_modules"]
            for i, m in enumerate(list(self._modules.values())[idx]):
                mods[str(i)] = m
                new.__dict__[str(i)] = m
            return new
        return list(self._modules.values())[idx]

    def __setitem__(self, idx, module):
        keys = list(self._modules)
        self.add_module(keys[idx], module)

    def __delitem__(self, idx):
        items = list(self._modules.values())
        del items[idx]
        self._renumber(items)

    def __iadd__(self, modules):
        return self.extend(modules)

    def append(self, module):
        self.add_module(str(len(self._modules)), module)
        return self

    def forward(self, *a, **k):
        raise NotImplementedError("ModuleList has no forward(): iterate over it in your module's forward")


class _Mapping:
    """The read side of a dict over one of a module's registries (named by _store)."""

    _store = None

    def _d(self):
        return self.__dict__[self._store]

    def __getitem__(self, key):
        return self._d()[key]

    def __len__(self):
        return len(self._d())

    def __iter__(self):
        return iter(self._d())

    def __contains__(self, key):
        return key in self._d()

    def keys(self):
        return self._d().keys()

    def values(self):
        return self._d().values()

    def items(self):
        return self._d().items()


class ModuleDict(_Mapping, Module):
    """A dict of modules, registered under their keys.

    Parameters
    ----------
    modules : dict of Module, optional
        The modules, by name.
    """

    _store = "_modules"

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def update(self, modules):
        items = modules.items() if hasattr(modules, "items") else modules
        for k, m in items:
            self.add_module(k, m)

    def pop(self, key):
        m = self._modules[key]
        del self._modules[key]
        return m

    def clear(self):
        self._modules.clear()

    def forward(self, *a, **k):
        raise NotImplementedError("ModuleDict has no forward(): index it in your module's forward")


class ParameterList(Module):
    """A list of parameters, registered.

    Parameters
    ----------
    values : iterable of Parameter, optional
        The parameters to hold.
    """

    def __init__(self, values=None):
        super().__init__()
        for v in values or ():
            self.append(v)

    def __getitem__(self, idx):
        return list(self._parameters.values())[idx]

    def __setitem__(self, idx, p):
        self.register_parameter(list(self._parameters)[idx], p if isinstance(p, Parameter) else Parameter(p))

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def append(self, p):
        self.register_parameter(str(len(self._parameters)), p if isinstance(p, Parameter) else Parameter(p))
        return self

    def extend(self, ps):
        for p in ps:
            self.append(p)
        return self


class ParameterDict(_Mapping, Module):
    """A dict of parameters, registered under their keys.

    Parameters
    ----------
    parameters : dict of Parameter, optional
        The parameters to hold, by name.
    """

    _store = "_parameters"

    def __init__(self, parameters=None):
        super().__init__()
        for k, p in (parameters.items() if hasattr(parameters, "items") else parameters or ()):
            self[k] = p

    def __setitem__(self, key, p):
        self.register_parameter(key, p if isinstance(p, Parameter) else Parameter(p))


def mlp(n_in, hidden, n_out, activation, *, init="default", batch_norm=False, dropout=0.0, regularizer=None,
        named=False):
    """The chapter's multilayer perceptron: per hidden width h, Linear(init) -> [BatchNorm1d] -> activation()
    -> [Dropout], then a Linear head (PyTorch's default init). named=True names the layers fc1, bn1, act1,
    drop1, ..., out (the zoo's files use those names). Layers are made in that order, so a seed gives the
    same weights and dropout streams wherever the network is built (demo, zoo, estimators, experiments)."""
    layers, w = [], n_in
    for i, h in enumerate(hidden, 1):
        layers.append((f"fc{i}", Linear(w, h, init=init, regularizer=regularizer)))
        if batch_norm:
            layers.append((f"bn{i}", BatchNorm1d(h)))
        layers.append((f"act{i}", activation()))
        if dropout:
            layers.append((f"drop{i}", Dropout(dropout)))
        w = h
    layers.append(("out", Linear(w, n_out, regularizer=regularizer)))
    return Sequential(OrderedDict(layers)) if named else Sequential(*[m for _, m in layers])
