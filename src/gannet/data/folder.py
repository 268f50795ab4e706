"""A folder of images (PNG, JPEG, ...), read with Pillow: every image file under the folder, in sorted
path order, scaled so the shorter side is ``size`` and centre-cropped to ``size x size``. The result is
float32 (N, C, size, size) in [0, 1]: C = 3 (RGB), or 1 with ``grey`` (Pillow's ITU-R 601 luma).

Pixels are scaled by what they hold, so images of different modes may share a folder:

* 8-bit images (grey, RGB, palette, 1-bit, CMYK, YCbCr, LAB) are converted by Pillow and divided by 255.
  Pillow reads 16-bit RGB(A) PNGs as 8-bit RGB(A), so they keep their scale but not their low byte.
* 16-bit grey (mode I;16, as Pillow reads 16-bit grey PNG and TIFF) is divided by 65,535; 32-bit integer
  pixels (mode I, which older Pillow gives 16-bit PNGs) are read as 16-bit samples and refused past
  0..65,535; 32-bit floats (mode F) are taken as already in [0, 1] and refused outside it. These are
  resized as floats and repeated into three channels for RGB.
* Alpha (RGBA, LA, PA, a palette's or a colour key's transparency) is composited over black: each colour
  is multiplied by its opacity, so whatever colour hides under a transparent pixel does not leak in. One
  note on stderr says how many images had transparent pixels.

An image that cannot be read (truncated, corrupt, a mode Pillow cannot convert) is a :class:`DataError`
naming the file, and so is one over Pillow's decompression-bomb limit (``PIL.Image.MAX_IMAGE_PIXELS``):
the limit is the caller's to raise, never raised here."""

from __future__ import annotations

import re
import struct
import sys
import warnings
import zlib
from pathlib import Path

import numpy as np

from gannet.data.errors import DataError

EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
ALPHA_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}
_UNREADABLE = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error)  # what corrupt files raise


def load_image_folder(root: Path, size: int, grey: bool = False) -> np.ndarray:
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DataError(f"{root}: no such folder (data.root for an image-folder dataset)")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in EXTENSIONS and p.is_file())
    if not files:
        raise DataError(f"{root}: no image files ({', '.join(sorted(EXTENSIONS))}) in the folder or below it")
    images, transparent = [], 0
    for path in files:
        array, had_alpha = _read(path, size, grey)
        images.append(array)
        transparent += had_alpha
    if transparent:
        print(f"gannet: note: {transparent} of {len(files)} images in {root} have transparent pixels; they were "
              f"composited over black (alpha dropped)", file=sys.stderr)
    return np.stack(images)


def _read(path: Path, size: int, grey: bool) -> tuple[np.ndarray, bool]:
    """One image as float32 (C, size, size) in [0, 1], and whether it had transparent pixels."""
    from PIL import Image

    limit = Image.MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # refused below, by name
            with Image.open(path) as img:
                if limit and img.width * img.height > limit:
                    raise DataError(_bomb_message(path, f"{img.width} x {img.height} = {img.width * img.height:,}",
                                                  limit))
                if img.mode.startswith("I;16") or img.mode in ("I", "F"):
                    return _read_wide(path, img, size, grey)
                return _read_8bit(path, img, size, grey)
    except DataError:
        raise
    except Image.DecompressionBombError as err:  # past twice the limit Pillow refuses before giving the size
        found = re.search(r"\((\d+) pixels\)", str(err))
        raise DataError(_bomb_message(path, f"{int(found[1]):,}" if found else "more than twice that", limit)
                        ) from None
    except _UNREADABLE as err:
        raise DataError(f"{path}: not a readable image ({err})") from None


def _bomb_message(path: Path, pixels: str, limit: int) -> str:
    return (f"{path}: {pixels} pixels, over the limit of {limit:,} (PIL.Image.MAX_IMAGE_PIXELS) that guards "
            f"against decompression bombs; shrink the image or remove it from the folder")


def _read_8bit(path: Path, img, size: int, grey: bool) -> tuple[np.ndarray, bool]:
    from PIL import Image

    transparent = False
    if img.mode in ALPHA_MODES or "transparency" in img.info:
        rgba = _convert(path, img, "RGBA")
        transparent = rgba.getchannel("A").getextrema()[0] < 255
        img = Image.alpha_composite(Image.new("RGBA", rgba.size, (0, 0, 0, 255)), rgba)
    img = _fit(_convert(path, img, "L" if grey else "RGB"), size)
    array = np.asarray(img, dtype=np.float32) / 255.0
    return (array[None] if grey else array.transpose(2, 0, 1)), transparent


def _read_wide(path: Path, img, size: int, grey: bool) -> tuple[np.ndarray, bool]:
    """16-bit, 32-bit integer and float grey images, scaled to [0, 1] before resizing, as floats."""
    from PIL import Image

    raw = np.asarray(img)
    if img.mode == "F":
        if not np.isfinite(raw).all():
            raise DataError(f"{path}: floating-point pixels (mode F) include NaN or infinity")
        if raw.min() < 0 or raw.max() > 1:
            raise DataError(f"{path}: floating-point pixels (mode F) lie in [{raw.min():g}, {raw.max():g}]; "
                            f"expected [0, 1]")
        values = raw.astype(np.float32)
    else:
        if img.mode == "I" and (raw.min() < 0 or raw.max() > 65535):
            raise DataError(f"{path}: 32-bit integer pixels (mode I) reach "
                            f"{raw.min() if raw.min() < 0 else raw.max()}; expected 0..65535 (16-bit samples)")
        values = raw.astype(np.float32) / 65535.0
    key = img.info.get("transparency")  # a 16-bit PNG's colour key: those pixels become black
    transparent = isinstance(key, int) and bool((raw == key).any())
    if transparent:
        values[raw == key] = 0.0
    plane = np.clip(np.asarray(_fit(Image.fromarray(values), size), dtype=np.float32), 0.0, 1.0)
    return (plane[None] if grey else np.repeat(plane[None], 3, axis=0)), transparent


def _convert(path: Path, img, mode: str):
    """``img`` in ``mode``, through RGB where Pillow has no direct conversion (LAB to grey)."""
    try:
        return img.convert(mode)
    except ValueError:
        pass
    try:
        return img.convert("RGB").convert(mode)
    except ValueError:
        raise DataError(f"{path}: pixel mode {img.mode} cannot be converted to {mode}; save the image as "
                        f"8-bit grey, RGB or RGBA") from None


def _fit(img, size: int):
    """Scaled (bicubic) so the shorter side is ``size``, then centre-cropped to ``size x size``."""
    from PIL import Image

    scale = size / min(img.size)
    w, h = max(size, round(img.width * scale)), max(size, round(img.height * scale))
    img = img.resize((w, h), Image.Resampling.BICUBIC)
    left, top = (w - size) // 2, (h - size) // 2
    return img.crop((left, top, left + size, top + size))
