"""scalingfit's own warning classes (filter them by class, not by message)."""


class ScalingFitWarning(UserWarning):
    """Base class of every warning scalingfit emits."""


class ConvergenceWarning(ScalingFitWarning):
    """A fit did not converge, or converged to a non-identifiable solution."""


class DataWarning(ScalingFitWarning):
    """Input data were skipped, repaired, or look unsuitable for the requested analysis."""


class IdentifiabilityWarning(ConvergenceWarning):
    """The data cannot pin some parameters down: J^T J is singular at the solution (status -2),
    or an exponent's input spans under one decade, so the exponent trades off against its
    amplitude (e.g. Chinchilla's alpha and A when N spans less than 10x)."""


class UncertaintyWarning(ScalingFitWarning):
    """The reported standard errors or intervals are known to misstate the uncertainty of this
    fit (e.g. the Gauss-Newton standard errors of a robust fit whose residuals mostly lie
    beyond ``f_scale``): use a bootstrap or a profile for intervals."""
