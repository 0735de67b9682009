"""Data augmentation, generated anew every epoch.

On 200 training images, random shifts of up to one pixel make each epoch see new variants of every
digit; fit applies the transform to every training batch in C, with a fresh draw each time. Choose the
transforms per task, as the chapter says: no flips or large rotations for digits (a 6 becomes a 9).
`BatchCompose` fuses consecutive geometric transforms (shift, rotation, zoom, crop, flips) into one resample;
colour jitter (brightness, contrast, saturation, hue) works the same way on RGB images.

    python examples/augmentation.py
"""
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import fastnn
from fastnn import augment, nn, optim

X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)            # images: N x C x H x W
X_train, X_test, y_train, y_test = train_test_split(X, y, train_size=200, random_state=0, stratify=y)

shifts = augment.BatchRandomShift(max_dx=1, max_dy=1)   # fastnn.augment: whole batches, a draw per sample
print("a composed pipeline:", augment.BatchCompose([augment.BatchRandomShift(1, 1), augment.BatchRandomRotation(10),
                                                     augment.BatchColorJitter(brightness=0.2)]))

for name, transform in (("no augmentation", None), ("random shifts", shifts)):
    accs = []
    for seed in range(3):
        fastnn.manual_seed(seed)
        model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(32 * 16, 10))
        fastnn.fit(model, X_train, y_train, loss="cross_entropy",
                   optimizer=optim.Adam(model.parameters(), lr=3e-3), epochs=60, batch_size=32,
                   transform=transform, seed=seed, verbose=0)
        accs.append(fastnn.evaluate(model, X_test, y_test)["accuracy"])
    print(f"{name:16s}: test accuracy {np.mean(accs):.3f} (seeds: {', '.join(f'{a:.3f}' for a in accs)})")
