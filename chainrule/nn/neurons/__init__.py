"""The course's first neurons (temporary: everything still lives in ``mcculloch_pitts``)."""

from .mcculloch_pitts import *  # noqa: F403
from .mcculloch_pitts import __all__ as __all__
