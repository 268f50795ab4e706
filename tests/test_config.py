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


@pytest.mark.parametrize("text, key, lines", [
    ("seed: 1\ntrain:\n  steps: 3\nseed: 2\n", "'seed'", "lines 1 and 4"),
    ("train:\n  steps: 3\n  k: 1\n  steps: 5\n", "'train.steps'", "lines 2 and 4"),
    ("train: {steps: 3, steps: 5}\n", "'train.steps'", "on line 1 (columns 9 and 19)"),
    ("train:\n  steps: 3\noptim:\n  lr: 0.1\ntrain:\n  k: 1\n", "'train'", "lines 1 and 5"),
    ("monitor:\n  metrics: [modes]\n  'metrics': [classifier]\n", "'monitor.metrics'", "lines 2 and 3"),
])
def test_a_duplicate_key_is_refused_naming_the_file_the_key_and_its_lines(tmp_path, text, key, lines):
    path = _file(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert path in message and key in message and lines in message and "twice" in message, message


def test_the_same_key_in_different_sections_is_no_duplicate(tmp_path):
    cfg = load_config(_file(tmp_path, "generator:\n  hidden: [10]\ndiscriminator:\n  hidden: [20]\n"))
    assert cfg.generator.hidden == [10] and cfg.discriminator.hidden == [20]


def test_exponent_floats_in_a_file_are_numbers_as_on_the_command_line(tmp_path):
    import yaml

    path = _file(tmp_path, "optim:\n  lr: 1e-3\n  lr_g: .5\n  lr_d: 2E-4\nloss:\n  gradient_penalty: 1e1\n"
                           "generator:\n  arch: dcgan\n  output_bias: zero\ndiscriminator:\n  arch: dcgan\n"
                           "  batch_norm: false\n")
    cfg = load_config(path)
    assert (cfg.optim.lr, cfg.optim.lr_g, cfg.optim.lr_d, cfg.loss.gradient_penalty) == (1e-3, 0.5, 2e-4, 10.0)
    assert cfg == load_config(path, ["optim.lr=1e-3", "optim.lr_g=.5", "optim.lr_d=2E-4", "loss.gradient_penalty=1e1"])
    with pytest.raises(ConfigError, match=r"optim.lr: Input should be greater than 0 \(got -0.00015\)"):
        load_config(_file(tmp_path, "optim:\n  lr: -1.5E-4\n"))
    with pytest.raises(ConfigError, match=r"train.steps: Input should be a valid integer \(got 1000.0\)"):
        load_config(_file(tmp_path, "train:\n  steps: 1e3\n"))
    assert yaml.safe_load("lr: 1e-3") == {"lr": "1e-3"}, "PyYAML's own loader is left as it is"


@pytest.mark.parametrize("text", ["1e3", "-1.5E-4", ".5", "-.5", "+1e3", "1.5e3", "1e+3", "1.", "1_000.5", "3",
                                  "-7", "0x10", ".inf", "1e", "e3", "1.2.3", "1e3x", "1e3.5", "abc", "null", "true"])
def test_a_file_and_the_command_line_read_a_value_alike(tmp_path, text):
    from gannet.config import read_config_source

    raw, _ = read_config_source(_file(tmp_path, f"value: {text}\n"))
    from_file, from_line = raw["value"], parse_value(text)
    assert type(from_file) is type(from_line) and from_file == from_line, (from_file, from_line)


def test_text_that_is_no_number_stays_text(tmp_path):
    path = _file(tmp_path, "description: 1e3x\ndata:\n  name: npz\n  path: e5\n  key: 1.2.3\n")
    cfg = load_config(path)
    assert (cfg.description, cfg.data.path, cfg.data.key) == ("1e3x", "e5", "1.2.3")
    assert load_config(path, ["data.key=1e3"]).data.key == "1e3"  # text keys keep their VALUE verbatim
    with pytest.raises(ConfigError, match=r"data.key: .*string.*got 1000.0.*quotes"):
        load_config(_file(tmp_path, "data:\n  key: 1e3\n"))


def _laughs(levels=9):
    """A billion-laughs file: 600 bytes whose last alias stands for 9**levels strings."""
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("tail", [
    "",                                          # under unknown keys only
    "seed: *l8\n",                               # under a wrong-typed key
    "generator:\n  hidden: *l8\n",               # in a list of the schema
    "data: {l: *l8}\n",                          # in a section
])
def test_aliases_that_expand_to_a_billion_values_give_a_short_error_at_once(tmp_path, tail):
    import time
    import tracemalloc

    path = _file(tmp_path, _laughs() + tail)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(ConfigError) as err:
            load_config(path, ["train.steps=5"])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < 5 and peak < 20e6
    message = str(err.value)
    assert len(message) < 2000 and path in message and "alias" in message.replace(path, ""), message


def test_a_recursive_alias_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="alias"):
        load_config(_file(tmp_path, "train: &t {steps: 3, again: *t}\n"))


def test_long_values_and_many_errors_are_cut_short_in_messages(tmp_path):
    path = _file(tmp_path, "generator:\n  hidden: [" + ", ".join(["-1"] * 20_000) + "]\n")
    message = str(pytest.raises(ConfigError, load_config, path).value)
    assert "generator" in message and "hidden" in message and len(message) < 2000, message[:3000]
    path = _file(tmp_path, "discriminator:\n  hidden: [" + ", ".join(["a"] * 20_000) + "]\n")
    message = str(pytest.raises(ConfigError, load_config, path).value)
    assert "discriminator.hidden" in message and "20000 times" in message and len(message) < 2000, message[:3000]
    path = _file(tmp_path, "discriminator:\n  hidden: [" + ", ".join(f"a{i}" for i in range(20_000)) + "]\n")
    message = str(pytest.raises(ConfigError, load_config, path).value)
    assert "discriminator.hidden" in message and "more problems" in message and len(message) < 2000, message[:3000]
    path = _file(tmp_path, "description: [" + ", ".join([f"'{'y' * 50}'"] * 5_000) + "]\n" + "z" * 1000 + ": 1\n")
    message = str(pytest.raises(ConfigError, load_config, path).value)
    assert "description" in message and "unknown key" in message and len(message) < 2000, message[:3000]
    path = _file(tmp_path, "seed: " + "1" * 5000 + "\n")  # more digits than Python turns into an int
    message = str(pytest.raises(ConfigError, load_config, path).value)
    assert path in message and "digits" in message and len(message) < 2000, message[:3000]


@pytest.mark.parametrize("name, content", [
    ("weights.yaml", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x1c"),
    ("mnist.npz", b"PK\x03\x04\x14\x00\x00\x00\x00\x00\xff\xfe\x00\x01"),
    ("nul.yaml", b"seed: 1\n\x00\x00train:\n"),
    ("control.yaml", b"seed: 1\ndescription: a\x01b\n"),
    ("latin1.yaml", "description: caf\xe9\n".encode("latin-1")),
])
def test_a_binary_file_is_no_yaml_text(tmp_path, name, content):
    path = _file(tmp_path, content, name)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert f"'{path}'" in message and "not a YAML text file" in message and len(message) < 500, message


def test_utf8_text_with_or_without_a_byte_order_mark_is_read(tmp_path):
    assert load_config(_file(tmp_path, "description: café\n".encode())).description == "café"
    assert load_config(_file(tmp_path, "\ufeffdescription: café\n".encode())).description == "café"


@pytest.mark.parametrize("seed", ["-1", str(2**63 - 1), str(2**70)])
def test_a_seed_must_be_a_non_negative_integer_the_streams_can_tell_apart(tmp_path, seed):
    with pytest.raises(ConfigError, match=r"seed: .*non-negative integer.*9223372036854775806") as err:
        load_config("toy-1d", [f"seed={seed}"])
    assert "\n  seed: " in str(err.value)
    with pytest.raises(ConfigError, match=r"seed: .*non-negative integer"):
        load_config(_file(tmp_path, f"seed: {seed}\n"))
    assert load_config("toy-1d", [f"seed={2**63 - 2}"]).seed == 2**63 - 2
    assert load_config("toy-1d", ["seed=0"]).seed == 0


def test_values_nested_past_any_config_depth_are_a_clear_error(tmp_path):
    path = _file(tmp_path, "train: " + "[" * 2000 + "]" * 2000 + "\n")
    with pytest.raises(ConfigError, match=r"line 1: .*nest more than \d+ levels deep") as err:
        load_config(path)
    assert path in str(err.value)
    with pytest.raises(ConfigError, match=r"generator.hidden: Input should be a valid integer"):
        load_config(_file(tmp_path, "generator:\n  hidden: " + "[" * 20 + "]" * 20 + "\n"))


def test_a_dumped_config_is_read_back_the_same(tmp_path):
    from gannet.config import dump_yaml

    for name in recipe_names():
        cfg = load_config(name, ["seed=12345678901"])
        assert load_config(_file(tmp_path, dump_yaml(cfg), f"{name}.yaml")) == cfg, name


def test_learning_rates_beyond_any_float32_use_are_refused_by_name():
    from gannet.config import ConfigError, load_config

    for key in ("optim.lr", "optim.lr_g", "optim.lr_d"):
        with pytest.raises(ConfigError, match=key.split(".")[1]):
            load_config("toy-ring", [f"{key}=1e308"])


def test_text_that_reads_as_a_number_is_quoted_when_the_config_is_saved():
    from gannet.config import dump_yaml, load_yaml

    cfg = load_config("toy-ring", ["description=1e3", "data.root=2e5"])  # text keys keep the text given
    saved = load_yaml(dump_yaml(cfg))  # what a resumed run reads back from config.yaml
    assert saved["description"] == "1e3" and saved["data"]["root"] == "2e5"
    assert validate(saved).to_dict() == cfg.to_dict()


def test_typed_overrides_set_values_as_given():
    from gannet.config import overrides_from_dict

    cfg = load_config("toy-ring", overrides_from_dict({"train.steps": 7, "description": "yes", "optim.lr": 1e-3,
                                                        "loss.generator": "minimax"}))  # an older key name too
    assert cfg.train.steps == 7 and cfg.description == "yes" and cfg.optim.lr == 1e-3 and cfg.loss.name == "minimax"
    with pytest.raises(ConfigError, match="train.steps"):
        load_config("toy-ring", overrides_from_dict({"train.steps": "many"}))
