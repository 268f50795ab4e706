"""Sample-quality metrics during training (``monitor.metrics``), logged like the other statistics.

Samples come from one fixed noise batch (seeded from the run's seed), so successive values differ
only through G. Image metrics compare against the validation images, never the test set, so that
watching them cannot leak test information into model selection. The real features and k-NN radii
are computed once, when the run starts.
"""

from __future__ import annotations

import numpy as np
import torch

from gannet.config import Config, ConfigError
from gannet.data import Dataset
from gannet.noise import latent_options, sample_noise
from gannet.seeding import derive_seed


class QualityMonitor:
    def __init__(self, cfg: Config, data: Dataset, device: torch.device):
        self.names = list(dict.fromkeys(cfg.monitor.metrics))
        n = cfg.monitor.metrics_samples
        z = sample_noise(cfg.noise.prior, n, cfg.noise.dim, torch.Generator().manual_seed(derive_seed(cfg.seed, "quality")),
                         **latent_options(cfg.noise))
        self.noise = z.to(device)
        if "classifier" in self.names:
            self._prepare_classifier(cfg, data)
        if "modes" in self.names:
            from gannet.data.toy import TOYS

            self.toy = TOYS.get(data.name)
            if self.toy is None or self.toy.dim != 2:
                raise ConfigError(f"monitor.metrics: 'modes' needs a 2-D toy mixture (toy-ring, toy-ring-pacgan, toy-grid), not "
                                  f"data.name={data.name}")
            self.toy_real = self.toy.sample(n, np.random.default_rng(derive_seed(cfg.seed, "quality-real")))

    def _prepare_classifier(self, cfg: Config, data: Dataset) -> None:
        from pathlib import Path

        from gannet.features.classifier import (
            DATASETS,
            ReferenceFeatures,
            classifier_for,
        )

        if data.name not in DATASETS or data.valid is None:
            raise ConfigError(f"monitor.metrics: 'classifier' needs {' or '.join(DATASETS)} with a validation split, "
                              f"not data.name={data.name}")
        classifier = classifier_for(data.name, Path(cfg.data.root).expanduser() if cfg.data.root else None)
        self.reference = ReferenceFeatures(classifier, data.valid[: cfg.monitor.metrics_samples])

    @torch.no_grad()
    def __call__(self, generator: torch.nn.Module) -> dict[str, float]:
        samples = torch.cat([generator(chunk) for chunk in self.noise.split(1000)]).float().cpu().numpy()
        out: dict[str, float] = {}
        if "classifier" in self.names:
            out.update(self._classifier_metrics(samples))
        if "modes" in self.names:
            from gannet.metrics.modes import histogram_jsd, mode_coverage

            flat = samples.reshape(len(samples), -1)
            modes = mode_coverage(flat, self.toy.centres, self.toy.std)
            out.update({"modes_covered": modes["modes_covered"], "modes_covered_published": modes["modes_covered_published"],
                        "high_quality_fraction": modes["high_quality_fraction"],
                        "histogram_jsd": histogram_jsd(real=self.toy_real, fake=flat)})
        return out

    def _classifier_metrics(self, samples: np.ndarray) -> dict[str, float]:
        scores = self.reference.scores(samples, kernel_seed=None)
        return {"classifier_fd": scores["frechet_distance"],
                **{k: scores[k] for k in ("precision", "recall", "density", "coverage", "classes_covered", "class_kl",
                                          "classifier_score")}}
