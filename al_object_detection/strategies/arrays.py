"""The array type used in annotations: any numpy array (dtypes are given in docstrings)."""

from typing import Any, TypeAlias

from numpy.typing import NDArray

Array: TypeAlias = NDArray[Any]
