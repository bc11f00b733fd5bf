"""Published scaling-law data: the sets shipped with scalingfit, and where to find the others.

Three sets are shipped inside the package, each in its own folder with its license and a
``SOURCE.md`` (origin, commit, columns, the published numbers):

- ``porian2024_isoflop``: Porian et al. (2024), IsoFLOP sweeps of 15 configurations and their
  published compute-optimal exponents (MIT);
- ``muennighoff2023_datablations``: Muennighoff et al. (2023), the 182 runs of the published
  data-constrained fit and all 296 runs (Apache 2.0);
- ``gadre2024_overtraining``: Gadre et al. (2024), losses and 46 downstream accuracies of 104
  over-trained runs (MIT).

The others (Epoch AI's replication of Hoffmann et al.'s Figure 4, which has no license; the
OLMo ladder, Pythia and Wu et al. sets, too large to ship) are read from a data folder holding
one sub-folder per set under the same names: ``data_dir`` where a function takes one, else
``$SCALINGFIT_DATA``, else ``shared/data`` beside the current folder or its parent.

Readers of the three large sets take the set's folder (``find(name)``) and return plain
Python and numpy values (csv + numpy, no pandas), dicts whose keys, units and meanings the
row types document (:class:`Wu2024Row`, ...); a missing column or a bad cell raises
:class:`scalingfit.data.RunDataError` naming the file, the column and the row:
:func:`load_olmo_ladder_runs`, :func:`load_olmo_val_losses`, :func:`load_olmo_task_metrics`,
:func:`load_olmo_published` (``olmo_ladder2024``), :func:`load_pythia_lambada`
(``pythia_evals``) and :func:`load_wu2024` (``wu2024_ushaped_emergence``). A set that is
nowhere is a FileNotFoundError naming the folders searched, from ``find(name,
required=True)`` or from a reader given ``find``'s None; so is a folder that does not exist
or lacks the set's file.

>>> sorted(SHIPPED)
['gadre2024_overtraining', 'muennighoff2023_datablations', 'porian2024_isoflop']
>>> (path("porian2024_isoflop") / "LICENSE").is_file()
True
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ._folders import PathLike as PathLike  # (re-exported: reproduce annotates with it)
from ._folders import data_folders, not_found
from ._readers import (
    OLMO_LADDER_TASKS,
    OLMO_MMLU_WEIGHTS,
    OlmoChained,
    OlmoLossCurve,
    OlmoPublished,
    OlmoRun,
    OlmoTaskCurve,
    PythiaLambadaRow,
    Wu2024Row,
    load_olmo_ladder_runs,
    load_olmo_published,
    load_olmo_task_metrics,
    load_olmo_val_losses,
    load_pythia_lambada,
    load_wu2024,
)

__all__ = [
    "KNOWN",
    "OLMO_LADDER_TASKS",
    "OLMO_MMLU_WEIGHTS",
    "SHIPPED",
    "Dataset",
    "OlmoChained",
    "OlmoLossCurve",
    "OlmoPublished",
    "OlmoRun",
    "OlmoTaskCurve",
    "PythiaLambadaRow",
    "UnknownDataset",
    "Wu2024Row",
    "data_folders",
    "find",
    "load_olmo_ladder_runs",
    "load_olmo_published",
    "load_olmo_task_metrics",
    "load_olmo_val_losses",
    "load_pythia_lambada",
    "load_wu2024",
    "path",
]

@dataclass(frozen=True)
class Dataset:
    """A published data set: its folder name, paper, and license (as its ``SOURCE.md`` says)."""

    name: str
    paper: str
    license: str
    shipped: bool


KNOWN: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset("porian2024_isoflop", "Porian et al. 2024, arXiv:2406.19146", "MIT", True),
        Dataset(
            "muennighoff2023_datablations", "Muennighoff et al. 2023, arXiv:2305.16264",
            "Apache-2.0", True,
        ),
        Dataset("gadre2024_overtraining", "Gadre et al. 2024, arXiv:2403.08540", "MIT", True),
        Dataset(
            "epoch_chinchilla_fig4",
            "Besiroglu et al. 2024, arXiv:2404.10102 (Hoffmann et al. 2022, Fig. 4)",
            "none stated (not shipped)", False,
        ),
        Dataset("olmo_ladder2024", "Bhagia et al. 2024, arXiv:2412.04403", "Apache-2.0", False),
        Dataset("pythia_evals", "Biderman et al. 2023, arXiv:2304.01373", "Apache-2.0", False),
        Dataset(
            "wu2024_ushaped_emergence", "Wu & Lo 2024, arXiv:2410.01692", "MIT", False
        ),
    )
}
#: The names of the sets shipped inside the package.
SHIPPED: tuple[str, ...] = tuple(n for n, d in KNOWN.items() if d.shipped)

_HERE = Path(__file__).resolve().parent


class UnknownDataset(ValueError, KeyError):
    """An unknown or unshipped data set name: a ValueError (a bad argument) that is also a
    KeyError, as these lookups raised before, so ``except KeyError`` keeps working."""

    def __str__(self) -> str:  # KeyError would print the message quoted
        return str(self.args[0]) if self.args else ""


def _known(name: str) -> Dataset:
    if not isinstance(name, str):
        raise TypeError(f"name must be a data set name (str), got {type(name).__name__} {name!r}")
    if name not in KNOWN:
        raise UnknownDataset(f"unknown data set {name!r}; known: {', '.join(KNOWN)}")
    return KNOWN[name]


def path(name: str) -> Path:
    """The folder of a shipped set inside the installed package.

    Raises :class:`UnknownDataset` (a ValueError, and a KeyError for older callers) naming
    the known sets for an unknown name, and for a set that is not shipped (use
    :func:`find`)."""
    if not _known(name).shipped:
        raise UnknownDataset(
            f"{name!r} is not shipped with scalingfit (license or size); use find(); shipped: "
            f"{', '.join(SHIPPED)}"
        )
    return _HERE / name


def find(
    name: str, data_dir: Optional[PathLike] = None, *, required: bool = False
) -> Optional[Path]:
    """The folder of set ``name``: under the data folders (:func:`data_folders`; an explicit
    ``data_dir`` comes first), else the shipped copy; None when it is nowhere, or with
    ``required=True`` a FileNotFoundError naming the folders searched (the error the readers
    raise when given that None).

    Raises :class:`UnknownDataset` (a ValueError, and a KeyError) naming the known sets for an
    unknown ``name``, and a ValueError when ``data_dir`` is given but is not a folder (a typo
    there must not fall back silently to other copies of the set).

    >>> find("wu2024_ushaped_emergence", required=True)  # doctest: +SKIP
    PosixPath('.../shared/data/wu2024_ushaped_emergence')
    """
    ds = _known(name)
    if data_dir is not None and not Path(data_dir).is_dir():
        raise ValueError(f"data_dir {str(data_dir)!r} is not a folder (it was given explicitly, "
                         "so the other data folders are not searched instead)")
    for base in data_folders(data_dir):
        if (base / name).is_dir():
            return base / name
    if ds.shipped:
        return path(name)
    if required:
        raise not_found(name, data_dir)
    return None
