"""PyTorch's quickstart tutorial (the MLP), on the MNIST-5k files.

A PyTorch script: tests/test_pytorch_scripts.py runs it as it is (where torch is
installed) and with its import lines alone rewritten to tinygrad_edu. torchvision is not
needed: a small Dataset over the IDX files does what ToTensor does. The tutorial's
learning rate and epochs are arguments here (its values are the defaults), and an
exponential learning-rate decay (off by default), so that a short test run on 5,000
digits learns steadily.
"""
# ruff: noqa: N806 (the tutorial's own spelling, kept as written)

import argparse
import gzip
import os

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset


class MNISTFiles(Dataset):
    """MNIST from its gzipped IDX files, as torchvision's MNIST with ToTensor() gives it."""

    def __init__(self, root, train=True, limit=None):
        prefix = "train" if train else "t10k"
        with gzip.open(os.path.join(root, f"{prefix}-images-idx3-ubyte.gz")) as f:
            self.images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
        with gzip.open(os.path.join(root, f"{prefix}-labels-idx1-ubyte.gz")) as f:
            self.labels = np.frombuffer(f.read(), np.uint8, offset=8)
        if limit is not None:
            self.images, self.labels = self.images[:limit], self.labels[:limit]

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        image = torch.tensor(self.images[idx], dtype=torch.float32).div(255).unsqueeze(0)
        return image, int(self.labels[idx])


parser = argparse.ArgumentParser(description="PyTorch quickstart")
parser.add_argument("--data", default="data")
parser.add_argument("--lr", type=float, default=1e-3)
parser.add_argument("--epochs", type=int, default=5)
parser.add_argument("--gamma", type=float, default=1.0, help="learning-rate decay per epoch")
parser.add_argument("--test-limit", type=int, default=None)
parser.add_argument("--model-path", default="model.pth")
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()
torch.manual_seed(args.seed)

training_data = MNISTFiles(args.data, train=True)
test_data = MNISTFiles(args.data, train=False, limit=args.test_limit)

batch_size = 64

# the 5k training files are sorted by digit, so unlike the tutorial this loader shuffles
train_dataloader = DataLoader(training_data, batch_size=batch_size, shuffle=True)
test_dataloader = DataLoader(test_data, batch_size=batch_size)

for X, y in test_dataloader:
    print(f"Shape of X [N, C, H, W]: {X.shape}")
    print(f"Shape of y: {y.shape} {y.dtype}")
    break

device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"
print(f"Using {device} device")


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28*28, 512),
            nn.ReLU(),
            nn.Linear(512, 512),
            nn.ReLU(),
            nn.Linear(512, 10)
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


model = NeuralNetwork().to(device)
print(model)

loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
# not in the tutorial: a decaying rate steadies the last epochs of a short run
scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=args.gamma)


def train(dataloader, model, loss_fn, optimizer):
    size = len(dataloader.dataset)
    model.train()
    for batch, (X, y) in enumerate(dataloader):
        X, y = X.to(device), y.to(device)

        # Compute prediction error
        pred = model(X)
        loss = loss_fn(pred, y)

        # Backpropagation
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

        if batch % 100 == 0:
            loss, current = loss.item(), (batch + 1) * len(X)
            print(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]")


def test(dataloader, model, loss_fn):
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            X, y = X.to(device), y.to(device)
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    test_loss /= num_batches
    correct /= size
    print(f"Test Error: \n Accuracy: {(100*correct):>0.1f}%, Avg loss: {test_loss:>8f} \n")
    return correct


epochs = args.epochs
for t in range(epochs):
    print(f"Epoch {t+1}\n-------------------------------")
    train(train_dataloader, model, loss_fn, optimizer)
    accuracy = test(test_dataloader, model, loss_fn)
    scheduler.step()
print("Done!")

torch.save(model.state_dict(), args.model_path)
print(f"Saved PyTorch Model State to {args.model_path}")

model = NeuralNetwork().to(device)
model.load_state_dict(torch.load(args.model_path, weights_only=True))
assert test(test_dataloader, model, loss_fn) == accuracy

classes = [str(digit) for digit in range(10)]

model.eval()
x, y = test_data[0][0], test_data[0][1]
with torch.no_grad():
    x = x.to(device)
    pred = model(x)
    predicted, actual = classes[pred[0].argmax(0)], classes[y]
    print(f'Predicted: "{predicted}", Actual: "{actual}"')
print(f"final accuracy: {accuracy:.4f}")
