"""Running means of the step statistics, kept on the device so that no step waits for the host.

It also remembers the first step whose statistics were not finite, so a diverged run can say when.
"""

from __future__ import annotations

import torch

KEYS = ("d_loss", "g_loss", "value", "d_real", "d_fake")


class StatsTracker:
    def __init__(self, device: torch.device):
        self.sums = torch.zeros(len(KEYS), dtype=torch.float64, device=device)
        self.count = 0
        self.first_bad_step = torch.tensor(-1, device=device)

    def add(self, step: int, stats: dict[str, torch.Tensor]) -> None:
        values = torch.stack([stats[k].to(torch.float64) for k in KEYS])
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
        return dict(zip(KEYS, means))

    def last_values_hint(self) -> dict[str, float]:
        return dict(zip(KEYS, (self.sums / max(self.count, 1)).tolist()))

    def state_dict(self) -> dict:
        return {"sums": self.sums.cpu(), "count": self.count, "first_bad_step": int(self.first_bad_step)}

    def load_state_dict(self, state: dict) -> None:
        self.sums.copy_(state["sums"])
        self.count = int(state["count"])
        self.first_bad_step.fill_(int(state["first_bad_step"]))
