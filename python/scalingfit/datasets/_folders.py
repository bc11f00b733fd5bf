"""Where the data sets that are not shipped are looked for, and the error when one is not
there: shared by :func:`scalingfit.datasets.find` and the readers (which take ``find``'s
result, None included)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Union

__all__ = ["DATA_ENV", "PathLike", "data_folders", "not_found"]

PathLike = Union[str, "os.PathLike[str]"]

#: The environment variable naming a folder that holds data sets, one sub-folder per set.
DATA_ENV = "SCALINGFIT_DATA"


def data_folders(data_dir: Optional[PathLike] = None) -> list[Path]:
    """Where sets that are not shipped are looked for, in order: ``data_dir``, then
    ``$SCALINGFIT_DATA``, then ``shared/data`` beside the current folder or its parent."""
    out: list[Path] = []
    if data_dir is not None:
        out.append(Path(data_dir))
    env = os.environ.get(DATA_ENV)
    if env:
        out.append(Path(env))
    for base in (Path.cwd(), Path.cwd().parent):
        out.append(base / "shared" / "data")
    return out


def not_found(
    name: str, data_dir: Optional[PathLike] = None, *, reader: str = ""
) -> FileNotFoundError:
    """The error for set ``name`` found in none of the data folders; ``reader``: the reader
    that was given None (``find``'s result then) instead of the set's folder."""
    looked = ", ".join(str(p) for p in dict.fromkeys(data_folders(data_dir)))
    where = f"no folder {name!r} in {looked}"
    if reader:
        head = (f"{reader} got None for the folder: data set {name!r} not found "
                f"(scalingfit.datasets.find returns None then): {where} (nor in the data_dir "
                "given to find, if one was)")
    else:
        head = f"data set {name!r} not found: {where}"
    return FileNotFoundError(
        f"{head}. Put the set's folder in one of them, set ${DATA_ENV} to the folder that holds "
        f"{name}/, or give find that folder as data_dir")
