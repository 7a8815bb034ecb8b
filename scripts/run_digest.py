"""Digest of a run directory's outputs, for checking that a change altered none of them.

Each file is reduced to what it says, leaving out what legitimately differs between two
runs of the same inputs: the manifest's clock times, timings, platform and absolute
paths, the Excel file's creation time, the GeoPackage's change timestamps, folium's random
element ids in the maps, and how the PNGs are compressed (their pixels are hashed).

    python scripts/run_digest.py RUN_DIR [--write FILE]

prints ``{relative path: sha256}`` as JSON (or writes it to FILE).  The test
``tests/test_layout.py`` compares the sample's radius run against
``tests/data/sample_radius_digest.json``; regenerate that file with
``python scripts/run_digest.py --sample-radius --write tests/data/sample_radius_digest.json``
when an output is *meant* to change, and say why in the commit.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import zipfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent

#: The run's start time as written in the report ("2026-11-30T10:01:20+00:00").
_CLOCK = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d"
                    # and in Vietnam time on the summary sheet ("30/11/2026 17:01 (giờ ...")
                    rb"|\d\d/\d\d/\d{4} \d\d:\d\d(?= \(gi)")
#: Folium's random element ids ("map_2362118e78da10594368569964031e59").
_FOLIUM_ID = re.compile(rb"_[0-9a-f]{32}(?![0-9a-f])")

#: Manifest keys that differ between two runs of the same inputs.
VOLATILE_MANIFEST_KEYS = ("created", "timings_s", "platform", "config_file")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _strip_paths(obj: Any, roots: list[str]) -> Any:
    if isinstance(obj, dict):  # keys too: input hashes are keyed by absolute path
        return {_strip_paths(k, roots): _strip_paths(v, roots) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_strip_paths(v, roots) for v in obj]
    if isinstance(obj, str):
        for i, root in enumerate(roots):
            obj = obj.replace(root, f"<root{i}>")
    return obj


def _manifest(path: Path, roots: list[str]) -> str:
    record = json.loads(path.read_text(encoding="utf-8"))
    for key in VOLATILE_MANIFEST_KEYS:
        record.pop(key, None)
    cov = record.get("coverage") or {}
    cov.pop("cache_key", None)  # hashes the covgap version and absolute input paths
    cov.pop("seconds", None)
    for sel in (record.get("planning") or {}).values():
        sel.pop("seconds", None)
    record = _strip_paths(record, roots)
    return _sha(json.dumps(record, sort_keys=True, ensure_ascii=False).encode())


def _png(data: bytes) -> str:
    """Hash the picture, not its compression: size, mode, pixels and text chunks."""
    import io

    from PIL import Image
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        return _sha(repr((im.size, im.mode, sorted(im.text.items()) if hasattr(im, "text")
                          else [])).encode() + im.tobytes())


def _xlsx(path: Path) -> str:
    h = hashlib.sha256()
    with zipfile.ZipFile(path) as z:
        for name in sorted(z.namelist()):
            if name == "docProps/core.xml":  # creation and modification times
                continue
            h.update(name.encode())
            data = z.read(name)
            h.update(_png(data).encode() if name.endswith(".png") else
                     _CLOCK.sub(b"<clock>", data))
    return h.hexdigest()


def _gpkg(path: Path) -> str:
    import pyogrio
    h = hashlib.sha256()
    for name, _geom in pyogrio.list_layers(path):
        frame = pyogrio.read_dataframe(path, layer=name)
        h.update(str(name).encode())
        h.update(frame.drop(columns="geometry", errors="ignore").to_csv().encode())
        if "geometry" in frame:
            h.update(b"".join(frame.geometry.to_wkb()))
        h.update(str(frame.crs).encode())
    return h.hexdigest()


def _tif(path: Path) -> str:
    import rasterio
    h = hashlib.sha256()
    with rasterio.open(path) as src:
        h.update(repr((src.crs.to_string() if src.crs else None, tuple(src.transform),
                       src.dtypes, src.nodata, src.count, src.shape)).encode())
        h.update(src.read().tobytes())
    return h.hexdigest()


def digest(run_dir: str | Path, *, roots: list[str] | None = None) -> dict[str, str]:
    """Return ``{relative path: sha256 of its normalised content}`` for a run directory."""
    run_dir = Path(run_dir)
    roots = [str(REPO), str(run_dir.parent), *(roots or [])]
    out: dict[str, str] = {}
    for path in sorted(p for p in run_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(run_dir).as_posix()
        if path.name == "manifest.json":
            out[rel] = _manifest(path, roots)
        elif path.suffix in (".xlsx", ".docx"):
            out[rel] = _xlsx(path)
        elif path.suffix == ".gpkg":
            out[rel] = _gpkg(path)
        elif path.suffix == ".tif":
            out[rel] = _tif(path)
        elif path.suffix == ".html":
            out[rel] = _sha(_FOLIUM_ID.sub(b"_<id>", path.read_bytes()))
        elif path.suffix == ".png":
            out[rel] = _png(path.read_bytes())
        else:
            out[rel] = _sha(path.read_bytes())
    return out


def sample_radius_config(out_dir: str | Path) -> dict:
    """Return the bundled sample's configuration with the radius model, writing to out_dir."""
    import tomllib
    cfg = tomllib.loads((REPO / "data" / "sample.toml").read_text(encoding="utf-8"))
    for key, value in list(cfg["inputs"].items()):
        if isinstance(value, str):
            cfg["inputs"][key] = str(REPO / "data" / value)
        elif isinstance(value, dict) and "path" in value:
            value["path"] = str(REPO / "data" / value["path"])
    cfg["coverage"]["model"] = "radius"
    cfg["output"]["dir"] = str(out_dir)
    return cfg


def sample_radius_digest(out_dir: str | Path) -> dict[str, str]:
    """Run the sample with the radius model into out_dir and digest its run directory."""
    import covgap
    result = covgap.run(sample_radius_config(out_dir), reuse_coverage=False)
    target = Path(out_dir) / "run"
    result.write(target)
    return digest(target)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir", nargs="?")
    ap.add_argument("--sample-radius", action="store_true",
                    help="run the sample with the radius model and digest that")
    ap.add_argument("--write", metavar="FILE")
    args = ap.parse_args(argv)
    if args.sample_radius:
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            result = sample_radius_digest(tmp)
    elif args.run_dir:
        result = digest(args.run_dir)
    else:
        ap.error("give RUN_DIR or --sample-radius")
    text = json.dumps(result, indent=1, sort_keys=True) + "\n"
    if args.write:
        Path(args.write).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
