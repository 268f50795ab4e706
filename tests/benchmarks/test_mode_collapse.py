import json

import pytest

from tests.benchmarks.conftest import load_benchmark


def test_smoke_plan_trains_scores_and_draws_every_toy(in_tmp, capsys):
    bench = load_benchmark("mode_collapse")
    bench.main(["--smoke", "--seeds", "2", "--only", "pacgan4", "--out", "mc", "--jobs", "2"])
    out = capsys.readouterr().out
    assert out.startswith("CPU capability ")
    results = json.loads((in_tmp / "mc" / "smoke" / "mode_collapse.json").read_text())
    assert sorted(results) == ["grid/pacgan4", "ring/pacgan4"]
    assert all(len(runs) == 2 and [r["seed"] for r in runs] == [0, 1] for runs in results.values())
    assert all(r["modes"] == (25 if key.startswith("grid") else 8) for key, runs in results.items() for r in runs)
    assert "| grid | PacGAN, packing 4 |" in out and "24.8 +- 0.2" in out  # the published number beside it
    assert all((in_tmp / "mc" / "smoke" / "figures" / f"{key.replace('/', '-')}.png").exists() for key in results)
    config = (in_tmp / "mc" / "smoke" / "ring" / "pacgan4" / "seed-1" / "config.yaml").read_text()
    assert "name: toy-ring-pacgan" in config and "pack: 4" in config and "seed: 1" in config

    # --report trains nothing: a third seed is left out of the table, not trained
    bench.main(["--smoke", "--seeds", "3", "--only", "pacgan4", "--out", "mc", "--report"])
    report = capsys.readouterr().out
    assert "| grid | PacGAN, packing 4 | 0, 1 |" in report
    assert not (in_tmp / "mc" / "smoke" / "grid" / "pacgan4" / "seed-2").exists()


def test_the_wgan_gp_row_trains_on_the_ring_when_asked_for_the_ring():
    bench = load_benchmark("mode_collapse")
    recipe, overrides = bench.run_overrides("wgan-gp", "ring", 3, None, smoke=False)
    assert recipe == "toy-grid-wgan-gp" and "data.name=toy-ring-pacgan" in overrides and "seed=3" in overrides


def test_timing_times_each_row_alone_and_the_table_shows_it(in_tmp, capsys):
    bench = load_benchmark("mode_collapse")
    bench.main(["--smoke", "--timing", "20", "--only", "pacgan4", "gan-fast", "--toys", "grid", "--out", "mc",
                "--threads", "1"])
    timing = json.loads((in_tmp / "mc" / "smoke" / "timing.json").read_text())
    assert sorted(timing) == ["grid/gan-fast", "grid/pacgan4"]
    for record in timing.values():
        assert record["seconds_per_step"] > 0 and record["threads"] == 1
        assert record["steps"] == 20_000  # the recipe's own length, not the 20 timed steps
        assert record["projected_seconds"] == record["seconds_per_step"] * 20_000
    assert "ms/step alone on 1 thread," in capsys.readouterr().out
    assert not (in_tmp / "mc" / "smoke" / "grid" / "pacgan4").exists()  # timing trains no benchmark run

    bench.main(["--smoke", "--seeds", "1", "--only", "pacgan4", "--toys", "grid", "--out", "mc", "--jobs", "1"])
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("| grid | PacGAN, packing 4"))
    assert f"({timing['grid/pacgan4']['seconds_per_step'] * 1e3:.1f} ms/step, 1 thread)" in row


def test_a_run_whose_folder_is_gone_is_reported_from_its_record_until_its_config_changes(in_tmp, capsys,
                                                                                         monkeypatch):
    bench = load_benchmark("mode_collapse")
    args = ["--smoke", "--seeds", "1", "--only", "gan-fast", "--toys", "grid", "--out", "mc", "--jobs", "1"]
    bench.main(args)
    kept = json.loads((in_tmp / "mc" / "smoke" / "record" / "grid" / "gan-fast" / "seed-0.json").read_text())
    assert kept["config"]["discriminator"]["pack"] == 1 and kept["threads"] >= 1 and "bf16" in kept["cpu"]
    trained = json.loads((in_tmp / "mc" / "smoke" / "mode_collapse.json").read_text())["grid/gan-fast"]
    assert kept["run"] == trained[0]
    capsys.readouterr()

    import shutil

    shutil.rmtree(in_tmp / "mc" / "smoke" / "grid")  # another machine: the record only
    bench.main([*args, "--report"])
    assert "| grid | GAN at toy-*-pacgan's settings, unpacked | 0 |" in capsys.readouterr().out
    assert json.loads((in_tmp / "mc" / "smoke" / "mode_collapse.json").read_text())["grid/gan-fast"] == trained
    assert not (in_tmp / "mc" / "smoke" / "grid").exists()  # nothing trained

    # a changed row makes the record stale: the report leaves the run out, a plain run trains it again
    description, grid, ring, overrides = bench.ROWS["gan-fast"]
    monkeypatch.setitem(bench.ROWS, "gan-fast", (description, grid, ring, [*overrides, "optim.lr=0.003"]))
    bench.main([*args, "--report"])
    assert "| grid |" not in capsys.readouterr().out
    bench.main(args)
    assert "trained mc/smoke/grid/gan-fast/seed-0" in capsys.readouterr().out
    again = json.loads((in_tmp / "mc" / "smoke" / "record" / "grid" / "gan-fast" / "seed-0.json").read_text())
    assert again["config"]["optim"]["lr"] == 0.003


def test_a_finished_run_keeps_the_record_of_how_it_was_trained(in_tmp, capsys):
    """Run again with other threads (to train the seeds still missing), a finished run is taken from
    its record: its threads, jobs and seconds stay those it was trained with."""
    bench = load_benchmark("mode_collapse")
    args = ["--smoke", "--seeds", "1", "--only", "gan-fast", "--toys", "grid", "--out", "mc"]
    bench.main([*args, "--jobs", "1", "--threads", "1"])
    record = in_tmp / "mc" / "smoke" / "record" / "grid" / "gan-fast" / "seed-0.json"
    kept = record.read_text()
    capsys.readouterr()
    bench.main([*args, "--jobs", "1", "--threads", "2"])
    assert "kept " in capsys.readouterr().out
    assert record.read_text() == kept and json.loads(kept)["threads"] == 1


def test_a_finished_folder_of_another_config_is_refused_not_reused(in_tmp, capsys, monkeypatch):
    """A finished run folder is reused as it stands, so one trained before its row's recipe or overrides
    changed must stop the benchmark with an error that names it, not be scored as the new row."""
    bench = load_benchmark("mode_collapse")
    args = ["--smoke", "--seeds", "1", "--only", "gan-fast", "--toys", "grid", "--out", "mc", "--jobs", "1"]
    bench.main(args)
    record = in_tmp / "mc" / "smoke" / "record" / "grid" / "gan-fast" / "seed-0.json"
    kept = record.read_text()
    capsys.readouterr()

    description, grid, ring, overrides = bench.ROWS["gan-fast"]
    monkeypatch.setitem(bench.ROWS, "gan-fast", (description, grid, ring, [*overrides, "optim.lr=0.003"]))
    for extra in ([], ["--report"]):
        with pytest.raises(SystemExit, match=r"error: mc/smoke/grid/gan-fast/seed-0 holds a run of another "
                                             r"config \(optim.lr: 0.002 there, 0.003 in the plan\)"):
            bench.main([*args, *extra])
    assert record.read_text() == kept  # the old run's record is not rewritten under the new config
