"""Experiments that turn the paper's claims into measurements."""
