"""The weekly panel an evaluation reads: one figure per center and week, and who was treated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True, eq=False)
class Panel:
    """Weekly center figures, centers x weeks.

    ``values[i, t]`` is center ``i``'s figure in week ``t`` (for example its
    same-day resolution share), ``nan`` where it has none (closed, no visits,
    not yet open): the panel may be unbalanced. ``treated[i, t]`` says the
    center was in the program (``pilot`` or ``on``) that week.
    """

    centers: tuple[str, ...]
    weeks: tuple[date, ...]
    values: FloatArray
    treated: BoolArray

    def __post_init__(self) -> None:
        shape = (len(self.centers), len(self.weeks))
        values = np.asarray(self.values, dtype=np.float64)
        treated = np.asarray(self.treated, dtype=np.bool_)
        if values.shape != shape:
            raise ValueError(f"values has shape {values.shape}, expected {shape}")
        if treated.shape != shape:
            raise ValueError(f"treated has shape {treated.shape}, expected {shape}")
        if len(set(self.centers)) != len(self.centers):
            raise ValueError("center codes repeat")
        if any(b <= a for a, b in zip(self.weeks, self.weeks[1:], strict=False)):
            raise ValueError("weeks must be increasing")
        if np.isinf(values).any():
            raise ValueError("values must be finite or nan")
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "treated", treated)
