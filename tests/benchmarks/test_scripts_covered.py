from pathlib import Path

from tests.benchmarks.conftest import BENCHMARKS


def test_every_benchmark_script_has_a_smoke_test():
    tests = Path(__file__).parent
    missing = [p.name for p in BENCHMARKS.glob("*.py") if not (tests / f"test_{p.stem}.py").exists()]
    assert not missing, f"benchmarks without a smoke test in tests/benchmarks: {missing}"
