"""Run configuration: one typed schema, YAML files and recipes, dotted ``KEY=VALUE`` overrides.

Every key has a type and, where it matters, a range or a set of accepted values. An unknown key,
a wrong type or an impossible value raises :class:`ConfigError` naming the key, before anything is
trained. Defaults are the paper's MNIST setting (Goodfellow et al. 2014 with the authors' released
hyperparameters); the bundled recipes spell out every value they rely on.
"""

from __future__ import annotations

import difflib
import os
import re
import reprlib
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

class ConfigError(ValueError):
    """A configuration that cannot be run; the message names the key at fault."""


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxtuple, _REPR.maxdict, _REPR.maxset = 2, 8, 8, 4, 4
_REPR.maxstring, _REPR.maxother, _REPR.maxlong = 60, 60, 40


def short_repr(value: Any, limit: int = 120) -> str:
    """``repr(value)`` cut short: a few items of a few levels, at most ``limit`` characters, for messages."""
    try:
        text = _REPR.repr(value)
    except ValueError:  # an int beyond Python's digit limit for str()
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


SEED_LIMIT = 2**63 - 1  # gannet.seeding.derive_seed works modulo 2**63 - 1: larger seeds repeat smaller ones' streams


class _Section(BaseModel):
    # strict: no true -> 1, no 2.5 -> 2, no 2024 -> '2024'; and no infinite or NaN floats
    model_config = ConfigDict(extra="forbid", validate_assignment=True, strict=True, allow_inf_nan=False)


class DataConfig(_Section):
    name: Literal["mnist", "fashion-mnist", "cifar10", "image-folder", "digits", "npz", "toy-1d", "toy-ring",
                  "toy-ring-pacgan", "toy-grid"] = "mnist"
    root: str | None = Field(None, description="folder with the dataset files; default $GANNET_DATA/<name>")
    path: str | None = Field(None, description="the .npz file when name is npz")
    key: str | None = Field(None, description="array name inside the .npz file (default: the only array, or 'x')")
    size: int | None = Field(None, gt=0, description="toy data: number of training points generated")
    valid_size: int | None = Field(None, ge=0, description="examples held out for validation (dataset default if unset)")
    image_size: int | None = Field(None, gt=0, description="image-folder: side of the square images (resize, crop)")
    grey: bool = Field(False, description="image-folder: read the images as grey, one channel")
    gcn: float | None = Field(None, gt=0, description="global contrast normalisation of image data: subtract each "
                              "image's mean, then scale it to this L2 norm (the paper's CIFAR-10: 55); null = off")


class NoiseConfig(_Section):
    prior: Literal["uniform", "normal"] = "uniform"
    dim: int = Field(100, gt=0)
    categorical: int = Field(0, ge=0, description="InfoGAN: values of one categorical code, appended to z "
                             "one-hot; 0 = none")
    continuous: int = Field(0, ge=0, description="InfoGAN: continuous codes ~ U(-1, 1), appended to z; 0 = none")
    scale: float = Field(1.0, gt=0, description="z is multiplied by this, the codes are not (InfoGAN: a small "
                         "scale lets the categorical code, not z, decide the class; gannet.noise)")

    @model_validator(mode="after")
    def _check(self) -> NoiseConfig:
        if self.categorical == 1:
            raise ValueError("categorical: a categorical code needs at least 2 values (0 = no code)")
        return self


def _check_one_initialisation(section: GeneratorConfig | DiscriminatorConfig) -> None:
    if section.init_std is not None and section.init_range is not None:
        raise ValueError("init_std and init_range are two initialisations: give one (set init_range: null)")


class GeneratorConfig(_Section):
    arch: Literal["mlp", "dcgan", "deconv"] = Field("mlp", description="mlp: the paper's MNIST/CIFAR-10 fully "
        "connected G; dcgan: DCGAN; deconv: the paper's CIFAR-10 convolutional G (hidden layers, then a 5x5 "
        "stride-3 transposed convolution from maps of 10x10)")
    hidden: list[int] = Field(default_factory=lambda: [1200, 1200])
    activations: list[Literal["relu", "sigmoid"]] | None = Field(
        None, description="mlp, deconv: one activation per hidden layer; null = ReLU everywhere (the paper's "
        "CIFAR-10 G: [relu, sigmoid])")
    width: int = Field(64, gt=0, description="dcgan: channels of the last hidden feature map (ngf)")
    dense: int | None = Field(None, gt=0, description="dcgan: a fully connected layer of this many units (batch "
                              "norm, ReLU) before the first feature map (InfoGAN's MNIST G: 1024); null = none")
    output: Literal["sigmoid", "tanh", "linear"] = Field(
        "sigmoid", description="sigmoid: images in [0, 1]; tanh (dcgan): (1 + tanh(a)) / 2, the DCGAN paper's tanh "
        "output mapped from [-1, 1] to gannet's [0, 1]; linear: unbounded")
    output_bias: Literal["marginals", "zero"] = "marginals"
    init_range: float | None = Field(0.05, gt=0, description="weights ~ U(-r, r), biases 0; null = PyTorch default")
    output_init_range: float | None = Field(None, gt=0, description="mlp: the output layer's r when it differs "
                                            "from init_range (the paper's CIFAR-10 G: 0.5); null = init_range")
    init_std: float | None = Field(None, gt=0, description="mlp: weights ~ N(0, std^2), biases 0 (PacGAN: 0.02); "
                                   "needs init_range: null")
    batch_norm: bool = Field(False, description="mlp: batch norm before each hidden activation, the hidden layers "
                             "without bias (PacGAN's toy G); sampling uses the running statistics")

    @model_validator(mode="after")
    def _check(self) -> GeneratorConfig:
        if any(h <= 0 for h in self.hidden):
            raise ValueError(f"hidden sizes must be positive integers, got {short_repr(self.hidden)}")
        if self.activations is not None and len(self.activations) != len(self.hidden):
            raise ValueError(f"activations: one per hidden layer ({len(self.hidden)}), got {short_repr(self.activations)}")
        if self.dense is not None and self.arch != "dcgan":
            raise ValueError(f"dense: a dense layer is an option of arch: dcgan, not of arch: {self.arch}")
        if self.activations is not None and self.arch == "dcgan":
            raise ValueError("activations: the dcgan generator's layers are ReLU; activations applies to mlp and deconv")
        if self.output_init_range is not None and self.arch != "mlp":
            raise ValueError(f"output_init_range: applies to arch: mlp, not to arch: {self.arch}")
        if self.output == "tanh" and self.arch != "dcgan":
            raise ValueError(f"output: 'tanh' is an option of arch: dcgan, not of arch: {self.arch}")
        if self.arch == "deconv" and self.output != "linear":
            raise ValueError("output: the deconv generator's output is linear, as in the paper (set output: linear)")
        if self.arch == "deconv" and (not self.hidden or self.hidden[-1] % 100):
            raise ValueError(f"hidden: the deconv generator reshapes its last hidden layer into maps of 10x10, so it "
                             "needs at least one layer whose last size is a multiple of 100; got "
                             f"{short_repr(self.hidden)}")
        if self.arch != "mlp" and (self.batch_norm or self.init_std is not None):
            raise ValueError(f"batch_norm and init_std are options of arch: mlp, not of arch: {self.arch}")
        _check_one_initialisation(self)
        if self.output_bias == "marginals" and (self.output != "sigmoid" or self.arch != "mlp"):
            raise ValueError("output_bias: 'marginals' needs arch: mlp and output: sigmoid (use output_bias: zero)")
        return self


class DiscriminatorConfig(_Section):
    arch: Literal["maxout", "mlp", "dcgan", "maxout-conv", "none"] = Field(
        "maxout", description="maxout: the paper's fully connected D; maxout-conv: the paper's CIFAR-10 "
        "convolutional D (three maxout convolutional layers, then one maxout layer of hidden[0] units); "
        "none: no D (train.update: vae)")
    width: int = Field(64, gt=0, description="dcgan: channels of the first feature map (ndf)")
    batch_norm: bool = Field(True, description="dcgan: batch norm after each convolution but the first")
    centre_input: bool = Field(False, description="dcgan: D reads 2x - 1, images on [-1, 1] as in the DCGAN "
                               "paper, where gannet keeps them on [0, 1]")
    dense: int | None = Field(None, gt=0, description="dcgan: a fully connected layer of this many units (batch "
                              "norm, LeakyReLU) after the convolutions, read by InfoGAN's Q (InfoGAN's MNIST D: "
                              "1024); null = none")
    extra_stages: int = Field(0, ge=0, description="dcgan: stride-2 convolutions after the 7x7 (28x28 images) or "
                              "4x4 map, each halving it and doubling the channels (1: the WGAN-GP authors' MNIST "
                              "critic depth, 64-128-256 channels)")
    hidden: list[int] = Field(default_factory=lambda: [240, 240])
    pieces: int = Field(5, gt=0, description="maxout pieces per unit")
    keep_input: float = Field(0.8, gt=0, le=1, description="dropout keep probability on D's input")
    keep_hidden: float = Field(0.5, gt=0, le=1, description="dropout keep probability on hidden layers' inputs")
    init_range: float | None = Field(0.005, gt=0)
    spectral_norm: bool = Field(False, description="spectral normalisation of every weight of D (Miyato et al. 2018)")
    init_std: float | None = Field(None, gt=0, description="maxout, mlp: weights ~ N(0, std^2), biases 0 (PacGAN: "
                                   "0.02); needs init_range: null")
    slope: float = Field(0.2, ge=0, lt=1, description="mlp: the negative slope of D's LeakyReLU layers (0: ReLU, "
                         "the WGAN-GP toy critic)")
    pack: int = Field(1, ge=1, description="PacGAN (Lin et al. 2018): D judges this many samples at once, "
                      "concatenated (real with real, fake with fake); train.batch_size counts samples; 1 = off")
    pack_shared_layers: int = Field(0, ge=0, description="maxout, mlp with pack > 1: D's first hidden layers read each "
                                    "packed sample alone, with one set of weights, and the next layer reads their "
                                    "features concatenated; 0 = PacGAN's concatenated input (docs/mode-collapse.md)")
    minibatch_std: bool = Field(False, description="maxout, mlp: the batch's standard deviation, averaged over D's "
                                "last hidden features, fed to D's output as one more feature (Karras et al. 2018)")

    @model_validator(mode="after")
    def _check(self) -> DiscriminatorConfig:
        if not self.hidden or any(h <= 0 for h in self.hidden):
            raise ValueError(f"hidden must be a non-empty list of positive integers, got {short_repr(self.hidden)}")
        if self.dense is not None and self.arch != "dcgan":
            raise ValueError(f"dense: a dense layer is an option of arch: dcgan, not of arch: {self.arch}")
        if self.centre_input and self.arch != "dcgan":
            raise ValueError(f"centre_input: an option of arch: dcgan, not of arch: {self.arch}")
        if self.extra_stages and self.arch != "dcgan":
            raise ValueError(f"extra_stages: an option of arch: dcgan, not of arch: {self.arch}")
        if self.arch not in ("maxout", "mlp") and (self.minibatch_std or self.init_std is not None):
            raise ValueError(f"minibatch_std and init_std are options of arch: maxout and mlp, not of arch: {self.arch}")
        _check_one_initialisation(self)
        if self.pack_shared_layers:
            if self.arch not in ("maxout", "mlp") or self.pack == 1:
                raise ValueError(f"pack_shared_layers: an option of a packed (pack > 1) arch: maxout or mlp D, not of "
                                 f"arch: {self.arch} with pack: {self.pack}")
            if self.pack_shared_layers >= len(self.hidden):
                raise ValueError(f"pack_shared_layers: {self.pack_shared_layers} must be fewer than D's {len(self.hidden)} "
                                 f"hidden layers (a later layer must read the pack's features together)")
        if self.slope != 0.2 and self.arch != "mlp":
            raise ValueError(f"slope: the LeakyReLU slope is an option of arch: mlp, not of arch: {self.arch}")
        if self.arch == "maxout-conv" and len(self.hidden) != 1:
            raise ValueError(f"hidden: the maxout-conv D has one maxout layer after its convolutions, so hidden "
                             f"needs one size (the paper's [500]); got {short_repr(self.hidden)}")
        return self


class LossConfig(_Section):
    name: Literal["minimax", "nonsaturating", "wasserstein", "hinge", "least-squares"] = Field(
        "nonsaturating", description="the adversarial loss (gannet.losses); minimax and nonsaturating are the paper's")
    gradient_penalty: float = Field(0.0, ge=0, description="WGAN-GP weight lambda on (||grad D(x_hat)|| - 1)^2; 0 = off")
    r1: float = Field(0.0, ge=0, description="R1 weight gamma: gamma/2 * ||grad D(x)||^2 on real data; 0 = off")
    clip: float | None = Field(None, gt=0, description="WGAN weight clipping: D's weights into [-c, c] after each step")
    reconstruction: float = Field(0.0, ge=0, description="weight lambda of E_x ||G(E(x)) - x||^2 in G's loss, with "
                                  "an encoder E trained along (mode-regularised GAN); 0 = off")
    reconstruction_adversarial: float = Field(0.0, ge=0, description="weight lambda_2 of G's adversarial loss on "
                                              "its reconstructions G(E(x)) (the mode-regularised GAN's second "
                                              "term); needs loss.reconstruction > 0; 0 = off")
    encoder_hidden: list[int] = Field(default_factory=lambda: [256, 256], description="hidden sizes of the encoder E")
    info: float = Field(0.0, ge=0, description="InfoGAN weight lambda of the mutual-information bound on the "
                        "categorical code (noise.categorical); 0 = off")
    info_continuous: float = Field(0.1, ge=0, description="InfoGAN weight of the bound on the continuous codes")

    @model_validator(mode="before")
    @classmethod
    def _older_key(cls, data):
        """``loss.generator`` (minimax | nonsaturating) is the older name of ``loss.name``."""
        if isinstance(data, dict) and "generator" in data:
            data = dict(data)
            older = data.pop("generator")
            if "name" in data and data["name"] != older:
                raise ValueError(f"loss.generator ({short_repr(older)}, the older name of loss.name) and loss.name "
                                 f"({short_repr(data['name'])}) disagree; give only loss.name")
            data["name"] = older
        return data

    @model_validator(mode="after")
    def _check(self) -> LossConfig:
        if self.reconstruction_adversarial > 0 and self.reconstruction <= 0:
            raise ValueError(f"reconstruction_adversarial={self.reconstruction_adversarial:g} judges G's "
                             "reconstructions G(E(x)), which need the encoder of loss.reconstruction > 0")
        return self


class TrainConfig(_Section):
    steps: int = Field(50_000, gt=0, description="generator updates")
    batch_size: int = Field(100, gt=0)
    k: int = Field(1, ge=1, description="discriminator steps per generator step")
    update: Literal["alternating", "simultaneous", "vae"] = Field(
        "alternating", description="alternating: Algorithm 1; simultaneous: the authors' code; vae: a VAE, no D")
    log_every: int = Field(100, gt=0)
    sample_every: int | None = Field(None, gt=0, description="steps between sample grids; null = each epoch")
    checkpoint_every: int | None = Field(None, gt=0, description="steps between checkpoints; null = each epoch")
    keep_checkpoints: bool = Field(False, description="also keep every checkpoint as checkpoints/step_N.pt")
    ema: float | None = Field(None, gt=0, lt=1, description="decay of an exponential moving average of G's "
                              "weights, used for sampling and evaluation; null = off")
    progress: bool = True
    tensorboard: bool = True

    @model_validator(mode="after")
    def _check(self) -> TrainConfig:
        if self.update == "simultaneous" and self.k != 1:
            raise ValueError(f"update 'simultaneous' needs k = 1, got k = {self.k}")
        return self


class OptimConfig(_Section):
    name: Literal["momentum", "adam"] = "momentum"
    # Rates are bounded so that every one is a float32 number the optimisers can apply (1e308 is not).
    lr: float = Field(0.1, gt=0, le=1e6)
    lr_g: float | None = Field(None, gt=0, le=1e6, description="G's learning rate (and its encoder's); null = lr")
    lr_d: float | None = Field(None, gt=0, le=1e6, description="D's learning rate (and Q's); null = lr. InfoGAN: G "
                               "1e-3, D 2e-4")
    lr_decay: float = Field(1.000004, ge=1, description="lr at step n is lr / lr_decay**(n-1)")
    min_lr: float = Field(1e-6, ge=0)
    momentum: float = Field(0.5, ge=0, lt=1, description="momentum in the first epoch")
    final_momentum: float = Field(0.7, ge=0, lt=1)
    momentum_start: int = Field(1, ge=1, description="epoch at which momentum starts rising")
    momentum_saturate: int = Field(250, ge=1, description="epoch from which momentum is final_momentum")
    beta1: float = Field(0.5, ge=0, lt=1)
    beta2: float = Field(0.999, ge=0, lt=1)

    @model_validator(mode="after")
    def _check(self) -> OptimConfig:
        if self.momentum_saturate < self.momentum_start:
            raise ValueError(
                f"momentum_saturate ({self.momentum_saturate}) must be >= momentum_start ({self.momentum_start})"
            )
        return self


class MonitorConfig(_Section):
    enabled: bool = True
    every: int | None = Field(None, gt=0, description="steps between validation estimates; null = each epoch")
    parzen_samples: int = Field(100, gt=0)
    parzen_sigma: float = Field(0.2, gt=0)
    valid_examples: int | None = Field(None, gt=0, description="validation examples scored; null = all")
    metrics: list[Literal["classifier", "modes"]] = Field(
        default_factory=list, description="sample-quality metrics logged during training: classifier (image data: FD, "
        "KD, precision/recall, density/coverage, class coverage on gannet's classifier, against the validation "
        "images) and/or modes (2-D toys: mode coverage, histogram JSD)")
    metrics_every: int | None = Field(None, gt=0, description="steps between quality metrics; null = each epoch")
    metrics_samples: int = Field(2000, ge=10, description="samples drawn for each quality evaluation")


class Config(_Section):
    description: str = ""
    seed: int = Field(0, description="the run's one seed, from which every random stream is derived "
                      f"(gannet.seeding); 0 to {SEED_LIMIT - 1}")
    device: Literal["auto", "cpu", "cuda"] = "auto"
    precision: Literal["fp32", "bf16", "auto"] = Field(
        "fp32", description="bf16: autocast forwards, fp32 master weights; auto: bf16 where the device has hardware "
        "bf16 matrix products, else fp32")
    data: DataConfig = Field(default_factory=DataConfig)
    noise: NoiseConfig = Field(default_factory=NoiseConfig)
    generator: GeneratorConfig = Field(default_factory=GeneratorConfig)
    discriminator: DiscriminatorConfig = Field(default_factory=DiscriminatorConfig)
    loss: LossConfig = Field(default_factory=LossConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    optim: OptimConfig = Field(default_factory=OptimConfig)
    monitor: MonitorConfig = Field(default_factory=MonitorConfig)

    @field_validator("seed")
    @classmethod
    def _check_seed(cls, seed: int) -> int:
        if not 0 <= seed < SEED_LIMIT:
            raise ValueError(f"a seed is a non-negative integer no larger than {SEED_LIMIT - 1} (2**63 - 2): the "
                             "random streams are derived from it modulo 2**63 - 1")
        return seed

    @model_validator(mode="after")
    def _check_combinations(self) -> Config:
        d = self.discriminator
        if (self.loss.gradient_penalty > 0 or self.loss.r1 > 0) and d.arch == "dcgan" and d.batch_norm:
            raise ValueError("loss.gradient_penalty and loss.r1 penalise each sample's gradient, which batch norm "
                             "couples across the batch: set discriminator.batch_norm=false")
        if (self.loss.gradient_penalty > 0 or self.loss.r1 > 0) and d.minibatch_std:
            raise ValueError("loss.gradient_penalty and loss.r1 penalise each sample's gradient, which "
                             "discriminator.minibatch_std couples across the batch: use one or the other")
        if d.pack > 1 and self.train.batch_size % d.pack:
            raise ValueError(f"discriminator.pack={d.pack} groups the batch into packs: train.batch_size "
                             f"({self.train.batch_size}) must be a multiple of it")
        if d.pack > 1 and (self.loss.info > 0 or d.arch == "none"):
            raise ValueError(f"discriminator.pack={d.pack}: InfoGAN's Q reads one code per sample and a VAE has no "
                             "D, so neither takes a packed D")
        vae = self.train.update == "vae"
        if vae != (d.arch == "none"):
            raise ValueError("train.update: vae and discriminator.arch: none go together (a VAE has no D; a GAN needs "
                             f"one); got update {self.train.update!r} with arch {d.arch!r}")
        if vae and (self.noise.prior != "normal" or self.noise.scale != 1.0 or self.loss.reconstruction > 0
                    or self.loss.info > 0):
            raise ValueError("train.update: vae needs noise.prior: normal and noise.scale: 1 (its prior is N(0, I)) "
                             "and no loss.reconstruction or loss.info")
        if vae and self.precision == "bf16":
            raise ValueError("train.update: vae runs in precision: fp32 (bf16 would round the decoder's sigmoid "
                             "means to 1 and saturate the Bernoulli loss)")
        if self.data.gcn is not None and self.generator.output == "sigmoid":
            raise ValueError(f"data.gcn={self.data.gcn:g} centres the images on 0, which a sigmoid output cannot "
                             "reach: set generator.output: linear (and generator.output_bias: zero)")
        has_codes = self.noise.categorical > 0 or self.noise.continuous > 0
        if has_codes != (self.loss.info > 0):
            raise ValueError("InfoGAN needs both latent codes (noise.categorical and/or noise.continuous) and "
                             "loss.info > 0; got " + (f"codes with loss.info={self.loss.info}" if has_codes else
                                                      f"loss.info={self.loss.info} without codes"))
        return self

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="python")


# --------------------------------------------------------------------------------------------
# Recipes and loading


def recipe_names() -> list[str]:
    folder = resources.files("gannet") / "recipes"
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def recipe_text(name: str) -> str:
    return (resources.files("gannet") / "recipes" / f"{name}.yaml").read_text()


MAX_CONFIG_BYTES = 1 << 20  # a config is a few kB of text; anything larger is some other file


def read_config_source(config: str) -> tuple[dict[str, Any], str]:
    """Read CONFIG (a YAML path or a recipe name) into a raw dict; also return a label for messages."""
    path = Path(config)
    if path.suffix in (".yaml", ".yml") or path.is_file():  # a folder named like a recipe is not a config
        if not path.is_file():
            raise ConfigError(f"config file '{config}' does not exist (recipes: {', '.join(recipe_names())})")
        label, name = f"file '{config}'", str(path)
        try:
            with path.open("rb") as f:
                data: str | bytes = f.read(MAX_CONFIG_BYTES + 1)
        except OSError as err:
            raise ConfigError(f"{label} cannot be read: {err.strerror or err}") from None
        if len(data) > MAX_CONFIG_BYTES:
            raise ConfigError(f"{label} is larger than {MAX_CONFIG_BYTES >> 20} MiB: not a config file")
    elif config in recipe_names():
        data, label, name = recipe_text(config), f"recipe '{config}'", f"recipe {config}"
    else:
        close = difflib.get_close_matches(config, recipe_names(), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise ConfigError(
            f"'{config}' is neither a YAML file nor a recipe{hint} (recipes: {', '.join(recipe_names())})"
        )
    try:
        raw = load_yaml(data, name)
    except yaml.reader.ReaderError as err:
        raise ConfigError(f"{label} is not a YAML text file ({_reader_problem(err)})") from None
    except _Refused as err:
        raise ConfigError(f"{label}: {err}") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{label} is not valid YAML: {cut_text(str(err), 600)}") from None
    except ValueError as err:  # an integer beyond Python's digit limit, a date that does not exist, ...
        raise ConfigError(f"{label} has a value that cannot be read: {cut_text(str(err), 300)}") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{label} must be a mapping of keys to values, got {type(raw).__name__}")
    return raw, label


def _reader_problem(err: yaml.reader.ReaderError) -> str:
    if isinstance(err.character, bytes | int):  # bytes that do not decode
        byte = err.character if isinstance(err.character, int) else err.character[0]
        return f"byte 0x{byte:02x} at offset {err.position} is not {(err.encoding or 'UTF-8').upper()} text"
    return f"control character U+{ord(err.character):04X} at offset {err.position}"


def cut_text(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_value(text: str) -> Any:
    """Parse the VALUE of a KEY=VALUE override as YAML (numbers, booleans, lists, null), as files are read;
    VALUE that is no YAML (or holds what files may not) is kept as text."""
    try:
        return load_yaml(text)
    except (yaml.YAMLError, ValueError):
        return text


# --------------------------------------------------------------------------------------------
# The YAML reader of config files and override values


# Floats as YAML 1.2 writes them (1e-3, 1E+3, -.5, as Python and the command line read them), besides YAML 1.1's
# own (1.5e-3, 1., .inf, 190:20:30.15). YAML 1.1, PyYAML's dialect, reads 1e-3 as the string '1e-3'.
_FLOAT = re.compile(r"""^(?:
      [-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    | [-+]?[0-9][0-9_]*[eE][-+]?[0-9]+
    | [-+]?\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?
    | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
    | [-+]?\.(?:inf|Inf|INF)
    | \.(?:nan|NaN|NAN)
)$""", re.X)
_FLOAT_TAG = "tag:yaml.org,2002:float"
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Refused(yaml.YAMLError):
    """YAML that parses but that a config file may not hold (duplicate keys, anchors and aliases)."""


class _ConfigLoader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2 floats, and no anchors or aliases.

    Aliases are refused rather than limited: a config is a few dozen plain values, the bundled recipes use none,
    and an alias makes a 600-byte file stand for a billion values (or for a value that holds itself), which every
    step after loading (overrides, validation, messages) would otherwise have to guard against.
    """

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _FLOAT_TAG]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    MAX_DEPTH = 50  # nested lists and mappings; the schema's deepest value is 3 levels down
    _depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            what = f"alias *{event.anchor}" if isinstance(event, yaml.AliasEvent) else f"anchor &{event.anchor}"
            raise _Refused(f"line {event.start_mark.line + 1}: the {cut_text(what, 60)} is not accepted: config files "
                           "take no YAML anchors or aliases (&name, *name); write each value out")
        if self._depth >= self.MAX_DEPTH:  # before Python's recursion limit
            raise _Refused(f"line {event.start_mark.line + 1}: values nest more than {self.MAX_DEPTH} levels deep")
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_ConfigLoader.add_implicit_resolver(_FLOAT_TAG, _FLOAT, list("-+0123456789."))


def load_yaml(data: str | bytes, name: str | None = None) -> Any:
    """Read one YAML document as config files are read: YAML 1.2 floats, no anchors or aliases, and no key
    given twice in one mapping (:class:`yaml.YAMLError` otherwise). ``yaml.safe_load`` is left as it is.
    ``name`` is what YAML's own messages call the source."""
    loader = _ConfigLoader(data)
    if name:
        loader.name = name
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _refuse_duplicate_keys(loader, node, [])
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _refuse_duplicate_keys(loader: yaml.SafeLoader, node: yaml.Node, path: list[str]) -> None:
    if isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _refuse_duplicate_keys(loader, item, [*path[:-1], f"{path[-1]}[{i}]"] if path else [f"[{i}]"])
    elif isinstance(node, yaml.MappingNode):
        seen: dict[Any, yaml.Node] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:  # '<<': its keys are defaults that this mapping's own keys override
                _refuse_duplicate_keys(loader, value_node, path)
                continue
            key = loader.construct_object(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            try:
                first = seen.setdefault(key, key_node) if key is not None else key_node
            except TypeError:  # an unhashable key: the constructor says so
                first = key_node
            name = cut_text(".".join([*path, str(key)]), 120)
            if first is not key_node:
                a, b = first.start_mark, key_node.start_mark
                where = (f"on line {a.line + 1} (columns {a.column + 1} and {b.column + 1})" if a.line == b.line
                         else f"on lines {a.line + 1} and {b.line + 1}")
                raise _Refused(f"key '{name}' is given twice, {where}; keep one")
            _refuse_duplicate_keys(loader, value_node, [*path, str(key)])


def _section(parts: list[str]) -> type[BaseModel] | None:
    """The schema class of the section named by ``parts`` (``[]`` is the top level), or None."""
    model: type[BaseModel] = Config
    for part in parts:
        field = model.model_fields.get(part)
        if field is None or not (isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)):
            return None
        model = field.annotation
    return model


def _takes_text(parts: list[str]) -> bool:
    """Whether the schema's key ``parts`` holds free text (paths, names), whose VALUE is kept verbatim."""
    section = _section(parts[:-1])
    field = section.model_fields.get(parts[-1]) if section else None
    return field is not None and field.annotation in (str, str | None)


OLDER_KEYS = {"loss.generator": "loss.name"}  # older key names, still accepted on the command line


# An override: ``"dotted.key=VALUE"`` as the command line gives it (VALUE is read as YAML, except for
# keys that hold text), or a ``(dotted key, value)`` pair whose value is already typed (the Python API).
Override = str | tuple[str, Any]


def override_key(item: Override) -> str:
    """The dotted key an override sets (``"train.steps=20"`` and ``("train.steps", 20)`` both set train.steps)."""
    if isinstance(item, tuple):
        return str(item[0]).strip()
    if "=" not in item:
        raise ConfigError(f"override '{item}' must look like KEY=VALUE, e.g. train.steps=2000")
    return item.split("=", 1)[0].strip()


def override_text(item: Override) -> str:
    """An override as ``key=value`` text, for messages."""
    return item if isinstance(item, str) else f"{item[0]}={short_repr(item[1], 80)}"


def overrides_from_dict(overrides: dict[str, Any] | None) -> list[Override]:
    """``{"train.steps": 20}`` as typed overrides; the values are used as given, never parsed as YAML."""
    if overrides is None:
        return []
    if not isinstance(overrides, dict):
        raise ConfigError(f"overrides must be a dict of dotted keys to values, e.g. {{'train.steps': 2000}}; got "
                          f"{type(overrides).__name__}")
    bad = [k for k in overrides if not isinstance(k, str)]
    if bad:
        raise ConfigError(f"override keys must be dotted strings such as 'train.steps'; got {short_repr(bad[0])}")
    return [(k, v) for k, v in overrides.items()]


def apply_overrides(raw: dict[str, Any], overrides: list[Override]) -> dict[str, Any]:
    """Return a copy of ``raw`` with each override set (see :data:`Override`)."""
    out = _deep_copy(raw)
    for item in overrides:
        key = override_key(item)
        key = OLDER_KEYS.get(key, key)
        parts = key.split(".")
        if not all(parts):
            raise ConfigError(f"override '{override_text(item)}' has an empty key part")
        node = out
        for i, part in enumerate(parts[:-1]):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"override '{override_text(item)}': '{'.'.join(parts[: i + 1])}' is a value, "
                                  f"not a section")
            node = child
        if isinstance(item, tuple):
            node[parts[-1]] = _deep_copy(item[1]) if isinstance(item[1], dict) else item[1]
        else:
            text = item.split("=", 1)[1]
            node[parts[-1]] = text if _takes_text(parts) and text != "null" else parse_value(text)
    return out


def _deep_copy(d: dict[str, Any]) -> dict[str, Any]:
    return {k: _deep_copy(v) if isinstance(v, dict) else v for k, v in d.items()}


def validate(raw: dict[str, Any], label: str = "config") -> Config:
    """Build a :class:`Config` from a raw dict, or raise :class:`ConfigError` listing every problem."""
    try:
        return Config.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(f"invalid {label}:\n  " + "\n  ".join(_problem_lines(err.errors()))) from None


MAX_PROBLEMS = 12  # lines of one error message; the same problem at many places is one line


def _problem_lines(errors: list[dict[str, Any]]) -> list[str]:
    counts: dict[str, int] = {}
    for error in errors:
        line = cut_text(_describe(error), 400)
        counts[line] = counts.get(line, 0) + 1
    lines = [line if n == 1 else f"{line} ({n} times)" for line, n in counts.items()]
    if len(lines) > MAX_PROBLEMS:
        lines[MAX_PROBLEMS - 1:] = [f"... and {len(lines) - MAX_PROBLEMS + 1} more problems"]
    return lines


def _describe(error: dict[str, Any]) -> str:
    loc = [cut_text(str(p), 60) for p in error["loc"] if not isinstance(p, int)]
    key = ".".join(loc) or "(top level)"
    if error["type"] == "extra_forbidden":
        known = _known_keys(loc[:-1])
        close = difflib.get_close_matches(loc[-1], known, n=1)
        hint = f"; did you mean '{'.'.join(loc[:-1] + [close[0]])}'?" if close else ""
        return f"{key}: unknown key{hint} (keys here: {', '.join(known)})"
    got = error.get("input")
    msg = cut_text(error["msg"].removeprefix("Value error, "), 300)
    if error["type"] in ("model_type", "dict_type"):
        return f"{key}: must be a section of keys ({', '.join(_known_keys(loc))}), got {short_repr(got)}"
    if error["type"] == "string_type" and isinstance(got, int | float):  # YAML read the text as a number
        return f"{key}: {msg} (got {short_repr(got)}; write it in quotes to mean text)"
    return f"{key}: {msg} (got {short_repr(got)})"


def _known_keys(parts: list[str]) -> list[str]:
    section = _section(parts)
    return list(section.model_fields) if section else []


def load_config(config: str | dict[str, Any], overrides: list[Override] | None = None) -> Config:
    """Load CONFIG (YAML file, recipe name, or a dict of the same keys) and apply the overrides."""
    if isinstance(config, dict):
        raw, label = config, "config dict"
    elif isinstance(config, str | os.PathLike):
        raw, label = read_config_source(os.fspath(config))
    else:
        raise ConfigError(f"config must be a recipe name, a YAML file or a dict; got {type(config).__name__}")
    if overrides:
        label += " with overrides " + " ".join(map(override_text, overrides))
    return validate(apply_overrides(raw, overrides or []), label)


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:  # config files take no anchors or aliases
        return True


# The loader's YAML 1.2 floats: a string that would read back as one ("1e3") is written in quotes.
_Dumper.add_implicit_resolver(_FLOAT_TAG, _FLOAT, list("-+0123456789."))


def dump_yaml(cfg: Config) -> str:
    return yaml.dump(cfg.to_dict(), Dumper=_Dumper, sort_keys=False)


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{'a': {'b': 1}}`` -> ``{'a.b': 1}``."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out
