class DataError(ValueError):
    """A dataset that cannot be read; the message names the file and what was expected."""
