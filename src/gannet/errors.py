"""The exception for a request that cannot be carried out as asked (a run folder that is taken, a
checkpoint that does not exist, an option out of range). The CLI prints it as one ``error: ...`` line
with exit status 2; the Python API raises it. Config, data and checkpoint problems have their own
(:class:`gannet.config.ConfigError`, :class:`gannet.data.DataError`,
:class:`gannet.checkpoint.CheckpointError`); all are ValueErrors."""


class UsageError(ValueError):
    """A request gannet refuses; the message names the argument, file or folder at fault."""
