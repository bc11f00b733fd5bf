"""scalingfit's own warning classes (filter them by class, not by message)."""


class ScalingFitWarning(UserWarning):
    """Base class of every warning scalingfit emits."""


class ConvergenceWarning(ScalingFitWarning):
    """A fit did not converge, or converged to a non-identifiable solution."""


class DataWarning(ScalingFitWarning):
    """Input data were skipped, repaired, or look unsuitable for the requested analysis."""
