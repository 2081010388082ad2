"""The adversarial recipe: a generator and a discriminator trained against each other (GAN).

Per batch of real samples the discriminator makes one step on "real or generated?"
(binary cross-entropy on its logit; real labels ``1 - label_smoothing``, one-sided);
every ``d_steps`` discriminator steps the generator makes one step with the
non-saturating loss (it maximises log D(G(z)) rather than minimising log(1 - D(G(z))),
whose gradient vanishes while the discriminator wins). Each network has its own
optimizer (Adam with beta1 0.5 is the usual choice). The generator's input is noise of
its Input's shape, ``normal`` (standard) or ``uniform`` (-1 to 1).

Measured per epoch: ``d_loss``, ``g_loss``, ``d_real`` and ``d_fake`` (the mean
probability the discriminator gives real and generated samples), ``g_grad`` (the norm of
the generator's gradient), and as extras ``fake_spread`` and ``real_spread`` (the mean
per-feature standard deviation of generated and of real samples: a collapsed generator's
is far below the data's).

Per-layer statistics (``layer_stats``) are recorded for both networks, each read right
after its own backward; their nodes are named ``<network>.<node>`` (``generator.fc1``),
as the weights are keyed.
"""

from __future__ import annotations

from .batches import make_batches
from .build import build_optimizer, clip_gradients, grad_scaler, trainable_parameters
from .data import batches_per_epoch
from .device import autocast
from .events import GanView
from .layer_stats import LayerStats
from .recipe import Recipe

NOISE = ("normal", "uniform")
GENERATION = "generation"  # the task a GAN reports: it makes samples
ROW_KEY = "train_d_loss"  # a measure only a GAN's epoch rows (and metrics.csv) have


def is_gan_row(row) -> bool:
    """Whether an epoch's row (``EpochEnd.row()``, or a metrics.csv header) is a GAN's."""
    return ROW_KEY in row


VIEW_POINTS, GRID_STEPS, VIEW_IMAGES = 512, 40, 16


def sample_noise(count: int, shape, kind: str = "normal", device=None, generator=None):
    """``count`` noise vectors of ``shape``: standard normal, or uniform in -1..1."""
    import torch

    size = (count, *shape)
    if kind == "uniform":
        return torch.rand(size, generator=generator, device=device) * 2 - 1
    return torch.randn(size, generator=generator, device=device)


def spread(samples) -> float:
    """The mean over features of each feature's standard deviation."""
    flat = samples.reshape(len(samples), -1).float()
    return float(flat.std(dim=0).mean()) if len(flat) > 1 else 0.0


class Adversarial(Recipe):
    """A GAN (see the module docstring).

    Args:
        generator, discriminator: the two networks' modules.
        names: their network names; the weights are keyed ``<name>.<param>``.
        data: ``data.Arrays`` (or an ``engine.data.Dataset``); only the samples are used.
        config: the training settings (``batch_size``, ``seed``, ``grad_clip``...).
        settings: the ``adversarial`` section: ``noise``, ``d_steps``,
            ``label_smoothing``, ``generator_optimizer``, ``discriminator_optimizer``.
        noise_shape: the generator Input's shape.
        sample_shape: the discriminator Input's shape; samples and generated outputs
            are reshaped to it.
    """

    task, loss_name = GENERATION, "adversarial (BCEWithLogitsLoss)"

    def __init__(self, generator, discriminator, names, data, config, settings: dict,
                 noise_shape, sample_shape):  # fmt: skip
        import torch

        module = torch.nn.ModuleDict({names[0]: generator, names[1]: discriminator})
        super().__init__(module, config)
        self.generator, self.discriminator, self.names = generator, discriminator, names
        self.data, self.settings = data, settings
        self.noise_shape, self.sample_shape = tuple(noise_shape), tuple(sample_shape)
        self.d_steps = settings["d_steps"]
        self.real_label = 1.0 - settings["label_smoothing"]

    def place(self, device, precision: str, dist=None) -> None:
        """Move both networks and the samples to ``device``; build the optimizers."""
        import torch

        super().place(device, precision, dist)
        config, settings = self.config, self.settings
        self.source = make_batches(self.data, device, self.sample_shape, config.batch_size,
                                   config.seed, dist, targets="none")  # fmt: skip
        self.train_count, self.val_count = self.source.train_count, 0
        self.batches = batches_per_epoch(self.train_count, config.batch_size, dist)
        g_params = trainable_parameters(self.generator, "layer of the generator")
        d_params = trainable_parameters(self.discriminator, "layer of the discriminator")
        self.trainable_count = sum(p.numel() for p in g_params + d_params)
        self.g_params = g_params
        self.g_optimizer = build_optimizer(settings["generator_optimizer"], g_params)
        self.d_optimizer = build_optimizer(settings["discriminator_optimizer"], d_params)
        self.g_scaler, self.d_scaler = (
            grad_scaler(device, precision),
            grad_scaler(device, precision),
        )
        self.g_forward = dist.wrap(self.generator) if dist else self.generator
        self.d_forward = dist.wrap(self.discriminator) if dist else self.discriminator
        self.labels = {}
        fixed = torch.Generator().manual_seed(config.seed * 7 + 1)
        self.fixed_noise = sample_noise(VIEW_POINTS, self.noise_shape, settings["noise"],
                                        generator=fixed).to(device)  # fmt: skip
        self.real_spread = spread(self.source.head(4096))
        self.steps_done = 0
        g_batches = max(1, self.batches // self.d_steps)
        self.layer_stats = (
            network_stats(self.generator, self.names[0], g_batches),
            network_stats(self.discriminator, self.names[1], self.batches),
        )

    def begin_epoch(self, epoch: int) -> None:
        """Training mode and fresh per-step records (summed once, in ``end_epoch``)."""
        self.module.train()
        self.d_records, self.g_records, self.g_norms = [], [], []
        self.d_counts, self.g_counts = [], []
        for stats in self.layer_stats or ():
            stats.begin_epoch()

    def _labels(self, count: int):
        """The discriminator's targets for real and fake samples, and the generator's
        (made once per batch size)."""
        import torch

        if count not in self.labels:
            ones = torch.ones(count, device=self.device)
            self.labels[count] = (ones * self.real_label, ones * 0, ones)
        return self.labels[count]

    def _noise(self, count: int):
        return sample_noise(count, self.noise_shape, self.settings["noise"], self.device)

    def _apply(self, loss, optimizer, scaler, network: int) -> None:
        """Clear, backward and step for one network (0: the generator, 1: the
        discriminator; scaled under fp16), reading its gradient when due."""
        optimizer.zero_grad(set_to_none=True)
        observe = self.layer_stats[network].observer() if self.layer_stats else None
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)  # the gradient norm is recorded unscaled
            if observe:
                observe()
            if self.config.grad_clip:
                clip_gradients(optimizer, self.config.grad_clip)
            scaler.step(optimizer)
            scaler.update()
            return
        loss.backward()
        if observe:
            observe()
        if self.config.grad_clip:
            clip_gradients(optimizer, self.config.grad_clip)
        optimizer.step()

    def step(self, batch):
        """One discriminator step on a batch of real samples (and, every
        ``d_steps``, one generator step on the same generated batch, as the DCGAN
        tutorial does); returns the discriminator's loss."""
        import torch
        from torch.nn.functional import binary_cross_entropy_with_logits as bce

        real = batch[0]
        n = len(real)
        self.steps_done += 1
        generator_turn = self.steps_done % self.d_steps == 0
        with autocast(self.device, self.precision), torch.set_grad_enabled(generator_turn):
            fake = self.g_forward(self._noise(n)).reshape(n, *self.sample_shape)
        real_label, fake_label, target = self._labels(n)
        with autocast(self.device, self.precision):
            real_logit = self.d_forward(real).reshape(n)
            fake_logit = self.d_forward(fake.detach()).reshape(n)
            d_loss = bce(real_logit.float(), real_label) + bce(fake_logit.float(), fake_label)
        self._apply(d_loss, self.d_optimizer, self.d_scaler, 1)
        self.d_records.append((d_loss.detach(), real_logit.detach(), fake_logit.detach()))
        self.d_counts.append(n)
        if generator_turn:
            with autocast(self.device, self.precision):
                logit = self.d_forward(fake).reshape(n)
                g_loss = bce(logit.float(), target)
            self._apply(g_loss, self.g_optimizer, self.g_scaler, 0)
            grads = [p.grad for p in self.g_params if p.grad is not None]
            self.g_records.append(g_loss.detach())
            self.g_counts.append(n)
            self.g_norms.append(torch._foreach_norm(grads))
        return d_loss

    def end_epoch(self) -> dict:
        """The epoch's means: losses, D's probabilities, the generator's gradient norm."""
        import torch

        sums = torch.zeros(8, dtype=torch.float64, device=self.device)
        if self.d_records:
            counts = torch.tensor(self.d_counts, dtype=torch.float64, device=self.device)
            d_loss, real, fake = zip(*self.d_records, strict=True)
            sums[0] = (torch.stack(d_loss).double() * counts).sum()
            sums[1] = torch.sigmoid(torch.cat(real).double()).sum()
            sums[2] = torch.sigmoid(torch.cat(fake).double()).sum()
            sums[3] = counts.sum()
        if self.g_records:
            g_counts = torch.tensor(self.g_counts, dtype=torch.float64, device=self.device)
            sums[4] = (torch.stack(self.g_records).double() * g_counts).sum()
            norms = [torch.linalg.vector_norm(torch.stack(n)) for n in self.g_norms]
            sums[5] = torch.stack(norms).double().sum()
            sums[6] = len(self.g_records)
            sums[7] = g_counts.sum()
        if self.dist:
            sums = self.dist.all_reduce(sums)
        d_loss, d_real, d_fake, d_n, g_loss, g_grad, g_steps, g_n = sums.tolist()
        d_n, g_n, g_steps = max(d_n, 1.0), max(g_n, 1.0), max(g_steps, 1.0)
        return {"d_loss": d_loss / d_n, "g_loss": g_loss / g_n, "d_real": d_real / d_n,
                "d_fake": d_fake / d_n, "g_grad": g_grad / g_steps}  # fmt: skip

    def layer_rows(self, epoch: int) -> list[dict]:
        """The generator's nodes, then the discriminator's (``<network>.<node>``)."""
        return [row for stats in self.layer_stats or () for row in stats.end_epoch(epoch)]

    def layer_histograms(self) -> dict:
        """Both networks' histograms, by ``<network>.<node>``."""
        return {key: value for stats in self.layer_stats or ()
                for key, value in stats.histograms.items()}  # fmt: skip

    def generate(self, noise):
        """The generator's samples for ``noise``, in eval mode, shaped like the data."""
        import torch

        was_training = self.generator.training
        self.generator.eval()
        try:
            with torch.no_grad():
                return self.generator(noise).float().reshape(len(noise), *self.sample_shape)
        finally:
            self.generator.train(was_training)

    def epoch_extra(self) -> dict:
        """The spread of generated samples (fixed noise) beside the data's."""
        return {"fake_spread": spread(self.generate(self.fixed_noise)),
                "real_spread": self.real_spread}  # fmt: skip

    def view(self, epoch: int):
        """Real and generated points over D's field (2-D data), or generated images."""
        fake = self.generate(self.fixed_noise)
        if fake[0].numel() == 2:
            return self._plane_view(epoch, fake.reshape(-1, 2))
        if len(self.sample_shape) >= 2:
            return GanView(epoch, images=fake[:VIEW_IMAGES].cpu().numpy())
        return None

    def _plane_view(self, epoch: int, fake):
        import torch

        real = self.source.head(VIEW_POINTS).reshape(-1, 2).float()
        both = torch.cat([real, fake])
        low, high = both.min(dim=0).values, both.max(dim=0).values
        pad = (high - low).clamp(min=1e-3) * 0.1
        low, high = (low - pad).tolist(), (high + pad).tolist()
        xs = torch.linspace(low[0], high[0], GRID_STEPS, device=self.device)
        ys = torch.linspace(low[1], high[1], GRID_STEPS, device=self.device)
        grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
        points = torch.stack([grid_x.reshape(-1), grid_y.reshape(-1)], dim=1)
        was_training = self.discriminator.training
        self.discriminator.eval()
        try:
            with torch.no_grad():
                logits = self.discriminator(points.reshape(-1, *self.sample_shape)).float()
        finally:
            self.discriminator.train(was_training)
        field = torch.sigmoid(logits).reshape(GRID_STEPS, GRID_STEPS)
        return GanView(epoch, real=real.cpu().numpy(), fake=fake.cpu().numpy(),
                       field=field.cpu().numpy(), extent=(low[0], high[0], low[1], high[1]))  # fmt: skip

    def optimizers(self) -> list:
        """The generator's and the discriminator's optimizers (the lr shown is the
        generator's)."""
        return [self.g_optimizer, self.d_optimizer]

    def optimizer_state(self) -> dict:
        """Both optimizers (and loss scalers) by network name."""
        g, d = self.names
        scalers = {g: self.g_scaler, d: self.d_scaler}
        return {
            "optimizer": {g: self.g_optimizer.state_dict(), d: self.d_optimizer.state_dict()},
            "scheduler": None,
            "scaler": {k: s.state_dict() for k, s in scalers.items() if s is not None} or None,
            "steps_done": self.steps_done,
        }

    def load_optimizer_state(self, state: dict, check) -> None:
        """Restore ``optimizer_state()``'s fields (checked by ``check`` first)."""
        saved = state.get("optimizer")
        pairs = [(self.names[0], self.g_optimizer), (self.names[1], self.d_optimizer)]
        for name, optimizer in pairs:
            check(saved.get(name) if isinstance(saved, dict) else None, optimizer)
        for name, optimizer in pairs:
            optimizer.load_state_dict(saved[name])
        scalers = state.get("scaler") or {}
        for name, scaler in ((self.names[0], self.g_scaler), (self.names[1], self.d_scaler)):
            if scaler is not None and name in scalers:
                scaler.load_state_dict(scalers[name])
        self.steps_done = int(state.get("steps_done", 0))


def network_stats(module, name: str, batches: int) -> LayerStats:
    """The ``LayerStats`` of one network, its nodes named ``<name>.<node>``."""
    return LayerStats(module.named_parameters(), batches,
                      lambda key: f"{name}.{key.split('.', 1)[0]}")  # fmt: skip
