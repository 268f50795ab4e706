"""The table of metrics: what each is, which runs it applies to, how it runs and how its result reads.

:data:`METRICS` drives ``gannet eval`` (its ``--metric`` choices and help, ``--metric all``, the
summary it prints, the record it writes) and :func:`gannet.evaluate`. Adding a metric is one
function in :mod:`gannet.evaluation` (with its applicability check) and one row here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Callable

from gannet import distributed, evaluation
from gannet.errors import UsageError


@dataclass(frozen=True)
class Protocol:
    """The options of an evaluation, as ``gannet eval`` takes them. ``samples`` None is each metric's
    own default (:attr:`Metric.default_samples`)."""

    samples: int | None = None
    valid: int = 1_000
    split: str = "test"
    seed: int = 0
    data_root: str | None = None
    device: str = "cpu"
    generator: str = "auto"
    inception_weights: str | None = None

    @classmethod
    def of(cls, options: dict[str, Any]) -> Protocol:
        """A protocol from keyword options, refusing unknown ones by name."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise UsageError(f"unknown evaluation option {', '.join(unknown)}; options: {', '.join(sorted(known))}")
        return cls(**options)

    def check(self) -> None:
        if (self.samples is not None and self.samples <= 0) or self.valid <= 0:
            raise UsageError("--samples and --valid must be positive")
        if self.split not in ("test", "valid"):
            raise UsageError(f"split must be test or valid, got {self.split!r}")
        if not 0 <= self.seed < 2**63:
            raise UsageError(f"--seed {self.seed}: a seed is a non-negative integer below 2**63")
        from gannet.sampling import check_device

        check_device(self.device)


@dataclass(frozen=True)
class Metric:
    name: str
    help: str
    applies: Callable[[dict], str | None]  # None when the metric applies to a checkpoint's state, else why not
    run: Callable[[Path, Protocol], dict]
    summary: Callable[[dict, Protocol], str]
    default_samples: int | None = 10_000
    reads_generator: bool = True  # False: it reads D or the encoder, so --generator does not name its record
    in_all: bool = True  # part of --metric all (inception only when its weights are given)


def _parzen_summary(record: dict, p: Protocol) -> str:
    edge = " (at the edge of the grid)" if record["sigma_at_edge"] else ""
    return (f"Parzen log-likelihood: {record['mean']:.2f} +- {record['standard_error']:.2f} nats "
            f"(sigma {record['sigma']:.4g}{edge}; {record['n_samples']} samples, {record['n_test']} {p.split} "
            f"examples; step {record['protocol']['step']})\n"
            "validation curve: " + ", ".join(f"{s:.3g}: {c:.1f}" for s, c in zip(record["sigmas"],
                                                                                 record["valid_curve"])))


def _classifier_summary(record: dict, p: Protocol) -> str:
    rows = [("generated", record["generated"])]
    if "real_reference" in record:
        rows.append(("real (valid)", record["real_reference"]))
    lines = [f"classifier metrics ({record['protocol']['feature_network']}):",
             f"{'':14} {'FD':>8} {'KD':>9} {'prec':>6} {'recall':>6} {'density':>7} {'cover':>6} "
             f"{'classes':>7} {'class KL':>8} {'score':>6}"]
    for name, m in rows:
        lines.append(f"{name:14} {m['frechet_distance']:8.3f} {m['kernel_distance']['mean']:9.3f} "
                     f"{m['precision']:6.3f} {m['recall']:6.3f} {m['density']:7.3f} {m['coverage']:6.3f} "
                     f"{m['classes_covered']:>4}/{m['classes']:<2} {m['class_kl']:8.4f} {m['classifier_score']:6.3f}")
    return "\n".join(lines)


def _modes_summary(record: dict, p: Protocol) -> str:
    kl = record["reverse_kl"]
    return (f"modes covered: {record['modes_covered_published']} of {record['modes']} with one high-quality "
            f"sample (VEEGAN, PacGAN), {record['modes_covered']} with 20; high-quality samples: "
            f"{record['high_quality_fraction']:.1%}; reverse KL " + ("n/a" if kl is None else f"{kl:.4f}") +
            f" nats; histogram JSD {record['histogram_jsd']:.4f} nats")


def _inception(path: Path, p: Protocol) -> dict:
    if not p.inception_weights:
        raise UsageError("--metric inception needs --inception-weights FILE (the standard FID Inception-v3 weights, "
                         "pt_inception-2015-12-05-6726825d.pth); gannet does not download them")
    return evaluation.inception_eval(path, Path(p.inception_weights), p.samples or 10_000, p.seed, p.data_root,
                                     p.device, generator=p.generator)


METRICS: dict[str, Metric] = {m.name: m for m in [
    Metric("parzen", "the paper's Parzen protocol", evaluation.parzen_applies,
           lambda path, p: evaluation.parzen_eval(path, p.samples or 10_000, p.valid, p.split, p.seed, p.data_root,
                                                  device=p.device, generator=p.generator),
           _parzen_summary),
    Metric("classifier", "FD, KD, precision/recall, density/coverage, class coverage and classifier score on "
           "gannet's own classifier (MNIST, Fashion-MNIST)", evaluation.classifier_applies,
           lambda path, p: evaluation.classifier_eval(path, p.samples or 10_000, p.seed, p.data_root, p.device,
                                                      generator=p.generator),
           _classifier_summary),
    Metric("modes", "mode coverage and histogram JSD (2-D toys)", evaluation.modes_apply,
           lambda path, p: evaluation.modes_eval(path, p.samples or 2_500, seed=p.seed, device=p.device,
                                                 generator=p.generator),
           _modes_summary, default_samples=2_500),
    Metric("codes", "InfoGAN's categorical code as a classifier of the test images, after the best one-to-one "
           "matching to the classes", evaluation.codes_apply,
           lambda path, p: evaluation.codes_eval(path, p.split, p.data_root, p.device),
           lambda r, p: (f"categorical code as a classifier: {r['accuracy']:.2%} of {r['protocol']['scored']} "
                         f"after matching codes to classes {r['matching']}"),
           default_samples=None, reads_generator=False),
    Metric("elbo", "a VAE run's ELBO and importance-weighted bound (100 draws) on log p(x)",
           evaluation.elbo_applies,
           lambda path, p: evaluation.elbo_eval(path, split=p.split, seed=p.seed, data_root=p.data_root,
                                                device=p.device),
           lambda r, p: (f"ELBO {r['elbo']:.2f} +- {r['elbo_se']:.2f}, importance-weighted bound (100 draws) "
                         f"{r['iwae']:.2f} +- {r['iwae_se']:.2f} nats per image ({r['protocol']['scored']})"),
           default_samples=None, reads_generator=False),
    Metric("inception", "FID on Inception-v3 features (needs --inception-weights)", evaluation.inception_applies,
           _inception,
           lambda r, p: (f"Inception FID: {r['inception_fid']:.3f} ({r['protocol']['n_samples']} samples against "
                         f"{r['protocol']['reference_set']})"),
           in_all=False),
]}


def metrics_for(path: Path, protocol: Protocol) -> list[str]:
    """``--metric all``: every metric that applies to the checkpoint (inception when its weights are given)."""
    from gannet.checkpoint import load_checkpoint

    state = load_checkpoint(path)
    return [m.name for m in METRICS.values()
            if (m.in_all or (m.name == "inception" and protocol.inception_weights)) and m.applies(state) is None]


def resolve(metric: str, path: Path, protocol: Protocol) -> list[str]:
    """The metrics ``metric`` names (a name or ``all``), checked before any work."""
    if metric != "all" and metric not in METRICS:
        raise UsageError(f"unknown metric {metric!r}; choose from {', '.join(METRICS)} or all")
    names = [metric] if metric != "all" else metrics_for(path, protocol)
    if "inception" in names and not protocol.inception_weights:
        raise UsageError("--metric inception needs --inception-weights FILE (the standard FID Inception-v3 weights, "
                         "pt_inception-2015-12-05-6726825d.pth); gannet does not download them")
    return names


def record_name(metric: str, path: Path, protocol: Protocol) -> str:
    """The record's file name in the run folder, ``eval_<name>.json``: metric, checkpoint, and the G when
    one other than ``auto`` was asked for."""
    reads = METRICS[metric].reads_generator
    suffix = "" if protocol.generator == "auto" or not reads else f"_{protocol.generator}"
    return f"{metric}_{path.stem}{suffix}"


def evaluate(path: str | os.PathLike, metrics: list[str], protocol: Protocol, write: bool = True,
             report: Callable[[str], None] | None = None, note: Callable[[str], None] | None = None) -> dict[str, dict]:
    """Run ``metrics`` on the checkpoint ``path``; return {metric: record}. ``write`` puts each record in
    the run folder (``eval_<name>.json``); ``report`` receives each summary, ``note`` where it was written.
    Under torchrun, sampling and features are shared across ranks; rank 0 reports and writes."""
    path = Path(path)
    protocol.check()
    records = {}
    world = distributed.setup(protocol.device)
    try:
        with distributed.shared_work():
            for name in metrics:
                metric = METRICS[name]
                record = metric.run(path, protocol)
                if world.distributed:
                    record["protocol"]["processes"] = world.size
                records[name] = record
                if not world.is_main:
                    continue
                if report is not None:
                    report(metric.summary(record, protocol))
                if write:
                    out = evaluation.write_record(record, evaluation.run_folder_of(path),
                                                  record_name(name, path, protocol))
                    if note is not None:
                        note(f"written to {out}")
    finally:
        distributed.teardown()
    return records
