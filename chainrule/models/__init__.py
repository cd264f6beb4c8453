"""Floor 5: the model zoo. ``chainrule.models.build(name)`` makes any of them."""

from .cnn import MNISTCNN, LeNet5
from .inception import InceptionSmall
from .language_model import CharLSTM, RNNLanguageModel, WordLSTM
from .mlp import MLP
from .resnet import ResNet
from .textcnn import TextCNN
from .zoo import available, build, register

__all__ = ["MLP", "available", "build", "register"]
__all__ += ["TextCNN"]
__all__ += ["MNISTCNN", "LeNet5", "ResNet", "InceptionSmall"]
__all__ += ["CharLSTM", "RNNLanguageModel", "WordLSTM"]
