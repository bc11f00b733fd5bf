"""scalingfit.curves, third audit: the interval coverage quoted in the docs on the OLMo
ladder (skips without ../shared/data)."""

from __future__ import annotations

import numpy as np
import scalingfit.curves as cu


# ----------------------------------------------------------------------------- real data
def _ladder(lr: bool = True) -> dict[str, cu.Curve]:
    from scaling_data import ladder_curves, ladder_runs

    runs, cur = ladder_runs(), ladder_curves("c4_en")
    return {r: cu.Curve(r, cur[r]["step"], cur[r]["tokens"], cur[r]["loss"], cur[r]["lr"] if lr else None,
                        N=runs[r]["N"]) for r in sorted(cur)}


def _covered(p: cu.FinalLossPrediction) -> np.ndarray:
    return (p.interval[:, 0] <= p.actual) & (p.actual <= p.interval[:, 1])


def test_olmo_interval_coverage_quoted_in_the_docs(shared_data) -> None:
    """The share of the 30 C4 final losses inside the default 95% intervals (delta method),
    as quoted in predict_final_loss's docstring and the README: kind="confidence" 22/30 at
    fraction 0.2 and 0.73 / 0.63 / 0.57 at 0.7 / 0.8 / 0.9; kind="prediction" 0.93 / 0.87 / 0.93."""
    curves = list(_ladder().values())
    want = {(0.2, "confidence"): 22, (0.7, "confidence"): 22, (0.8, "confidence"): 19, (0.9, "confidence"): 17,
            (0.7, "prediction"): 28, (0.8, "prediction"): 26, (0.9, "prediction"): 28}
    got = {k: int(_covered(cu.predict_final_loss(curves, k[0], kind=k[1])).sum()) for k in want}
    assert got == want
    doc = cu.predict_final_loss.__doc__ or ""
    assert "0.73 / 0.93 / 0.93" in doc and "0.73 / 0.63 / 0.57" in doc
