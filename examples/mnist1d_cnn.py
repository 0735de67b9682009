"""A 1-D CNN on MNIST-1D (Greydanus 2020), the way the dataset's own training script trains it.

Data: generated offline by the `mnist1d` package with its default arguments (4000 training and 1000 test
sequences of length 40, 10 classes). Model: the paper's ConvBase -- three Conv1d layers of 25 channels
(kernel 5 then 3, stride 2, padding 1) with ReLU, then a linear head. Training: Adam, lr 1e-2, batch 100
drawn at random each step, 8000 steps. The paper reports 94% test accuracy for this CNN.

    pip install mnist1d && python examples/mnist1d_cnn.py [--steps 8000] [--torch]

With --torch the same script also runs on PyTorch (same data, same initial weights) for comparison.
"""
import argparse
import time

import numpy as np


def load_mnist1d():
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError:
        raise SystemExit("this example needs the MNIST-1D generator: pip install mnist1d") from None
    d = make_dataset(get_dataset_args())  # the defaults: generated, never downloaded
    return (d["x"].astype(np.float32), d["y"].astype(np.int64), d["x_test"].astype(np.float32),
            d["y_test"].astype(np.int64))


def conv_base(nn, channels=25, length=40, classes=10):
    """The paper's ConvBase: 40 -> 19 -> 10 -> 5 positions, 25 channels, a linear head."""
    class ConvBase(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv1d(1, channels, 5, stride=2, padding=1)
            self.conv2 = nn.Conv1d(channels, channels, 3, stride=2, padding=1)
            self.conv3 = nn.Conv1d(channels, channels, 3, stride=2, padding=1)
            self.linear = nn.Linear(channels * 5, classes)

        def forward(self, x):
            x = x.view(-1, 1, x.shape[-1])
            h = self.conv1(x).relu()
            h = self.conv2(h).relu()
            h = self.conv3(h).relu()
            return self.linear(h.view(h.shape[0], -1))
    return ConvBase()


def train(lib, data, steps=8000, batch_size=100, lr=1e-2, seed=42, init_state=None, eval_every=1000,
          verbose=True):
    """Train ConvBase with library `lib` (fastnn or torch); returns (test accuracy, seconds, model)."""
    nn, optim = lib.nn, lib.optim
    xtr, ytr, xte, yte = (lib.from_numpy(a) for a in data)
    lib.manual_seed(seed)
    model = conv_base(nn)
    if init_state is not None:
        model.load_state_dict({k: lib.from_numpy(np.array(v)) for k, v in init_state.items()})
    opt = optim.Adam(model.parameters(), lr=lr)
    lossf = nn.CrossEntropyLoss()
    rng = np.random.default_rng(seed)

    def accuracy():
        with lib.no_grad():
            return (model(xte).argmax(-1) == yte).float().mean().item()

    t0, spent = time.perf_counter(), 0.0
    for step in range(1, steps + 1):
        bix = lib.from_numpy(rng.integers(0, len(ytr), batch_size))
        loss = lossf(model(xtr[bix]), ytr[bix])
        loss.backward()
        opt.step()
        opt.zero_grad()
        if verbose and step % eval_every == 0:
            spent += time.perf_counter() - t0
            print(f"  {lib.__name__:6s} step {step:5d}  loss {loss.item():.3f}  test accuracy {accuracy():.3f}")
            t0 = time.perf_counter()
    spent += time.perf_counter() - t0
    return accuracy(), spent, model


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=8000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--torch", action="store_true", help="also train the same model with PyTorch")
    args = ap.parse_args(argv)
    import fastnn

    data = load_mnist1d()
    print(f"MNIST-1D: {len(data[1])} training / {len(data[3])} test sequences of length {data[0].shape[1]}")
    acc, secs, model = train(fastnn, data, steps=args.steps, seed=args.seed)
    print(f"fastnn: test accuracy {acc:.4f} after {args.steps} steps in {secs:.1f} s "
          f"({args.steps / secs:,.0f} steps/s); the paper reports 0.94 for this CNN")
    result = {"fastnn_accuracy": acc, "fastnn_seconds": secs}
    if args.torch:
        import torch

        torch.set_num_threads(fastnn.get_num_threads())
        fastnn.manual_seed(args.seed)
        init = conv_base(fastnn.nn).state_dict()  # both start from the same weights
        tacc, tsecs, _ = train(torch, data, steps=args.steps, seed=args.seed, init_state=init)
        print(f"torch:  test accuracy {tacc:.4f} in {tsecs:.1f} s; fastnn {tsecs / secs:.2f}x faster")
        result.update(torch_accuracy=tacc, torch_seconds=tsecs)
    return result


if __name__ == "__main__":
    main()
