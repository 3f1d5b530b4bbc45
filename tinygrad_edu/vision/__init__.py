"""torchvision's names: `vision.datasets` (ImageFolder, MNIST, FashionMNIST) and
`vision.transforms`. Reading image files needs Pillow: pip install 'tinygrad_edu[vision]'."""

from . import datasets, transforms

__all__ = ["datasets", "transforms"]
