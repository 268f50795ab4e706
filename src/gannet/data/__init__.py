"""Datasets: IDX files (MNIST, Fashion-MNIST), sklearn's digits, .npz arrays and generated toys."""

from gannet.data.datasets import Dataset, default_root, load_dataset
from gannet.data.errors import DataError

__all__ = ["DataError", "Dataset", "default_root", "load_dataset"]
