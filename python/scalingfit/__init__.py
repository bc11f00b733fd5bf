"""scalingfit: fast, batched, trustworthy fits of neural scaling laws.

Every fit is an item in a batch: a single fit, thousands of multi-start initialisations,
bootstrap resamples and whole sweep databases go through one call of the C++ core
(Levenberg–Marquardt, analytic Jacobians, robust losses, bounds), which releases the GIL and
runs items over threads with bit-identical results for any thread count.

>>> import numpy as np, scalingfit
>>> N = np.logspace(7, 10, 8)
>>> r = scalingfit.fit("saturating_power_law", N, 1.7 + 400 * N ** -0.34)
>>> sorted(r.params)
['A', 'E', 'alpha']
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

from . import (
    allocation,
    chinchilla,
    compare,
    curves,
    emergence,
    kaplan,
    models,
    planning,
    simulate,
    testtime,
    uncertainty,
)
from ._cuda import available as cuda_available
from ._cuda import compile_kernels as compile_cuda_kernels
from ._cuda_build import CudaUnavailableError
from ._custom import CustomModel
from ._fit import fit, fit_batch
from ._status import MESSAGES as STATUS_MESSAGES
from ._warnings import (
    ConvergenceWarning,
    DataWarning,
    IdentifiabilityWarning,
    ScalingFitWarning,
    UncertaintyWarning,
)
from .bootstrap import (
    BootstrapBatchResult,
    BootstrapResult,
    bootstrap,
    bootstrap_batch,
    chinchilla_derived,
    predicted_value,
)
from .compare import (
    BatchComparison,
    Comparison,
    compare_batch,
    compare_models,
    information_criteria,
)
from .results import BatchResult, FitResult

__version__ = "0.1.0"

# Submodules imported on first use, so ``import scalingfit`` needs only numpy: those that need
# an optional extra (matplotlib, DuckDB, pandas, Dask) or read files. ``scalingfit.plot``
# then works without its own import line, as the README writes it.
_LAZY = ("data", "datasets", "distributed", "plot", "refit", "refit_compare", "reproduce")

if TYPE_CHECKING:  # what type checkers see: the lazy modules as attributes, with their types
    from . import data as data
    from . import datasets as datasets
    from . import distributed as distributed
    from . import plot as plot
    from . import refit as refit
    from . import refit_compare as refit_compare
    from . import reproduce as reproduce
else:  # hidden from them: a module __getattr__ would make every misspelt name (fitt) pass

    def __getattr__(name: str) -> ModuleType:
        if name in _LAZY:
            return importlib.import_module(f".{name}", __name__)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public names (``__all__``), the lazy submodules and the submodules already imported,
    once each: not the helpers this file imports (``importlib``, ``ModuleType``)."""
    loaded = {n for n, v in globals().items() if isinstance(v, ModuleType) and not n.startswith("_")}
    return sorted({*__all__, *_LAZY, *(loaded - {"importlib"})})

__all__ = [
    "STATUS_MESSAGES",
    "BatchComparison",
    "BatchResult",
    "BootstrapBatchResult",
    "BootstrapResult",
    "Comparison",
    "ConvergenceWarning",
    "CudaUnavailableError",
    "CustomModel",
    "DataWarning",
    "FitResult",
    "IdentifiabilityWarning",
    "ScalingFitWarning",
    "UncertaintyWarning",
    "__version__",
    "allocation",
    "bootstrap",
    "bootstrap_batch",
    "chinchilla",
    "chinchilla_derived",
    "compare",
    "compare_batch",
    "compare_models",
    "compile_cuda_kernels",
    "cuda_available",
    "curves",
    "emergence",
    "fit",
    "fit_batch",
    "information_criteria",
    "kaplan",
    "models",
    "planning",
    "predicted_value",
    "simulate",
    "testtime",
    "uncertainty",
]
