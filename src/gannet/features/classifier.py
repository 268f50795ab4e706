"""A small convolutional classifier of 28x28 grey images, trained by gannet on the real training split.

It stands in for Inception-v3 where those weights are not available (and they are not downloaded
silently): its class probabilities p(y|x) feed class coverage and the classifier score, its 128-unit
penultimate layer feeds the Frechet and kernel distances, precision/recall and density/coverage.
Scores from it compare runs with each other, never with Inception-based numbers from papers.

It is trained once per dataset (about a minute on 2 CPU cores), then cached as
``<cache>/classifiers/<dataset>.pt`` with a JSON record beside it (SHA-256 of the weights file, test
accuracy, training protocol). The cache folder is ``$GANNET_CACHE`` or ``~/.cache/gannet``. Loading
checks the SHA-256; a file that does not match is refused with the command that retrains it.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from gannet.checkpoint import load_checkpoint, save_checkpoint
from gannet.io import atomic_write_text

DATASETS = ("mnist", "fashion-mnist")
FEATURE_DIM = 128


class ClassifierError(ValueError):
    """A cached classifier that is missing, corrupt or for other data; the message says how to fix it."""


class ImageClassifier(nn.Module):
    """conv 3x3 (32) -> pool -> conv 3x3 (64) -> pool -> 128 ReLU features -> 10 logits."""

    def __init__(self, classes: int = 10):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 7 * 7, FEATURE_DIM), nn.ReLU(),
        )
        self.head = nn.Linear(FEATURE_DIM, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))

    @torch.no_grad()
    def features_and_probabilities(self, images, batch: int = 1000) -> tuple[np.ndarray, np.ndarray]:
        """Penultimate features (n, 128) and softmax probabilities (n, classes) of images (n, 1, 28, 28)
        in [0, 1], computed in batches."""
        x = torch.as_tensor(np.asarray(images, dtype=np.float32))
        if x.ndim == 3:
            x = x[:, None]
        if x.shape[1:] != (1, 28, 28):
            raise ValueError(f"the classifier takes (n, 1, 28, 28) images, got {tuple(x.shape)}")
        self.eval()
        feats, probs = [], []
        for chunk in x.split(batch):
            h = self.body(chunk)
            feats.append(h)
            probs.append(torch.softmax(self.head(h), dim=1))
        return torch.cat(feats).numpy().astype(np.float64), torch.cat(probs).numpy().astype(np.float64)


@dataclass
class TrainedClassifier:
    net: ImageClassifier
    record: dict  # dataset, test_accuracy, sha256, protocol


def cache_dir() -> Path:
    base = os.environ.get("GANNET_CACHE")
    return (Path(base) if base else Path.home() / ".cache" / "gannet") / "classifiers"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def train_classifier(dataset: str, root: Path, epochs: int = 3, seed: int = 0, batch: int = 128,
                     limit: int | None = None) -> TrainedClassifier:
    """Train on the dataset's 60,000 training images (the first ``limit`` of them, when given: for quick
    tests), report test accuracy."""
    from gannet.data.mnist import load_labelled

    images, labels = load_labelled(root, dataset, "train")
    images, labels = images[:limit], labels[:limit]
    test_images, test_labels = load_labelled(root, dataset, "test")
    x = torch.from_numpy(images.astype(np.float32) / 255.0)[:, None]
    y = torch.from_numpy(labels.astype(np.int64))
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = ImageClassifier()
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-3)
    started = time.perf_counter()
    net.train()
    for _ in range(epochs):
        for index in torch.randperm(len(x), generator=generator).split(batch):
            loss = nn.functional.cross_entropy(net(x[index]), y[index])
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
    _, probs = net.features_and_probabilities(test_images.astype(np.float32)[:, None] / 255.0)
    accuracy = float((probs.argmax(1) == test_labels).mean())
    record = {"dataset": dataset, "test_accuracy": accuracy, "train_images": len(x), "test_images": len(test_images),
              "protocol": f"{epochs} epochs of Adam (lr 1e-3, batch {batch}) on {len(x)} training images, seed {seed}",
              "train_seconds": round(time.perf_counter() - started, 1), "feature_dim": FEATURE_DIM,
              "class_frequencies": np.bincount(labels, minlength=10).tolist()}
    return TrainedClassifier(net.eval(), record)


def save_classifier(trained: TrainedClassifier, folder: Path | None = None) -> Path:
    folder = folder or cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{trained.record['dataset']}.pt"
    save_checkpoint({"classifier": trained.net.state_dict(), "record": trained.record}, path)
    trained.record["sha256"] = sha256_of(path)
    atomic_write_text(path.with_suffix(".json"), json.dumps(trained.record, indent=2) + "\n")
    return path


def load_classifier(dataset: str, folder: Path | None = None) -> TrainedClassifier:
    """The cached classifier of ``dataset``, its SHA-256 checked against its record."""
    folder = folder or cache_dir()
    path, meta = folder / f"{dataset}.pt", folder / f"{dataset}.json"
    retrain = f"gannet classifier train {dataset} --force"
    if not path.exists() or not meta.exists():
        raise ClassifierError(f"{path}: no classifier for {dataset} yet; train it with: gannet classifier train {dataset}")
    record = json.loads(meta.read_text())
    actual = sha256_of(path)
    if actual != record.get("sha256"):
        raise ClassifierError(f"{path}: SHA-256 {actual[:12]}... does not match its record {meta.name} "
                              f"({str(record.get('sha256'))[:12]}...): the file was changed or is corrupt. Retrain: {retrain}")
    state = load_checkpoint(path, required=("classifier",))
    net = ImageClassifier()
    net.load_state_dict(state["classifier"])
    return TrainedClassifier(net.eval(), record)


def classifier_for(dataset: str, root: Path | None = None, folder: Path | None = None) -> TrainedClassifier:
    """Load the cached classifier, training and caching it first when there is none."""
    if dataset not in DATASETS:
        raise ClassifierError(f"no classifier for '{dataset}': gannet trains one for {', '.join(DATASETS)}")
    try:
        return load_classifier(dataset, folder)
    except ClassifierError as err:
        if "no classifier" not in str(err):
            raise
    from gannet.data import default_root

    trained = train_classifier(dataset, Path(root) if root else default_root(dataset))
    save_classifier(trained, folder)
    return trained


class ReferenceFeatures:
    """Classifier features of a real image set, with the k-NN radii that precision/recall (k = 3) and
    density/coverage (k = 5) need: computed once, then every scored set is compared against them."""

    def __init__(self, classifier: TrainedClassifier, images):
        from gannet.metrics.manifold import kth_neighbour_radii

        self.classifier = classifier
        self.features, _ = _shared_features(classifier, images)
        self.radii3, self.radii5 = kth_neighbour_radii(self.features, [3, 5])

    def scores(self, images, kernel_seed: int | None = 0) -> dict:
        """Every classifier metric of ``images`` (samples or real images) against this reference;
        ``kernel_seed=None`` skips the kernel distance (the slowest of them)."""
        from gannet.metrics.classes import class_statistics
        from gannet.metrics.frechet import frechet_distance_of_features
        from gannet.metrics.kernel import kernel_distance
        from gannet.metrics.manifold import density_coverage, precision_recall

        feats, probs = _shared_features(self.classifier, images)
        real = self.features
        out = {"frechet_distance": frechet_distance_of_features(real=real, fake=feats)}
        if kernel_seed is not None:
            out["kernel_distance"] = kernel_distance(real=real, fake=feats, seed=kernel_seed)
        pr = precision_recall(real=real, fake=feats, k=3, real_radii=self.radii3)
        dc = density_coverage(real=real, fake=feats, k=5, real_radii=self.radii5)
        out.update({k: v for k, v in {**pr, **dc}.items() if k != "k"})  # k is in the protocol
        out.update(class_statistics(probs, self.classifier.record["class_frequencies"]))
        return out


def _shared_features(classifier: TrainedClassifier, images) -> tuple[np.ndarray, np.ndarray]:
    """Features and probabilities, the images shared across ranks under ``gannet eval`` with torchrun."""
    from gannet import distributed

    return distributed.map_rows(classifier.net.features_and_probabilities, images)
