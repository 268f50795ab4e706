"""The training run: build everything from a config, loop over steps, log, sample, checkpoint, resume.

The loop itself is :meth:`Trainer.run`; one iteration of the game is in :mod:`gannet.training.steps`.
Every random draw comes from a generator seeded from ``config.seed`` and saved in checkpoints, so an
interrupted and resumed run is bit-identical on CPU to one that ran straight through.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from gannet import distributed
from gannet.checkpoint import CheckpointError, load_checkpoint, one_line, save_checkpoint
from gannet.config import Config, ConfigError, dump_yaml
from gannet.data import Dataset, load_dataset
from gannet.data.batches import ShuffledBatches
from gannet.hardware import bf16_is_fast, cpu_capability
from gannet.images import image_grid, save_image_grid, save_points_plot
from gannet.io import atomic_write_text
from gannet.losses import LOSSES
from gannet.metrics.parzen import log_likelihood
from gannet.models import (
    build_discriminator,
    build_generator,
    evaluating,
)
from gannet.noise import latent_options, sample_noise
from gannet.seeding import derive_seed
from gannet.training import encoders, info, regularisers
from gannet.training.ema import GeneratorAverage
from gannet.training.optim import make_optimizer, set_hyperparameters
from gannet.training.run_dir import MetricsLog, RunDir
from gannet.training.steps import GAN, STEPS
from gannet.training.tracker import StatsTracker


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; the last good checkpoint was kept."""


class TrainingInterrupted(RuntimeError):
    """Ctrl-C: a checkpoint was written and the run can be resumed."""


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device: 'cuda' was asked for but PyTorch sees no CUDA device (use device=auto or cpu)")
    return torch.device(name)


def resolve_precision(precision: str, device: torch.device, update: str = "alternating") -> str:
    """The precision a run trains in: ``auto`` is bf16 where ``device`` has hardware bf16 matrix products
    (and the run is a GAN: a VAE stays fp32), else fp32. bf16 is refused where the hardware lacks them:
    PyTorch would run them in scalar code, hundreds of times slower than fp32 (0.33 against 151 GFLOP/s
    on an AVX2-only CPU)."""
    if precision == "auto":
        return "bf16" if update != "vae" and bf16_is_fast(device) else "fp32"
    if precision == "bf16" and not bf16_is_fast(device):
        where = f"this CPU ({cpu_capability()})" if device.type == "cpu" else f"this {device.type} device"
        raise ConfigError(f"precision: bf16 needs hardware bf16 matrix products, which {where} lacks: a bf16 run "
                          f"would be hundreds of times slower than fp32. Use precision=fp32 or auto")
    return precision


def minibatches_per_step(cfg: Config) -> int:
    """Minibatches one generator step consumes: k when alternating (Algorithm 1), else 1."""
    return cfg.train.k if cfg.train.update == "alternating" else 1


@dataclass
class Schedule:
    """When periodic work happens, in generator steps."""

    steps_per_epoch: int
    batches_per_step: int  # k minibatches per generator step when alternating, else 1
    log: int
    sample: int
    checkpoint: int
    monitor: int
    metrics: int

    @classmethod
    def from_config(cls, cfg: Config, batches_per_epoch: int) -> Schedule:
        batches_per_step = minibatches_per_step(cfg)
        per_epoch = max(1, batches_per_epoch // batches_per_step)
        t = cfg.train
        return cls(per_epoch, batches_per_step, t.log_every, t.sample_every or per_epoch,
                   t.checkpoint_every or per_epoch, cfg.monitor.every or per_epoch,
                   cfg.monitor.metrics_every or per_epoch)


class Trainer:
    def __init__(self, cfg: Config, out: str | Path, resume: bool = False, source: str = ""):
        self.cfg = cfg
        self.source = source  # the CONFIG the run was started from, for resume checks
        self.resume_note = ""
        self.run_dir = RunDir(Path(out))
        self.world = distributed.world()  # one process unless started by torchrun (gannet.distributed)
        self.device = distributed.training_device(resolve_device(cfg.device))
        self.precision = resolve_precision(cfg.precision, self.device, cfg.train.update)
        self.data: Dataset = load_dataset(cfg.data, cfg.seed)
        seed = cfg.seed

        train = torch.from_numpy(self.data.train).to(self.device)
        G = build_generator(cfg, self.data.shape, derive_seed(seed, "init-generator"))
        D = build_discriminator(cfg, self.data.shape, derive_seed(seed, "init-discriminator"))
        if cfg.generator.output == "sigmoid" and cfg.generator.output_bias == "marginals":
            G.set_output_bias_from_marginals(train)
        G.to(self.device)
        D.to(self.device)
        D.dropout_generator = torch.Generator(self.device).manual_seed(derive_seed(seed, self._dropout_stream()))
        encoding = encoders.from_config(cfg)  # a network trained with G (a VAE's, the reconstruction term's)
        self.encoder = encoders.build(encoding, self.data.shape, derive_seed(seed, "init-encoder"))
        if self.encoder is not None:
            self.encoder.to(self.device)
        g_train, d_train, e_train = G, D, self.encoder
        if self.world.distributed and (cfg.loss.info > 0 or cfg.train.update == "vae"):
            raise ConfigError("loss.info (InfoGAN) and train.update=vae run on one process: InfoGAN's Q gets its "
                              "gradients outside D's DistributedDataParallel forward, and the VAE has no D to wrap")
        if self.world.distributed:
            from torch.nn.parallel import DistributedDataParallel as DDP

            ids = [self.device.index] if self.device.type == "cuda" else None
            if self.device.type == "cuda":  # batch statistics over the global batch (PyTorch has it for CUDA only)
                G, D = nn.SyncBatchNorm.convert_sync_batchnorm(G), nn.SyncBatchNorm.convert_sync_batchnorm(D)
            g_train, d_train = DDP(G, device_ids=ids), DDP(D, device_ids=ids)
            e_train = DDP(self.encoder, device_ids=ids) if self.encoder is not None else None
        trained_with_g = [G] if self.encoder is None else [G, self.encoder]  # one optimiser for both
        info_d, info_g = info.terms_from_config(cfg)  # InfoGAN's code recovery, on both sides
        self.gan = GAN(
            generator=G,
            discriminator=D,
            opt_g=make_optimizer([p for net in trained_with_g for p in net.parameters()], cfg.optim),
            opt_d=make_optimizer(D.parameters(), cfg.optim, "d"),
            prior=cfg.noise.prior,
            noise_dim=cfg.noise.dim,
            latent_options=latent_options(cfg.noise),
            noise_generator=torch.Generator(self.device).manual_seed(derive_seed(seed, "noise")),
            precision=self.precision,
            rank=self.world.rank,
            world=self.world.size,
            g_train=g_train,
            d_train=d_train,
            regularisers=regularisers.from_config(cfg.loss) + info_d,
            generator_terms=info_g + ((encoding.term(self.encoder, e_train),) if encoding else ()),
        )
        self.batches = ShuffledBatches(train, cfg.train.batch_size, derive_seed(seed, "data-order"),
                                       self.world.rank, self.world.size)
        self.schedule = Schedule.from_config(cfg, self.batches.batches_per_epoch)
        self.step_fn = STEPS[cfg.train.update]
        self.loss = LOSSES[cfg.loss.name]
        self.tracker = StatsTracker(self.device)
        self.ema = GeneratorAverage(G, cfg.train.ema) if cfg.train.ema else None
        self._average_refreshed_at: int | None = None

        fixed = torch.Generator().manual_seed(derive_seed(seed, "fixed-noise"))
        n_fixed = 100 if self.data.kind == "image" else 2000
        self.fixed_noise = sample_noise(cfg.noise.prior, n_fixed, cfg.noise.dim, fixed, **latent_options(cfg.noise)).to(
            self.device)
        monitor = cfg.monitor
        self.valid = None
        main = self.world.is_main  # only rank 0 validates, samples, logs and writes
        self.monitoring = monitor.enabled and self.data.valid is not None  # the same on every rank
        if main and self.monitoring:
            self.valid = torch.from_numpy(self.data.valid[: monitor.valid_examples]).to(self.device)
            z = sample_noise(cfg.noise.prior, monitor.parzen_samples, cfg.noise.dim,
                             torch.Generator().manual_seed(derive_seed(seed, "monitor-noise")), **latent_options(cfg.noise))
            self.monitor_noise = z.to(self.device)
        self.quality = None
        if main and monitor.metrics:
            from gannet.training.quality_monitor import QualityMonitor

            self.quality = QualityMonitor(cfg, self.data, self.device)
        self.step = 0
        self.best_valid: float | None = None
        if resume:
            state = load_checkpoint(self.run_dir.last)
            try:
                self._load(state)
            except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as err:
                raise CheckpointError(f"{self.run_dir.last}: cannot resume from it: its state does not fit the "
                                      f"run its config describes ({type(err).__name__}: {one_line(err)})") from None

    # ---------------------------------------------------------------------------------------
    # The loop

    def run(self) -> dict:
        """Train up to ``train.steps`` generator steps; return the last logged record."""
        cfg, schedule, main = self.cfg, self.schedule, self.world.is_main
        resumed_at = self.step if self.step > 0 else None
        if main:
            atomic_write_text(self.run_dir.config, dump_yaml(cfg))
        log = MetricsLog(self.run_dir, resumed_at, cfg.train.tensorboard) if main else None
        bar = _progress(cfg, self.step, enabled=main)
        last_record: dict = {}
        if main and cfg.train.keep_checkpoints and self.step == 0:
            save_checkpoint(self._state(), self.run_dir.snapshot(0))  # the starting point, for Figure 1
        clock, busy = time.perf_counter(), 0.0
        examples = 0
        stop = _StopRequest()
        try:
            while self.step < cfg.train.steps:
                if distributed.any_rank(stop.requested is not None):  # every rank stops at the same step
                    self._check_finite()
                    if main:
                        save_checkpoint(self._state(), self.run_dir.last)
                    raise TrainingInterrupted(
                        f"stopped by {stop.requested or 'another rank'} at step {self.step}; checkpoint saved to "
                        f"{self.run_dir.last}"
                    )
                step = self.step + 1
                self.batches.next_epoch_if_done()
                epoch = self.batches.epoch
                lr, mu = set_hyperparameters(self.gan.opt_d, cfg.optim, step, epoch, "d")
                lr_g, _ = set_hyperparameters(self.gan.opt_g, cfg.optim, step, epoch, "g")
                stats = self.step_fn(self.gan, self.batches, cfg.train.k, self.loss)
                if self.ema is not None:
                    self.ema.update(self.gan.generator)
                self.tracker.add(step, stats)
                self.step = step
                examples += cfg.train.batch_size * schedule.batches_per_step * self.world.size
                bar.update(1)

                finished = step == cfg.train.steps
                logging, checkpointing = step % schedule.log == 0 or finished, step % schedule.checkpoint == 0 or finished
                monitor_due = self.monitoring and (step % schedule.monitor == 0 or finished)
                if logging or checkpointing or monitor_due:  # due on every rank at the same steps
                    self._check_finite()  # on every rank together, so that all stop if one diverged
                if logging:
                    elapsed = time.perf_counter() - clock - busy
                    means = distributed.mean_over_ranks(self.tracker.pop_means())
                    last_record = {"step": step, "epoch": epoch, **means, "lr": lr, "lr_g": lr_g,
                                   "momentum": mu, "images_per_s": examples / max(elapsed, 1e-9)}
                    if main:
                        log.write(last_record)
                    bar.set_postfix({k: f"{last_record[k]:.3f}" for k in ("d_loss", "g_loss") if k in last_record},
                                    refresh=False)
                    clock, busy, examples = time.perf_counter(), 0.0, 0
                started = time.perf_counter()
                if monitor_due and self.valid is not None:  # rank 0 holds the validation images
                    log.write(self._validate(step, epoch))
                if self.quality is not None and (step % schedule.metrics == 0 or finished):
                    log.write({"step": step, "epoch": epoch, **self._with_sampler(self.quality)})
                if main and (step % schedule.sample == 0 or finished):
                    self._save_samples(step, log)
                if main and checkpointing:
                    kept = [self.run_dir.snapshot(step)] if cfg.train.keep_checkpoints else []
                    save_checkpoint(self._state(), self.run_dir.last, *kept)
                busy += time.perf_counter() - started
        finally:
            stop.restore()
            bar.close()
            if log is not None:
                log.close()
        return last_record

    @property
    def sampling_generator(self) -> torch.nn.Module:
        """The G that samples, validates and is scored: the moving average when ``train.ema`` is on."""
        return self.gan.generator if self.ema is None else self.ema.average

    def _refresh_average(self) -> None:
        """Recompute the moving average's batch-norm statistics for its own weights, once per step at
        most, from a noise stream of its own (:meth:`GeneratorAverage.refresh_statistics`): training's
        random streams are untouched, so a resumed run still matches one that ran straight through."""
        if self.ema is None or self._average_refreshed_at == self.step:
            return
        stream = torch.Generator(self.device).manual_seed(derive_seed(self.cfg.seed, f"average-statistics-{self.step}"))
        self.ema.refresh_statistics(lambda n: sample_noise(self.cfg.noise.prior, n, self.cfg.noise.dim, stream,
                                                           self.device, **latent_options(self.cfg.noise)))
        self._average_refreshed_at = self.step

    def _with_sampler(self, use):
        """``use(G)`` with the sampling G in eval mode (batch norm from running statistics, as in
        checkpoints), then back to training mode: sampling never changes G's state."""
        self._refresh_average()
        with evaluating(self.sampling_generator) as G:
            return use(G)

    def _dropout_stream(self) -> str:
        """Rank 0 keeps the single-process stream name, so one process and rank 0 agree."""
        return "dropout" if self.world.rank == 0 else f"dropout-rank-{self.world.rank}"

    # ---------------------------------------------------------------------------------------
    # Periodic work

    def _check_finite(self) -> None:
        """Raise :class:`TrainingDiverged` if a step's statistics or the weights are NaN or infinite.
        On several processes every rank calls this at the same step and all raise if any rank saw it."""
        bad = self.tracker.bad_step()
        params = [*self.gan.generator.parameters(), *self.gan.discriminator.parameters()]
        weights_ok = bad is not None or bool(torch.stack([torch.isfinite(p).all() for p in params]).all())
        if not distributed.any_rank(bad is not None or not weights_ok):
            return
        if bad is not None:
            values = ", ".join(f"{k}={v:.4g}" for k, v in self.tracker.last_values_hint().items())
            what = f"a loss became NaN or infinite at step {bad} (epoch {self.batches.epoch}); interval means: {values}"
        elif not weights_ok:
            what = f"the weights became NaN or infinite by step {self.step} (epoch {self.batches.epoch})"
        else:
            what = f"another process's loss or weights became NaN or infinite by step {self.step}"
        last = self.run_dir.last
        kept = f"the last good checkpoint, {last}, is kept" if last.exists() else "no checkpoint had been written yet"
        rates = ", ".join(f"optim.{key}={value:g}" for key in ("lr", "lr_g", "lr_d")
                          if (value := getattr(self.cfg.optim, key)) is not None)
        causes = [f"a learning rate too high for this model ({rates}; try a smaller one)"]
        if self.cfg.loss.name == "minimax":
            causes.append("the saturating minimax generator loss (try loss.name=nonsaturating)")
        causes.append("an unlucky start (try another seed)")
        raise TrainingDiverged(
            f"training diverged: {what}. Training stopped; {kept}. Likely causes: " + "; ".join(causes) + "."
        )

    @torch.no_grad()
    def _validate(self, step: int, epoch: int) -> dict:
        """The authors' model-selection monitor: Parzen log-likelihood of the validation set under a
        window centred on ``monitor.parzen_samples`` generated samples, bandwidth ``monitor.parzen_sigma``."""
        samples = self._with_sampler(lambda G: G(self.monitor_noise))
        ll = log_likelihood(samples, self.valid, self.cfg.monitor.parzen_sigma)
        mean = float(ll.mean())
        record = {"step": step, "epoch": epoch, "valid_parzen_ll": mean,
                  "valid_parzen_se": float(ll.std() / math.sqrt(len(ll)))}
        if math.isfinite(mean) and (self.best_valid is None or mean > self.best_valid):
            self.best_valid = mean  # the weights were checked finite this step (see run)
            save_checkpoint(self._state(), self.run_dir.best)
            record["best"] = True
        return record

    @torch.no_grad()
    def _save_samples(self, step: int, log: MetricsLog) -> None:
        samples = self._with_sampler(lambda G: G(self.fixed_noise)).float().cpu().numpy()
        path = self.run_dir.sample_path(step)
        if self.data.kind == "image":
            signed = self.cfg.data.gcn is not None  # contrast-normalised data is centred on 0
            save_image_grid(samples, path, nrow=10, signed=signed)
            log.add_image("samples", image_grid(samples, nrow=10, signed=signed), step)
        else:
            save_points_plot(samples, path, reference=self.data.train[:2000], title=f"step {step}")

    # ---------------------------------------------------------------------------------------
    # Checkpoint state

    def _state(self) -> dict:
        gan = self.gan
        self._refresh_average()
        return {
            "step": self.step,
            "config": self.cfg.to_dict(),
            "source": self.source,
            "device_type": self.device.type,
            "data_shape": list(self.data.shape),
            "data_kind": self.data.kind,
            "generator": gan.generator.state_dict(),
            "generator_ema": None if self.ema is None else self.ema.state_dict(),
            "encoder": None if self.encoder is None else self.encoder.state_dict(),
            "discriminator": gan.discriminator.state_dict(),
            "opt_g": gan.opt_g.state_dict(),
            "opt_d": gan.opt_d.state_dict(),
            "rng": {
                "noise": gan.noise_generator.get_state(),
                "dropout": gan.discriminator.dropout_generator.get_state(),
                "torch": torch.get_rng_state(),  # unused by gannet's own steps; kept for extensions
            },
            "batches": self.batches.state_dict(),
            "tracker": self.tracker.state_dict(),
            "best_valid": self.best_valid,
            "world_size": self.world.size,
        }

    def _load(self, state: dict) -> None:
        gan = self.gan
        gan.generator.load_state_dict(state["generator"])
        if self.ema is not None:
            self.ema.load_state_dict(state.get("generator_ema") or state["generator"])
        if self.encoder is not None:
            self.encoder.load_state_dict(state["encoder"])
        gan.discriminator.load_state_dict(state["discriminator"])
        gan.opt_g.load_state_dict(state["opt_g"])
        gan.opt_d.load_state_dict(state["opt_d"])
        step = int(state["step"])
        if state["device_type"] == self.device.type:
            gan.noise_generator.set_state(state["rng"]["noise"].cpu())  # one stream, the same on every rank
            if self.world.is_main:  # the checkpoint holds rank 0's dropout stream; other ranks reseed
                gan.discriminator.dropout_generator.set_state(state["rng"]["dropout"].cpu())
            else:
                gan.discriminator.dropout_generator.manual_seed(
                    derive_seed(self.cfg.seed, f"{self._dropout_stream()}-after-{step}"))
        else:  # a CPU generator's state means nothing to a CUDA one: start fresh streams, reproducibly
            gan.noise_generator.manual_seed(derive_seed(self.cfg.seed, f"noise-after-{step}"))
            gan.discriminator.dropout_generator.manual_seed(
                derive_seed(self.cfg.seed, f"{self._dropout_stream()}-after-{step}"))
            self.resume_note = (f"the run was on {state['device_type']} and continues on {self.device.type}: noise "
                                f"and dropout streams restart from the seed, so it will not match a run that stayed")
        torch.set_rng_state(state["rng"]["torch"].cpu())
        self.batches.load_state_dict(state["batches"])
        self.tracker.load_state_dict(state["tracker"])
        self.best_valid = state["best_valid"]
        self.source = self.source or state.get("source", "")
        saved_world = int(state.get("world_size", 1))
        if saved_world != self.world.size:
            b = self.cfg.train.batch_size
            note = (f"the run trained on {saved_world} process(es) and continues on {self.world.size}: the global "
                    f"batch changes from {b * saved_world} to {b * self.world.size} (train.batch_size {b} per "
                    f"process); the learning rate is not rescaled")
            self.resume_note = f"{self.resume_note}; {note}" if self.resume_note else note
        self.step = step


class _StopRequest:
    """Turns the first SIGINT/SIGTERM into a request honoured between steps (a checkpoint mid-step would
    not resume exactly); a second Ctrl-C interrupts at once."""

    def __init__(self):
        self.requested: str | None = None
        self._previous = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = signal.Signals(signum).name

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def _progress(cfg: Config, initial: int, enabled: bool = True):
    from tqdm.auto import tqdm

    return tqdm(total=cfg.train.steps, initial=initial, disable=None if cfg.train.progress and enabled else True,
                unit="step", dynamic_ncols=True)
