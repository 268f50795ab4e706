"""A folder of images (PNG, JPEG, ...), read with Pillow: every image file under the folder, in sorted
path order, converted to RGB (or grey), scaled so the shorter side is ``size`` and centre-cropped to
``size x size``. The result is float32 (N, C, size, size) in [0, 1]."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gannet.data.errors import DataError

EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


def load_image_folder(root: Path, size: int, grey: bool = False) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    root = Path(root).expanduser()
    if not root.is_dir():
        raise DataError(f"{root}: no such folder (data.root for an image-folder dataset)")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in EXTENSIONS and p.is_file())
    if not files:
        raise DataError(f"{root}: no image files ({', '.join(sorted(EXTENSIONS))}) in the folder or below it")
    images = []
    for path in files:
        try:
            with Image.open(path) as img:
                img = img.convert("L" if grey else "RGB")
                scale = size / min(img.size)
                w, h = max(size, round(img.width * scale)), max(size, round(img.height * scale))
                img = img.resize((w, h), Image.Resampling.BICUBIC)
                left, top = (w - size) // 2, (h - size) // 2
                img = img.crop((left, top, left + size, top + size))
                array = np.asarray(img, dtype=np.float32) / 255.0
        except (UnidentifiedImageError, OSError) as err:
            raise DataError(f"{path}: not a readable image ({err})") from None
        images.append(array[None] if grey else array.transpose(2, 0, 1))
    return np.stack(images)
