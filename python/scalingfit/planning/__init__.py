"""Planning a training run: the decisions a fitted law is for.

* **Inference-aware sizing** (Sardana et al. 2023): the model of a target loss with the least
  lifetime compute ``6 N D + 2 N I`` (:func:`inference_optimal`) or dollars
  (:func:`inference_optimal_cost`); reduces to Chinchilla-optimal as ``I -> 0``.
* **Over-training law** (Gadre et al. 2024): ``L(C, M)`` in compute and tokens per parameter,
  the error link ``Err = epsilon - k exp(-gamma L)``, their fit-small / predict-large recipe
  (:func:`reproduce_gadre2024`) with bootstrap intervals (:func:`bootstrap_gadre2024`).
* **Data-constrained scaling** (Muennighoff et al. 2023): effective data and parameters under
  repetition (:class:`DataConstrainedLaw`), the stage-2 fit of ``R_D*, R_N*``
  (:func:`fit_data_constrained`) with run-bootstrap intervals
  (:func:`bootstrap_data_constrained`), the optimal epochs and size for given unique tokens and
  compute (:func:`optimal_allocation_constrained`), the cost of repeating data
  (:func:`repetition_cost`).
* **Data wall** (:func:`data_wall`): the largest compute-optimal model a stock of unique tokens
  supports without repetition or with up to k epochs, with intervals carried from the fit.
* Plots (:func:`plot_frontier`, :func:`plot_inference_aware`, :func:`plot_data_wall`; need
  matplotlib) and the rows the CLI prints (:func:`optimal_cli_table`).

Every law's parameters may be arrays of bootstrap replicates: every answer then comes once per
replicate, vectorised, and intervals are percentiles over them (:func:`percentile_interval`).
A ``scalingfit.bootstrap`` result of a Chinchilla fit given as a law is its point fit;
:func:`replicate_law` turns it into the law of its replicates.
"""

from __future__ import annotations

from ._cli import format_rows, optimal_cli_table, resolve_law
from ._common import HOFFMANN_2022, SARDANA_2023, Law, as_law, percentile_interval, replicate_law
from .data_constrained import (
    MUENNIGHOFF_2023,
    MUENNIGHOFF_2023_PUBLISHED,
    ConstrainedOptimum,
    DataConstrainedBootstrap,
    DataConstrainedFit,
    DataConstrainedLaw,
    RepetitionCost,
    bootstrap_data_constrained,
    fit_data_constrained,
    huber_log_objective,
    load_muennighoff2023,
    optimal_allocation_constrained,
    repetition_cost,
    simulate_data_constrained,
)
from .data_wall import DataWall, DataWallRow, data_wall, epochs_wall_compute
from .inference import Hardware, InferenceOptimum, inference_optimal, inference_optimal_cost
from .overtraining import (
    GADRE_2024_PUBLISHED,
    ErrorLink,
    GadreBootstrap,
    GadreReproduction,
    OvertrainingLaw,
    bootstrap_gadre2024,
    fit_error_link,
    fit_overtraining,
    load_gadre2024,
    reproduce_gadre2024,
)
from .plots import plot_data_wall, plot_frontier, plot_inference_aware

__all__ = [
    "GADRE_2024_PUBLISHED",
    "HOFFMANN_2022",
    "MUENNIGHOFF_2023",
    "MUENNIGHOFF_2023_PUBLISHED",
    "SARDANA_2023",
    "ConstrainedOptimum",
    "DataConstrainedBootstrap",
    "DataConstrainedFit",
    "DataConstrainedLaw",
    "DataWall",
    "DataWallRow",
    "ErrorLink",
    "GadreBootstrap",
    "GadreReproduction",
    "Hardware",
    "InferenceOptimum",
    "Law",
    "OvertrainingLaw",
    "RepetitionCost",
    "as_law",
    "bootstrap_data_constrained",
    "bootstrap_gadre2024",
    "data_wall",
    "epochs_wall_compute",
    "fit_data_constrained",
    "fit_error_link",
    "fit_overtraining",
    "format_rows",
    "huber_log_objective",
    "inference_optimal",
    "inference_optimal_cost",
    "load_gadre2024",
    "load_muennighoff2023",
    "optimal_allocation_constrained",
    "optimal_cli_table",
    "percentile_interval",
    "plot_data_wall",
    "plot_frontier",
    "plot_inference_aware",
    "repetition_cost",
    "replicate_law",
    "reproduce_gadre2024",
    "resolve_law",
    "simulate_data_constrained",
]
