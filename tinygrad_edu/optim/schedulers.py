"""Old name of optim.lr_scheduler, kept so existing imports work."""
from .lr_scheduler import *  # noqa: F403
from .lr_scheduler import __all__  # noqa: F401
