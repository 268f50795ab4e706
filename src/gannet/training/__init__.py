"""Training: Algorithm 1 and the authors' simultaneous scheme, schedules, checkpoints, run folders."""
