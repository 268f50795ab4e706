"""``gannet eval``: score a trained generator with a stated protocol, and write both to the run folder."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch

from gannet import distributed
from gannet.checkpoint import source_of
from gannet.config import Config
from gannet.data import DataError, load_dataset
from gannet.io import atomic_write_text, json_default
from gannet.metrics import parzen
from gannet.metrics.matching import matched_accuracy
from gannet.sampling import generated_samples, state_and_config


def run_folder_of(checkpoint: Path) -> Path:
    """The run folder a checkpoint belongs to (``<run>/checkpoints/x.pt``), else the file's folder."""
    return checkpoint.parent.parent if checkpoint.parent.name == "checkpoints" else checkpoint.parent


def parzen_eval(checkpoint: Path, n_samples: int = 10_000, n_valid: int = 1_000, split: str = "test",
                seed: int = 0, data_root: str | None = None, sigmas=None, device: str = "cpu",
                generator: str = "auto") -> dict:
    """The authors' Parzen protocol on the generator of ``checkpoint``; returns the JSON-ready record.
    ``generator`` picks G or its moving average (:func:`gannet.checkpoint.with_generator`)."""
    state, cfg, data = _generator_and_data(checkpoint, data_root, generator)
    if data.valid is None:
        raise DataError(f"'{data.name}' has no validation split to choose sigma on (set data.valid_size)")
    scored = data.test if split == "test" else data.valid
    n_train = len(data.train)
    if scored is None:
        raise DataError(f"'{data.name}' has no test split; use --split valid (sigma is then chosen on the first "
                        f"{n_valid} validation examples and all of them are scored: an optimistic estimate)")
    started = time.perf_counter()
    samples = generated_samples(state, n_samples, seed=seed, device=device)
    result = parzen.evaluate(samples, data.valid[:n_valid], scored, sigmas)
    result.protocol = {
        "metric": "parzen",
        **_common_protocol(checkpoint, state, cfg, n_samples, seed),
        "sigma_grid": result.sigmas,
        "sigma_chosen_on": f"the first {min(n_valid, len(data.valid))} validation examples",
        "scored": f"all {len(scored)} {split} examples",
        "splits": {"train": [0, n_train], "valid": [n_train, n_train + len(data.valid)],
                   "valid_size": len(data.valid), "valid_used": min(n_valid, len(data.valid)),
                   "test": "the dataset's test file" if data.test is not None else None},
        "standard_error": "std (ddof 0) / sqrt(n) across scored examples",
        "reference": "Goodfellow et al. 2014, Table 1; paper-spec section 3",
        "seconds": round(time.perf_counter() - started, 2),
    }
    return result.to_dict()


def write_record(record: dict, run: Path, name: str) -> Path:
    path = run / f"eval_{name}.json"
    atomic_write_text(path, json.dumps(record, indent=2, default=json_default) + "\n")
    return path


def _generator_and_data(checkpoint: Path, data_root: str | None, generator: str = "auto"):
    state, cfg = state_and_config(checkpoint, generator)
    return state, cfg, _data(cfg, data_root)


def _data(cfg: Config, data_root: str | None):
    if data_root:
        cfg.data.root = data_root
    return load_dataset(cfg.data, cfg.seed)


# ---------------------------------------------------------------------------------------------------
# Which runs a metric applies to: each check returns None when it does, else the reason it does not,
# which the metric raises as a DataError and ``--metric all`` uses to leave the metric out.


def _require(reason: str | None) -> None:
    if reason is not None:
        raise DataError(reason)


def _labelled_datasets() -> tuple[str, ...]:
    from gannet.features.classifier import DATASETS

    return DATASETS


def parzen_applies(state: dict) -> str | None:
    return None  # any data: the dataset's own validation and test splits are checked when it is read


def classifier_applies(state: dict) -> str | None:
    name, labelled = state["config"]["data"]["name"], _labelled_datasets()
    if name not in labelled:
        return f"classifier metrics need one of {', '.join(labelled)}; '{name}' is not one (toy runs: --metric modes)"
    return None


def codes_apply(state: dict) -> str | None:
    config, where = state["config"], source_of(state)
    categorical, name = config["noise"].get("categorical", 0), config["data"]["name"]
    if categorical < 2:
        return (f"{where}: the run has no categorical code to score (noise.categorical is {categorical}; see the "
                f"infogan-mnist recipe)")
    if name not in _labelled_datasets():
        return f"code accuracy needs labelled images ({', '.join(_labelled_datasets())}); the run trained on '{name}'"
    if state.get("discriminator") is None:
        return f"{where}: a generator-only file has no Q to read codes with; use the run's checkpoint"
    return None


def elbo_applies(state: dict) -> str | None:
    if state["config"]["train"].get("update") != "vae" or state.get("encoder") is None:
        return (f"{source_of(state)}: ELBO bounds need a VAE run (train.update: vae) with its encoder; a GAN has no "
                f"density to bound")
    return None


def modes_apply(state: dict) -> str | None:
    from gannet.data.toy import TOYS

    name = state["config"]["data"]["name"]
    if name not in TOYS or TOYS[name].dim != 2:
        mixtures = ", ".join(n for n, toy in TOYS.items() if toy.dim == 2)
        return f"mode metrics need a 2-D toy mixture run ({mixtures}); this run trained on '{name}'"
    return None


def inception_applies(state: dict) -> str | None:
    data = state["config"]["data"]
    if state["data_kind"] != "image":
        return f"Inception FID needs an image dataset with a test split; '{data['name']}' is not one"
    if data.get("gcn") is not None:
        return (f"{source_of(state)}: Inception FID takes images in [0, 1]; this run's data is contrast-normalised "
                f"(data.gcn={data['gcn']:g}), so its FID would not compare with any published one")
    return None


def _common_protocol(checkpoint: Path, state: dict, cfg: Config, n_samples: int, seed: int) -> dict:
    return {"checkpoint": str(checkpoint), "step": int(state["step"]), "dataset": cfg.data.name,
            "generator": _which_generator(state, cfg) + ", noise prior " + cfg.noise.prior
                         + (f", z scaled by {cfg.noise.scale:g}" if cfg.noise.scale != 1.0 else ""),
            "n_samples": n_samples, "sample_seed": seed}


def _which_generator(state: dict, cfg: Config) -> str:
    if state.get("average_of"):
        steps = state["average_of"]
        return (f"uniform average of G's weights over {len(steps)} kept checkpoints (steps {steps[0]:,} to "
                f"{steps[-1]:,})")
    return (f"exponential moving average of G's weights (decay {cfg.train.ema})"
                          if state.get("generator_ema") or state.get("averaged") else "raw G (no weight averaging)"
                          + ("; the run's moving average not used" if cfg.train.ema else ""))


def classifier_eval(checkpoint: Path, n_samples: int = 10_000, seed: int = 0, data_root: str | None = None,
                    device: str = "cpu", classifier_folder: Path | None = None, generator: str = "auto") -> dict:
    """Sample-quality and coverage metrics on gannet's own classifier (``gannet.features.classifier``):
    features of the test images and of ``n_samples`` samples are extracted once and shared by every
    metric. The validation images, scored as if they were samples, give each metric's value for real
    data of the same size: the reference a perfect generator would reach."""
    from gannet.features.classifier import ReferenceFeatures, classifier_for

    state, cfg = state_and_config(checkpoint, generator)
    _require(classifier_applies(state))
    data = _data(cfg, data_root)
    started = time.perf_counter()
    root = Path(cfg.data.root).expanduser() if cfg.data.root else None
    with distributed.main_first():  # under torchrun, rank 0 trains and caches the classifier if needed
        classifier = classifier_for(data.name, root, classifier_folder)
    reference = ReferenceFeatures(classifier, data.test)
    record = {"metric": "classifier",
              "generated": reference.scores(generated_samples(state, n_samples, seed=seed, device=device), seed)}
    if data.valid is not None:
        record["real_reference"] = reference.scores(data.valid, seed)
    record["protocol"] = {
        **_common_protocol(checkpoint, state, cfg, n_samples, seed),
        "reference_set": f"all {len(data.test)} test images",
        "real_reference": f"the {0 if data.valid is None else len(data.valid)} validation images scored like samples",
        "feature_network": f"gannet ImageClassifier for {data.name} (128-d penultimate ReLU features, softmax "
                           f"probabilities); not Inception-v3, so not comparable with published FID/KID/IS",
        "feature_network_sha256": classifier.record["sha256"],
        "feature_network_test_accuracy": classifier.record["test_accuracy"],
        "frechet_distance": "Gaussians fitted to the features, eigendecomposition route, float64",
        "kernel_distance": "unbiased MMD^2, kernel (x.y/d + 1)^3, 100 subsets of min(1000, n), mean and std",
        "precision_recall": "Kynkaanniemi et al. 2019, k = 3", "density_coverage": "Naeem et al. 2020, k = 5",
        "seconds": round(time.perf_counter() - started, 2),
    }
    return record


def codes_eval(checkpoint: Path, split: str = "test", data_root: str | None = None, device: str = "cpu") -> dict:
    """InfoGAN's categorical code as a classifier (Chen et al. 2016, Section 7.1): Q reads the code of
    every labelled ``split`` image, and the codes are matched one-to-one to the classes so as to
    maximise the accuracy (:func:`gannet.metrics.matching.matched_accuracy`)."""
    from gannet.data.datasets import default_root
    from gannet.data.mnist import load_labelled
    from gannet.models import evaluating, networks_from_state
    from gannet.training.info import read_codes

    if split != "test":
        raise DataError(f"--split {split}: the codes metric scores the labelled test images only (--split test)")
    state, cfg = state_and_config(checkpoint)
    _require(codes_apply(state))
    _, _, D = networks_from_state(state)
    root = Path(data_root or cfg.data.root or default_root(cfg.data.name)).expanduser()
    images, labels = load_labelled(root, cfg.data.name, split)
    started = time.perf_counter()
    x = torch.from_numpy(images.astype(np.float32) / 255.0)
    D.to(device)
    with torch.no_grad(), evaluating(D):
        codes = torch.cat([read_codes(D, part.to(device))[0].argmax(1).cpu() for part in x.split(1000)]).numpy()
    n_classes = int(labels.max()) + 1
    record = {"metric": "codes", **matched_accuracy(codes, labels, cfg.noise.categorical, n_classes),
              "code_counts": np.bincount(codes, minlength=cfg.noise.categorical).tolist()}
    record["protocol"] = {"checkpoint": str(checkpoint), "step": int(state["step"]), "dataset": cfg.data.name,
                          "scored": f"all {len(labels)} {split} images with their labels",
                          "reader": "Q's categorical logits on D's features, argmax, D in eval mode",
                          "matching": "one-to-one, maximising accuracy (Hungarian algorithm)",
                          "reference": "Chen et al. 2016, Section 7.1: about 5% error on MNIST",
                          "seconds": round(time.perf_counter() - started, 2)}
    return record


def elbo_eval(checkpoint: Path, importance_samples: int = 100, split: str = "test", seed: int = 0,
              data_root: str | None = None, device: str = "cpu") -> dict:
    """A VAE run's bounds on log p(x) of every ``split`` image: the ELBO (one draw) and the importance-
    weighted bound with ``importance_samples`` draws (:func:`gannet.training.vae.importance_weighted_bound`)."""
    from gannet.training.vae import GaussianEncoder, importance_weighted_bound

    state, cfg = state_and_config(checkpoint, "raw")
    _require(elbo_applies(state))
    data = _data(cfg, data_root)
    images = data.test if split == "test" else data.valid
    if images is None:
        raise DataError(f"'{data.name}' has no {split} split")
    from gannet.models import networks_from_state

    _, G, _ = networks_from_state(state)
    encoder = GaussianEncoder(tuple(state["data_shape"]), cfg.loss.encoder_hidden, cfg.noise.dim)
    encoder.load_state_dict(state["encoder"])
    G.to(device), encoder.to(device).eval()
    rng = torch.Generator().manual_seed(seed)
    started = time.perf_counter()
    elbo, iwae = [], []
    with torch.no_grad():
        for part in torch.from_numpy(images).split(500):
            eps = torch.randn(importance_samples, len(part), cfg.noise.dim, generator=rng).to(device)
            part = part.to(device)
            elbo.append(importance_weighted_bound(G, encoder, part, eps[:1]).cpu())
            iwae.append(importance_weighted_bound(G, encoder, part, eps).cpu())
    elbo, iwae = torch.cat(elbo).double().numpy(), torch.cat(iwae).double().numpy()
    n = len(elbo)
    return {"metric": "elbo", "elbo": float(elbo.mean()), "elbo_se": float(elbo.std() / np.sqrt(n)),
            "iwae": float(iwae.mean()), "iwae_se": float(iwae.std() / np.sqrt(n)),
            "protocol": {"checkpoint": str(checkpoint), "step": int(state["step"]), "dataset": cfg.data.name,
                         "scored": f"all {n} {split} images", "importance_samples": importance_samples,
                         "generator": "raw G, the decoder the encoder was trained with",
                         "likelihood": "Bernoulli on the [0, 1] pixels (a cross-entropy: not a density of real-"
                                       "valued images, so not comparable with Parzen nats)",
                         "noise_seed": seed, "seconds": round(time.perf_counter() - started, 2)}}


def modes_eval(checkpoint: Path, n_samples: int = 2_500, n_histogram: int = 10_000, seed: int = 0,
               device: str = "cpu", generator: str = "auto") -> dict:
    """Mode coverage (VEEGAN protocol, ``n_samples`` samples) and histogram JSD (``n_histogram`` samples
    against as many fresh data points) for the 2-D toy mixtures."""
    from gannet.data.toy import TOYS
    from gannet.metrics.modes import histogram_jsd, mode_coverage

    state, cfg = state_and_config(checkpoint, generator)
    _require(modes_apply(state))
    toy = TOYS[cfg.data.name]
    started = time.perf_counter()
    samples = generated_samples(state, max(n_samples, n_histogram), seed=seed, device=device).reshape(-1, 2)
    real = toy.sample(n_histogram, np.random.default_rng([seed, 7]))
    record = {"metric": "modes", **mode_coverage(samples[:n_samples], toy.centres, toy.std),
              "histogram_jsd": histogram_jsd(real=real, fake=samples[:n_histogram])}
    record["protocol"] = {**_common_protocol(checkpoint, state, cfg, n_samples, seed),
                          "modes": f"{len(toy.centres)} centres, std {toy.std}",
                          "histogram": f"{n_histogram} samples against {n_histogram} fresh data points "
                                       f"(numpy default_rng([{seed}, 7])), 100x100 bins over the data's range + 10%",
                          "seconds": round(time.perf_counter() - started, 2)}
    return record


def inception_eval(checkpoint: Path, weights: Path, n_samples: int = 10_000, seed: int = 0,
                   data_root: str | None = None, device: str = "cpu", sha256: str | None = None,
                   generator: str = "auto") -> dict:
    """FID with the standard Inception-v3 pool features (weights from a local, hash-checked file):
    ``n_samples`` samples against all test images. About 6 GFLOP per image: minutes on a GPU, tens of
    minutes on a laptop CPU for the default sizes."""
    from gannet.features.inception import (
        STANDARD_SHA256,
        inception_features,
        load_inception,
    )
    from gannet.metrics.frechet import frechet_distance_of_features

    state, cfg = state_and_config(checkpoint, generator)
    _require(inception_applies(state))
    data = _data(cfg, data_root)
    if data.test is None:
        raise DataError(f"Inception FID needs an image dataset with a test split; '{data.name}' is not one")
    started = time.perf_counter()
    net = load_inception(weights, sha256 or STANDARD_SHA256).to(device)
    real = inception_features(net, data.test)
    fake = inception_features(net, generated_samples(state, n_samples, seed=seed, device=device))
    return {"metric": "inception", "inception_fid": frechet_distance_of_features(real=real, fake=fake),
            "protocol": {**_common_protocol(checkpoint, state, cfg, n_samples, seed),
                         "reference_set": f"all {len(data.test)} test images",
                         "feature_network": f"FID Inception-v3 pool features (2048-d) from {weights}",
                         "feature_network_sha256": sha256 or STANDARD_SHA256,
                         "preprocessing": "grey repeated to RGB, bilinear resize to 299x299, [0, 1] -> [-1, 1]",
                         "seconds": round(time.perf_counter() - started, 2)}}
