"""Running means of the step statistics, kept on the device so that no step waits for the host.

It also remembers the first step whose statistics were not finite, so a diverged run can say when.
"""

from __future__ import annotations

import torch

PAPER_KEYS = ("d_loss", "g_loss", "value", "d_real", "d_fake")  # what checkpoints without "keys" tracked


class StatsTracker:
    """The statistics tracked are those of the first step added (the step function's keys)."""

    def __init__(self, device: torch.device):
        self.device = device
        self.keys: tuple[str, ...] = ()
        self.sums = torch.zeros(0, dtype=torch.float64, device=device)
        self.count = 0
        self.first_bad_step = torch.tensor(-1, device=device)

    def add(self, step: int, stats: dict[str, torch.Tensor]) -> None:
        if tuple(stats) != self.keys:
            if self.count:
                raise ValueError(f"step statistics changed from {self.keys} to {tuple(stats)} within an interval")
            self.keys = tuple(stats)
            self.sums = torch.zeros(len(self.keys), dtype=torch.float64, device=self.device)
        values = torch.stack([stats[k].to(torch.float64) for k in self.keys])
        self.sums += values
        self.count += 1
        newly_bad = (~torch.isfinite(values).all()) & (self.first_bad_step < 0)
        self.first_bad_step = torch.where(newly_bad, torch.full_like(self.first_bad_step, step), self.first_bad_step)

    def bad_step(self) -> int | None:
        """The first step with a NaN or infinite statistic, or None (synchronises with the device)."""
        step = int(self.first_bad_step)
        return None if step < 0 else step

    def pop_means(self) -> dict[str, float]:
        means = (self.sums / max(self.count, 1)).tolist()
        self.sums.zero_()
        self.count = 0
        return dict(zip(self.keys, means))

    def last_values_hint(self) -> dict[str, float]:
        return dict(zip(self.keys, (self.sums / max(self.count, 1)).tolist()))

    def state_dict(self) -> dict:
        return {"keys": list(self.keys), "sums": self.sums.cpu(), "count": self.count,
                "first_bad_step": int(self.first_bad_step)}

    def load_state_dict(self, state: dict) -> None:
        self.keys = tuple(state.get("keys", PAPER_KEYS))
        self.sums = state["sums"].to(self.device, torch.float64).clone()
        self.count = int(state["count"])
        self.first_bad_step.fill_(int(state["first_bad_step"]))
