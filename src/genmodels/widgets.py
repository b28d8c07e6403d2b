"""Latent-space explorers: a live ipywidgets one for Jupyter and Colab, a static one for the website.

Both show what a decoder draws at a point ``(z_1, z_2)`` of a 2-D latent space.

* :func:`latent_explorer` needs a running kernel: two sliders, and every move calls the
  decoder again. It uses only widgets that ipywidgets 7 (Colab) and 8 share:
  ``FloatSlider``, ``Image``, ``HBox``/``VBox`` and ``observe``.
* :func:`static_latent_explorer` needs no kernel: the decoder is run once on a grid of
  latent points, and two HTML range inputs switch between the pre-rendered images with a
  few lines of JavaScript. It works in the built website, offline, and in a notebook.
"""

from __future__ import annotations

import base64
import io
import itertools
from collections.abc import Callable

import numpy as np

Decoder = Callable[[np.ndarray], np.ndarray]
"""Maps latent points ``(N, 2)`` to images ``(N, H, W)`` or ``(N, H, W, 1)`` in [0, 1]."""

_explorer_ids = itertools.count()


def image_png(image: np.ndarray, scale: int = 4) -> bytes:
    """A grey image in [0, 1] (``(H, W)`` or ``(H, W, 1)``) as PNG bytes, ``scale`` times larger.

    Raises:
        ValueError: the image is not 2-D (after dropping a channel axis of 1) or not in [0, 1].
    """
    from PIL import Image

    pixels = np.asarray(image, dtype=np.float64)
    if pixels.ndim == 3 and pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    if pixels.ndim != 2:
        raise ValueError(f"expected one grey image of shape (H, W) or (H, W, 1), got {np.shape(image)}")
    if not np.all(np.isfinite(pixels)) or pixels.min() < 0.0 or pixels.max() > 1.0:
        raise ValueError("pixel values must lie in [0, 1] (decode to probabilities, e.g. VAE.decode)")
    # dark clothing on white, as in the book's figures
    grey = np.round(255 * (1.0 - pixels)).astype(np.uint8).repeat(scale, 0).repeat(scale, 1)
    buffer = io.BytesIO()
    Image.fromarray(grey, mode="L").save(buffer, format="PNG")
    return buffer.getvalue()


def _decode_one(decode: Decoder, z1: float, z2: float) -> np.ndarray:
    """The decoder's image at ``(z1, z2)``, shape ``(H, W)`` or ``(H, W, 1)``."""
    return np.asarray(decode(np.array([[z1, z2]], dtype=np.float32)))[0]


def latent_explorer(decode: Decoder, limit: float = 3.0, step: float = 0.1, scale: int = 6):
    """Two sliders over ``(z_1, z_2)`` in ``[-limit, limit]`` and the decoded image (live).

    Args:
        decode: see :data:`Decoder`, e.g. ``vae.decode`` of a VAE with a 2-D latent space.
        limit: the sliders' range; ``N(0, 1)`` puts 99.7% of its mass in ``[-3, 3]``.
        step: the sliders' resolution.
        scale: how many screen pixels one image pixel takes.

    Returns:
        an ``ipywidgets.VBox`` with attributes ``sliders`` (the two ``FloatSlider``) and
        ``image`` (the ``Image`` widget), so code and tests can drive it.
    """
    import ipywidgets as widgets

    sliders = [
        widgets.FloatSlider(value=0.0, min=-limit, max=limit, step=step, description=name)
        for name in ("z₁", "z₂")
    ]
    image = widgets.Image(format="png")

    def redraw(change: object = None) -> None:
        image.value = image_png(_decode_one(decode, sliders[0].value, sliders[1].value), scale)

    for slider in sliders:
        slider.observe(redraw, names="value")
    redraw()
    box = widgets.VBox([widgets.HBox(sliders), image])
    box.sliders, box.image = sliders, image
    return box


def static_latent_explorer(decode: Decoder, limit: float = 3.0, steps: int = 13, scale: int = 6):
    """A kernel-free explorer: two range inputs switch between images decoded on a grid.

    The decoder runs once on a ``steps x steps`` grid over ``[-limit, limit]^2``; the HTML
    holds every image as a PNG data URI (no request to any server) and a short script
    shows the one at the sliders' grid point. ``scale`` is the display size in screen
    pixels per image pixel.

    Returns:
        an ``IPython.display.HTML`` object; its ``data`` is the HTML text.
    """
    from IPython.display import HTML

    if steps < 2:
        raise ValueError(f"steps must be at least 2, got {steps}")
    values = np.linspace(-limit, limit, steps)
    grid = np.array([[z1, z2] for z2 in values for z1 in values], dtype=np.float32)
    images = np.asarray(decode(grid))
    # one PNG pixel per image pixel (about 0.5 kB each); the browser enlarges them
    uris = [f"data:image/png;base64,{base64.b64encode(image_png(img, 1)).decode()}" for img in images]
    width = scale * images.shape[2]
    uid = f"latent-explorer-{next(_explorer_ids)}"
    middle = steps // 2
    labels = "".join(
        f'<label style="margin-right:1.5em">z<sub>{i}</sub> '
        f'<input type="range" class="z{i}" min="0" max="{steps - 1}" step="1" value="{middle}"> '
        f'<output class="v{i}">{values[middle]:.2f}</output></label>'
        for i in (1, 2)
    )
    html = f"""<div id="{uid}" class="latent-explorer">
<div>{labels}</div>
<img alt="decoded image at the chosen latent point" src="{uris[middle * steps + middle]}"
 width="{width}" style="image-rendering: pixelated; border: 1px solid #ccc; margin-top: 0.5em">
<script>
(function () {{
  const root = document.getElementById("{uid}");
  const uris = {uris!r};
  const values = {[round(float(v), 2) for v in values]!r};
  const n = {steps};
  const z1 = root.querySelector("input.z1"), z2 = root.querySelector("input.z2");
  const show = () => {{
    root.querySelector("img").src = uris[Number(z2.value) * n + Number(z1.value)];
    root.querySelector("output.v1").textContent = values[Number(z1.value)].toFixed(2);
    root.querySelector("output.v2").textContent = values[Number(z2.value)].toFixed(2);
  }};
  z1.addEventListener("input", show);
  z2.addEventListener("input", show);
}})();
</script>
</div>"""
    return HTML(html)
