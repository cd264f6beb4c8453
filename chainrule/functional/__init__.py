"""Floor 3: every differentiable op, one family per file; imported as ``F``."""

from .activation import *  # noqa: F403
from .activation import __all__ as _activation
from .conv import *  # noqa: F403
from .conv import __all__ as _conv
from .dropout import *  # noqa: F403
from .dropout import __all__ as _dropout
from .elementwise import *  # noqa: F403
from .elementwise import __all__ as _elementwise
from .embedding import *  # noqa: F403
from .embedding import __all__ as _embedding
from .indexing import *  # noqa: F403
from .indexing import __all__ as _indexing
from .indexing import _index_arrays  # noqa: F401  (used by Tensor.__setitem__)
from .linalg import *  # noqa: F403
from .linalg import __all__ as _linalg
from .loss import *  # noqa: F403
from .loss import __all__ as _loss
from .normalization import *  # noqa: F403
from .normalization import __all__ as _normalization
from .pool import *  # noqa: F403
from .pool import __all__ as _pool
from .recurrent import *  # noqa: F403
from .recurrent import __all__ as _recurrent
from .reduction import *  # noqa: F403
from .reduction import __all__ as _reduction
from .shape import *  # noqa: F403
from .shape import __all__ as _shape

__all__ = [*_activation, *_elementwise, *_indexing, *_linalg, *_loss, *_reduction, *_shape]
__all__ += [*_embedding, *_recurrent]
__all__ += [*_conv, *_pool, *_normalization, *_dropout]
