import pytest

from gannet.config import (
    ConfigError,
    apply_overrides,
    load_config,
    parse_value,
    recipe_names,
    validate,
)


def test_every_recipe_is_valid():
    names = recipe_names()
    assert {"mnist-2014", "digits", "toy-1d", "toy-ring", "toy-grid", "fashion-mnist"} <= set(names)
    for name in names:
        cfg = load_config(name)
        assert cfg.description, f"recipe {name} needs a description"


def test_mnist_2014_is_the_papers_model():
    cfg = load_config("mnist-2014")
    assert cfg.generator.hidden == [1200, 1200] and cfg.generator.output == "sigmoid"
    assert cfg.generator.output_bias == "marginals" and cfg.generator.init_range == 0.05
    d = cfg.discriminator
    assert (d.arch, d.hidden, d.pieces, d.keep_input, d.keep_hidden, d.init_range) == (
        "maxout", [240, 240], 5, 0.8, 0.5, 0.005)
    assert (cfg.train.batch_size, cfg.train.k, cfg.optim.lr, cfg.optim.lr_decay) == (100, 1, 0.1, 1.000004)
    assert (cfg.optim.momentum, cfg.optim.final_momentum, cfg.optim.momentum_saturate) == (0.5, 0.7, 250)
    assert cfg.noise.dim == 100 and cfg.data.valid_size == 10_000


def test_overrides_set_nested_keys_with_types():
    cfg = load_config("mnist-2014", ["train.steps=2000", "loss.name=minimax", "optim.lr=1e-3",
                                     "data.root=/data/mnist", "generator.hidden=[10, 20]", "train.progress=false"])
    assert cfg.train.steps == 2000 and cfg.loss.name == "minimax"
    assert cfg.optim.lr == pytest.approx(1e-3) and cfg.data.root == "/data/mnist"
    assert cfg.generator.hidden == [10, 20] and cfg.train.progress is False


def test_parse_value_reads_exponent_floats():
    assert parse_value("1e-3") == 1e-3 and parse_value("3") == 3 and parse_value("null") is None
    assert parse_value("alternating") == "alternating"


@pytest.mark.parametrize(
    "override, fragments",
    [
        ("train.stpes=5", ["train.stpes", "unknown key", "did you mean 'train.steps'"]),
        ("nosuch.key=1", ["nosuch", "unknown key"]),
        ("train.k=0", ["train.k", "greater than or equal to 1", "got 0"]),
        ("optim.lr=-0.1", ["optim.lr", "greater than 0", "-0.1"]),
        ("train.steps=abc", ["train.steps", "integer", "'abc'"]),
        ("train.update=sometimes", ["train.update", "'alternating', 'simultaneous' or 'vae'"]),
        ("loss.name=wgan", ["loss.name", "'wasserstein'"]),
        ("noise.prior=cauchy", ["noise.prior", "'uniform' or 'normal'"]),
        ("discriminator.keep_input=1.5", ["discriminator.keep_input", "less than or equal to 1"]),
        ("train=3", ["train", "must be a section"]),
    ],
)
def test_bad_values_name_the_key_and_what_is_accepted(override, fragments):
    with pytest.raises(ConfigError) as err:
        load_config("mnist-2014", [override])
    message = str(err.value)
    for fragment in fragments:
        assert fragment in message, message


def test_cross_field_rules():
    with pytest.raises(ConfigError, match="simultaneous.*k = 1"):
        load_config("mnist-2014", ["train.update=simultaneous", "train.k=2"])
    with pytest.raises(ConfigError, match="momentum_saturate"):
        load_config("mnist-2014", ["optim.momentum_start=10", "optim.momentum_saturate=5"])
    with pytest.raises(ConfigError, match="output_bias"):
        load_config("mnist-2014", ["generator.output=linear"])


def test_override_syntax_errors():
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        apply_overrides({}, ["train.steps"])
    with pytest.raises(ConfigError, match="is a value, not a section"):
        apply_overrides({"seed": 1}, ["seed.x=2"])


def test_config_files_and_unknown_names(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("data:\n  name: toy-1d\ntrain:\n  steps: 7\n")
    cfg = load_config(str(path))
    assert cfg.data.name == "toy-1d" and cfg.train.steps == 7
    with pytest.raises(ConfigError, match="did you mean 'mnist-2014'"):
        load_config("mnist-2041")
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(str(tmp_path / "missing.yaml"))
    path.write_text("- a list\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(str(path))
    path.write_text("train: {steps: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(str(path))


def test_round_trip_through_dict():
    cfg = load_config("toy-ring", ["seed=3"])
    assert validate(cfg.to_dict()) == cfg


def test_the_older_loss_key_is_still_read_on_the_command_line_and_in_files(tmp_path):
    assert load_config("toy-ring", ["loss.generator=minimax"]).loss.name == "minimax"
    path = tmp_path / "old.yaml"
    path.write_text("loss:\n  generator: minimax\n")
    assert load_config(str(path)).loss.name == "minimax"
    path.write_text("loss:\n  generator: minimax\n  name: hinge\n")
    with pytest.raises(ConfigError, match="disagree"):
        load_config(str(path))


def test_a_per_sample_penalty_with_a_batch_norm_critic_is_refused():
    dcgan = ["generator.arch=dcgan", "discriminator.arch=dcgan", "generator.output_bias=zero"]
    with pytest.raises(ConfigError, match="discriminator.batch_norm=false"):
        load_config("digits", [*dcgan, "loss.gradient_penalty=10"])
    assert load_config("digits", [*dcgan, "loss.gradient_penalty=10", "discriminator.batch_norm=false"])


@pytest.mark.parametrize("recipe, overrides, message", [
    ("cifar10-2014-conv", ["discriminator.hidden=[240,240]"], "discriminator: hidden.*one size"),
    ("cifar10-2014-conv", ["generator.hidden=[150]", "generator.activations=null"], "generator: hidden.*multiple of 100"),
    ("cifar10-2014-conv", ["generator.hidden=[]", "generator.activations=null"], "generator: hidden.*multiple of 100"),
    ("cifar10-2014-conv", ["generator.output=sigmoid"], "output is linear"),
    ("cifar10-2014", ["generator.activations=[relu]"], "one per hidden layer"),
    ("cifar10-2014", ["generator.output=sigmoid"], "data.gcn=55 centres"),
    ("cifar10-2014", ["generator.dense=64"], "generator: dense.*arch: mlp"),
    ("cifar10-2014", ["discriminator.dense=64"], "discriminator: dense.*arch: maxout"),
    ("dcgan-mnist", ["generator.activations=[relu,relu]"], "activations applies to mlp and deconv"),
    ("cifar10-2014-conv", ["generator.output_init_range=0.5"], "output_init_range: applies to arch: mlp"),
])
def test_the_cifar10_networks_refuse_settings_they_cannot_build(recipe, overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config(recipe, overrides)


# --------------------------------------------------------------------------------------------
# What a YAML file can do wrong: duplicate keys, exponent floats, aliases, binary data, bad seeds


def _file(tmp_path, text, name="mine.yaml"):
    path = tmp_path / name
    path.write_bytes(text) if isinstance(text, bytes) else path.write_text(text)
    return str(path)


@pytest.mark.parametrize("seed", ["-1", str(2**63 - 1), str(2**70)])
def test_a_seed_must_be_a_non_negative_integer_the_streams_can_tell_apart(tmp_path, seed):
    with pytest.raises(ConfigError, match=r"seed: .*non-negative integer.*9223372036854775806") as err:
        load_config("toy-1d", [f"seed={seed}"])
    assert "\n  seed: " in str(err.value)
    with pytest.raises(ConfigError, match=r"seed: .*non-negative integer"):
        load_config(_file(tmp_path, f"seed: {seed}\n"))
    assert load_config("toy-1d", [f"seed={2**63 - 2}"]).seed == 2**63 - 2
    assert load_config("toy-1d", ["seed=0"]).seed == 0
