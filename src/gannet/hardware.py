"""What this machine's processor can do fast, for choices that depend on it (bf16) and for benchmarks."""

from __future__ import annotations

import torch


def cpu_capability() -> str:
    """The vector instruction set PyTorch dispatches its CPU kernels to ("AVX512", "AVX2", ...)."""
    try:
        return str(torch.backends.cpu.get_cpu_capability())
    except (AttributeError, RuntimeError):  # older or unusual builds
        return "unknown"


def bf16_is_fast(device: torch.device | str = "cpu") -> bool:
    """Whether bfloat16 matrix products run in hardware on ``device``.

    On a CPU, oneDNN reports bf16 support only where the processor has the instructions for it
    (AVX-512 or AMX); without them (AVX2-only machines) PyTorch falls back to scalar code that is
    hundreds of times slower than fp32. On CUDA, the device's own report."""
    device = torch.device(device)
    if device.type == "cuda":
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    if device.type != "cpu":
        return True
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def cpu_features() -> str:
    """The capability and bf16 support, e.g. "AVX512, native bf16" (what a timing depends on)."""
    bf16 = "native bf16" if bf16_is_fast("cpu") else "no native bf16"
    return f"{cpu_capability()}, {bf16}"


def describe_cpu() -> str:
    """One line for benchmark output: the capability, bf16 support and the thread count."""
    return f"CPU capability {cpu_features()}, {torch.get_num_threads()} threads"
